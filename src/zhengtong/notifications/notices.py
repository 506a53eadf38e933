"""Notices to people: one record per person, shown in their client, and sent through SMS, e-mail,
push and letters (信函), each attempt stored with its channel, result and time.

`notify_people` is what every part of the platform calls to tell people something that matters
(security incidents, the service shutdown, an organisation's deregistration, a new policy). It
records the notices in the caller's transaction; a job (notifications.delivery) sends the SMS,
e-mails and pushes after commit, honouring the person's choices and quiet hours, retrying and
falling back to another channel, and records each outcome, so nothing leaves for a rolled-back
change and a crash resends instead of losing. Addresses are looked up when sending and never
copied into these tables.

A person counts as reached when a delivery outside the client succeeded (SMS, e-mail, push, a
letter marked posted) or when they read the notice in the client. People whose every electronic
delivery failed get a letter queued for printing.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.core.ids import new_id
from zhengtong.identity.models import Account
from zhengtong.notifications.delivery import DEFAULT_LANGUAGE, DELIVERY_JOB, delivery_exists, text_in
from zhengtong.notifications.models import (
    ELECTRONIC_CHANNELS,
    REACHING_CHANNELS,
    Channel,
    DeliveryResult,
    Notice,
    NoticeDelivery,
)
from zhengtong.org.models import Membership, Organization
from zhengtong.platform import audit, jobs
from zhengtong.platform.eventlog import append_after_commit

LANGUAGES = ("zh-CN", "en")
# The `not_before` of a delivery that waits for `start_waiting_deliveries`: never due until then.
WAITS_FOR_START = datetime(9999, 12, 31, tzinfo=UTC)


def _checked_texts(name: str, texts: dict[str, str]) -> dict[str, str]:
    unknown = set(texts) - set(LANGUAGES)
    if unknown or not texts.get(DEFAULT_LANGUAGE, "").strip():
        raise ValueError(f"{name} needs a zh-CN text and only the languages {LANGUAGES}")
    return {language: text for language, text in texts.items() if text.strip()}


def _is_client_path(link: str) -> bool:
    # "/x" but not "//host" (another site) nor "/\\host", which browsers read alike.
    return link.startswith("/") and not link.startswith(("//", "/\\")) and len(link) <= 300


def _checked_channels(channels: Iterable[str]) -> list[Channel]:
    """Every notice is shown in the client; the others are sent as asked."""
    wanted = [Channel.IN_APP]
    for name in channels:
        channel = Channel(name)  # ValueError for an unknown channel: a programming error
        if channel not in wanted:
            wanted.append(channel)
    return wanted


@dataclass(frozen=True)
class RecordedDelivery:
    id: str
    notice_id: str
    channel: Channel
    result: DeliveryResult


async def notify_people(
    session: AsyncSession,
    context: AppContext,
    account_ids: Sequence[str],
    *,
    kind: str,
    subject: dict[str, str],
    body: dict[str, str],
    channels: Sequence[str],
    org_id: str | None = None,
    reference: str = "",
    link: str = "",
    urgent: bool = False,
    start_delivery: bool = True,
) -> list[RecordedDelivery]:
    """Records one notice per person (in-app, always) and a delivery per requested channel
    ("sms", "email", "push", "letter", "in_app"); SMS, e-mail and push leave through the delivery
    job once the caller's transaction commits. `subject` and `body` are {language: text} with at
    least "zh-CN"; each person gets their account's language. `org_id` names the organisation the
    notice concerns (it forwards the letters); `reference` ties notices to their cause (for
    example "incident:<id>") so that progress can be counted; `link` is where the client jumps
    when the notice is opened (a path of the web client); an `urgent` notice is sent during the
    person's quiet hours too. Each person's bell hears of it at once (a `notice.new` event after
    commit). With `start_delivery=False` the SMS, e-mail and push wait until the caller calls
    `start_waiting_deliveries(reference)` (a DING delivered in batches pushes once everyone has it
    in the app, so that pushing never slows that down). Returns the deliveries."""
    if link and not _is_client_path(link):
        raise ValueError(f"a notice links to a path of the web client, not {link!r}")
    wanted = _checked_channels(channels)
    subject, body = _checked_texts("subject", subject), _checked_texts("body", body)
    people = list(dict.fromkeys(account_ids))
    if not people:
        return []
    batch_id, now = new_id(), utcnow()
    notice_ids = [new_id() for _ in people]
    notices = [
        {
            "id": notice_id,
            "account_id": account_id,
            "org_id": org_id,
            "batch_id": batch_id,
            "kind": kind,
            "reference": reference,
            "subject": subject,
            "body": body,
            "link": link,
            "urgent": urgent,
            "created_at": now,
        }
        for notice_id, account_id in zip(notice_ids, people, strict=True)
    ]
    deliveries = [
        RecordedDelivery(
            id=new_id(),
            notice_id=notice_id,
            channel=channel,
            result=DeliveryResult.SENT if channel is Channel.IN_APP else DeliveryResult.QUEUED,
        )
        for notice_id in notice_ids
        for channel in wanted
    ]
    # Multi-row statements, not an ORM object per row: a DING or a work notice to thousands of
    # people records two or three rows each, and objects cost more than the rest of the send.
    await session.execute(insert(Notice), notices)
    waits = None if start_delivery else WAITS_FOR_START
    await session.execute(
        insert(NoticeDelivery),
        [
            {
                "id": delivery.id,
                "notice_id": delivery.notice_id,
                "channel": delivery.channel,
                "result": delivery.result,
                "attempted_at": now if delivery.channel is Channel.IN_APP else None,
                "not_before": None if delivery.channel is Channel.IN_APP else waits,
                "created_at": now,
            }
            for delivery in deliveries
        ],
    )
    append_after_commit(session, context.events, people, {"type": "notice.new", "kind": kind})
    if start_delivery and any(channel in ELECTRONIC_CHANNELS for channel in wanted):
        await jobs.enqueue(session, kind=DELIVERY_JOB, payload={"batch_id": batch_id})
    return deliveries


async def start_waiting_deliveries(session: AsyncSession, reference: str) -> int:
    """Starts the delivery job of each batch of notices about `reference` recorded with
    `start_delivery=False`; returns how many. Each batch is released by one conditional update,
    so that two callers never start it twice, and a caller that crashed is made good by calling
    again."""
    waiting = await session.scalars(
        select(Notice.batch_id)
        .join(NoticeDelivery, NoticeDelivery.notice_id == Notice.id)
        .where(Notice.reference == reference, NoticeDelivery.not_before == WAITS_FOR_START)
        .distinct()
    )
    started = 0
    for batch_id in list(waiting):
        released = await session.execute(
            update(NoticeDelivery)
            .where(
                NoticeDelivery.not_before == WAITS_FOR_START,
                NoticeDelivery.notice_id.in_(select(Notice.id).where(Notice.batch_id == batch_id)),
            )
            .values(not_before=None)
            .execution_options(synchronize_session=False)
        )
        if released.rowcount:  # type: ignore[attr-defined]
            await jobs.enqueue(session, kind=DELIVERY_JOB, payload={"batch_id": batch_id})
            started += 1
    return started


# The person's own notices -----------------------------------------------------------------------
async def list_notices(
    session: AsyncSession, *, account_id: str, limit: int, unread_only: bool = False
) -> tuple[list[Notice], int]:
    """The person's notices, newest first, and how many are unread."""
    query = select(Notice).where(Notice.account_id == account_id)
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    notices = await session.scalars(query.order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit))
    unread = await session.scalar(
        select(func.count())
        .select_from(Notice)
        .where(Notice.account_id == account_id, Notice.read_at.is_(None))
    )
    return list(notices), int(unread or 0)


def tell_bells(session: AsyncSession, context: AppContext, account_ids: Sequence[str]) -> None:
    """After commit, the person's clients (every device) recount their bell."""
    append_after_commit(session, context.events, account_ids, {"type": "notice.read"})


async def mark_read(session: AsyncSession, context: AppContext, *, account_id: str, notice_id: str) -> Notice:
    """Marks one of the person's notices read; `not_found` for anyone else's."""
    notice = await session.get(Notice, notice_id)
    if notice is None or notice.account_id != account_id:
        raise AppError(NOT_FOUND)
    if notice.read_at is None:
        notice.read_at = utcnow()
        tell_bells(session, context, [account_id])
    return notice


async def mark_all_read(session: AsyncSession, context: AppContext, *, account_id: str) -> None:
    await session.execute(
        update(Notice)
        .where(Notice.account_id == account_id, Notice.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    tell_bells(session, context, [account_id])


# Progress of notices with one reference ------------------------------------------------------
def reached_condition() -> Any:
    """SQL: the outer notice reached its person (see the module docstring)."""
    return or_(Notice.read_at.is_not(None), delivery_exists(REACHING_CHANNELS, DeliveryResult.SENT))


async def reached_accounts(session: AsyncSession, *, reference: str) -> set[str]:
    rows = await session.scalars(
        select(Notice.account_id).where(Notice.reference == reference, reached_condition()).distinct()
    )
    return set(rows)


async def in_flight_accounts(session: AsyncSession, *, reference: str) -> set[str]:
    """People with a delivery still waiting for the job (letters wait for the operator: not these)."""
    rows = await session.scalars(
        select(Notice.account_id)
        .where(
            Notice.reference == reference,
            delivery_exists(ELECTRONIC_CHANNELS, DeliveryResult.QUEUED),
        )
        .distinct()
    )
    return set(rows)


async def delivery_counts(session: AsyncSession, *, reference: str) -> dict[str, dict[str, int]]:
    """{channel: {result: count}} over every delivery of the reference's notices, plus "in_app"
    results "read" and "unread"."""
    rows = await session.execute(
        select(NoticeDelivery.channel, NoticeDelivery.result, func.count())
        .join(Notice, Notice.id == NoticeDelivery.notice_id)
        .where(Notice.reference == reference)
        .group_by(NoticeDelivery.channel, NoticeDelivery.result)
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for channel, result, count in rows.all():
        counts[channel][result] = int(count)
    read = await session.scalar(
        select(func.count())
        .select_from(Notice)
        .where(Notice.reference == reference, Notice.read_at.is_not(None))
    )
    total = await session.scalar(
        select(func.count()).select_from(Notice).where(Notice.reference == reference)
    )
    if total:
        counts[Channel.IN_APP] = {"read": int(read or 0), "unread": int(total) - int(read or 0)}
    return dict(counts)


# Letters (信函) -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Letter:
    id: str  # the letter's reference number (the delivery id)
    org_id: str | None
    org_name: str
    language: str
    subject: str
    body: str
    created_at: Any
    account_id: str


async def queued_letters(
    session: AsyncSession, *, reference: str | None = None, org_id: str | None = None
) -> list[Letter]:
    """Letters waiting to be printed and posted, oldest first."""
    query = (
        select(NoticeDelivery, Notice, Account.language, Organization.name)
        .join(Notice, Notice.id == NoticeDelivery.notice_id)
        .join(Account, Account.id == Notice.account_id)
        .outerjoin(Organization, Organization.id == Notice.org_id)
        .where(NoticeDelivery.channel == Channel.LETTER, NoticeDelivery.result == DeliveryResult.QUEUED)
    )
    if reference is not None:
        query = query.where(Notice.reference == reference)
    if org_id is not None:
        query = query.where(Notice.org_id == org_id)
    rows = await session.execute(query.order_by(NoticeDelivery.created_at, NoticeDelivery.id))
    return [
        Letter(
            id=delivery.id,
            org_id=notice.org_id,
            org_name=org_name or "",
            language=language,
            subject=text_in(notice.subject, language),
            body=text_in(notice.body, language),
            created_at=delivery.created_at,
            account_id=notice.account_id,
        )
        for delivery, notice, language, org_name in rows.all()
    ]


async def mark_letters_posted(
    session: AsyncSession, context: AppContext, *, letter_ids: Sequence[str], actor_id: str, ip: str
) -> int:
    """The operator posted these letters: they count as delivered. Returns how many changed."""
    if not letter_ids:
        return 0
    changed = await session.scalars(
        update(NoticeDelivery)
        .where(
            NoticeDelivery.id.in_(letter_ids),
            NoticeDelivery.channel == Channel.LETTER,
            NoticeDelivery.result == DeliveryResult.QUEUED,
        )
        .values(result=DeliveryResult.SENT, attempted_at=utcnow())
        .returning(NoticeDelivery.id)
        .execution_options(synchronize_session=False)
    )
    posted = len(list(changed))
    await audit.record(
        session,
        context.keyring,
        action="privacy.letters.posted",
        actor_id=actor_id,
        object_type="notice_letters",
        ip=ip,
        detail={"letters": posted},
    )
    return posted


_LETTER_LABELS = {
    "zh-CN": {"to": "收件人", "ref": "信函编号", "date": "日期", "via": "转交"},
    "en": {"to": "To", "ref": "Letter no.", "date": "Date", "via": "care of"},
}


def letters_html(letters: Sequence[Letter], recipients: dict[str, str], *, title: str) -> str:
    """A printable page, one letter per sheet. `recipients` maps a letter id to the address block
    (the organisation's admins fill in names; the operator's copy names the organisation and the
    letter number only)."""
    sheets = []
    for letter in letters:
        labels = _LETTER_LABELS.get(letter.language, _LETTER_LABELS[DEFAULT_LANGUAGE])
        paragraphs = "".join(
            f"<p>{html.escape(line)}</p>" for line in letter.body.splitlines() if line.strip()
        )
        sheets.append(
            '<section class="letter">'
            f'<div class="to"><b>{labels["to"]}</b><br>{recipients.get(letter.id, "")}</div>'
            f'<div class="meta">{labels["ref"]}: {html.escape(letter.id)} · {labels["date"]}: '
            f"{letter.created_at:%Y-%m-%d}</div>"
            f"<h2>{html.escape(letter.subject)}</h2>{paragraphs}</section>"
        )
    style = (
        "body{font-family:'Songti SC','SimSun',serif;margin:0}"
        ".letter{padding:24mm 20mm;page-break-after:always;line-height:1.7}"
        ".to{margin-bottom:12mm}.meta{color:#555;font-size:12px;margin-bottom:8mm}"
        "@media screen{.letter{border-bottom:1px dashed #aaa}}"
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body>{''.join(sheets)}</body></html>"
    )


def operator_address_block(letter: Letter) -> str:
    """The operator's copy: the letter goes to the organisation, which hands it to its member."""
    labels = _LETTER_LABELS.get(letter.language, _LETTER_LABELS[DEFAULT_LANGUAGE])
    return f"{html.escape(letter.org_name)} {labels['via']} · {labels['ref']} {html.escape(letter.id)}"


async def member_address_blocks(
    session: AsyncSession, letters: Sequence[Letter], org_id: str
) -> dict[str, str]:
    """The organisation's copy: the member's name and work place as the organisation records them."""
    rows = await session.execute(
        select(Membership.account_id, Membership.name, Membership.work_place).where(
            Membership.org_id == org_id, Membership.account_id.in_({letter.account_id for letter in letters})
        )
    )
    people = {account_id: (name, place) for account_id, name, place in rows.all()}
    blocks = {}
    for letter in letters:
        name, place = people.get(letter.account_id, ("", ""))
        blocks[letter.id] = f"{html.escape(name)}<br>{html.escape(place)}<br>{html.escape(letter.org_name)}"
    return blocks
