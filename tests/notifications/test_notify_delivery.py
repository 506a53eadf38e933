"""The delivery job: a failed attempt is retried after 1, 5 and 30 minutes, every attempt is
counted and its reason kept; after the last one the fallback channel is queued (push or e-mail →
SMS) and a person no channel reached gets a letter; a provider that hangs is cut off as
"Timeout" without holding up the others; the attempt is on record before the send begins."""

from __future__ import annotations

import time
from typing import Any

from notify_world import (
    BODY,
    SUBJECT,
    MakeClient,
    Recorder,
    deliveries,
    logged_in,
    member_with_email,
    run_jobs,
)

from helpers import create_member
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.notifications.delivery import RETRY_DELAYS
from zhengtong.notifications.notices import notify_people


async def _notify(
    context: AppContext, account_ids: list[str], channels: list[str], kind: str = "maintenance"
) -> None:
    async with context.db.transaction() as session:
        await notify_people(
            session, context, account_ids, kind=kind, subject=SUBJECT, body=BODY, channels=channels
        )


async def test_a_failed_attempt_is_retried_with_backoff_and_each_attempt_counted(
    app: object, context: AppContext
) -> None:
    # given: the SMS gateway fails three times, then works
    zhang = await create_member(context, name="张明")
    context.sms = gateway = Recorder(failures=3)
    await _notify(context, [zhang.account_id], ["sms"])

    seen = []
    await run_jobs(context)
    seen.append((await deliveries(context, zhang.account_id))["sms"])
    for delay in RETRY_DELAYS:
        clock.advance(delay.total_seconds() - 5)
        await run_jobs(context)  # not yet due: nothing happens
        assert (await deliveries(context, zhang.account_id))["sms"] == seen[-1]
        clock.advance(10)
        await run_jobs(context)
        seen.append((await deliveries(context, zhang.account_id))["sms"])

    assert [(d.result, d.detail, d.attempts, d.waiting) for d in seen] == [
        ("queued", "http 503", 1, True),
        ("queued", "http 503", 2, True),
        ("queued", "http 503", 3, True),
        ("sent", "", 4, False),
    ]
    assert [channel for channel, _, _ in gateway.sent] == ["sms"]


async def _fail_for_good(context: AppContext) -> None:
    """Runs the job through every retry."""
    await run_jobs(context)
    for delay in RETRY_DELAYS:
        clock.advance(delay.total_seconds() + 1)
        await run_jobs(context)


async def test_a_push_that_fails_for_good_falls_back_to_sms(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    # given: 张明 has a logged-in client; pushes always fail
    zhang = await create_member(context, name="张明")
    await logged_in(context, make_client, zhang)
    context.push = Recorder(failures=99)
    context.sms = sms = Recorder()
    await _notify(context, [zhang.account_id], ["push"])

    await _fail_for_good(context)

    found = await deliveries(context, zhang.account_id)
    assert (found["push"].result, found["push"].attempts, found["push"].detail) == ("failed", 4, "http 503")
    assert (found["sms"].result, found["sms"].fallback_from, found["sms"].attempts) == ("sent", "push", 1)
    assert [to for _, to, _ in sms.sent] == [f"+86{zhang.mobile}"]
    assert "letter" not in found


async def test_a_push_to_someone_with_the_app_open_is_not_sent_unless_the_notice_is_required(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    # given: 张明 has a logged-in client, and its tab is open (a socket connected)
    zhang = await create_member(context, name="张明")
    await logged_in(context, make_client, zhang)
    await context.presence.connected(zhang.account_id, "an-open-tab")
    context.push = pushed = Recorder()
    await _notify(context, [zhang.account_id], ["push"])
    await run_jobs(context)
    assert (await deliveries(context, zhang.account_id))["push"].result == "in_app"
    assert pushed.sent == []

    await _notify(context, [zhang.account_id], ["push"], kind="security_incident")
    await run_jobs(context)
    assert len(pushed.sent) == 1  # a required notice reaches every channel

    await context.presence.disconnected(zhang.account_id, "an-open-tab")
    await _notify(context, [zhang.account_id], ["push"])
    await run_jobs(context)
    assert len(pushed.sent) == 2  # away from the app: pushed


async def test_when_the_fallback_fails_too_the_person_gets_a_letter(app: object, context: AppContext) -> None:
    zhang, _ = await member_with_email(context, "张明")
    context.email = Recorder(failures=99)
    context.sms = Recorder(failures=99)
    await _notify(context, [zhang.account_id], ["email"])

    await _fail_for_good(context)  # the e-mail's attempts, which queue the SMS
    await _fail_for_good(context)  # the SMS's

    found = await deliveries(context, zhang.account_id)
    assert (found["email"].result, found["sms"].result, found["sms"].fallback_from) == (
        "failed",
        "failed",
        "email",
    )
    assert (found["sms"].attempts, found["letter"].result) == (4, "queued")


async def test_no_fallback_when_the_notice_already_went_that_way(app: object, context: AppContext) -> None:
    zhang, _ = await member_with_email(context, "张明")
    context.email = Recorder(failures=99)
    context.sms = sms = Recorder()
    await _notify(context, [zhang.account_id], ["email", "sms"])

    await _fail_for_good(context)

    found = await deliveries(context, zhang.account_id)
    assert (found["email"].result, found["sms"].result, found["sms"].fallback_from) == ("failed", "sent", "")
    assert len(sms.sent) == 1


async def test_a_hanging_provider_is_cut_off_and_holds_up_nobody(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    # given: three people with clients; the push service hangs, SMS works
    people = [await create_member(context, name=name) for name in ("张明", "李华", "王芳")]
    for person in people:
        await logged_in(context, make_client, person)
    context.push = Recorder(hang=True)
    context.sms = sms = Recorder()
    await _notify(context, [person.account_id for person in people], ["push", "sms"])

    started = time.monotonic()
    await run_jobs(context)
    elapsed = time.monotonic() - started

    # then: cut off at three times the one-second timeout, the three pushes side by side
    assert elapsed < 5, elapsed
    assert len(sms.sent) == 3
    for person in people:
        push = (await deliveries(context, person.account_id))["push"]
        assert (push.result, push.detail, push.attempts, push.waiting) == ("queued", "Timeout", 1, True)


async def test_the_attempt_is_on_record_before_the_send(app: object, context: AppContext) -> None:
    zhang = await create_member(context, name="张明")
    during_send: list[Any] = []

    class Watching(Recorder):
        async def send_sms(self, mobile: str, template: str, text: str, params: dict[str, Any]) -> None:
            during_send.append((await deliveries(context, zhang.account_id))["sms"])
            await super().send_sms(mobile, template, text, params)

    context.sms = Watching()
    await _notify(context, [zhang.account_id], ["sms"])
    await run_jobs(context)

    [seen] = during_send
    assert (seen.result, seen.attempts) == ("queued", 1)
    assert (await deliveries(context, zhang.account_id))["sms"].result == "sent"
