"""Messages: sending (with @mentions, replies, attachments), history, read watermarks and the read
list, recall, pins, reactions and forwarding.

A send takes the conversation's next seq with one UPDATE … RETURNING, which also serialises
concurrent senders in one conversation; the message, its index words and the sender's watermark
are written in the same transaction, and the event leaves after commit. A client may give each
send an id of its own (`client_msg_id`): sending again with the same id returns the message
already stored, so a client that lost the answer can retry without duplicates.
"""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, delete, false, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import FieldCipher
from zhengtong.core.errors import AppError
from zhengtong.core.ids import new_id
from zhengtong.directory.visibility import Actor
from zhengtong.im import content as sealing
from zhengtong.im import errors, events, files
from zhengtong.im.models import (
    ChatFile,
    ChatPreference,
    Conversation,
    ConversationMember,
    MemberRank,
    Message,
    MessageKind,
    MessageSearchToken,
)
from zhengtong.im.policy import ChatPolicy, ReadReceipts
from zhengtong.im.schemas import (
    FileRead,
    ForwardedItem,
    MessageIn,
    MessagePage,
    MessageRead,
    QuoteRead,
    ReadListRead,
    ReadPerson,
    ReadTab,
    RobotCard,
    SystemNote,
)
from zhengtong.im.seats import Seat, seat_of
from zhengtong.org.models import Membership, Organization
from zhengtong.platform import hooks

REMOVED_MEMBER = "已移除成员"
EXCERPT_CHARS = 60


async def _organization(session: AsyncSession, org_id: str) -> Organization:
    organization = await session.get(Organization, org_id)
    assert organization is not None
    return organization


async def _names(session: AsyncSession, membership_ids: set[str]) -> dict[str, str]:
    if not membership_ids:
        return {}
    rows = await session.execute(
        select(Membership.id, Membership.name).where(Membership.id.in_(membership_ids))
    )
    return {membership_id: name for membership_id, name in rows.all()}


# -- rendering


@dataclass
class Renderer:
    """Turns stored messages into MessageRead: opens the content, names senders, and for the
    viewer's own messages counts who has not read them."""

    cipher: FieldCipher
    names: dict[str, str]
    files: dict[str, ChatFile]
    quotes: dict[str, Message]
    receipts: ReceiptCounter | None = None
    viewer_membership_id: str | None = None

    def file(self, file_id: str | None) -> FileRead | None:
        found = self.files.get(file_id or "")
        if found is None or found.erased_at is not None:
            return None
        return FileRead(
            id=found.id,
            name=sealing.unseal_text(self.cipher, "im-file", found.id, found.name_sealed),
            kind=found.kind,
            content_type=found.content_type,
            size=found.size,
            width=found.width,
            height=found.height,
            has_thumbnail=found.thumbnail_key is not None,
        )

    def content(self, message: Message) -> dict[str, Any]:
        if message.content_sealed is None:
            return {}
        return sealing.unseal(self.cipher, message.id, message.content_sealed)

    def sender_name(self, message: Message, content: dict[str, Any], *, nobody: str) -> str:
        """The member's name; the robot's for what a group robot posted; else `nobody`."""
        if message.sender_membership_id:
            return self.names.get(message.sender_membership_id, REMOVED_MEMBER)
        robot = content.get("robot")
        return str(robot.get("name", "")) if isinstance(robot, dict) else nobody

    def render(self, message: Message) -> MessageRead:
        content = self.content(message)
        sender = message.sender_membership_id
        read = MessageRead(
            id=message.id,
            conversation_id=message.conversation_id,
            seq=message.seq,
            sender_membership_id=sender,
            sender_name=self.sender_name(message, content, nobody=""),
            kind=message.kind,
            text=str(content.get("text", "")),
            attachment=self.file(content.get("file_id")),
            quote=self._quote(message.reply_to_id),
            items=[ForwardedItem.model_validate(item) for item in content.get("items", [])],
            system=SystemNote.model_validate(content["system"]) if "system" in content else None,
            robot=RobotCard.model_validate(content["robot"]) if "robot" in content else None,
            mentions=list(message.mentions or []),
            mention_all=message.mention_all,
            client_msg_id=message.client_msg_id if sender == self.viewer_membership_id else None,
            created_at=message.created_at,
            recalled=message.recalled_at is not None,
            recalled_by_membership_id=message.recalled_by_membership_id,
            pinned=message.pinned_at is not None,
            reactions=dict(message.reactions or {}),
        )
        if self.receipts is not None and sender is not None and sender == self.viewer_membership_id:
            read.unread_count = self.receipts.unread(message.seq)
        return read

    def _quote(self, message_id: str | None) -> QuoteRead | None:
        quoted = self.quotes.get(message_id or "")
        if quoted is None:
            return None
        content = self.content(quoted)
        text = str(content.get("text", ""))
        return QuoteRead(
            message_id=quoted.id,
            seq=quoted.seq,
            sender_name=self.sender_name(quoted, content, nobody=REMOVED_MEMBER),
            excerpt=text[:EXCERPT_CHARS] if quoted.recalled_at is None else "",
            recalled=quoted.recalled_at is not None,
        )


async def renderer_for(
    session: AsyncSession,
    context: AppContext,
    organization: Organization,
    messages: Sequence[Message],
    *,
    viewer_membership_id: str | None,
    receipts: ReceiptCounter | None = None,
) -> Renderer:
    cipher = sealing.org_cipher(context, organization)
    quote_ids = {m.reply_to_id for m in messages if m.reply_to_id}
    quotes = {}
    if quote_ids:
        quotes = {
            m.id: m
            for m in (await session.execute(select(Message).where(Message.id.in_(quote_ids)))).scalars()
        }
    senders = {m.sender_membership_id for m in [*messages, *quotes.values()] if m.sender_membership_id}
    renderer = Renderer(cipher, await _names(session, senders), {}, quotes, receipts, viewer_membership_id)
    file_ids = {renderer.content(m).get("file_id") for m in messages if m.kind != MessageKind.TEXT}
    file_ids.discard(None)
    if file_ids:
        rows = (await session.execute(select(ChatFile).where(ChatFile.id.in_(file_ids)))).scalars()
        renderer.files = {f.id: f for f in rows}
    return renderer


# -- read receipts


class ReceiptCounter:
    """Counts, for any message, the members who have not read it yet. Built from one query over
    the conversation's watermarks (2,000 rows for a 2,000-member group); each count is then a
    binary search. A member's watermark starts at the conversation's last seq when they join, and
    a sender's moves to their message, so neither late joiners nor the sender count as unread."""

    def __init__(self, read_seqs: Sequence[int]) -> None:
        self._read_seqs = sorted(read_seqs)

    def unread(self, seq: int) -> int:
        return bisect.bisect_left(self._read_seqs, seq)  # watermarks below seq


async def _hidden_readers(session: AsyncSession, conversation_id: str, policy: ChatPolicy) -> set[str]:
    if policy.read_receipts != ReadReceipts.OPT_OUT:
        return set()
    rows = await session.execute(
        select(ChatPreference.membership_id)
        .join(ConversationMember, ConversationMember.membership_id == ChatPreference.membership_id)
        .where(
            ConversationMember.conversation_id == conversation_id, ChatPreference.hide_read_status.is_(True)
        )
    )
    return set(rows.scalars())


async def receipt_counter(
    session: AsyncSession, conversation_id: str, policy: ChatPolicy
) -> ReceiptCounter | None:
    if policy.read_receipts == ReadReceipts.OFF:
        return None
    hidden = await _hidden_readers(session, conversation_id, policy)
    rows = await session.execute(
        select(ConversationMember.membership_id, ConversationMember.read_seq).where(
            ConversationMember.conversation_id == conversation_id
        )
    )
    return ReceiptCounter([read_seq for membership_id, read_seq in rows.all() if membership_id not in hidden])


# -- sending


async def _next_seq(session: AsyncSession, conversation_id: str) -> int:
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq + 1, last_message_at=utcnow())
        .returning(Conversation.last_seq)
    )
    seq: int = result.scalar_one()
    return seq


async def _store(
    session: AsyncSession,
    context: AppContext,
    organization: Organization,
    conversation: Conversation,
    *,
    sender_id: str | None,
    kind: str,
    content: dict[str, Any],
    mentions: Sequence[str] = (),
    mention_all: bool = False,
    reply_to_id: str | None = None,
    client_msg_id: str | None = None,
) -> Message:
    cipher = sealing.org_cipher(context, organization)
    seq = await _next_seq(session, conversation.id)
    message_id = new_id()
    message = Message(
        id=message_id,
        org_id=conversation.org_id,
        conversation_id=conversation.id,
        seq=seq,
        sender_membership_id=sender_id,
        kind=kind,
        content_sealed=sealing.seal(cipher, message_id, content),
        mentions=list(mentions),
        mention_all=mention_all,
        reply_to_id=reply_to_id,
        client_msg_id=client_msg_id,
        created_at=utcnow(),
    )
    session.add(message)
    words = sealing.words(sealing.searchable_text(content)) if kind != MessageKind.SYSTEM else set()
    await session.flush()
    if words:
        # One multi-row statement: a message has dozens of words, and an ORM object per word
        # cost more than the rest of the send.
        await session.execute(
            insert(MessageSearchToken),
            [
                {
                    "message_id": message_id,
                    "token_hash": token,
                    "org_id": conversation.org_id,
                    "conversation_id": conversation.id,
                    "seq": seq,
                }
                for token in sealing.token_hashes(cipher, words)
            ],
        )
    await session.refresh(conversation, ["last_seq", "last_message_at"])
    return message


async def post_system_message(
    session: AsyncSession,
    context: AppContext,
    conversation: Conversation,
    action: str,
    *,
    actor: Membership | None,
    names: Sequence[str],
) -> Message:
    """A line such as "张明 邀请 李华 加入了群聊", written by the platform; clients render it from
    `system` in their language."""
    organization = await _organization(session, conversation.org_id)
    note = {"action": action, "actor_name": actor.name if actor else "", "names": list(names)}
    message = await _store(
        session,
        context,
        organization,
        conversation,
        sender_id=None,
        kind=MessageKind.SYSTEM,
        content={"system": note},
    )
    renderer = await renderer_for(session, context, organization, [message], viewer_membership_id=None)
    await events.message_posted(
        session, context, conversation, renderer.render(message).model_dump(mode="json")
    )
    return message


def _check_may_speak(seat_conversation: Conversation, member: ConversationMember, body: MessageIn) -> None:
    manager = member.rank in (MemberRank.OWNER, MemberRank.ADMIN)
    if member.muted_until is not None and member.muted_until > utcnow():
        raise AppError(errors.MUTED, detail={"until": member.muted_until.isoformat()})
    if seat_conversation.mute_all and not manager:
        raise AppError(errors.MUTE_ALL)
    if body.mention_all and seat_conversation.mention_all_admins_only and not manager:
        raise AppError(errors.MENTION_ALL_FORBIDDEN)


async def _existing_send(session: AsyncSession, sender_id: str, client_msg_id: str | None) -> Message | None:
    if client_msg_id is None:
        return None
    return (
        await session.execute(
            select(Message).where(
                Message.sender_membership_id == sender_id, Message.client_msg_id == client_msg_id
            )
        )
    ).scalar_one_or_none()


async def _content_of(
    session: AsyncSession, viewer: Actor, conversation_id: str, body: MessageIn, policy: ChatPolicy
) -> dict[str, Any]:
    text = body.text.strip()
    if len(text) > policy.max_text_chars:
        raise AppError(errors.MESSAGE_TOO_LONG, detail={"max_chars": policy.max_text_chars})
    if body.kind in ("text", "markdown"):
        if not text:
            raise AppError(errors.MESSAGE_EMPTY)
        return {"text": text}
    chat_file = await session.get(ChatFile, body.file_id) if body.file_id else None
    if (
        chat_file is None
        or chat_file.org_id != viewer.org_id
        or chat_file.conversation_id != conversation_id
        or chat_file.erased_at is not None
    ):
        raise AppError(errors.FILE_NOT_FOUND)
    chat_file.attached_at = chat_file.attached_at or utcnow()
    return {"text": text, "file_id": chat_file.id}


async def send(
    session: AsyncSession, context: AppContext, viewer: Actor, conversation_id: str, body: MessageIn
) -> MessageRead:
    seat = await seat_of(session, viewer, conversation_id)
    organization = await _organization(session, viewer.org_id)
    policy = ChatPolicy.of(organization)
    existing = await _existing_send(session, viewer.membership_id, body.client_msg_id)
    if existing is not None:
        return await _resend(session, context, organization, seat, existing, policy)
    _check_may_speak(seat.conversation, seat.member, body)
    content = await _content_of(session, viewer, conversation_id, body, policy)
    reply_to = await _visible_message(session, seat, body.reply_to_id) if body.reply_to_id else None
    mentions = await _present_members(session, conversation_id, body.mentions)
    try:
        # A savepoint: a concurrent send with the same client id wins the unique constraint, and
        # this one then answers with what that one stored.
        async with session.begin_nested():
            message = await _store(
                session,
                context,
                organization,
                seat.conversation,
                sender_id=viewer.membership_id,
                kind=body.kind,
                content=content,
                mentions=mentions,
                mention_all=body.mention_all,
                reply_to_id=reply_to.id if reply_to else None,
                client_msg_id=body.client_msg_id,
            )
    except IntegrityError:
        existing = await _existing_send(session, viewer.membership_id, body.client_msg_id)
        if existing is None:
            raise
        await session.refresh(seat.conversation)
        return await _resend(session, context, organization, seat, existing, policy)
    await hooks.message_sent(session, context, message)
    old_read = seat.member.read_seq
    seat.member.read_seq = message.seq  # replying reads everything before
    rendered = await _announce(session, context, organization, seat.conversation, message)
    if old_read < message.seq - 1:
        await events.read_moved(
            session,
            context,
            conversation_id,
            seat.member,
            old_read,
            tell_senders=policy.read_receipts != ReadReceipts.OFF,
        )
    rendered.unread_count = await _unread_of_new_message(
        session, conversation_id, message.seq, policy, sender_id=viewer.membership_id
    )
    return rendered


async def _announce(
    session: AsyncSession,
    context: AppContext,
    organization: Organization,
    conversation: Conversation,
    message: Message,
) -> MessageRead:
    """Renders a sent message and tells the members. The client's id travels with the event: a
    device whose answer was lost recognises its own message by it."""
    rendered = (
        await renderer_for(session, context, organization, [message], viewer_membership_id=None)
    ).render(message)
    rendered.client_msg_id = message.client_msg_id
    await events.message_posted(session, context, conversation, rendered.model_dump(mode="json"))
    return rendered


async def _resend(
    session: AsyncSession,
    context: AppContext,
    organization: Organization,
    seat: Seat,
    existing: Message,
    policy: ChatPolicy,
) -> MessageRead:
    """A retried send: the stored message again, and its event again (the first may have been
    lost with a process that died between commit and delivery; clients keep messages by id, so a
    second event costs nothing). The same client id in another conversation is refused."""
    if existing.conversation_id != seat.conversation.id:
        raise AppError(errors.CLIENT_MSG_ID_REUSED)
    rendered = await _announce(session, context, organization, seat.conversation, existing)
    if existing.recalled_at is None:
        rendered.unread_count = await _unread_of_new_message(
            session, existing.conversation_id, existing.seq, policy, sender_id=seat.member.membership_id
        )
    return rendered


async def _unread_of_new_message(
    session: AsyncSession, conversation_id: str, seq: int, policy: ChatPolicy, *, sender_id: str
) -> int | None:
    """How many have not read a message just sent: a count over the watermark index, without
    loading a big group's watermarks on every send."""
    if policy.read_receipts == ReadReceipts.OFF:
        return None
    count = await session.execute(
        select(func.count()).where(
            ConversationMember.conversation_id == conversation_id, ConversationMember.read_seq < seq
        )
    )
    hidden = await _hidden_readers(session, conversation_id, policy) - {sender_id}
    return int(count.scalar_one()) - len(hidden)


async def _present_members(
    session: AsyncSession, conversation_id: str, membership_ids: Sequence[str]
) -> list[str]:
    """Mentions of people who are not in the conversation are dropped."""
    if not membership_ids:
        return []
    rows = await session.execute(
        select(ConversationMember.membership_id).where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.membership_id.in_(list(membership_ids)),
        )
    )
    present = set(rows.scalars())
    return [m for m in dict.fromkeys(membership_ids) if m in present]


async def _visible_message(session: AsyncSession, seat: Seat, message_id: str) -> Message:
    message = await session.get(Message, message_id)
    if (
        message is None
        or message.conversation_id != seat.conversation.id
        or message.seq <= seat.member.visible_after_seq
    ):
        raise AppError(errors.MESSAGE_NOT_FOUND)
    return message


# -- reading


async def history(
    session: AsyncSession,
    context: AppContext,
    viewer: Actor,
    conversation_id: str,
    *,
    before_seq: int | None,
    after_seq: int | None,
    limit: int,
    around_seq: int | None = None,
) -> MessagePage:
    """A page of messages in ascending order: the latest, those below `before_seq` (scrolling
    back), those above `after_seq` (catching up after a reconnect), or those around `around_seq`
    (jumping to a search hit). Never older than what the viewer may see."""
    seat = await seat_of(session, viewer, conversation_id)
    floor = seat.member.visible_after_seq
    visible = select(Message).where(Message.conversation_id == conversation_id, Message.seq > floor)
    more_before = more_after = False
    if after_seq is not None:
        rows, more_after = await _page(
            session, visible.where(Message.seq > after_seq), limit, newest_first=False
        )
        more_before = bool(rows) and rows[0].seq > floor + 1
    elif around_seq is not None:
        older, more_before = await _page(
            session, visible.where(Message.seq < around_seq), limit // 2, newest_first=True
        )
        newer, more_after = await _page(
            session, visible.where(Message.seq >= around_seq), limit - limit // 2, newest_first=False
        )
        rows = older + newer
    else:
        query = visible if before_seq is None else visible.where(Message.seq < before_seq)
        rows, more_before = await _page(session, query, limit, newest_first=True)
    organization = await _organization(session, viewer.org_id)
    counter = None
    if any(m.sender_membership_id == viewer.membership_id for m in rows):
        counter = await receipt_counter(session, conversation_id, ChatPolicy.of(organization))
    renderer = await renderer_for(
        session, context, organization, rows, viewer_membership_id=viewer.membership_id, receipts=counter
    )
    return MessagePage(
        items=[renderer.render(m) for m in rows],
        has_more_before=more_before,
        has_more_after=more_after,
        visible_after_seq=floor,
    )


async def _page(
    session: AsyncSession, query: Select[Message], limit: int, *, newest_first: bool
) -> tuple[list[Message], bool]:
    """Up to `limit` messages of `query` from its newest or oldest end, in ascending order, and
    whether more lie beyond."""
    if limit <= 0:
        return [], False
    order = Message.seq.desc() if newest_first else Message.seq
    rows = list((await session.execute(query.order_by(order).limit(limit + 1))).scalars())
    return sorted(rows[:limit], key=lambda m: m.seq), len(rows) > limit


async def latest_messages(
    session: AsyncSession,
    context: AppContext,
    viewer: Actor,
    seats: Sequence[tuple[Conversation, ConversationMember]],
) -> dict[str, MessageRead]:
    """The last message of each conversation, for the conversation list's previews, where the
    viewer may see it."""
    wanted = [(c.id, c.last_seq) for c, seat in seats if c.last_seq > seat.visible_after_seq]
    if not wanted:
        return {}
    rows = list(
        (
            await session.execute(
                select(Message).where(tuple_(Message.conversation_id, Message.seq).in_(wanted))
            )
        ).scalars()
    )
    organization = await _organization(session, viewer.org_id)
    renderer = await renderer_for(
        session, context, organization, rows, viewer_membership_id=viewer.membership_id
    )
    return {m.conversation_id: renderer.render(m) for m in rows}


async def mark_read(
    session: AsyncSession, context: AppContext, viewer: Actor, conversation_id: str, seq: int
) -> ConversationMember:
    """Moves the viewer's watermark forward (never back) to `seq`, capped at the latest message."""
    seat = await seat_of(session, viewer, conversation_id)
    target = min(seq, seat.conversation.last_seq)
    old = seat.member.read_seq
    if target <= old:
        return seat.member
    # Conditional update: two devices reading at once both move forward, never back.
    await session.execute(
        update(ConversationMember)
        .where(ConversationMember.id == seat.member.id, ConversationMember.read_seq < target)
        .values(read_seq=target)
    )
    seat.member.read_seq = target
    policy = ChatPolicy.of(await _organization(session, viewer.org_id))
    hidden = policy.read_receipts == ReadReceipts.OFF or viewer.membership_id in await _hidden_readers(
        session, conversation_id, policy
    )
    await events.read_moved(session, context, conversation_id, seat.member, old, tell_senders=not hidden)
    return seat.member


@dataclass(frozen=True)
class _Audience:
    """Whom the read list of a message is about: the conversation's members when it was sent, but
    its sender. Where the organisation lets members hide their read status (opt-out), an outer
    join finds those who do: they are counted apart and never listed."""

    message: Message
    opt_out: bool

    @property
    def has_read(self) -> ColumnElement[bool]:
        return ConversationMember.read_seq >= self.message.seq

    @property
    def hides(self) -> ColumnElement[bool]:
        return ChatPreference.id.is_not(None) if self.opt_out else false()

    def select(self, *columns: Any) -> Select[Any]:
        query = (
            select(*columns)
            .select_from(ConversationMember)
            .where(
                ConversationMember.conversation_id == self.message.conversation_id,
                ConversationMember.joined_seq < self.message.seq,
                ConversationMember.membership_id != self.message.sender_membership_id,
            )
        )
        if not self.opt_out:
            return query
        return query.outerjoin(
            ChatPreference,
            and_(
                ChatPreference.membership_id == ConversationMember.membership_id,
                ChatPreference.hide_read_status.is_(True),
            ),
        )


async def _read_counts(session: AsyncSession, audience: _Audience) -> tuple[int, int, int]:
    """How many have read, not read, and hide: one aggregate, no row per member leaves the database."""
    shown = ~audience.hides
    counts = await session.execute(
        audience.select(
            func.count(case((and_(shown, audience.has_read), 1))),
            func.count(case((and_(shown, ~audience.has_read), 1))),
            func.count(case((audience.hides, 1))),
        )
    )
    read, unread, hidden = counts.one()
    return int(read), int(unread), int(hidden)


async def _read_page(
    session: AsyncSession, audience: _Audience, tab: ReadTab, limit: int, after: tuple[str, str] | None
) -> tuple[list[ReadPerson], bool]:
    """Up to `limit` people of one tab by name (then id, for namesakes), after the position
    `after`, and whether more follow."""
    query = (
        audience.select(Membership.id, Membership.name)
        .join(Membership, Membership.id == ConversationMember.membership_id)
        .where(audience.has_read if tab == "read" else ~audience.has_read, ~audience.hides)
    )
    if after is not None:
        query = query.where(tuple_(Membership.name, Membership.id) > tuple_(*after))
    rows = (await session.execute(query.order_by(Membership.name, Membership.id).limit(limit + 1))).all()
    people = [ReadPerson(membership_id=membership_id, name=name) for membership_id, name in rows[:limit]]
    return people, len(rows) > limit


def _read_cursor(last: ReadPerson) -> str:
    """Where the next page starts: after this person. Opaque to clients (base64 of JSON)."""
    position = json.dumps([last.name, last.membership_id], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(position).decode().rstrip("=")


def _cursor_position(cursor: str) -> tuple[str, str]:
    """The (name, id) a page starts after; anything `_read_cursor` did not write is refused."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:  # not base64, not UTF-8, not JSON
        raise AppError(errors.READ_CURSOR_INVALID) from None
    if not (
        isinstance(position, list) and len(position) == 2 and all(isinstance(part, str) for part in position)
    ):
        raise AppError(errors.READ_CURSOR_INVALID)
    return position[0], position[1]


async def read_list(
    session: AsyncSession,
    context: AppContext,
    viewer: Actor,
    message_id: str,
    *,
    tab: ReadTab = "unread",
    limit: int = 50,
    cursor: str | None = None,
) -> ReadListRead:
    """One page of who has read one of the viewer's messages (tab "read") or who has not
    ("unread"), by name, with the counts of both; only members present when it was sent. Two
    statements over the conversation's watermarks, an aggregate and a keyset page, whatever the
    size of the group."""
    message = await session.get(Message, message_id)
    if message is None or message.org_id != viewer.org_id:
        raise AppError(errors.MESSAGE_NOT_FOUND)
    await seat_of(session, viewer, message.conversation_id)
    if message.sender_membership_id != viewer.membership_id:
        raise AppError(errors.NOT_OWN_MESSAGE)
    policy = ChatPolicy.of(await _organization(session, viewer.org_id))
    if policy.read_receipts == ReadReceipts.OFF:
        raise AppError(errors.READ_RECEIPTS_OFF)
    after = _cursor_position(cursor) if cursor is not None else None
    audience = _Audience(message, opt_out=policy.read_receipts == ReadReceipts.OPT_OUT)
    read_count, unread_count, hidden_count = await _read_counts(session, audience)
    people, more = await _read_page(session, audience, tab, limit, after)
    return ReadListRead(
        tab=tab,
        read_count=read_count,
        unread_count=unread_count,
        hidden_count=hidden_count,
        items=people,
        next_cursor=_read_cursor(people[-1]) if more else None,
    )


# -- changing messages


async def _own_seat_and_message(
    session: AsyncSession, viewer: Actor, message_id: str
) -> tuple[Seat, Message]:
    message = await session.get(Message, message_id)
    if message is None or message.org_id != viewer.org_id:
        raise AppError(errors.MESSAGE_NOT_FOUND)
    seat = await seat_of(session, viewer, message.conversation_id)
    if message.seq <= seat.member.visible_after_seq:
        raise AppError(errors.MESSAGE_NOT_FOUND)
    return seat, message


async def _render_one(
    session: AsyncSession, context: AppContext, viewer: Actor, message: Message
) -> MessageRead:
    organization = await _organization(session, viewer.org_id)
    renderer = await renderer_for(session, context, organization, [message], viewer_membership_id=None)
    return renderer.render(message)


async def recall(session: AsyncSession, context: AppContext, viewer: Actor, message_id: str) -> MessageRead:
    """Own messages within the organisation's window; group owners and admins any message. The
    content, its index words and its attachment are erased; the row stays as a marker."""
    seat, message = await _own_seat_and_message(session, viewer, message_id)
    if message.recalled_at is not None:
        raise AppError(errors.ALREADY_RECALLED)
    own = message.sender_membership_id == viewer.membership_id
    manager = seat.conversation.kind != "direct" and seat.member.rank in (MemberRank.OWNER, MemberRank.ADMIN)
    if not own and not manager:
        raise AppError(errors.RECALL_NOT_ALLOWED)
    if own and not manager:
        policy = ChatPolicy.of(await _organization(session, viewer.org_id))
        if utcnow() - message.created_at > timedelta(minutes=policy.recall_window_minutes):
            raise AppError(errors.RECALL_WINDOW_PASSED)
    await erase_content(session, context, message)
    message.recalled_at = utcnow()
    message.recalled_by_membership_id = viewer.membership_id
    rendered = await _render_one(session, context, viewer, message)
    await events.message_changed(session, context, message.conversation_id, rendered.model_dump(mode="json"))
    return rendered


async def erase_content(session: AsyncSession, context: AppContext, message: Message) -> None:
    organization = await _organization(session, message.org_id)
    file_id = (
        sealing.unseal(sealing.org_cipher(context, organization), message.id, message.content_sealed).get(
            "file_id"
        )
        if message.content_sealed
        else None
    )
    message.content_sealed = None
    message.mentions = []
    message.reactions = {}
    await session.execute(delete(MessageSearchToken).where(MessageSearchToken.message_id == message.id))
    if file_id:
        await files.erase_file(session, context, file_id)


async def set_pinned(
    session: AsyncSession, context: AppContext, viewer: Actor, message_id: str, pinned: bool
) -> MessageRead:
    seat, message = await _own_seat_and_message(session, viewer, message_id)
    if seat.conversation.kind != "direct" and seat.member.rank == MemberRank.MEMBER:
        raise AppError(errors.NOT_GROUP_MANAGER)
    if message.recalled_at is not None:
        raise AppError(errors.ALREADY_RECALLED)
    message.pinned_at = utcnow() if pinned else None
    rendered = await _render_one(session, context, viewer, message)
    await events.message_changed(session, context, message.conversation_id, rendered.model_dump(mode="json"))
    return rendered


async def toggle_reaction(
    session: AsyncSession, context: AppContext, viewer: Actor, message_id: str, emoji: str
) -> MessageRead:
    _seat, message = await _own_seat_and_message(session, viewer, message_id)
    if message.recalled_at is not None:
        raise AppError(errors.ALREADY_RECALLED)
    reactions = {key: list(value) for key, value in (message.reactions or {}).items()}
    people = reactions.setdefault(emoji, [])
    if viewer.membership_id in people:
        people.remove(viewer.membership_id)
    else:
        people.append(viewer.membership_id)
    message.reactions = {key: value for key, value in reactions.items() if value}
    rendered = await _render_one(session, context, viewer, message)
    await events.message_changed(session, context, message.conversation_id, rendered.model_dump(mode="json"))
    return rendered


async def pinned_messages(
    session: AsyncSession, context: AppContext, viewer: Actor, conversation_id: str
) -> list[MessageRead]:
    seat = await seat_of(session, viewer, conversation_id)
    rows = list(
        (
            await session.execute(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.pinned_at.is_not(None),
                    Message.seq > seat.member.visible_after_seq,
                )
                .order_by(Message.pinned_at.desc())
                .limit(50)
            )
        ).scalars()
    )
    organization = await _organization(session, viewer.org_id)
    renderer = await renderer_for(
        session, context, organization, rows, viewer_membership_id=viewer.membership_id
    )
    return [renderer.render(m) for m in rows]


async def forward(
    session: AsyncSession,
    context: AppContext,
    viewer: Actor,
    message_ids: Sequence[str],
    target_ids: Sequence[str],
    *,
    merged: bool,
) -> list[MessageRead]:
    """Forwards messages the viewer can see into conversations they are in: one by one (copies),
    or merged into one message that carries them all (合并转发)."""
    sources = []
    for message_id in dict.fromkeys(message_ids):
        _seat, message = await _own_seat_and_message(session, viewer, message_id)
        if message.recalled_at is None and message.kind != MessageKind.SYSTEM:
            sources.append(message)
    if not sources:
        raise AppError(errors.MESSAGE_NOT_FOUND)
    sources.sort(key=lambda m: (m.conversation_id, m.seq))
    organization = await _organization(session, viewer.org_id)
    renderer = await renderer_for(session, context, organization, sources, viewer_membership_id=None)
    posted = []
    for target_id in dict.fromkeys(target_ids):
        seat = await seat_of(session, viewer, target_id)
        if merged:
            items = [
                ForwardedItem(
                    sender_name=rendered.sender_name,
                    kind=rendered.kind,
                    text=rendered.text,
                    created_at=rendered.created_at,
                    attachment=rendered.attachment,
                ).model_dump(mode="json")
                for rendered in (renderer.render(m) for m in sources)
            ]
            bodies: list[tuple[str, dict[str, Any]]] = [(MessageKind.FORWARD, {"text": "", "items": items})]
        else:
            bodies = [(m.kind, renderer.content(m)) for m in sources]
        for kind, content in bodies:
            _check_may_speak(seat.conversation, seat.member, MessageIn(kind="text", text="-"))
            content = await _copy_attachment(session, context, content, target_id)
            message = await _store(
                session,
                context,
                organization,
                seat.conversation,
                sender_id=viewer.membership_id,
                kind=kind,
                content=content,
            )
            seat.member.read_seq = message.seq
            rendered = (
                await renderer_for(session, context, organization, [message], viewer_membership_id=None)
            ).render(message)
            await events.message_posted(session, context, seat.conversation, rendered.model_dump(mode="json"))
            posted.append(rendered)
    return posted


async def _copy_attachment(
    session: AsyncSession, context: AppContext, content: dict[str, Any], target_id: str
) -> dict[str, Any]:
    """A forwarded attachment becomes the target conversation's own copy, so recalling either
    message erases only its own file."""
    file_id = content.get("file_id")
    if not file_id:
        return content
    copied = await files.copy_file(session, context, file_id, target_id)
    return {**content, "file_id": copied}


async def post_robot_message(
    session: AsyncSession,
    context: AppContext,
    conversation: Conversation,
    robot_id: str,
    robot_name: str,
    content: dict[str, Any],
    mentions: Sequence[str],
    mention_all: bool,
) -> Message:
    """A message a group robot posts (robots/): `content` is its card as robots.bodies checked it,
    with `summary`, the one line that stands as the message's text in previews, quotes and
    forwards. It has no sending member; the renderer names the robot. Otherwise it is an ordinary
    message: numbered, indexed for search, counted unread, recallable by the group's managers."""
    organization = await _organization(session, conversation.org_id)
    card = {key: value for key, value in content.items() if key != "summary"}
    card.update(id=robot_id, name=robot_name)
    message = await _store(
        session,
        context,
        organization,
        conversation,
        sender_id=None,
        kind=MessageKind.ROBOT,
        content={"text": str(content.get("summary", "")), "robot": card},
        mentions=await _present_members(session, conversation.id, mentions),
        mention_all=mention_all,
    )
    await _announce(session, context, organization, conversation, message)
    return message
