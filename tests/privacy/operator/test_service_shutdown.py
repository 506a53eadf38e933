"""Service shutdown: scheduled at least 30 days ahead, announced to everyone through at least two
channels; from the date on nothing new is collected; then a final job deletes every organisation
and every account."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from operator_world import (
    Client,
    MakeClient,
    admin_client,
    logged_in,
    operator,
    organisation,
    outbox,
    run_jobs,
)
from sqlalchemy import func, select

from helpers import csrf_headers, login, next_mobile
from zhengtong.core.clock import clock, utcnow
from zhengtong.core.context import AppContext
from zhengtong.identity.models import Account
from zhengtong.org.models import Organization
from zhengtong.platform.audit import PLATFORM_SCOPE, AuditEntry
from zhengtong.privacy.operator.models import ServiceShutdown

DAY = 86400
SHUTTING_DOWN = "privacy.operator.service_shutting_down"


async def schedule(staff: Client, days: float, channels: list[str] | None = None) -> Any:
    return await staff.post(
        "/operator/shutdown",
        {
            "collection_stops_at": (utcnow() + timedelta(days=days)).isoformat(),
            "channels": channels or ["sms"],
            "message_zh": "服务将由市大数据局的新平台接续。",
            "message_en": "The city's new platform takes over.",
        },
    )


async def test_a_shutdown_needs_thirty_days_and_two_channels(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    staff = await operator(context, make_client)

    too_soon = await schedule(staff, 29.9)
    one_channel = await schedule(staff, 45, ["push"])

    assert (too_soon.status_code, too_soon.json()["code"]) == (422, "privacy.operator.shutdown_too_soon")
    assert (one_channel.status_code, one_channel.json()["code"]) == (
        422,
        "privacy.operator.shutdown_needs_two_channels",
    )
    async with context.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ServiceShutdown)) == 0

    scheduled = await schedule(staff, 30.01)
    assert scheduled.status_code == 201, scheduled.text
    assert (scheduled.json()["status"], scheduled.json()["channels"]) == ("scheduled", ["in_app", "sms"])
    second = await schedule(staff, 60)
    assert second.json()["code"] == "privacy.operator.shutdown_already_scheduled"


async def test_everyone_is_told_in_app_and_by_sms(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    staff = await operator(context, make_client)
    tax = await organisation(context, "某市税务局", ["张明", "李华"])
    school = await organisation(context, "某区教育局", ["赵丽"])

    await schedule(staff, 40)
    await run_jobs(context)

    people = [*tax.members, *school.members]
    texts = {m.to: m.text for m in outbox(context, template="notice.service_shutdown")}
    assert {f"+86{member.mobile}" for member in people} <= set(texts)
    assert "停止收集任何新的个人信息" in texts[f"+86{people[0].mobile}"]
    assert "服务将由市大数据局的新平台接续。" in texts[f"+86{people[0].mobile}"]
    reader = await logged_in(context, make_client, school.members[0])
    [notice] = (await reader.get("/notices")).json()["items"]
    assert notice["kind"] == "service_shutdown" and "Zhengtong stops operating" in notice["subject"]["en"]
    state = (await staff.get("/operator/shutdown")).json()
    assert state["current"]["notices"]["sms"]["sent"] == 4  # three members and the operator
    assert state["current"]["collection_stopped"] is False


async def test_collection_stops_at_the_date(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    # given
    staff = await operator(context, make_client)
    org = await organisation(context, "某市税务局", ["张明", "李华"])
    zhang = await logged_in(context, make_client, org.members[0])
    admin = await admin_client(context, make_client, org)
    group = await zhang.post(
        "/im/conversations/group", {"name": "专项组", "member_ids": [org.members[1].membership_id]}
    )
    conversation = f"/im/conversations/{group.json()['id']}"
    assert (await zhang.post(f"{conversation}/messages", {"text": "还在收集"})).status_code == 200
    root = next(d for d in (await admin.get("/org/departments")).json() if d["parent_id"] is None)
    invite = (await admin.post("/org/invites", {"department_id": root["id"]})).json()
    await schedule(staff, 31)
    await run_jobs(context)

    # when
    clock.advance(31 * DAY)

    # then: nothing new comes in …
    message = await zhang.post(f"{conversation}/messages", {"text": "停止之后"})
    assert (message.status_code, message.json()["code"]) == (403, SHUTTING_DOWN)
    upload = await zhang.http.post(
        f"/api/v1{conversation}/files/upload",
        files={"file": ("记录.txt", b"text", "text/plain")},
        data={"kind": "file"},
        headers=csrf_headers(zhang.http),
    )
    assert upload.json()["code"] == SHUTTING_DOWN
    member = await admin.post("/org/members", {"mobile": next_mobile(), "name": "新同事"})
    assert member.json()["code"] == SHUTTING_DOWN
    consent = await zhang.http.put(
        "/api/v1/privacy/consents/contact_matching", json={}, headers=csrf_headers(zhang.http)
    )
    assert consent.json()["code"] == SHUTTING_DOWN
    stranger = make_client()
    sign_up = await stranger.post(f"/api/v1/join/{invite['token']}/code", json={"mobile": next_mobile()})
    assert (sign_up.status_code, sign_up.json()["code"]) == (403, SHUTTING_DOWN)
    opened = await staff.post(
        "/operator/organizations", {"name": "新单位", "admin_mobile": next_mobile(), "admin_name": "甲"}
    )
    assert opened.json()["code"] == SHUTTING_DOWN
    english = await zhang.http.post(
        f"/api/v1{conversation}/messages",
        json={"text": "x"},
        headers={**csrf_headers(zhang.http), "Accept-Language": "en"},
    )
    assert english.json()["message"].startswith("The service has stopped operating")
    # … while reading, leaving, and logging in to take one's data still work
    assert (await zhang.get(f"{conversation}/messages")).status_code == 200
    again = make_client()
    await login(again, context, org.members[1].mobile)
    assert (await again.get("/api/v1/me")).status_code == 200
    disbanded = await zhang.http.delete(f"/api/v1{conversation}", headers=csrf_headers(zhang.http))
    assert disbanded.status_code == 204, disbanded.text
    assert (await staff.get("/operator/shutdown")).json()["current"]["collection_stopped"] is True
    cancel = await staff.post("/operator/shutdown/cancel")
    assert (cancel.status_code, cancel.json()["code"]) == (409, "privacy.operator.shutdown_not_cancellable")


async def test_a_cancelled_shutdown_collects_on_and_purges_nothing(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    staff = await operator(context, make_client)
    org = await organisation(context, "某市税务局", ["张明"])
    await schedule(staff, 35, ["sms", "email"])
    await run_jobs(context)

    cancelled = await staff.post("/operator/shutdown/cancel")
    await run_jobs(context)
    clock.advance(36 * DAY)
    await run_jobs(context)

    assert cancelled.json()["status"] == "cancelled"
    member = await logged_in(context, make_client, org.members[0])
    group = await member.post("/im/conversations/group", {"name": "照常", "member_ids": []})
    assert group.status_code == 201, group.text
    cancellations = [m for m in outbox(context, template="notice.service_shutdown") if "取消" in m.text]
    assert {m.to for m in cancellations} >= {f"+86{org.members[0].mobile}"}
    async with context.db.transaction() as session:
        assert await session.get(Organization, org.org_id) is not None


async def test_the_final_job_deletes_every_organisation_and_account(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    # given
    staff = await operator(context, make_client)
    tax = await organisation(context, "某市税务局", ["张明", "李华"])
    await organisation(context, "某区教育局", ["赵丽"])
    zhang = await logged_in(context, make_client, tax.members[0])
    await zhang.post(
        "/im/conversations/group", {"name": "专项组", "member_ids": [tax.members[1].membership_id]}
    )
    scheduled = (await schedule(staff, 30.5)).json()
    await run_jobs(context)

    # when: the day before nothing goes; at the date everything does
    clock.advance(30 * DAY)
    await run_jobs(context)
    async with context.db.transaction() as session:
        orgs_the_day_before = await session.scalar(select(func.count()).select_from(Organization))
    clock.advance(1 * DAY)
    await run_jobs(context)

    # then
    assert orgs_the_day_before == 2
    async with context.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Organization)) == 0
        assert await session.scalar(select(func.count()).select_from(Account)) == 0
        shutdown = await session.get(ServiceShutdown, scheduled["id"])
        completed = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.detail).where(
                    AuditEntry.scope == PLATFORM_SCOPE, AuditEntry.object_id == scheduled["id"]
                )
            )
        ).all()
    assert shutdown is not None and shutdown.status == "completed"
    assert shutdown.outcome == {"organizations": 2, "accounts": 1}  # the operator's own was left last
    assert [action for action, _ in completed] == [
        "privacy.shutdown.scheduled",
        "privacy.shutdown.purge_started",
        "privacy.shutdown.completed",
    ]
