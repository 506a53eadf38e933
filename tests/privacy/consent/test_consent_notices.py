"""The first-login notice shows which data the organisation provided (every profile field that
is set, the mobile masked), once per membership."""

from __future__ import annotations

from datetime import date

from consent_world import API, MakeClient, World, count, open_world

from helpers import csrf_headers
from zhengtong.core.context import AppContext
from zhengtong.identity.service import mask_mobile, normalise_mobile
from zhengtong.org import service as org_service
from zhengtong.privacy.consent.models import DataNotice


async def test_the_first_login_shows_what_the_organisation_provided_once(
    context: AppContext, world: World
) -> None:
    # given: an admin opened 李科员 with a profile, in 办公室
    async with context.db.transaction() as session:
        office = await org_service.create_department(
            session,
            context,
            world.scope,
            parent_id=(await org_service.root_department(session, world.org_id)).id,
            name="办公室",
            actor_id=None,
            ip="",
        )
    await world.member(
        "李科员",
        job_number="A0042",
        title="科员",
        org_email="li@example.gov.cn",
        hired_date=date(2020, 9, 1),
        seats=[org_service.Seat(office.id, "科员")],
    )
    member = await world.client_of("李科员")

    # when
    notice = await member.get(f"{API}/privacy/notices/first-login")

    # then
    assert notice.status_code == 200
    [content] = notice.json()
    assert content["org_id"] == world.org_id and content["org_name"] == "测试单位"
    assert content["membership_id"] == world.members["李科员"]
    mobile = world.mobiles["李科员"]
    assert [(field["key"], field["value"]) for field in content["fields"]] == [
        ("name", "李科员"),
        ("mobile", mask_mobile(normalise_mobile(mobile))),
        ("job_number", "A0042"),
        ("title", "科员"),
        ("org_email", "li@example.gov.cn"),
        ("hired_date", "2020-09-01"),
        ("departments", "办公室（科员）"),
    ]
    assert mobile[3:7] not in content["fields"][1]["value"]

    # when: seen
    seen = await member.post(
        f"{API}/privacy/notices/first-login/seen",
        json={"membership_ids": [world.members["李科员"]]},
        headers=csrf_headers(member),
    )
    again = await member.get(f"{API}/privacy/notices/first-login")

    # then
    assert seen.status_code == 204 and again.json() == []


async def test_only_ones_own_notices_can_be_marked_seen(
    context: AppContext, make_client: MakeClient, world: World
) -> None:
    # given
    other = await open_world(context, make_client, "另一单位")
    await other.member("外人")
    await other.client_of("外人")
    await world.member("李科员")
    member = await world.client_of("李科员")

    # when
    await member.post(
        f"{API}/privacy/notices/first-login/seen",
        json={"membership_ids": [other.members["外人"]]},
        headers=csrf_headers(member),
    )

    # then
    assert await count(context, DataNotice) == 0
    assert len((await member.get(f"{API}/privacy/notices/first-login")).json()) == 1
    outsider = await other.client_of("外人")
    assert len((await outsider.get(f"{API}/privacy/notices/first-login")).json()) == 1
