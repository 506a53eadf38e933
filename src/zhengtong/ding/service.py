"""DING: creating (now or scheduled, to people or from a chat message), cancelling, confirming,
reminding the unconfirmed, and what the sender and the recipients see.

The request records the DING and its recipients and enqueues the delivery job; nothing is sent
in the request, so a slow SMS gateway or a hanging call never holds the sender up (delivery.py).

Who sees what: the sender sees the DING, the confirmed and unconfirmed lists and every delivery
attempt; a recipient the DING reached sees it and their own state; anyone else, and anyone of
another organisation, gets `ding.not_found` for every id.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import FieldCipher
from zhengtong.core.errors import REQUEST_INVALID, AppError
from zhengtong.core.ids import new_id
from zhengtong.ding import errors, files
from zhengtong.ding.models import Ding, DingAttempt, DingChannel, DingFile, DingRecipient, DingStatus
from zhengtong.ding.schemas import (
    AttemptRead,
    Channel,
    DingFileRead,
    DingPage,
    DingRead,
    RecipientAttempts,
    RecipientPage,
    RecipientRead,
    RecipientTab,
    Result,
    Status,
)
from zhengtong.directory.visibility import Actor, Viewer, visible_members_condition
from zhengtong.im import content as sealing
from zhengtong.im import files as chat_files
from zhengtong.im.models import Message
from zhengtong.im.seats import seat_of
from zhengtong.org.models import ADMIN_ROLES, Membership
from zhengtong.platform import audit, jobs
from zhengtong.platform.eventlog import append_after_commit

MAX_TEXT_CHARS = 2000
MAX_RECIPIENTS = 5000
REMIND_EVERY = timedelta(minutes=5)
SCHEDULE_HORIZON = timedelta(days=30)
TEXT_PURPOSE = "ding"  # AAD "ding:<id>" binds the sealed text to its DING
SEND_JOB = "ding.send"
REMOVED_MEMBER = "已移除成员"
_LOOKUP_CHUNK = 1000


# Creating -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DingDraft:
    text: str
    recipient_ids: Sequence[str]
    channel: DingChannel = DingChannel.IN_APP
    scheduled_at: datetime | None = None
    emergency: bool = False
    attachment_id: str | None = None
    source_message_id: str | None = None


@dataclass(frozen=True)
class _Recipient:
    membership_id: str
    account_id: str
    executive: bool


@dataclass(frozen=True)
class _Source:
    """What a DING made from a chat message takes from it."""

    message_id: str
    text: str
    file_id: str | None


async def create(
    session: AsyncSession, context: AppContext, viewer: Viewer, draft: DingDraft, *, ip: str
) -> Ding:
    """Records a DING to people the sender may see and enqueues its delivery (at once, or at the
    scheduled minute). An emergency DING ignores the recipients' quiet hours and is audited."""
    source = await _source_message(session, context, viewer, draft.source_message_id)
    text = _checked_text(draft.text or (source.text if source else ""))
    scheduled_at = _checked_schedule(draft.scheduled_at)
    recipients = await _visible_recipients(session, viewer, draft.recipient_ids)
    await _check_executive_mode(session, viewer, recipients)
    attachment = await _attachment(session, context, viewer, draft.attachment_id, source)
    cipher = await files.org_cipher(session, context, viewer.org_id)
    ding = Ding(
        id=new_id(),
        org_id=viewer.org_id,
        sender_membership_id=viewer.membership_id,
        source_message_id=source.message_id if source else None,
        attachment_id=attachment.id if attachment else None,
        channel=draft.channel,
        emergency=draft.emergency,
        status=DingStatus.SCHEDULED if scheduled_at else DingStatus.SENT,
        scheduled_at=scheduled_at,
        sent_at=None if scheduled_at else utcnow(),
        recipient_count=len(recipients),
        remind_count=0,
    )
    ding.text_sealed = sealing.seal_text(cipher, TEXT_PURPOSE, ding.id, text)
    session.add(ding)
    await session.flush()
    await _insert_recipients(session, ding, recipients)
    if draft.emergency:
        await _audit_emergency(session, context, viewer, ding, ip)
    await enqueue_round(session, ding, 1, run_at=scheduled_at)
    return ding


async def _insert_recipients(session: AsyncSession, ding: Ding, recipients: Sequence[_Recipient]) -> None:
    """One multi-row insert. Ids made in the same millisecond do not sort by creation; sorted, they
    keep the sender's order, which is the order of the 未确认 list."""
    recipient_ids = sorted(new_id() for _ in recipients)
    await session.execute(
        insert(DingRecipient),
        [
            {
                "id": recipient_id,
                "org_id": ding.org_id,
                "ding_id": ding.id,
                "membership_id": recipient.membership_id,
                "account_id": recipient.account_id,
                "delivered_round": 0,
            }
            for recipient_id, recipient in zip(recipient_ids, recipients, strict=True)
        ],
    )


def _checked_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise AppError(errors.TEXT_EMPTY)
    if len(text) > MAX_TEXT_CHARS:
        raise AppError(errors.TEXT_TOO_LONG, detail={"max_chars": MAX_TEXT_CHARS})
    return text


def _checked_schedule(scheduled_at: datetime | None) -> datetime | None:
    """To the minute (seconds dropped), in the future, at most 30 days ahead."""
    if scheduled_at is None:
        return None
    if scheduled_at.tzinfo is None:
        raise AppError(REQUEST_INVALID, detail={"field": "scheduled_at", "reason": "a time zone is required"})
    minute = scheduled_at.replace(second=0, microsecond=0)
    now = utcnow()
    if minute <= now:
        raise AppError(errors.SCHEDULE_IN_PAST)
    if minute > now + SCHEDULE_HORIZON:
        raise AppError(errors.SCHEDULE_TOO_FAR, detail={"max_days": SCHEDULE_HORIZON.days})
    return minute


async def _visible_recipients(
    session: AsyncSession, viewer: Viewer, membership_ids: Sequence[str]
) -> list[_Recipient]:
    """The chosen members, each once and never the sender, all of whom the sender may see."""
    wanted = [m for m in dict.fromkeys(membership_ids) if m != viewer.membership_id]
    if not wanted:
        raise AppError(errors.NO_RECIPIENTS)
    if len(wanted) > MAX_RECIPIENTS:
        raise AppError(errors.TOO_MANY_RECIPIENTS, detail={"max_recipients": MAX_RECIPIENTS})
    found: dict[str, _Recipient] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        rows = await session.execute(
            select(Membership.id, Membership.account_id, Membership.executive).where(
                Membership.org_id == viewer.org_id,
                Membership.id.in_(wanted[start : start + _LOOKUP_CHUNK]),
                visible_members_condition(viewer),
            )
        )
        found.update({row.id: _Recipient(row.id, row.account_id, row.executive) for row in rows})
    missing = [m for m in wanted if m not in found]
    if missing:
        raise AppError(errors.RECIPIENT_NOT_VISIBLE, detail={"membership_ids": missing[:50]})
    return [found[m] for m in wanted]


async def _check_executive_mode(
    session: AsyncSession, viewer: Viewer, recipients: Sequence[_Recipient]
) -> None:
    """高管模式: ordinary staff cannot DING an executive; admins and executives can."""
    sender = await session.get(Membership, viewer.membership_id)
    assert sender is not None
    if sender.role in ADMIN_ROLES or sender.executive:
        return
    protected = [r.membership_id for r in recipients if r.executive]
    if protected:
        raise AppError(errors.EXECUTIVE_PROTECTED, detail={"membership_ids": protected[:50]})


async def _source_message(
    session: AsyncSession, context: AppContext, viewer: Actor, message_id: str | None
) -> _Source | None:
    """A chat message the sender may see (their seat in its conversation reaches it), not recalled."""
    if message_id is None:
        return None
    message = await session.get(Message, message_id)
    if message is None or message.org_id != viewer.org_id or message.content_sealed is None:
        raise AppError(errors.MESSAGE_NOT_FOUND)
    try:
        seat = await seat_of(session, viewer, message.conversation_id)
    except AppError as refused:
        raise AppError(errors.MESSAGE_NOT_FOUND) from refused
    if message.seq <= seat.member.visible_after_seq:
        raise AppError(errors.MESSAGE_NOT_FOUND)
    cipher = await files.org_cipher(session, context, viewer.org_id)
    content = sealing.unseal(cipher, message.id, message.content_sealed)
    return _Source(message.id, str(content.get("text", "")), content.get("file_id"))


async def _attachment(
    session: AsyncSession,
    context: AppContext,
    viewer: Actor,
    attachment_id: str | None,
    source: _Source | None,
) -> DingFile | None:
    """The sender's own upload, else a copy of the source message's attachment (recalling the
    message then leaves the DING's copy alone)."""
    if attachment_id is not None:
        return await files.take(session, viewer, attachment_id)
    if source is None or source.file_id is None:
        return None
    found = await chat_files.download(session, context, viewer, source.file_id, thumbnail=False)
    copied = await files.store(session, context, viewer, filename=found.name, data=found.data)
    return await files.take(session, viewer, copied.id)


async def _audit_emergency(
    session: AsyncSession, context: AppContext, viewer: Viewer, ding: Ding, ip: str
) -> None:
    await audit.record(
        session,
        context.keyring,
        action="ding.emergency_sent",
        org_id=ding.org_id,
        actor_id=viewer.account_id,
        object_type="ding",
        object_id=ding.id,
        ip=ip,
        detail={
            "recipients": ding.recipient_count,
            "channel": ding.channel,
            "scheduled": ding.scheduled_at is not None,
        },
    )


async def enqueue_round(
    session: AsyncSession, ding: Ding, round_number: int, *, run_at: datetime | None = None
) -> None:
    """Queues delivery round `round_number` (1: the first send; later ones remind)."""
    await jobs.enqueue(
        session,
        kind=SEND_JOB,
        payload={"ding_id": ding.id, "round": round_number},
        org_id=ding.org_id,
        run_at=run_at,
    )


# Access -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Access:
    """A DING as the caller may see it: its sender, or a recipient it reached (their row)."""

    ding: Ding
    recipient: DingRecipient | None

    @property
    def is_sender(self) -> bool:
        return self.recipient is None


async def access(session: AsyncSession, actor: Actor, ding_id: str) -> Access:
    ding = await session.get(Ding, ding_id)
    if ding is None or ding.org_id != actor.org_id:
        raise AppError(errors.DING_NOT_FOUND)
    if ding.sender_membership_id == actor.membership_id:
        return Access(ding, None)
    recipient = await session.scalar(
        select(DingRecipient).where(
            DingRecipient.ding_id == ding.id,
            DingRecipient.membership_id == actor.membership_id,
            DingRecipient.delivered_at.is_not(None),
        )
    )
    if recipient is None:
        raise AppError(errors.DING_NOT_FOUND)
    return Access(ding, recipient)


async def access_as_sender(session: AsyncSession, actor: Actor, ding_id: str) -> Ding:
    found = await access(session, actor, ding_id)
    if not found.is_sender:
        raise AppError(errors.SENDER_ONLY)
    return found.ding


# Changing ------------------------------------------------------------------------------------------
async def cancel(session: AsyncSession, actor: Actor, ding_id: str) -> Ding:
    """Calls off a scheduled DING that has not left yet (the delivery job then does nothing)."""
    ding = await access_as_sender(session, actor, ding_id)
    cancelled = await session.scalar(
        update(Ding)
        .where(Ding.id == ding.id, Ding.status == DingStatus.SCHEDULED)
        .values(status=DingStatus.CANCELLED, cancelled_at=utcnow())
        .returning(Ding.id)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(ding)
    if cancelled is None:
        raise AppError(errors.NOT_SCHEDULED)
    return ding


async def confirm(session: AsyncSession, context: AppContext, actor: Actor, ding_id: str) -> Access:
    """The recipient confirms with one tap; again changes nothing. The sender's clients hear of it
    (ding.confirmed), so an open list moves the person at once; so do the recipient's other devices."""
    found = await access(session, actor, ding_id)
    if found.recipient is None:
        raise AppError(errors.DING_NOT_FOUND)  # the sender is not among the recipients
    confirmed_at = await session.scalar(
        update(DingRecipient)
        .where(DingRecipient.id == found.recipient.id, DingRecipient.confirmed_at.is_(None))
        .values(confirmed_at=utcnow())
        .returning(DingRecipient.confirmed_at)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(found.recipient)
    if confirmed_at is not None:
        await _announce_confirmation(session, context, actor, found.ding, confirmed_at)
    return found


async def _announce_confirmation(
    session: AsyncSession, context: AppContext, actor: Actor, ding: Ding, confirmed_at: datetime
) -> None:
    total, confirmed = (await counts(session, [ding.id])).get(ding.id, (0, 0))
    event = {
        "type": "ding.confirmed",
        "ding_id": ding.id,
        "membership_id": actor.membership_id,
        "name": actor.name,
        "confirmed_at": confirmed_at.isoformat(),
        "confirmed_count": confirmed,
        "unconfirmed_count": total - confirmed,
    }
    accounts = [actor.account_id, *await _sender_accounts(session, [ding])]
    append_after_commit(session, context.events, sorted(set(accounts)), event)


async def _sender_accounts(session: AsyncSession, dings: Sequence[Ding]) -> list[str]:
    ids = {d.sender_membership_id for d in dings if d.sender_membership_id}
    if not ids:
        return []
    return list(await session.scalars(select(Membership.account_id).where(Membership.id.in_(ids))))


async def remind(session: AsyncSession, actor: Actor, ding_id: str) -> Ding:
    """Reminds everyone who has not confirmed, through the DING's channel again; at most once per
    five minutes, counted from the send or the last reminder."""
    ding = await access_as_sender(session, actor, ding_id)
    if ding.status != DingStatus.SENT:
        raise AppError(errors.NOT_SENT)
    total, confirmed = (await counts(session, [ding.id])).get(ding.id, (0, 0))
    if confirmed >= total:
        raise AppError(errors.ALL_CONFIRMED)
    now = utcnow()
    allowed_before = now - REMIND_EVERY
    reminded = await session.scalar(
        update(Ding)
        .where(
            Ding.id == ding.id,
            Ding.sent_at <= allowed_before,
            or_(Ding.last_reminded_at.is_(None), Ding.last_reminded_at <= allowed_before),
        )
        .values(remind_count=Ding.remind_count + 1, last_reminded_at=now)
        .returning(Ding.remind_count)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(ding)
    if reminded is None:
        raise AppError(errors.REMIND_TOO_SOON, detail={"retry_after": remind_wait_seconds(ding)})
    await enqueue_round(session, ding, reminded + 1)
    return ding


def remind_wait_seconds(ding: Ding) -> int | None:
    """Seconds until the sender may remind again; None unless the DING was sent."""
    if ding.status != DingStatus.SENT or ding.sent_at is None:
        return None
    last = max(ding.sent_at, ding.last_reminded_at or ding.sent_at)
    return max(0, math.ceil((last + REMIND_EVERY - utcnow()).total_seconds()))


# Reading ------------------------------------------------------------------------------------------
async def counts(session: AsyncSession, ding_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """ding id → (recipients, confirmed), from one grouped count over the recipients' index."""
    if not ding_ids:
        return {}
    rows = await session.execute(
        select(DingRecipient.ding_id, func.count(), func.count(DingRecipient.confirmed_at))
        .where(DingRecipient.ding_id.in_(list(ding_ids)))
        .group_by(DingRecipient.ding_id)
    )
    return {ding_id: (int(total), int(confirmed)) for ding_id, total, confirmed in rows.all()}


class Renderer:
    """Turns DINGs into DingRead: opens the text, names the sender, describes the attachment."""

    def __init__(self, cipher: FieldCipher, names: dict[str, str], attachments: dict[str, DingFile]) -> None:
        self.cipher = cipher
        self.names = names
        self.attachments = attachments

    def for_sender(self, ding: Ding, counted: tuple[int, int] | None) -> DingRead:
        read = self._common(ding, "sender")
        read.confirmed_count = counted[1] if counted else 0
        read.last_reminded_at = ding.last_reminded_at
        read.remind_wait_seconds = remind_wait_seconds(ding)
        return read

    def for_recipient(self, ding: Ding, confirmed_at: datetime | None) -> DingRead:
        read = self._common(ding, "recipient")
        read.my_confirmed_at = confirmed_at
        return read

    def _common(self, ding: Ding, role: Literal["sender", "recipient"]) -> DingRead:
        sender = ding.sender_membership_id
        attachment = self.attachments.get(ding.attachment_id or "")
        return DingRead(
            id=ding.id,
            role=role,
            text=sealing.unseal_text(self.cipher, TEXT_PURPOSE, ding.id, ding.text_sealed),
            sender_membership_id=sender,
            sender_name=self.names.get(sender or "", REMOVED_MEMBER),
            channel=cast(Channel, ding.channel),
            emergency=ding.emergency,
            status=cast(Status, ding.status),
            created_at=ding.created_at,
            scheduled_at=ding.scheduled_at,
            sent_at=ding.sent_at,
            source_message_id=ding.source_message_id,
            attachment=_file_read(self.cipher, attachment) if attachment else None,
            recipient_count=ding.recipient_count,
        )


def _file_read(cipher: FieldCipher, stored: DingFile) -> DingFileRead:
    return DingFileRead(
        id=stored.id, name=files.name_of(cipher, stored), content_type=stored.content_type, size=stored.size
    )


async def renderer_for(
    session: AsyncSession, context: AppContext, org_id: str, dings: Sequence[Ding]
) -> Renderer:
    sender_ids = {d.sender_membership_id for d in dings if d.sender_membership_id}
    names: dict[str, str] = {}
    if sender_ids:
        rows = await session.execute(
            select(Membership.id, Membership.name).where(Membership.id.in_(sender_ids))
        )
        names = {membership_id: name for membership_id, name in rows.all()}
    attachment_ids = {d.attachment_id for d in dings if d.attachment_id}
    attachments: dict[str, DingFile] = {}
    if attachment_ids:
        found = await session.scalars(select(DingFile).where(DingFile.id.in_(attachment_ids)))
        attachments = {stored.id: stored for stored in found}
    return Renderer(await files.org_cipher(session, context, org_id), names, attachments)


async def read_one(session: AsyncSession, context: AppContext, found: Access) -> DingRead:
    renderer = await renderer_for(session, context, found.ding.org_id, [found.ding])
    if found.recipient is not None:
        return renderer.for_recipient(found.ding, found.recipient.confirmed_at)
    return renderer.for_sender(found.ding, (await counts(session, [found.ding.id])).get(found.ding.id))


async def list_sent(
    session: AsyncSession, context: AppContext, actor: Actor, *, limit: int, cursor: str | None
) -> DingPage:
    """The caller's DINGs, newest first, each with its confirmed count."""
    query = select(Ding).where(Ding.org_id == actor.org_id, Ding.sender_membership_id == actor.membership_id)
    if cursor:
        query = query.where(Ding.id < cursor)
    dings = list(await session.scalars(query.order_by(Ding.id.desc()).limit(limit + 1)))
    page, more = dings[:limit], len(dings) > limit
    renderer = await renderer_for(session, context, actor.org_id, page)
    counted = await counts(session, [d.id for d in page])
    return DingPage(
        items=[renderer.for_sender(d, counted.get(d.id)) for d in page],
        next_cursor=page[-1].id if more else None,
    )


async def list_received(
    session: AsyncSession,
    context: AppContext,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    unconfirmed_only: bool = False,
) -> DingPage:
    """DINGs that reached the caller, newest first, with their own state."""
    query = (
        select(Ding, DingRecipient)
        .join(DingRecipient, DingRecipient.ding_id == Ding.id)
        .where(
            DingRecipient.membership_id == actor.membership_id,
            DingRecipient.delivered_at.is_not(None),
            Ding.org_id == actor.org_id,
        )
    )
    if unconfirmed_only:
        query = query.where(DingRecipient.confirmed_at.is_(None))
    if cursor:
        query = query.where(DingRecipient.ding_id < cursor)
    rows = (await session.execute(query.order_by(DingRecipient.ding_id.desc()).limit(limit + 1))).all()
    page, more = rows[:limit], len(rows) > limit
    renderer = await renderer_for(session, context, actor.org_id, [ding for ding, _ in page])
    return DingPage(
        items=[renderer.for_recipient(ding, recipient.confirmed_at) for ding, recipient in page],
        next_cursor=page[-1][0].id if more else None,
    )


def _confirmed_cursor(recipient: DingRecipient) -> str:
    assert recipient.confirmed_at is not None
    return f"{recipient.confirmed_at.isoformat()}|{recipient.id}"


def _parse_confirmed_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        moment, recipient_id = cursor.split("|", 1)
        parsed = datetime.fromisoformat(moment)
    except ValueError as error:
        raise AppError(errors.LIST_CURSOR_INVALID) from error
    if parsed.tzinfo is None or not recipient_id:
        raise AppError(errors.LIST_CURSOR_INVALID)
    return parsed, recipient_id


async def recipients_page(
    session: AsyncSession, actor: Actor, ding_id: str, *, tab: RecipientTab, limit: int, cursor: str | None
) -> RecipientPage:
    """One page of 未确认 (in the order the sender chose them) or 已确认 (newest first) with both
    counts; each page is a range of the (ding, confirmed_at, id) index, never the whole list."""
    ding = await access_as_sender(session, actor, ding_id)
    query = (
        select(DingRecipient, Membership.name)
        .join(Membership, Membership.id == DingRecipient.membership_id)
        .where(DingRecipient.ding_id == ding.id)
    )
    if tab == "unconfirmed":
        query = query.where(DingRecipient.confirmed_at.is_(None))
        if cursor:
            query = query.where(DingRecipient.id > cursor)
        query = query.order_by(DingRecipient.id)
    else:
        query = query.where(DingRecipient.confirmed_at.is_not(None))
        if cursor:
            moment, recipient_id = _parse_confirmed_cursor(cursor)
            query = query.where(
                or_(
                    DingRecipient.confirmed_at < moment,
                    and_(DingRecipient.confirmed_at == moment, DingRecipient.id < recipient_id),
                )
            )
        query = query.order_by(DingRecipient.confirmed_at.desc(), DingRecipient.id.desc())
    rows = (await session.execute(query.limit(limit + 1))).all()
    page, more = rows[:limit], len(rows) > limit
    total, confirmed = (await counts(session, [ding.id])).get(ding.id, (0, 0))
    next_cursor = None
    if more:
        last = page[-1][0]
        next_cursor = last.id if tab == "unconfirmed" else _confirmed_cursor(last)
    return RecipientPage(
        tab=tab,
        confirmed_count=confirmed,
        unconfirmed_count=total - confirmed,
        items=[_recipient_read(recipient, name) for recipient, name in page],
        next_cursor=next_cursor,
    )


def _recipient_read(recipient: DingRecipient, name: str) -> RecipientRead:
    return RecipientRead(
        membership_id=recipient.membership_id,
        name=name,
        delivered_at=recipient.delivered_at,
        held_until=recipient.held_until,
        confirmed_at=recipient.confirmed_at,
        last_reminded_at=recipient.last_reminded_at,
    )


async def attempts_of(
    session: AsyncSession, actor: Actor, ding_id: str, membership_id: str
) -> RecipientAttempts:
    """Every delivery attempt to one recipient, oldest first (the sender only)."""
    ding = await access_as_sender(session, actor, ding_id)
    row = (
        await session.execute(
            select(DingRecipient, Membership.name)
            .join(Membership, Membership.id == DingRecipient.membership_id)
            .where(DingRecipient.ding_id == ding.id, DingRecipient.membership_id == membership_id)
        )
    ).first()
    if row is None:
        raise AppError(errors.DING_NOT_FOUND)
    recipient, name = row
    attempts = await session.scalars(
        select(DingAttempt).where(DingAttempt.recipient_id == recipient.id).order_by(*ATTEMPT_ORDER)
    )
    return RecipientAttempts(
        membership_id=membership_id,
        name=name,
        held_until=recipient.held_until,
        items=[_attempt_read(attempt) for attempt in attempts],
    )


# Attempts made together (in the app, then the SMS or the call of the same round) share their time;
# ids made in the same millisecond do not sort, so the channel orders them.
ATTEMPT_ORDER = (
    DingAttempt.created_at,
    case(
        (DingAttempt.channel == DingChannel.IN_APP, 0), (DingAttempt.channel == DingChannel.CALL, 1), else_=2
    ),
    DingAttempt.id,
)


def _attempt_read(attempt: DingAttempt) -> AttemptRead:
    return AttemptRead(
        channel=cast(Channel, attempt.channel),
        round_number=attempt.round_number,
        result=cast(Result, attempt.result),
        detail=attempt.detail,
        created_at=attempt.created_at,
        attempted_at=attempt.attempted_at,
        finished_at=attempt.finished_at,
    )


async def attachment_of(
    session: AsyncSession, context: AppContext, actor: Actor, ding_id: str
) -> files.Download:
    """The DING's attachment, for its sender and the recipients it reached."""
    found = await access(session, actor, ding_id)
    stored = await session.get(DingFile, found.ding.attachment_id) if found.ding.attachment_id else None
    if stored is None:
        raise AppError(errors.ATTACHMENT_NOT_FOUND)
    return await files.read(session, context, stored)
