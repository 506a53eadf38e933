"""A member's seat in a conversation: the check every chat action starts with."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.errors import AppError
from zhengtong.directory.visibility import Actor
from zhengtong.im import errors
from zhengtong.im.models import Conversation, ConversationMember, MemberRank


@dataclass(frozen=True)
class Seat:
    """A member's place in a conversation, loaded together with the conversation."""

    conversation: Conversation
    member: ConversationMember

    @property
    def manages(self) -> bool:
        if self.conversation.only_owner_manages:
            return self.member.rank == MemberRank.OWNER
        return self.member.rank in (MemberRank.OWNER, MemberRank.ADMIN)


async def seat_of(session: AsyncSession, viewer: Actor, conversation_id: str) -> Seat:
    """The viewer's seat in a conversation of their organisation; one error for "no such
    conversation" and "not in it", so ids cannot be probed."""
    row = (
        await session.execute(
            select(Conversation, ConversationMember)
            .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
            .where(
                Conversation.id == conversation_id,
                Conversation.org_id == viewer.org_id,
                ConversationMember.membership_id == viewer.membership_id,
            )
        )
    ).first()
    if row is None:
        raise AppError(errors.NOT_IN_CONVERSATION)
    seat = Seat(row[0], row[1])
    if seat.conversation.disbanded_at is not None:
        raise AppError(errors.CONVERSATION_DISBANDED)
    return seat
