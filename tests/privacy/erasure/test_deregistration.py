"""Deregistering an organisation: the main admin asks (its name typed, an SMS code given), the
members are told, the admin may cancel during the cooling-off period, and at its end a job purges
everything of the organisation while the other organisation and shared accounts stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from erasure_world import (
    MakeClient,
    World,
    build_world,
    count_rows,
    deregistration_code,
    last_sms,
    request_deregistration,
    rows_of,
    rows_of_org,
    run_jobs,
    upload,
    whole_database,
)

from helpers import login
from zhengtong.core.clock import clock, utcnow
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import CryptoError
from zhengtong.platform.storage import member_prefix
from zhengtong.privacy.erasure.service import PurgeReport, purge_organization

DAY = 24 * 3600


async def _audit_actions(context: AppContext, scope: str) -> list[str]:
    return [
        row["action"]
        for row in sorted(await rows_of(context, "audit_log", scope=scope), key=lambda r: r["seq"])
    ]


async def test_the_main_admin_requests_and_the_members_are_told(
    context: AppContext, make_client: MakeClient
) -> None:
    world = await build_world(context, make_client)
    admin = world.first_admin

    answer = await request_deregistration(context, admin, "甲单位")

    assert answer.status_code == 201, answer.text
    status = answer.json()
    assert status["state"] == "cooling_off" and status["can_manage"] is True
    assert status["cooling_off_days"] == 30 and status["member_count"] == 4
    purge_at = status["purge_at"]
    assert abs((_parse(purge_at) - utcnow()) - timedelta(days=30)) < timedelta(minutes=1)
    assert (await rows_of(context, "organizations", id=admin.org_id))[0]["status"] == "deregistering"
    # every member has a notice in the client and gets an SMS (sent by the notices job)
    notices = await rows_of(context, "notices", org_id=admin.org_id, kind="org_deregistration")
    assert {n["account_id"] for n in notices} == {
        admin.account_id,
        world.zhang.member.account_id,
        world.li.member.account_id,
        world.wang.member.account_id,
    }
    await run_jobs(context)
    sms = last_sms(context, world.li.member.mobile, "notice.org_deregistration")
    assert "甲单位" in sms["text"] and "导出" in sms["text"]
    # members see the state; nothing happens to 乙单位
    seen = await world.li.get("/org/deregistration")
    assert (seen.json()["state"], seen.json()["can_manage"]) == ("cooling_off", False)
    assert (await world.second_admin.get("/org/deregistration")).json()["state"] == "active"
    assert "privacy.deregistration_requested" in await _audit_actions(context, admin.org_id)


def _parse(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_request_then_cancel_keeps_everything(context: AppContext, make_client: MakeClient) -> None:
    world = await build_world(context, make_client)
    admin = world.first_admin
    assert (await request_deregistration(context, admin, "甲单位")).status_code == 201

    cancelled = await admin.delete("/org/deregistration")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "active"
    assert (await rows_of(context, "organizations", id=admin.org_id))[0]["status"] == "active"
    purge_jobs = await rows_of(context, "jobs", kind="privacy.org_purge")
    assert [job["status"] for job in purge_jobs] == ["cancelled"]
    assert await count_rows(context, "notices", org_id=admin.org_id, kind="org_deregistration") == 8
    assert "privacy.deregistration_cancelled" in await _audit_actions(context, admin.org_id)
    # the organisation may ask again, and cancel again
    assert (await request_deregistration(context, admin, "甲单位")).status_code == 201
    assert (await admin.delete("/org/deregistration")).json()["state"] == "active"
    # when the cooling-off period would have ended, nothing is purged
    clock.advance(31 * DAY)
    await run_jobs(context)
    assert await count_rows(context, "memberships", org_id=admin.org_id) == 4
    assert await count_rows(context, "im_messages", conversation_id=world.group_id) >= 3
    assert (await rows_of(context, "organizations", id=admin.org_id))[0]["data_key_wrapped"] is not None


async def test_after_the_cooling_off_period_the_purge_deletes_the_organisation(
    context: AppContext, make_client: MakeClient
) -> None:
    world = await build_world(context, make_client)
    admin, org_id = world.first_admin, world.first_admin.org_id
    await upload(world.zhang, world.group_id, "报告.txt", b"report")
    await context.storage.put(member_prefix("privacy", org_id, world.zhang.id) + "export.zip", b"zip")
    second_before = await rows_of_org(context, world.second_admin.org_id)
    assert (await request_deregistration(context, admin, "甲单位")).status_code == 201
    await run_jobs(context)  # the notices go out

    # a day before the end nothing happens
    clock.advance(29 * DAY)
    await run_jobs(context)
    assert await count_rows(context, "memberships", org_id=org_id) == 4

    # at the end the purge runs
    clock.advance(DAY + 60)
    await run_jobs(context)

    assert await rows_of_org(context, org_id) == {}
    assert await count_rows(context, "organizations", id=org_id) == 0
    assert list(context.storage.keys(f"im/{org_id}/")) == []
    assert [key for key in context.storage.keys("") if org_id in key] == []
    # accounts only 甲单位 had are gone; 王五岳's stays with its 乙单位 membership
    for who in (world.zhang, world.li):
        assert await count_rows(context, "accounts", id=who.member.account_id) == 0
    assert await count_rows(context, "accounts", id=admin.account_id) == 0
    assert await count_rows(context, "accounts", id=world.wang.member.account_id) == 1
    assert await count_rows(context, "memberships", id=world.wang_second.id) == 1
    # 乙单位 is untouched and works
    assert await rows_of_org(context, world.second_admin.org_id) == second_before
    await login(world.wang_second.http, context, world.wang.member.mobile)  # 30 days later: a new session
    history = await world.wang_second.get(f"/im/conversations/{world.second_group_id}/messages")
    assert history.status_code == 200 and "乙单位的消息" in history.text
    # the tombstone: the organisation's id and dates, no name
    [tombstone] = await rows_of(context, "privacy_deregistrations", org_id=org_id)
    assert tombstone["state"] == "purged" and tombstone["purged_at"] is not None
    assert tombstone["account_ids"] == [] and tombstone["requested_by_membership_id"] is None
    assert "privacy.org_purged" in await _audit_actions(context, "platform")
    # the purge job's result holds counts only
    [job] = await rows_of(context, "jobs", kind="privacy.org_purge")
    assert job["status"] == "succeeded" and job["result"]["rows_deleted"]["im_messages"] >= 3


async def test_the_organisation_key_is_destroyed_so_a_backup_copy_cannot_be_opened(
    context: AppContext, make_client: MakeClient
) -> None:
    world = await build_world(context, make_client)
    org_id = world.first_admin.org_id
    [backup] = await rows_of(
        context, "im_messages", conversation_id=world.group_id, seq=2
    )  # a copy taken before
    [organization] = await rows_of(context, "organizations", id=org_id)
    opened = context.keyring.org_cipher(org_id, organization["data_key_wrapped"]).decrypt(
        backup["content_sealed"], aad=f"im-message:{backup['id']}".encode()
    )
    assert "张三丰" in opened.decode()

    await purge_organization(context, org_id)

    assert await count_rows(context, "organizations", id=org_id) == 0
    with pytest.raises(CryptoError):
        context.keyring.org_cipher(org_id, None)


async def test_a_purge_that_died_halfway_finishes_when_run_again(
    context: AppContext, make_client: MakeClient
) -> None:
    world = await build_world(context, make_client)
    org_id = world.first_admin.org_id
    reached: list[str] = []

    async def dies_at_the_memberships(done: int, total: int, step: str) -> None:
        reached.append(step)
        if step == "memberships":
            raise RuntimeError("the worker died")

    with pytest.raises(RuntimeError):
        await purge_organization(context, org_id, progress=dies_at_the_memberships)

    # half done: the key is gone, the chat is gone, the members are still there
    assert "im_messages" in reached
    [organization] = await rows_of(context, "organizations", id=org_id)
    assert organization["data_key_wrapped"] is None
    assert await count_rows(context, "im_messages", org_id=org_id) == 0
    assert await count_rows(context, "memberships", org_id=org_id) == 4

    report = await purge_organization(context, org_id)

    assert await rows_of_org(context, org_id) == {}
    assert report.accounts_deleted == 3  # 张三丰, 李四海 and the main admin; not 王五岳
    assert await count_rows(context, "accounts", id=world.wang.member.account_id) == 1
    again = await purge_organization(context, org_id)
    assert again == PurgeReport(org_id, already_purged=True)


async def test_the_cooling_off_period_is_a_setting(context: AppContext, make_client: MakeClient) -> None:
    world = await build_world(context, make_client)
    context.settings = context.settings.with_overrides(deregistration_cooling_days=7)

    answer = await request_deregistration(context, world.first_admin, "甲单位")

    assert answer.json()["cooling_off_days"] == 7
    assert abs((_parse(answer.json()["purge_at"]) - utcnow()) - timedelta(days=7)) < timedelta(minutes=1)


def test_the_setting_reads_its_environment_variable() -> None:
    from zhengtong.core.config import load_settings

    assert load_settings({"ZT_DEREGISTRATION_COOLING_DAYS": "45"}).deregistration_cooling_days == 45
    assert Settings().deregistration_cooling_days == 30


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("member", 403, "privacy.erasure.main_admin_required"),
        ("system_admin", 403, "privacy.erasure.main_admin_required"),
        ("other_org_admin", 201, None),  # asks for its own organisation, not this one
    ],
)
async def test_only_the_main_admin_may_request_or_cancel(
    context: AppContext, make_client: MakeClient, who: str, status: int, code: str | None
) -> None:
    world = await build_world(context, make_client)
    actor = await _actor(context, world, who)
    before = await _first_org_state(context, world)

    if who == "other_org_admin":
        answer = await request_deregistration(context, world.second_admin, "乙单位")
        assert answer.status_code == status
        assert await _first_org_state(context, world) == before
        return
    sent = await actor.post("/org/deregistration/code")
    asked = await actor.post("/org/deregistration", {"org_name": "甲单位", "code": "123456"})
    cancelled = await actor.delete("/org/deregistration")

    for answer in (sent, asked, cancelled):
        assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert await _first_org_state(context, world) == before


async def _actor(context: AppContext, world: World, who: str) -> Any:
    if who == "member":
        return world.li
    if who == "system_admin":
        granted = await world.first_admin.http.put(
            f"/api/v1/org/members/{world.li.id}/admin",
            json={"grants": [{"duty": "system"}]},
            headers={"X-CSRF-Token": world.first_admin.http.cookies.get("zt_csrf") or ""},
        )
        assert granted.status_code == 204, granted.text
        return world.li
    return world.second_admin


async def _first_org_state(context: AppContext, world: World) -> dict[str, Any]:
    org_id = world.first_admin.org_id
    return {
        "deregistrations": await rows_of(context, "privacy_deregistrations", org_id=org_id),
        "organization": (await rows_of(context, "organizations", id=org_id))[0]["status"],
        "jobs": [
            job["id"]
            for job in await rows_of(context, "jobs", kind="privacy.org_purge")
            if job["payload"]["org_id"] == org_id
        ],
    }


async def test_a_wrong_name_or_code_changes_nothing(context: AppContext, make_client: MakeClient) -> None:
    world = await build_world(context, make_client)
    admin = world.first_admin
    code = await deregistration_code(context, admin)
    before = await whole_database(context)

    wrong_name = await admin.post("/org/deregistration", {"org_name": "乙单位", "code": code})
    wrong_code = await admin.post(
        "/org/deregistration", {"org_name": "甲单位", "code": "000000" if code != "000000" else "111111"}
    )

    assert (wrong_name.status_code, wrong_name.json()["code"]) == (422, "privacy.erasure.name_mismatch")
    assert (wrong_code.status_code, wrong_code.json()["code"]) == (400, "auth.code_invalid")
    # nothing changed but the wrong guess counted against the code (and the audit entry of it)
    unchanged = {"audit_log", "sms_codes"}
    after = await whole_database(context)
    assert {table: rows for table, rows in after.items() if table not in unchanged} == {
        table: rows for table, rows in before.items() if table not in unchanged
    }
    assert [row["attempts"] for row in await rows_of(context, "sms_codes", purpose="deregister")] == [1]
    # the right code still works once
    assert (await admin.post("/org/deregistration", {"org_name": "甲单位", "code": code})).status_code == 201
    again = await admin.post("/org/deregistration", {"org_name": "甲单位", "code": code})
    assert (again.status_code, again.json()["code"]) == (409, "privacy.erasure.already_requested")


async def test_cancelling_without_a_request_or_after_the_purge_began_is_refused(
    context: AppContext, make_client: MakeClient
) -> None:
    world = await build_world(context, make_client)
    admin = world.first_admin

    nothing = await admin.delete("/org/deregistration")

    assert (nothing.status_code, nothing.json()["code"]) == (409, "privacy.erasure.not_requested")
