"""Delivering DINGs: in jobs, after the request committed, so that no provider ever holds up the
sender.

A delivery round (1: the first send; later rounds remind the unconfirmed) walks the recipients a
batch at a time. In one transaction per batch: a recipient in their quiet hours is held until
they end (unless the DING is an emergency) and a release job waits for that moment; everyone else
gets the DING in the app (an event on their stream after commit, and a notice under the bell that
is pushed to their subscribed browsers by the notices' own delivery job),
and for the SMS and phone channels an attempt is recorded as queued. Once every batch is in the
app, the queued attempts are claimed, sent with each provider call bounded by a timeout and a cap
on concurrent calls, and the results recorded in another transaction. An attempt is a row before
the provider is asked: a provider that raises or hangs is recorded as failed, and a worker that
dies leaves the record.

A placed call is checked a minute later: answered ends it; unanswered, failed, or still ringing
after five minutes sends an SMS instead (unless the person confirmed meanwhile), as does a call
the gateway could not place.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.ding import service
from zhengtong.ding.models import AttemptResult, Ding, DingAttempt, DingChannel, DingRecipient, DingStatus
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.im.preferences import quiet_hours_ends
from zhengtong.notifications.notices import notify_people, start_waiting_deliveries
from zhengtong.org.models import Membership
from zhengtong.platform import jobs
from zhengtong.platform.eventlog import append_after_commit
from zhengtong.platform.notify import CallStatus, DeliveryFailed, send_each

RELEASE_JOB = "ding.release"
CALL_CHECK_JOB = "ding.call_check"
BATCH = 500  # recipients per transaction
SEND_BATCH = 200  # SMS and calls claimed at a time
PROVIDER_TIMEOUT_SECONDS = 10.0  # one provider call; a gateway that hangs longer has failed
PROVIDER_CONCURRENCY = 20
CALL_CHECK_AFTER = timedelta(seconds=60)
CALL_RECHECK_AFTER = timedelta(seconds=30)
CALL_GIVE_UP_AFTER = timedelta(minutes=5)
SMS_TEXT_CHARS = 300

# The notice under the bell names neither the sender nor the text: notices are kept in clear,
# the DING's text only sealed. The link opens the DING.
NOTICE_SUBJECT = {"zh-CN": "DING 消息", "en": "DING"}
NOTICE_BODY = {
    "zh-CN": "您收到一条 DING，请打开查看并确认收到。",
    "en": "You received a DING: open it and confirm.",
}
_OUTGOING_TEXT = {
    "sms": {
        "zh-CN": "【政通】DING · {sender}：{text}（请在政通中确认收到）",
        "en": "[Zhengtong] DING from {sender}: {text} (please confirm in Zhengtong)",
    },
    "call": {
        "zh-CN": "您好，这里是政通。{sender}给您发来一条紧急消息：{text}。请在政通中确认收到。",
        "en": "Hello, this is Zhengtong. {sender} sent you an urgent message: {text}. "
        "Please confirm in Zhengtong.",
    },
}

Outcome = Counter[str]


# Rounds ---------------------------------------------------------------------------------------------
async def run_round(context: AppContext, ding_id: str, round_number: int) -> dict[str, int]:
    """Delivers round `round_number` of a DING; the first round of a scheduled DING sends it."""
    outcome: Outcome = Counter()
    if round_number == 1 and not await _start(context, ding_id):
        return {"not_sent": 1}
    # Everyone gets it in the app first: a slow SMS gateway must not hold up the next batches.
    while await _deliver_next_batch(context, ding_id, outcome, round_number=round_number):
        pass
    await _start_pushes(context, ding_id)
    await send_queued(context, ding_id, outcome)  # with any left over by an earlier run of this job
    return dict(outcome)


async def release_held(context: AppContext, ding_id: str) -> dict[str, int]:
    """Delivers to the recipients whose quiet hours have ended, in the DING's current round."""
    outcome: Outcome = Counter()
    while await _deliver_next_batch(context, ding_id, outcome, round_number=None):
        pass
    await _start_pushes(context, ding_id)
    await send_queued(context, ding_id, outcome)
    return dict(outcome)


async def _start_pushes(context: AppContext, ding_id: str) -> None:
    """The bell's notices of the batches delivered so far leave as pushes (the notices' own
    delivery job: each person's choices, quiet hours and retries apply)."""
    async with context.db.transaction() as session:
        await start_waiting_deliveries(session, _reference(ding_id))


def _reference(ding_id: str) -> str:
    return f"ding:{ding_id}"


async def _start(context: AppContext, ding_id: str) -> bool:
    """A scheduled DING turns sent (once, even with two runs racing); False when it was cancelled."""
    async with context.db.transaction() as session:
        started = await session.scalar(
            update(Ding)
            .where(Ding.id == ding_id, Ding.status == DingStatus.SCHEDULED)
            .values(status=DingStatus.SENT, sent_at=utcnow())
            .returning(Ding.sender_membership_id)
            .execution_options(synchronize_session=False)
        )
        ding = await session.get(Ding, ding_id)
        if ding is None or ding.status != DingStatus.SENT:
            return False
        if started is not None:
            sender_account = await session.scalar(
                select(Membership.account_id).where(Membership.id == started)
            )
            if sender_account:
                event = {"type": "ding.updated", "ding_id": ding.id, "status": ding.status}
                append_after_commit(session, context.events, [sender_account], event)
        return True


async def _deliver_next_batch(
    context: AppContext, ding_id: str, outcome: Outcome, *, round_number: int | None
) -> bool:
    """One batch of a round (`round_number`) or of the releases (None); False when none is left."""
    async with context.db.transaction() as session:
        ding = await session.get(Ding, ding_id)
        if ding is None or ding.status != DingStatus.SENT:
            return False
        now = utcnow()
        if round_number is None:
            batch = await _released(session, ding, now)
            current_round = ding.remind_count + 1
        else:
            batch = await _due(session, ding, round_number)
            current_round = round_number
        if not batch:
            return False
        for confirmed in (r for r in batch if r.confirmed_at is not None):
            confirmed.held_until = None  # confirmed while a reminder waited: nothing more to send
        waiting = [r for r in batch if r.confirmed_at is None]
        await _deliver(session, context, ding, waiting, current_round, now, outcome)
        return True


async def _due(session: AsyncSession, ding: Ding, round_number: int) -> list[DingRecipient]:
    query = select(DingRecipient).where(
        DingRecipient.ding_id == ding.id,
        DingRecipient.delivered_round < round_number,
        DingRecipient.held_until.is_(None),
    )
    if round_number > 1:
        query = query.where(DingRecipient.confirmed_at.is_(None))
    # SKIP LOCKED: a release job working on the same DING takes other rows (PostgreSQL).
    return list(
        await session.scalars(query.order_by(DingRecipient.id).limit(BATCH).with_for_update(skip_locked=True))
    )


async def _released(session: AsyncSession, ding: Ding, now: datetime) -> list[DingRecipient]:
    query = select(DingRecipient).where(DingRecipient.ding_id == ding.id, DingRecipient.held_until <= now)
    return list(
        await session.scalars(query.order_by(DingRecipient.id).limit(BATCH).with_for_update(skip_locked=True))
    )


async def _deliver(
    session: AsyncSession,
    context: AppContext,
    ding: Ding,
    batch: Sequence[DingRecipient],
    round_number: int,
    now: datetime,
    outcome: Outcome,
) -> None:
    if not batch:
        return
    ends = {} if ding.emergency else await quiet_hours_ends(session, [r.membership_id for r in batch], now)
    held = [r for r in batch if r.membership_id in ends]
    reached = [r for r in batch if r.membership_id not in ends]
    attempts = [*_hold(ding, held, ends, round_number, now), *_reach(ding, reached, round_number, now)]
    session.add_all(attempts)
    await session.flush()
    for release_at in sorted({ends[r.membership_id] for r in held}):
        await jobs.enqueue(
            session, kind=RELEASE_JOB, payload={"ding_id": ding.id}, org_id=ding.org_id, run_at=release_at
        )
    if reached:
        await _tell_in_app(session, context, ding, reached, round_number)
    outcome["held_quiet_hours"] += len(held)
    outcome["in_app"] += len(reached)


def _attempt(
    ding: Ding, recipient: DingRecipient, channel: str, round_number: int, now: datetime, **values: Any
) -> DingAttempt:
    """An attempt of this batch; attempts made together share their time (see service.ATTEMPT_ORDER)."""
    return DingAttempt(
        created_at=now,
        org_id=ding.org_id,
        ding_id=ding.id,
        recipient_id=recipient.id,
        channel=channel,
        round_number=round_number,
        detail="",
        **values,
    )


def _hold(
    ding: Ding, held: Sequence[DingRecipient], ends: dict[str, datetime], round_number: int, now: datetime
) -> list[DingAttempt]:
    for recipient in held:
        recipient.held_until = ends[recipient.membership_id]
    return [
        _attempt(
            ding, r, ding.channel, round_number, now, result=AttemptResult.HELD_QUIET_HOURS, finished_at=now
        )
        for r in held
    ]


def _reach(
    ding: Ding, reached: Sequence[DingRecipient], round_number: int, now: datetime
) -> list[DingAttempt]:
    attempts = []
    for recipient in reached:
        recipient.held_until = None
        recipient.delivered_round = round_number
        recipient.delivered_at = recipient.delivered_at or now
        if round_number > 1:
            recipient.last_reminded_at = now
        attempts.append(
            _attempt(
                ding,
                recipient,
                DingChannel.IN_APP,
                round_number,
                now,
                result=AttemptResult.SENT,
                attempted_at=now,
                finished_at=now,
            )
        )
        if ding.channel != DingChannel.IN_APP:
            attempts.append(
                _attempt(ding, recipient, ding.channel, round_number, now, result=AttemptResult.QUEUED)
            )
    return attempts


async def _tell_in_app(
    session: AsyncSession,
    context: AppContext,
    ding: Ding,
    reached: Sequence[DingRecipient],
    round_number: int,
) -> None:
    accounts = [r.account_id for r in reached]
    # Who has the app open sees the DING there (a desktop notification when the tab is hidden);
    # the others' browsers get a push, once everyone of the round has it in the app, unless
    # they turned DING pushes off. The notices' delivery job checks again before it pushes.
    online = await context.presence.online(accounts)
    away = [account for account in accounts if account not in online]
    for people, channels in ((sorted(online), []), (away, ["push"])):
        if people:
            await notify_people(
                session,
                context,
                people,
                kind="ding",
                subject=NOTICE_SUBJECT,
                body=NOTICE_BODY,
                channels=channels,
                start_delivery=False,
                org_id=ding.org_id,
                reference=_reference(ding.id),
                urgent=ding.emergency,
                link=f"/ding/{ding.id}",
            )
    renderer = await service.renderer_for(session, context, ding.org_id, [ding])
    # Everyone of the batch is unconfirmed (a reminder skips the others): one payload for all.
    shown = renderer.for_recipient(ding, None).model_dump(mode="json")
    event = {"type": "ding.new", "ding": shown, "round": round_number}
    append_after_commit(session, context.events, accounts, event)


# SMS and calls ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Outgoing:
    attempt_id: str
    channel: str
    mobile: str
    text: str


@dataclass(frozen=True)
class _Sent:
    attempt_id: str
    channel: str
    result: AttemptResult
    detail: str = ""
    call_id: str | None = None


async def send_queued(context: AppContext, ding_id: str, outcome: Outcome) -> None:
    """Claims the DING's queued SMS and calls a batch at a time, sends them, records each result."""
    while True:
        async with context.db.transaction() as session:
            claimed = await _claim(session, context, ding_id)
        if not claimed:
            return
        results = await _send_all(context, claimed)
        async with context.db.transaction() as session:
            await _record(session, ding_id, results, outcome)


async def _claim(session: AsyncSession, context: AppContext, ding_id: str) -> list[_Outgoing]:
    """Marks up to SEND_BATCH queued attempts as being sent (attempted_at) and reads what they
    need: the mobile number (from the account, now) and the text."""
    candidates = (
        select(DingAttempt.id)
        .where(
            DingAttempt.ding_id == ding_id,
            DingAttempt.result == AttemptResult.QUEUED,
            DingAttempt.attempted_at.is_(None),
        )
        .order_by(DingAttempt.id)
        .limit(SEND_BATCH)
    )
    rows = (
        await session.execute(
            update(DingAttempt)
            .where(DingAttempt.id.in_(candidates.scalar_subquery()), DingAttempt.attempted_at.is_(None))
            .values(attempted_at=utcnow())
            .returning(DingAttempt.id, DingAttempt.recipient_id, DingAttempt.channel)
            .execution_options(synchronize_session=False)
        )
    ).all()
    if not rows:
        return []
    ding = await session.get(Ding, ding_id)
    assert ding is not None
    texts = await _outgoing_texts(session, context, ding)
    accounts = {
        recipient_id: account
        for recipient_id, account in await session.execute(
            select(DingRecipient.id, Account)
            .join(Account, Account.id == DingRecipient.account_id)
            .where(DingRecipient.id.in_({row.recipient_id for row in rows}))
        )
    }
    return [
        _Outgoing(
            attempt_id=row.id,
            channel=row.channel,
            mobile=identity.decrypt_mobile(context.keyring, accounts[row.recipient_id]),
            text=texts[row.channel].get(accounts[row.recipient_id].language, texts[row.channel]["zh-CN"]),
        )
        for row in rows
    ]


async def _outgoing_texts(
    session: AsyncSession, context: AppContext, ding: Ding
) -> dict[str, dict[str, str]]:
    """channel → language → what the SMS says or the call reads out."""
    renderer = await service.renderer_for(session, context, ding.org_id, [ding])
    shown = renderer.for_recipient(ding, None)
    text = shown.text if len(shown.text) <= SMS_TEXT_CHARS else shown.text[:SMS_TEXT_CHARS] + "…"
    return {
        channel: {
            language: frame.format(sender=shown.sender_name, text=text) for language, frame in frames.items()
        }
        for channel, frames in _OUTGOING_TEXT.items()
    }


async def _send_all(context: AppContext, claimed: Sequence[_Outgoing]) -> list[_Sent]:
    return await send_each(claimed, lambda item: _send_one(context, item), at_once=PROVIDER_CONCURRENCY)


async def _send_one(context: AppContext, item: _Outgoing) -> _Sent:
    params = {"attempt_id": item.attempt_id}
    try:
        async with asyncio.timeout(PROVIDER_TIMEOUT_SECONDS):
            if item.channel == DingChannel.SMS:
                await context.sms.send_sms(item.mobile, "ding.sms", item.text, params)
                return _Sent(item.attempt_id, item.channel, AttemptResult.SENT)
            call_id = await context.voice.place_call(item.mobile, "ding.call", item.text, params)
            return _Sent(item.attempt_id, item.channel, AttemptResult.SENT, call_id=call_id)
    except Exception as error:  # a provider's failure (or its silence) is an outcome to record
        return _Sent(item.attempt_id, item.channel, AttemptResult.FAILED, _reason(error))


async def _record(session: AsyncSession, ding_id: str, results: Sequence[_Sent], outcome: Outcome) -> None:
    now = utcnow()
    ringing = [
        r.attempt_id for r in results if r.channel == DingChannel.CALL and r.result == AttemptResult.SENT
    ]
    still_open = set(ringing)
    await session.execute(
        update(DingAttempt),
        [
            {
                "id": r.attempt_id,
                "result": r.result,
                "detail": r.detail,
                "provider_ref": r.call_id,
                "finished_at": None if r.attempt_id in still_open else now,
            }
            for r in results
        ],
    )
    for r in results:
        outcome[f"{r.channel}_{r.result}"] += 1
    unplaced = [
        r.attempt_id for r in results if r.channel == DingChannel.CALL and r.result == AttemptResult.FAILED
    ]
    if unplaced:
        calls = await session.scalars(select(DingAttempt).where(DingAttempt.id.in_(unplaced)))
        await _queue_fallback_sms(session, list(calls))
    if ringing:
        ding = await session.get(Ding, ding_id)
        assert ding is not None
        await jobs.enqueue(
            session,
            kind=CALL_CHECK_JOB,
            payload={"ding_id": ding_id, "attempt_ids": ringing},
            org_id=ding.org_id,
            run_at=now + CALL_CHECK_AFTER,
        )


# Checking calls -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _CallState:
    status: CallStatus | None  # None: the gateway could not say
    detail: str = ""


async def check_calls(context: AppContext, ding_id: str, attempt_ids: Sequence[str]) -> dict[str, int]:
    """Learns how the placed calls went; an unanswered or failed one falls back to an SMS."""
    outcome: Outcome = Counter()
    async with context.db.transaction() as session:
        ringing = list(
            await session.scalars(
                select(DingAttempt).where(
                    DingAttempt.id.in_(list(attempt_ids)),
                    DingAttempt.channel == DingChannel.CALL,
                    DingAttempt.result == AttemptResult.SENT,
                )
            )
        )
    if not ringing:
        return {}
    states = await _call_states(context, ringing)
    async with context.db.transaction() as session:
        await _settle_calls(session, ringing, states, outcome)
    await send_queued(context, ding_id, outcome)
    return dict(outcome)


async def _call_states(context: AppContext, ringing: Sequence[DingAttempt]) -> list[_CallState]:
    async def ask(attempt: DingAttempt) -> _CallState:
        try:
            async with asyncio.timeout(PROVIDER_TIMEOUT_SECONDS):
                return _CallState(await context.voice.call_status(attempt.provider_ref or ""))
        except Exception as error:  # no answer from the provider: asked again, until the time limit
            return _CallState(None, _reason(error))

    return await send_each(ringing, ask, at_once=PROVIDER_CONCURRENCY)


def _settled_result(attempt: DingAttempt, state: _CallState, now: datetime) -> AttemptResult | None:
    """The call's final result, or None while it may still be answered."""
    if state.status == CallStatus.ANSWERED:
        return AttemptResult.ANSWERED
    if state.status == CallStatus.UNANSWERED:
        return AttemptResult.UNANSWERED
    if state.status == CallStatus.FAILED:
        return AttemptResult.FAILED
    placed_at = attempt.attempted_at or attempt.created_at
    if now - placed_at >= CALL_GIVE_UP_AFTER:
        return AttemptResult.UNANSWERED if state.status == CallStatus.RINGING else AttemptResult.FAILED
    return None


async def _settle_calls(
    session: AsyncSession, ringing: Sequence[DingAttempt], states: Sequence[_CallState], outcome: Outcome
) -> None:
    now = utcnow()
    still_ringing: list[str] = []
    fall_back: list[DingAttempt] = []
    for attempt, state in zip(ringing, states, strict=True):
        result = _settled_result(attempt, state, now)
        if result is None:
            still_ringing.append(attempt.id)
            continue
        settled = await session.scalar(
            update(DingAttempt)
            .where(DingAttempt.id == attempt.id, DingAttempt.result == AttemptResult.SENT)
            .values(result=result, detail=state.detail, finished_at=now)
            .returning(DingAttempt.id)
            .execution_options(synchronize_session=False)
        )
        if settled is None:
            continue  # another run of this job settled it
        outcome[f"call_{result}"] += 1
        if result != AttemptResult.ANSWERED:
            fall_back.append(attempt)
    await _queue_fallback_sms(session, fall_back)
    if still_ringing:
        await jobs.enqueue(
            session,
            kind=CALL_CHECK_JOB,
            payload={"ding_id": ringing[0].ding_id, "attempt_ids": still_ringing},
            org_id=ringing[0].org_id,
            run_at=now + CALL_RECHECK_AFTER,
        )


async def _queue_fallback_sms(session: AsyncSession, unanswered: Sequence[DingAttempt]) -> None:
    """An SMS for each unanswered call whose person has not confirmed in the app meanwhile."""
    if not unanswered:
        return
    confirmed = set(
        await session.scalars(
            select(DingRecipient.id).where(
                DingRecipient.id.in_({a.recipient_id for a in unanswered}),
                DingRecipient.confirmed_at.is_not(None),
            )
        )
    )
    session.add_all(
        DingAttempt(
            org_id=call.org_id,
            ding_id=call.ding_id,
            recipient_id=call.recipient_id,
            channel=DingChannel.SMS,
            round_number=call.round_number,
            result=AttemptResult.QUEUED,
            detail="",
        )
        for call in unanswered
        if call.recipient_id not in confirmed
    )
    await session.flush()


def _reason(error: Exception) -> str:
    """What an attempt records of a failure: the channel's short code ("http 503", "Timeout"),
    else the error's class; never an address or any of the text."""
    return error.reason if isinstance(error, DeliveryFailed) else type(error).__name__[:64]
