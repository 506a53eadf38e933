"""Work notices in the admin console: an admin sends to people, departments or everyone, follows
the progress and who read it, and recalls; who may not, and that a refusal changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from notice_world import NoticeWorld, admin_client, build_world, member_client, run_jobs
from sqlalchemy import func, select, update

from helpers import csrf_headers, login_admin
from zhengtong.core.context import AppContext
from zhengtong.org.models import AdminDuty, AdminGrant, MemberRole, Membership
from zhengtong.platform.jobs import Job
from zhengtong.worknotices.models import WorkNotice

API = "/api/v1/org/work-notices"
MARKDOWN = {
    "msgtype": "markdown",
    "markdown": {"title": "停电通知", "text": "### 停电通知\n周六 9:00–12:00 停电。"},
}


@pytest.fixture
async def world(app: object, context: AppContext) -> NoticeWorld:
    return await build_world(context)


async def _notices(context: AppContext) -> int:
    async with context.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(WorkNotice)) or 0)


async def test_an_admin_sends_to_everyone_follows_it_and_recalls_it(
    context: AppContext, world: NoticeWorld, make_client: Any
) -> None:
    admin = await admin_client(make_client, context, world)

    sent = await admin.post(API, json={"to_all": True, "msg": MARKDOWN}, headers=csrf_headers(admin))
    assert sent.status_code == 201, sent.text
    notice = sent.json()
    assert (notice["status"], notice["title"], notice["sender_name"]) == ("sending", "停电通知", "")
    await run_jobs(context)

    detail = (await admin.get(f"{API}/{notice['id']}")).json()
    assert (detail["status"], detail["total"], detail["percent"], detail["unread"]) == ("sent", 4, 100, 4)
    assert detail["msg"] == MARKDOWN
    async with context.db.transaction() as session:
        job = await session.get(Job, notice["job_id"])
        assert job is not None and (job.progress_done, job.progress_total) == (4, 4)

    zhao = await member_client(make_client, context, world["赵六"])
    await zhao.post(f"/api/v1/work-notices/{notice['id']}/read", headers=csrf_headers(zhao))
    read = (await admin.get(f"{API}/{notice['id']}/recipients", params={"read": True})).json()
    unread = (await admin.get(f"{API}/{notice['id']}/recipients", params={"limit": 2})).json()
    assert [item["name"] for item in read["items"]] == ["赵六"] and read["total"] == 1
    assert len(unread["items"]) == 2 and unread["total"] == 3

    recalled = await admin.post(f"{API}/{notice['id']}/recall", headers=csrf_headers(admin))
    assert recalled.json()["status"] == "recalled" and recalled.json()["title"] == ""
    assert (await zhao.get("/api/v1/notices")).json()["items"] == []


async def test_the_lists_page_back_from_the_newest_with_each_notice_counted(
    context: AppContext, world: NoticeWorld, make_client: Any
) -> None:
    admin = await admin_client(make_client, context, world)
    sent = []
    for number in range(5):
        text = {"msgtype": "text", "text": {"content": f"第{number}号通知"}}
        answer = await admin.post(API, json={"to_all": True, "msg": text}, headers=csrf_headers(admin))
        sent.append(answer.json()["id"])
    await run_jobs(context)
    zhao = await member_client(make_client, context, world["赵六"])
    await zhao.post(f"/api/v1/work-notices/{sent[3]}/read", headers=csrf_headers(zhao))

    pages, before = [], None
    while True:
        page = (await admin.get(API, params={"limit": 2, **({"before": before} if before else {})})).json()
        pages.append([(item["id"], item["read"], item["unread"]) for item in page])
        if len(page) < 2:
            break
        before = page[-1]["id"]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [item for page in pages for item in page] == [
        (notice_id, 1 if notice_id == sent[3] else 0, 3 if notice_id == sent[3] else 4)
        for notice_id in reversed(sent)
    ]

    first = (await zhao.get("/api/v1/work-notices", params={"limit": 3})).json()
    rest = (await zhao.get("/api/v1/work-notices", params={"limit": 3, "before": first[-1]["id"]})).json()
    assert [item["id"] for item in first + rest] == list(reversed(sent))


async def test_a_member_cannot_send_and_nothing_is_recorded(
    context: AppContext, world: NoticeWorld, make_client: Any
) -> None:
    member = await member_client(make_client, context, world["张三"])

    refused = await member.post(API, json={"to_all": True, "msg": MARKDOWN}, headers=csrf_headers(member))

    assert (refused.status_code, refused.json()["code"]) == (403, "org.admin_required")
    assert await _notices(context) == 0


async def test_another_organisation_cannot_see_or_recall_a_notice(
    context: AppContext, world: NoticeWorld, make_client: Any
) -> None:
    admin = await admin_client(make_client, context, world)
    notice = (
        await admin.post(API, json={"to_all": True, "msg": MARKDOWN}, headers=csrf_headers(admin))
    ).json()
    await run_jobs(context)
    other = await build_world(context, org_name="某区教育局")
    stranger = await admin_client(make_client, context, other)

    for answer in (
        await stranger.get(f"{API}/{notice['id']}"),
        await stranger.get(f"{API}/{notice['id']}/recipients"),
        await stranger.post(f"{API}/{notice['id']}/recall", headers=csrf_headers(stranger)),
    ):
        assert answer.status_code == 404
    assert [n["id"] for n in (await stranger.get(API)).json()] == []
    assert (await admin.get(f"{API}/{notice['id']}")).json()["status"] == "sent"


async def test_an_admin_of_a_department_sends_only_inside_it(
    context: AppContext, world: NoticeWorld, make_client: Any
) -> None:
    li = world["李四"]
    async with context.db.transaction() as session:
        await session.execute(
            update(Membership).where(Membership.id == li.membership_id).values(role=MemberRole.ADMIN)
        )
        session.add(
            AdminGrant(
                org_id=world.org_id,
                membership_id=li.membership_id,
                duty=AdminDuty.SYSTEM,
                department_ids=[world.office_id],
                functions=[],
            )
        )
    office_admin: httpx.AsyncClient = make_client()
    await login_admin(office_admin, context, li.mobile)

    async def send(body: dict[str, Any]) -> httpx.Response:
        return await office_admin.post(
            API, json={**body, "msg": MARKDOWN}, headers=csrf_headers(office_admin)
        )

    assert (await send({"to_all": True})).status_code == 403
    assert (await send({"user_ids": [world["张三"].membership_id]})).status_code == 403  # at the root
    assert await _notices(context) == 0
    inside = await send({"department_ids": [world.archive_id], "user_ids": [world["赵六"].membership_id]})
    assert inside.status_code == 201, inside.text
    # an admin of part of the organisation follows only what they sent
    whole = await admin_client(make_client, context, world)
    mine = (await whole.post(API, json={"to_all": True, "msg": MARKDOWN}, headers=csrf_headers(whole))).json()
    assert [n["id"] for n in (await office_admin.get(API)).json()] == [inside.json()["id"]]
    assert (await office_admin.get(f"{API}/{mine['id']}")).status_code == 404


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"msg": MARKDOWN}, "worknotices.no_target"),
        (
            {"to_all": True, "msg": {"msgtype": "text", "text": {"content": ""}}},
            "worknotices.message_invalid",
        ),
        (
            {"to_all": True, "msg": {"msgtype": "text", "text": {"content": "长" * 5001}}},
            "worknotices.message_invalid",
        ),
        ({"user_ids": [str(n) for n in range(5001)], "msg": MARKDOWN}, "worknotices.too_many_targets"),
    ],
)
async def test_bad_input_is_refused_with_a_clear_code(
    context: AppContext, world: NoticeWorld, make_client: Any, body: dict[str, Any], code: str
) -> None:
    admin = await admin_client(make_client, context, world)

    answer = await admin.post(API, json=body, headers={**csrf_headers(admin), "Accept-Language": "en"})

    assert answer.json()["code"] == code and answer.json()["message"].isascii()
    assert await _notices(context) == 0
