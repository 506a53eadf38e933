"""Sending notices: the job that brings each queued SMS, e-mail and push to its person.

For each due delivery of a batch the job first applies the person's choices (a channel they
turned off is `declined`; during their quiet hours the delivery waits, unless the notice is urgent
or required: see notifications.preferences); a push to someone who has the app open at that
moment is not sent (`in_app`: their client shows the notice, and a desktop notification when its
tab is hidden), unless the notice is required. It then records the attempt, sends (at most
`SEND_CONCURRENCY` at once, each bounded by `ZT_NOTIFY_TIMEOUT_SECONDS`: a provider that hangs is
a failed attempt, "Timeout"), then records the outcome. A failed attempt is tried again after
`RETRY_DELAYS`; after the last one the delivery is `failed` and the fallback channel is queued:

    | failed for good | queued instead (ZT_NOTIFY_FALLBACK) |
    |-----------------|-------------------------------------|
    | push            | SMS                                 |
    | e-mail          | SMS                                 |
    | SMS             | — (a letter, as below)              |

A fallback is not queued when the notice already has a delivery on that channel. A person with
no address on a channel (`no_address`) gets no fallback: the caller chose the channels, and the
letter below is the last resort. A notice whose electronic deliveries all ended without success
(failed or no address; a declined one counts as the person's choice) gets a letter. Deliveries
still waiting (a retry, quiet hours) are picked up by a follow-up run of the job at the earliest
time one is due.

The attempt is recorded before sending, so a crash between the two leaves the attempt counted and
the delivery queued: it goes again, never silently lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.core.ids import new_id
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account, KnownDevice
from zhengtong.im.models import ChatPreference
from zhengtong.notifications import preferences
from zhengtong.notifications.models import (
    ELECTRONIC_CHANNELS,
    Channel,
    DeliveryResult,
    Notice,
    NoticeDelivery,
)
from zhengtong.org.models import Membership
from zhengtong.platform import jobs
from zhengtong.platform.notify import DeliveryFailed, NoRecipient, send_each

log = logging.getLogger(__name__)

DELIVERY_JOB = "privacy.notices.deliver"
DEFAULT_LANGUAGE = "zh-CN"

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
SEND_CONCURRENCY = 10
# The job's own bound on one send, over the providers' I/O timeouts: those apply per step
# (connect, each SMTP command, each read), so a slow but moving send may take a few of them.
_SEND_BOUND_TIMEOUTS = 3
_CHUNK = 200


@dataclass(frozen=True)
class _Outgoing:
    delivery_id: str
    notice_id: str
    account_id: str
    org_id: str | None
    channel: str
    address: str | None  # None: the person has no address on this channel
    subject: str
    body: str
    kind: str
    reference: str
    link: str
    urgent: bool
    attempts: int  # before this one


@dataclass(frozen=True)
class _Outcome:
    result: str
    detail: str = ""


def text_in(texts: dict[str, str], language: str) -> str:
    """The text in `language`, else in Chinese (every notice has it)."""
    return texts.get(language) or texts.get(DEFAULT_LANGUAGE, "")


def delivery_exists(channels: Sequence[str], *results: str) -> Any:
    """EXISTS (a delivery of the outer notice on one of `channels`, with one of `results` if given)."""
    condition = and_(NoticeDelivery.notice_id == Notice.id, NoticeDelivery.channel.in_(channels))
    if results:
        condition = and_(condition, NoticeDelivery.result.in_(results))
    return exists().where(condition)


# Reading what is due --------------------------------------------------------------------------
def _due(batch_id: str, now: datetime) -> Any:
    """SQL: a queued electronic delivery of the batch whose time has come."""
    return and_(
        _waiting(batch_id), or_(NoticeDelivery.not_before.is_(None), NoticeDelivery.not_before <= now)
    )


def _waiting(batch_id: str) -> Any:
    """SQL: a queued electronic delivery of the batch, due or not."""
    return and_(
        Notice.batch_id == batch_id,
        NoticeDelivery.result == DeliveryResult.QUEUED,
        NoticeDelivery.channel.in_(ELECTRONIC_CHANNELS),
    )


async def _email_addresses(session: AsyncSession, notices: Sequence[Notice]) -> dict[str, str]:
    """notice id → the person's organisation e-mail: the one of the notice's organisation, else
    the first one they have."""
    account_ids = {notice.account_id for notice in notices}
    rows = await session.execute(
        select(Membership.account_id, Membership.org_id, Membership.org_email)
        .where(Membership.account_id.in_(account_ids), Membership.org_email != "")
        .order_by(Membership.created_at, Membership.id)
    )
    by_account: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for account_id, org_id, email in rows.all():
        by_account[account_id].append((org_id, email))
    found = {}
    for notice in notices:
        emails = by_account.get(notice.account_id, [])
        chosen = next((email for org_id, email in emails if org_id == notice.org_id), None)
        if chosen is None and emails:
            chosen = emails[0][1]
        if chosen:
            found[notice.id] = chosen
    return found


async def _next_due(
    session: AsyncSession, context: AppContext, batch_id: str, after_id: str
) -> list[_Outgoing]:
    rows = await session.execute(
        select(NoticeDelivery, Notice, Account)
        .join(Notice, Notice.id == NoticeDelivery.notice_id)
        .join(Account, Account.id == Notice.account_id)
        .where(_due(batch_id, utcnow()), NoticeDelivery.id > after_id)
        .order_by(NoticeDelivery.id)
        .limit(_CHUNK)
    )
    items = rows.all()
    notices = [notice for _, notice, _ in items]
    emails = await _email_addresses(session, notices)
    # Push goes to the clients the person has logged in with (the provider may still find none).
    with_devices = set(
        await session.scalars(
            select(KnownDevice.account_id).where(KnownDevice.account_id.in_({n.account_id for n in notices}))
        )
    )
    outgoing = []
    for delivery, notice, account in items:
        address: str | None
        if delivery.channel == Channel.SMS:
            address = identity.decrypt_mobile(context.keyring, account)
        elif delivery.channel == Channel.EMAIL:
            address = emails.get(notice.id)
        else:
            address = account.id if account.id in with_devices else None
        outgoing.append(
            _Outgoing(
                delivery_id=delivery.id,
                notice_id=notice.id,
                account_id=notice.account_id,
                org_id=notice.org_id,
                channel=delivery.channel,
                address=address,
                subject=text_in(notice.subject, account.language),
                body=text_in(notice.body, account.language),
                kind=notice.kind,
                reference=notice.reference,
                link=notice.link,
                urgent=notice.urgent,
                attempts=delivery.attempts,
            )
        )
    return outgoing


# The person's choices -------------------------------------------------------------------------
async def _apply_choices(
    session: AsyncSession, context: AppContext, chunk: Sequence[_Outgoing], decided: dict[str, int]
) -> list[_Outgoing]:
    """Records what the person's choices decide (declined, no address, waiting for the end of
    their quiet hours) and what needs no sending (a push to someone who has the app open: the
    client shows the notice itself), counted into `decided`, and the attempt of the rest;
    returns the rest, to be sent."""
    now = utcnow()
    choices = await preferences.channel_choices(session, {item.account_id for item in chunk})
    quiet = await preferences.quiet_hours_of(session, {(item.account_id, item.org_id) for item in chunk})
    online = await context.presence.online(
        sorted({item.account_id for item in chunk if item.channel == Channel.PUSH})
    )
    to_send, attempted, settled = [], [], []
    for item in chunk:
        if not preferences.accepts(choices[item.account_id], item.kind, item.channel):
            settled.append(_settled(item.delivery_id, DeliveryResult.DECLINED, now))
            decided[DeliveryResult.DECLINED] += 1
        elif _shown_in_app(item, online):
            settled.append(_settled(item.delivery_id, DeliveryResult.IN_APP, now))
            decided[DeliveryResult.IN_APP] += 1
        elif item.address is None:
            settled.append(_settled(item.delivery_id, DeliveryResult.NO_ADDRESS, now))
            decided[DeliveryResult.NO_ADDRESS] += 1
        elif waits := _held_until(item, quiet[(item.account_id, item.org_id)], now):
            await _record(session, item.delivery_id, not_before=waits)
            decided["quiet_hours"] += 1
        else:
            attempted.append({"id": item.delivery_id, "attempts": item.attempts + 1, "attempted_at": now})
            to_send.append(item)
    await _record_each(session, settled)
    await _record_each(session, attempted)
    return to_send


def _shown_in_app(item: _Outgoing, online: set[str]) -> bool:
    """A push that would repeat what the person's open client already shows."""
    if item.channel != Channel.PUSH or item.kind in preferences.REQUIRED_KINDS:
        return False
    return item.account_id in online


def _held_until(item: _Outgoing, quiet: ChatPreference | None, now: datetime) -> datetime | None:
    """The end of the person's quiet hours when they hold this delivery back, else None."""
    if item.urgent or item.kind in preferences.REQUIRED_KINDS:
        return None
    return preferences.waits_until(quiet, now)


async def _record(session: AsyncSession, delivery_id: str, **values: Any) -> None:
    await session.execute(
        update(NoticeDelivery)
        .where(NoticeDelivery.id == delivery_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def _record_each(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Updates many deliveries by id in one statement (executed for every row), as a send to
    thousands of people records its attempts and its successes."""
    if rows:
        await session.execute(update(NoticeDelivery), list(rows))


def _settled(delivery_id: str, result: str, now: datetime, detail: str = "") -> dict[str, Any]:
    """The delivery's final result, as a row for `_record_each`: nothing more is planned for it."""
    return {"id": delivery_id, "result": result, "detail": detail, "attempted_at": now, "not_before": None}


async def _settle(
    session: AsyncSession, delivery_id: str, result: str, now: datetime, detail: str = ""
) -> None:
    await _record_each(session, [_settled(delivery_id, result, now, detail)])


# Sending --------------------------------------------------------------------------------------
async def _through_channel(context: AppContext, item: _Outgoing) -> None:
    assert item.address is not None
    template = f"notice.{item.kind}"
    params: dict[str, Any] = {"notice_id": item.notice_id, "reference": item.reference}
    if item.channel == Channel.SMS:
        await context.sms.send_sms(item.address, template, f"【政通】{item.subject}\n{item.body}", params)
    elif item.channel == Channel.EMAIL:
        await context.email.send_email(item.address, template, item.subject, item.body, params)
    else:
        params.update(link=item.link, urgent=item.urgent)
        await context.push.send_push(item.address, template, item.subject, item.body, params)


async def _send(context: AppContext, item: _Outgoing) -> _Outcome:
    """The outcome of one attempt; a provider's failure is an outcome to record, not a crash."""
    try:
        async with asyncio.timeout(context.settings.notify_timeout_seconds * _SEND_BOUND_TIMEOUTS):
            await _through_channel(context, item)
    except NoRecipient:
        return _Outcome(DeliveryResult.NO_ADDRESS)
    except DeliveryFailed as failure:
        return _Outcome(DeliveryResult.FAILED, failure.reason)
    except TimeoutError:
        return _Outcome(DeliveryResult.FAILED, "Timeout")
    except AppError as error:  # the destination is outside the residency rules
        return _Outcome(DeliveryResult.FAILED, error.error.code[:64])
    except Exception as error:
        log.warning(
            "notice delivery %s via %s failed: %s", item.delivery_id, item.channel, type(error).__name__
        )
        return _Outcome(DeliveryResult.FAILED, type(error).__name__[:64])
    return _Outcome(DeliveryResult.SENT)


async def _send_all(context: AppContext, items: Sequence[_Outgoing]) -> list[_Outcome]:
    return await send_each(items, lambda item: _send(context, item), at_once=SEND_CONCURRENCY)


# Recording outcomes ---------------------------------------------------------------------------
def _fallbacks(context: AppContext) -> dict[str, Channel]:
    """ZT_NOTIFY_FALLBACK as {failed channel: channel to try instead}."""
    pairs = (entry.split(":", 1) for entry in context.settings.notify_fallback)
    return {Channel(failed): Channel(instead) for failed, instead in pairs}


async def _record_outcomes(
    session: AsyncSession,
    context: AppContext,
    results: Sequence[tuple[_Outgoing, _Outcome]],
    counted: dict[str, int],
) -> None:
    """Stores the outcomes of a chunk: the successes in one statement, the rest one by one."""
    now, succeeded = utcnow(), []
    for item, outcome in results:
        if outcome.result == DeliveryResult.SENT:
            succeeded.append(_settled(item.delivery_id, outcome.result, now))
            counted[outcome.result] += 1
        else:
            counted[await _record_outcome(session, context, item, outcome)] += 1
    await _record_each(session, succeeded)


async def _record_outcome(
    session: AsyncSession, context: AppContext, item: _Outgoing, outcome: _Outcome
) -> str:
    """Stores the attempt's outcome; a failure is retried later, or after the last attempt ends
    the delivery and queues the fallback channel. Returns what the delivery is now."""
    attempts, now = item.attempts + 1, utcnow()
    if outcome.result == DeliveryResult.FAILED and attempts < MAX_ATTEMPTS:
        retry_at = now + RETRY_DELAYS[attempts - 1]
        await _record(session, item.delivery_id, detail=outcome.detail, not_before=retry_at)
        return "retrying"
    await _settle(session, item.delivery_id, outcome.result, now, outcome.detail)
    if outcome.result == DeliveryResult.FAILED:
        await _queue_fallback(session, context, item)
    return outcome.result


async def _queue_fallback(session: AsyncSession, context: AppContext, item: _Outgoing) -> None:
    instead = _fallbacks(context).get(item.channel)
    if instead is None:
        return
    taken = await session.scalar(
        select(NoticeDelivery.id).where(
            NoticeDelivery.notice_id == item.notice_id, NoticeDelivery.channel == instead
        )
    )
    if taken is None:
        session.add(
            NoticeDelivery(
                id=new_id(),
                notice_id=item.notice_id,
                channel=instead,
                result=DeliveryResult.QUEUED,
                fallback_from=item.channel,
            )
        )
        await session.flush()


async def _queue_letters_for_unreached(session: AsyncSession, batch_id: str) -> int:
    """A letter for every notice of the batch whose electronic deliveries all ended without
    success (a declined channel is the person's choice, not a failure)."""
    electronic = delivery_exists(ELECTRONIC_CHANNELS)
    settled = delivery_exists(
        ELECTRONIC_CHANNELS,
        DeliveryResult.SENT,
        DeliveryResult.QUEUED,
        DeliveryResult.DECLINED,
        DeliveryResult.IN_APP,
    )
    lettered = delivery_exists((Channel.LETTER,))
    notice_ids = list(
        await session.scalars(
            select(Notice.id).where(Notice.batch_id == batch_id, electronic, ~settled, ~lettered)
        )
    )
    session.add_all(
        NoticeDelivery(id=new_id(), notice_id=notice_id, channel=Channel.LETTER, result=DeliveryResult.QUEUED)
        for notice_id in notice_ids
    )
    await session.flush()
    return len(notice_ids)


async def _follow_up(session: AsyncSession, batch_id: str) -> datetime | None:
    """Queues the next run of the job for the batch's earliest waiting delivery; returns when."""
    waiting = select(NoticeDelivery.id).join(Notice, Notice.id == NoticeDelivery.notice_id)
    if await session.scalar(waiting.where(_due(batch_id, utcnow())).limit(1)) is not None:
        run_at: datetime | None = utcnow()  # queued meanwhile (another call's fallback, say)
    else:
        run_at = await session.scalar(
            select(func.min(NoticeDelivery.not_before))
            .join(Notice, Notice.id == NoticeDelivery.notice_id)
            .where(_waiting(batch_id))
        )
    if run_at is not None:
        await jobs.enqueue(session, kind=DELIVERY_JOB, payload={"batch_id": batch_id}, run_at=run_at)
    return run_at


# The job --------------------------------------------------------------------------------------
async def _count_due(job: jobs.JobContext, batch_id: str) -> int:
    async with job.transaction() as session:
        total = await session.scalar(
            select(func.count())
            .select_from(NoticeDelivery)
            .join(Notice, Notice.id == NoticeDelivery.notice_id)
            .where(_due(batch_id, utcnow()))
        )
    return int(total or 0)


@jobs.register(DELIVERY_JOB)
async def deliver_batch(job: jobs.JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Sends the due SMS, e-mails and pushes of one notify_people call, a chunk at a time: read
    and record the attempts in one short transaction, send, record the outcomes in another."""
    batch_id = str(payload["batch_id"])
    total = await _count_due(job, batch_id)
    outcomes: dict[str, int] = defaultdict(int)
    done, cursor = 0, ""
    while True:
        async with job.transaction() as session:
            chunk = await _next_due(session, job.context, batch_id, cursor)
            to_send = await _apply_choices(session, job.context, chunk, outcomes)
        if not chunk:
            break
        sent = await _send_all(job.context, to_send)
        async with job.transaction() as session:
            await _record_outcomes(session, job.context, list(zip(to_send, sent, strict=True)), outcomes)
        cursor = chunk[-1].delivery_id
        done += len(chunk)
        await job.report_progress(done, max(total, done))
    async with job.transaction() as session:
        letters = await _queue_letters_for_unreached(session, batch_id)
        next_run = await _follow_up(session, batch_id)
    return {**outcomes, "letters_queued": letters, "next_run": next_run.isoformat() if next_run else None}
