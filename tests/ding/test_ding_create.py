"""Creating a DING: delivered in the app after the request, refused with stable codes for bad
input, scheduled to the minute with the clock, cancelled, and refused to ordinary staff for an
executive (高管模式)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ding_world import attempts_of, drain, person, run_jobs
from sqlalchemy import func, select

from zhengtong.core.clock import clock, utcnow
from zhengtong.core.context import AppContext
from zhengtong.ding.models import Ding, DingRecipient
from zhengtong.notifications.models import Notice
from zhengtong.org.models import MemberRole


async def _count(context: AppContext, model: Any) -> int:
    async with context.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_ding_reaches_each_recipient_in_the_app_after_the_request(
    context: AppContext, make_client: Any
) -> None:
    # given
    sender = await person(context, make_client, "发送人")
    first, second = await person(context, make_client, "甲"), await person(context, make_client, "乙")

    # when
    async with context.events.listen(first.account_id) as to_first:
        created = await sender.ding(first, second, text="下午三点开会，请准时")
        before_jobs = await drain(context, to_first)
        await run_jobs(context)
        after_jobs = await drain(context, to_first)

    # then: nothing leaves in the request; the job delivers once, in the app and under the bell
    assert created["status"] == "sent" and created["role"] == "sender"
    assert created["recipient_count"] == 2 and created["confirmed_count"] == 0
    assert before_jobs == []
    [new] = [e for e in after_jobs if e["type"] == "ding.new"]
    assert new["ding"]["id"] == created["id"] and new["ding"]["text"] == "下午三点开会，请准时"
    assert new["ding"]["sender_name"] == "发送人" and new["ding"]["role"] == "recipient"
    assert any(e["type"] == "notice.new" for e in after_jobs)
    async with context.db.transaction() as session:
        notice = await session.scalar(select(Notice).where(Notice.account_id == first.account_id))
    assert notice is not None and notice.link == f"/ding/{created['id']}" and notice.kind == "ding"
    assert "下午三点" not in str(notice.body) and "发送人" not in str(notice.body)  # notices are in clear
    assert await attempts_of(context, created["id"], first) == [("in_app", "sent", 1)]
    received = (await first.get("/ding/received")).json()["items"]
    assert [d["id"] for d in received] == [created["id"]] and received[0]["my_confirmed_at"] is None
    sent = (await sender.get("/ding/sent")).json()["items"]
    assert [d["id"] for d in sent] == [created["id"]]


async def test_the_sender_is_dropped_and_each_person_counts_once(
    context: AppContext, make_client: Any
) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")

    created = await sender.post("/ding", {"text": "hi", "recipient_ids": [other.id, other.id, sender.id]})

    assert created.status_code == 201 and created.json()["recipient_count"] == 1


async def test_bad_input_is_refused_with_stable_codes_and_nothing_is_stored(
    context: AppContext, make_client: Any
) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    stranger = await person(context, make_client, "外单位", org_name="另一单位")
    now = utcnow()
    cases = [
        ({"text": "   ", "recipient_ids": [other.id]}, 422, "ding.text_empty"),
        ({"text": "长" * 2001, "recipient_ids": [other.id]}, 422, "ding.text_too_long"),
        ({"text": "hi", "recipient_ids": []}, 422, "ding.no_recipients"),
        ({"text": "hi", "recipient_ids": [sender.id]}, 422, "ding.no_recipients"),
        (
            {"text": "hi", "recipient_ids": [f"R{n:025d}" for n in range(5001)]},
            422,
            "ding.too_many_recipients",
        ),
        ({"text": "hi", "recipient_ids": [stranger.id]}, 404, "ding.recipient_not_visible"),
        ({"text": "hi", "recipient_ids": ["NOSUCHMEMBER"]}, 404, "ding.recipient_not_visible"),
        (
            {
                "text": "hi",
                "recipient_ids": [other.id],
                "scheduled_at": (now - timedelta(minutes=1)).isoformat(),
            },
            422,
            "ding.schedule_in_past",
        ),
        (
            {
                "text": "hi",
                "recipient_ids": [other.id],
                "scheduled_at": (now + timedelta(days=31)).isoformat(),
            },
            422,
            "ding.schedule_too_far",
        ),
        (
            {"text": "hi", "recipient_ids": [other.id], "scheduled_at": "2030-01-01T09:00:00"},
            422,
            "request.invalid",
        ),
        ({"text": "hi", "recipient_ids": [other.id], "channel": "pigeon"}, 422, "request.invalid"),
        (
            {"text": "hi", "recipient_ids": [other.id], "attachment_id": "NOSUCHFILE"},
            404,
            "ding.attachment_not_found",
        ),
        (
            {"text": "", "recipient_ids": [other.id], "source_message_id": "NOSUCH"},
            404,
            "ding.message_not_found",
        ),
    ]

    for body, status, code in cases:
        answer = await sender.post("/ding", body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body

    assert await _count(context, Ding) == 0 and await _count(context, DingRecipient) == 0


async def test_a_scheduled_ding_leaves_at_its_minute_and_not_before(
    context: AppContext, make_client: Any
) -> None:
    # given
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    at = (utcnow() + timedelta(hours=2)).replace(second=37)

    # when
    created = await sender.ding(other, scheduled_at=at.isoformat())
    await run_jobs(context)
    early = (await other.get("/ding/received")).json()["items"]
    early_detail = await other.get(f"/ding/{created['id']}")
    clock.advance(2 * 3600)
    async with context.events.listen(sender.account_id) as to_sender:
        await run_jobs(context)
        heard = await drain(context, to_sender)

    # then: kept to the minute, hidden from the recipient until it leaves, then sent
    assert created["status"] == "scheduled" and created["sent_at"] is None
    assert datetime.fromisoformat(created["scheduled_at"]) == at.replace(second=0, microsecond=0)
    assert early == []
    assert early_detail.json()["code"] == "ding.not_found"
    assert [d["id"] for d in (await other.get("/ding/received")).json()["items"]] == [created["id"]]
    assert {"type": "ding.updated", "ding_id": created["id"], "status": "sent"} in heard
    assert (await sender.get(f"/ding/{created['id']}")).json()["status"] == "sent"


async def test_a_cancelled_scheduled_ding_never_leaves(context: AppContext, make_client: Any) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    created = await sender.ding(other, scheduled_at=(utcnow() + timedelta(minutes=10)).isoformat())

    cancelled = await sender.post(f"/ding/{created['id']}/cancel")
    again = await sender.post(f"/ding/{created['id']}/cancel")
    by_recipient = await other.post(f"/ding/{created['id']}/cancel")
    clock.advance(3600)
    await run_jobs(context)

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert again.json()["code"] == "ding.not_scheduled"
    assert by_recipient.json()["code"] == "ding.not_found"
    assert (await other.get("/ding/received")).json()["items"] == []
    assert await attempts_of(context, created["id"], other) == []


async def test_a_sent_ding_cannot_be_cancelled(context: AppContext, make_client: Any) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    created = await sender.ding(other)

    answer = await sender.post(f"/ding/{created['id']}/cancel")

    assert (answer.status_code, answer.json()["code"]) == (409, "ding.not_scheduled")


async def test_executive_mode_blocks_ordinary_staff_but_not_admins_or_executives(
    context: AppContext, make_client: Any
) -> None:
    # given
    boss = await person(context, make_client, "局长", executive=True)
    staff = await person(context, make_client, "科员")
    deputy = await person(context, make_client, "副局长", executive=True)
    admin = await person(context, make_client, "管理员", role=MemberRole.ADMIN)
    colleague = await person(context, make_client, "同事")

    # when
    refused = await staff.post("/ding", {"text": "请批示", "recipient_ids": [colleague.id, boss.id]})
    by_executive = await deputy.post("/ding", {"text": "请批示", "recipient_ids": [boss.id]})
    by_admin = await admin.post("/ding", {"text": "请批示", "recipient_ids": [boss.id]})

    # then
    assert (refused.status_code, refused.json()["code"]) == (403, "ding.executive_protected")
    assert refused.json()["detail"] == {"membership_ids": [boss.id]}
    assert by_executive.status_code == 201 and by_admin.status_code == 201
    assert await _count(context, Ding) == 2  # the refused one stored nothing


async def test_seconds_and_time_zones_are_honoured_when_scheduling(
    context: AppContext, make_client: Any
) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    local = (utcnow() + timedelta(days=1)).replace(second=59, microsecond=5)
    in_shanghai = local.astimezone(ZoneInfo("Asia/Shanghai"))

    created = await sender.ding(other, scheduled_at=in_shanghai.isoformat())

    assert datetime.fromisoformat(created["scheduled_at"]) == local.replace(second=0, microsecond=0)
