"""What chat changes tell clients, through each person's event stream (platform.eventlog).

Events leave after the transaction commits. A new message goes to every member once; a moved
read watermark goes to the reader's own devices and to the senders whose messages it covers,
never to the whole group: in a group of 2,000 that is the difference between a handful of events
and 2,000 per read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from zhengtong.core.context import AppContext
from zhengtong.im.models import Conversation, ConversationMember, Message
from zhengtong.org.models import Membership
from zhengtong.platform.eventlog import append_after_commit


async def member_accounts(session: AsyncSession, conversation_id: str) -> list[str]:
    rows = await session.execute(
        select(ConversationMember.account_id).where(ConversationMember.conversation_id == conversation_id)
    )
    return list(rows.scalars())


async def to_members(
    session: AsyncSession, context: AppContext, conversation_id: str, event: dict[str, Any]
) -> None:
    append_after_commit(session, context.events, await member_accounts(session, conversation_id), event)


async def message_posted(
    session: AsyncSession, context: AppContext, conversation: Conversation, message: dict[str, Any]
) -> None:
    await to_members(
        session,
        context,
        conversation.id,
        {"type": "message.new", "conversation_id": conversation.id, "message": message},
    )


async def message_changed(
    session: AsyncSession, context: AppContext, conversation_id: str, message: dict[str, Any]
) -> None:
    """A recall, a pin or a reaction: the message as it now is."""
    await to_members(
        session,
        context,
        conversation_id,
        {"type": "message.updated", "conversation_id": conversation_id, "message": message},
    )


async def conversation_changed(
    session: AsyncSession, context: AppContext, conversation: Conversation
) -> None:
    await to_members(
        session,
        context,
        conversation.id,
        {"type": "conversation.updated", "conversation_id": conversation.id},
    )


def conversation_removed(
    session: AsyncSession, context: AppContext, conversation_id: str, account_ids: Sequence[str]
) -> None:
    if account_ids:
        append_after_commit(
            session,
            context.events,
            list(account_ids),
            {"type": "conversation.removed", "conversation_id": conversation_id},
        )


async def read_moved(
    session: AsyncSession,
    context: AppContext,
    conversation_id: str,
    reader: ConversationMember,
    old_seq: int,
    *,
    tell_senders: bool,
) -> None:
    event = {
        "type": "read.moved",
        "conversation_id": conversation_id,
        "membership_id": reader.membership_id,
        "read_seq": reader.read_seq,
        "previous_read_seq": old_seq,  # messages in (previous, read_seq] gained a reader
    }
    accounts = {reader.account_id}
    if tell_senders:
        senders = await session.execute(
            select(Membership.account_id)
            .join(Message, Message.sender_membership_id == Membership.id)
            .where(
                Message.conversation_id == conversation_id,
                Message.seq > old_seq,
                Message.seq <= reader.read_seq,
            )
            .distinct()
        )
        accounts.update(senders.scalars())
    append_after_commit(session, context.events, sorted(accounts), event)


# Built once: an alias made per call costs more than the query it serves (presence asks on every
# socket that opens or closes).
_ME = aliased(ConversationMember, name="me")
_PEER = aliased(ConversationMember, name="peer")


async def direct_peers(session: AsyncSession, account_id: str) -> dict[str, list[str]]:
    """For each membership of a person, the accounts they share a direct conversation with."""
    me, peer = _ME, _PEER
    rows = await session.execute(
        select(me.membership_id, peer.account_id)
        .join(Conversation, Conversation.id == me.conversation_id)
        .join(peer, (peer.conversation_id == me.conversation_id) & (peer.account_id != account_id))
        .where(me.account_id == account_id, Conversation.kind == "direct")
        .distinct()
    )
    peers: dict[str, list[str]] = {}
    for membership_id, peer_account in rows.all():
        peers.setdefault(membership_id, []).append(peer_account)
    return peers
