"""Delivery by SMS and by phone through the outbox: an unanswered call falls back to an SMS, an
answered one does not; a provider that raises or hangs is recorded as failed without holding up
the sender; quiet hours hold a DING until they end, unless it is an emergency, which is audited."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from ding_world import Person, attempts_of, outbox_to, person, run_jobs
from sqlalchemy import select

from helpers import csrf_headers
from zhengtong.core.clock import clock, utcnow
from zhengtong.core.context import AppContext
from zhengtong.ding import delivery
from zhengtong.notifications.models import Notice, NoticeDelivery
from zhengtong.platform.audit import AuditEntry
from zhengtong.platform.notify import answer_recorded_call, read_outbox


class RaisingProvider:
    async def send_sms(self, mobile: str, template: str, text: str, params: dict[str, Any]) -> None:
        raise ConnectionError("the gateway refused")

    async def place_call(self, mobile: str, template: str, text: str, params: dict[str, Any]) -> str:
        raise ConnectionError("the gateway refused")


class HangingProvider:
    async def send_sms(self, mobile: str, template: str, text: str, params: dict[str, Any]) -> None:
        await asyncio.sleep(3600)


async def test_an_sms_ding_is_also_shown_in_the_app(context: AppContext, make_client: Any) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")

    created = await sender.ding(other, text="防汛值班，请回电", channel="sms")
    await run_jobs(context)

    [sms] = outbox_to(context, other, "sms")
    assert sms.template == "ding.sms" and "防汛值班，请回电" in sms.text and "发送人" in sms.text
    assert await attempts_of(context, created["id"], other) == [("in_app", "sent", 1), ("sms", "sent", 1)]
    assert [d["id"] for d in (await other.get("/ding/received")).json()["items"]] == [created["id"]]


async def test_an_unanswered_call_falls_back_to_an_sms_after_a_minute(
    context: AppContext, make_client: Any
) -> None:
    # given
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    created = await sender.ding(other, text="紧急会议", channel="call")

    # when
    await run_jobs(context)
    placed = outbox_to(context, other, "voice")
    before_check = await attempts_of(context, created["id"], other)
    clock.advance(60)
    await run_jobs(context)

    # then: the call rang out (the outbox answers nobody), then an SMS went
    assert len(placed) == 1 and "紧急会议" in placed[0].text
    assert before_check == [("in_app", "sent", 1), ("call", "sent", 1)]
    assert await attempts_of(context, created["id"], other) == [
        ("in_app", "sent", 1),
        ("call", "unanswered", 1),
        ("sms", "sent", 1),
    ]
    assert len(outbox_to(context, other, "sms")) == 1
    shown = (await sender.get(f"/ding/{created['id']}/recipients/{other.id}/attempts")).json()
    assert [(a["channel"], a["result"]) for a in shown["items"]] == [
        ("in_app", "sent"),
        ("call", "unanswered"),
        ("sms", "sent"),
    ]


async def test_an_answered_call_sends_no_sms(context: AppContext, make_client: Any) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    created = await sender.ding(other, channel="call")
    await run_jobs(context)
    [call] = outbox_to(context, other, "voice")

    answer_recorded_call(context.settings.outbox_path, str(call.params["call_id"]))
    clock.advance(60)
    await run_jobs(context)

    assert await attempts_of(context, created["id"], other) == [
        ("in_app", "sent", 1),
        ("call", "answered", 1),
    ]
    assert outbox_to(context, other, "sms") == []


async def test_an_unanswered_call_sends_no_sms_to_someone_who_confirmed_meanwhile(
    context: AppContext, make_client: Any
) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    created = await sender.ding(other, channel="call")
    await run_jobs(context)

    await other.post(f"/ding/{created['id']}/confirm")
    clock.advance(60)
    await run_jobs(context)

    assert await attempts_of(context, created["id"], other) == [
        ("in_app", "sent", 1),
        ("call", "unanswered", 1),
    ]
    assert outbox_to(context, other, "sms") == []


async def test_a_provider_that_raises_is_recorded_as_failed_and_a_failed_call_falls_back(
    context: AppContext, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = await person(context, make_client, "发送人")
    by_sms, by_call = await person(context, make_client, "短信"), await person(context, make_client, "电话")
    monkeypatch.setattr(context, "sms", RaisingProvider())
    monkeypatch.setattr(context, "voice", RaisingProvider())

    sms_ding = await sender.ding(by_sms, channel="sms")
    call_ding = await sender.ding(by_call, channel="call")
    await run_jobs(context)

    assert await attempts_of(context, sms_ding["id"], by_sms) == [("in_app", "sent", 1), ("sms", "failed", 1)]
    assert await attempts_of(context, call_ding["id"], by_call) == [
        ("in_app", "sent", 1),
        ("call", "failed", 1),
        ("sms", "failed", 1),
    ]
    shown = (await sender.get(f"/ding/{sms_ding['id']}/recipients/{by_sms.id}/attempts")).json()["items"]
    assert shown[-1]["detail"] == "ConnectionError" and shown[-1]["finished_at"] is not None


async def test_a_provider_that_hangs_never_holds_up_the_sender_and_is_recorded_as_failed(
    context: AppContext, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    monkeypatch.setattr(context, "sms", HangingProvider())
    monkeypatch.setattr(delivery, "PROVIDER_TIMEOUT_SECONDS", 0.2)

    created = await asyncio.wait_for(sender.ding(other, channel="sms"), timeout=5)
    recorded_before_sending = await attempts_of(context, created["id"], other)
    await asyncio.wait_for(run_jobs(context), timeout=10)

    assert recorded_before_sending == []  # nothing was attempted in the request
    assert await attempts_of(context, created["id"], other) == [("in_app", "sent", 1), ("sms", "failed", 1)]
    shown = (await sender.get(f"/ding/{created['id']}/recipients/{other.id}/attempts")).json()["items"]
    assert shown[-1]["detail"] == "TimeoutError"


async def _quiet_for_two_hours(who: Person) -> datetime:
    """Quiet hours from an hour ago to two hours from now (Shanghai time); returns when they end."""
    local = utcnow().astimezone(ZoneInfo("Asia/Shanghai"))
    start, end = local - timedelta(hours=1), local + timedelta(hours=2)
    answer = await who.patch(
        "/im/preferences",
        {
            "quiet_hours_enabled": True,
            "quiet_start": start.strftime("%H:%M"),
            "quiet_end": end.strftime("%H:%M"),
            "timezone": "Asia/Shanghai",
        },
    )
    assert answer.status_code == 200 and answer.json()["in_quiet_hours"], answer.text
    return end.replace(second=0, microsecond=0)


async def test_quiet_hours_hold_a_ding_until_they_end(context: AppContext, make_client: Any) -> None:
    # given
    sender = await person(context, make_client, "发送人")
    resting, awake = await person(context, make_client, "休息中"), await person(context, make_client, "值班")
    quiet_end = await _quiet_for_two_hours(resting)

    # when
    created = await sender.ding(resting, awake, channel="sms")
    await run_jobs(context)
    while_quiet = await attempts_of(context, created["id"], resting)
    listed_while_quiet = (await resting.get("/ding/received")).json()["items"]
    unconfirmed = (await sender.get(f"/ding/{created['id']}/recipients")).json()["items"]
    clock.advance((quiet_end - utcnow()).total_seconds() + 1)
    await run_jobs(context)

    # then
    assert while_quiet == [("sms", "held_quiet_hours", 1)] and listed_while_quiet == []
    held = next(r for r in unconfirmed if r["membership_id"] == resting.id)
    assert datetime.fromisoformat(held["held_until"]) == quiet_end and held["delivered_at"] is None
    assert await attempts_of(context, created["id"], awake) == [("in_app", "sent", 1), ("sms", "sent", 1)]
    assert await attempts_of(context, created["id"], resting) == [
        ("sms", "held_quiet_hours", 1),
        ("in_app", "sent", 1),
        ("sms", "sent", 1),
    ]
    assert len(outbox_to(context, resting, "sms")) == 1
    assert [d["id"] for d in (await resting.get("/ding/received")).json()["items"]] == [created["id"]]


async def test_an_emergency_ignores_quiet_hours_and_is_audited_with_ids_only(
    context: AppContext, make_client: Any
) -> None:
    sender = await person(context, make_client, "发送人")
    resting = await person(context, make_client, "休息中")
    await _quiet_for_two_hours(resting)

    created = await sender.ding(resting, text="火警，请立即撤离", channel="sms", emergency=True)
    await run_jobs(context)

    assert await attempts_of(context, created["id"], resting) == [("in_app", "sent", 1), ("sms", "sent", 1)]
    async with context.db.transaction() as session:
        [entry] = await session.scalars(select(AuditEntry).where(AuditEntry.action == "ding.emergency_sent"))
    assert (entry.object_type, entry.object_id, entry.actor_account_id) == (
        "ding",
        created["id"],
        sender.account_id,
    )
    assert entry.detail == {"recipients": 1, "channel": "sms", "scheduled": False}
    assert "火警" not in str(entry.detail)


async def test_a_reminder_during_quiet_hours_waits_too_and_skips_those_who_confirmed(
    context: AppContext, make_client: Any
) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    created = await sender.ding(other)
    await run_jobs(context)
    quiet_end = await _quiet_for_two_hours(other)
    clock.advance(5 * 60)

    assert (await sender.post(f"/ding/{created['id']}/remind")).status_code == 200
    await run_jobs(context)
    held = await attempts_of(context, created["id"], other)
    await other.post(f"/ding/{created['id']}/confirm")
    clock.advance((quiet_end - utcnow()).total_seconds() + 1)
    await run_jobs(context)

    assert held == [("in_app", "sent", 1), ("in_app", "held_quiet_hours", 2)]
    assert await attempts_of(context, created["id"], other) == held  # confirmed meanwhile: nothing more


async def test_an_in_app_ding_is_pushed_to_those_away_from_the_app_who_did_not_turn_it_off(
    context: AppContext, make_client: Any
) -> None:
    sender = await person(context, make_client, "发送人")
    pushed_to = await person(context, make_client, "同事甲")
    declined = await person(context, make_client, "同事乙")
    in_the_app = await person(context, make_client, "同事丙")
    await context.presence.connected(in_the_app.account_id, "an-open-tab")
    off = {"category": "ding", "sms": True, "email": True, "push": False}
    chosen = await declined.http.put(
        "/api/v1/notifications/preferences", json={"categories": [off]}, headers=csrf_headers(declined.http)
    )
    assert chosen.status_code == 200, chosen.text

    created = await sender.ding(pushed_to, declined, in_the_app, text="请立即查看值班表")
    await run_jobs(context)

    pushes = [m for m in read_outbox(context.settings.outbox_path) if m.channel == "push"]
    assert [(m.to, m.template, m.params["link"]) for m in pushes] == [
        (pushed_to.account_id, "notice.ding", f"/ding/{created['id']}")
    ]
    assert "请立即查看值班表" not in pushes[0].text  # the notice names neither the text nor the sender
    assert "发送人" not in pushes[0].text
    async with context.db.transaction() as session:
        rows = await session.execute(
            select(Notice.account_id, NoticeDelivery.result)
            .join(NoticeDelivery, NoticeDelivery.notice_id == Notice.id)
            .where(Notice.reference == f"ding:{created['id']}", NoticeDelivery.channel == "push")
        )
        results = {account_id: result for account_id, result in rows.all()}
    # No push for who has the app open: their client shows it (and notifies when hidden).
    assert results == {pushed_to.account_id: "sent", declined.account_id: "declined"}
    assert [d["id"] for d in (await in_the_app.get("/ding/received")).json()["items"]] == [created["id"]]
