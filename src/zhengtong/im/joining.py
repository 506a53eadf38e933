"""Joining groups: finding searchable groups, asking to join, and managers deciding.

A group with `join_approval` admits people only through a manager: a member's invitation, like a
request from someone who found the group by searching, waits as a join request until an owner or
admin approves or rejects it. Managers hear of new requests on their event streams.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.directory.visibility import Actor
from zhengtong.im import errors
from zhengtong.im.conversations import SYNCED_KINDS, seat_members
from zhengtong.im.models import (
    Conversation,
    ConversationKind,
    ConversationMember,
    GroupJoinRequest,
    JoinRequestState,
    MemberRank,
)
from zhengtong.im.seats import seat_of
from zhengtong.org.models import Membership
from zhengtong.platform.eventlog import append_after_commit

MAX_RESULTS = 50


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_groups(session: AsyncSession, viewer: Actor, query: str) -> list[Conversation]:
    """Searchable groups of the viewer's organisation whose name contains `query`."""
    rows = await session.execute(
        select(Conversation)
        .where(
            Conversation.org_id == viewer.org_id,
            Conversation.kind == ConversationKind.GROUP,
            Conversation.searchable.is_(True),
            Conversation.disbanded_at.is_(None),
            Conversation.name.contains(_escape_like(query), autoescape=False),
        )
        .order_by(Conversation.member_count.desc())
        .limit(MAX_RESULTS)
    )
    return list(rows.scalars())


async def _managers(session: AsyncSession, conversation: Conversation) -> list[str]:
    ranks = [MemberRank.OWNER] if conversation.only_owner_manages else [MemberRank.OWNER, MemberRank.ADMIN]
    rows = await session.execute(
        select(ConversationMember.account_id).where(
            ConversationMember.conversation_id == conversation.id, ConversationMember.rank.in_(ranks)
        )
    )
    return list(rows.scalars())


async def request_for(
    session: AsyncSession,
    context: AppContext,
    conversation: Conversation,
    memberships: Sequence[Membership],
    *,
    invited_by: str | None,
) -> list[GroupJoinRequest]:
    """Pending requests for those not in the group and not already waiting."""
    ids = [m.id for m in memberships]
    seated = set(
        (
            await session.execute(
                select(ConversationMember.membership_id).where(
                    ConversationMember.conversation_id == conversation.id,
                    ConversationMember.membership_id.in_(ids),
                )
            )
        ).scalars()
    )
    waiting = set(
        (
            await session.execute(
                select(GroupJoinRequest.membership_id).where(
                    GroupJoinRequest.conversation_id == conversation.id,
                    GroupJoinRequest.state == JoinRequestState.PENDING,
                    GroupJoinRequest.membership_id.in_(ids),
                )
            )
        ).scalars()
    )
    created = [
        GroupJoinRequest(
            org_id=conversation.org_id,
            conversation_id=conversation.id,
            membership_id=membership_id,
            invited_by_membership_id=invited_by,
        )
        for membership_id in ids
        if membership_id not in seated and membership_id not in waiting
    ]
    session.add_all(created)
    if created:
        event = {"type": "join.requested", "conversation_id": conversation.id}
        append_after_commit(session, context.events, await _managers(session, conversation), event)
    return created


async def ask_to_join(
    session: AsyncSession, context: AppContext, viewer: Actor, conversation_id: str
) -> Literal["joined", "requested"]:
    """Joins a searchable group at once, or asks when it needs approval: "joined" or "requested"."""
    conversation = await session.get(Conversation, conversation_id)
    if (
        conversation is None
        or conversation.org_id != viewer.org_id
        or conversation.kind in SYNCED_KINDS
        or conversation.kind == ConversationKind.DIRECT
        or not conversation.searchable
        or conversation.disbanded_at is not None
    ):
        raise AppError(errors.GROUP_NOT_JOINABLE)
    me = await session.get(Membership, viewer.membership_id)
    assert me is not None
    if conversation.join_approval:
        await request_for(session, context, conversation, [me], invited_by=None)
        return "requested"
    await seat_members(session, context, conversation, [me], actor=me)
    return "joined"


@dataclass(frozen=True)
class PendingRequest:
    request: GroupJoinRequest
    name: str
    invited_by_name: str | None


async def pending_requests(
    session: AsyncSession, viewer: Actor, conversation_id: str
) -> list[PendingRequest]:
    seat = await seat_of(session, viewer, conversation_id)
    if not seat.manages:
        raise AppError(errors.NOT_GROUP_MANAGER)
    rows = (
        await session.execute(
            select(GroupJoinRequest).where(
                GroupJoinRequest.conversation_id == conversation_id,
                GroupJoinRequest.state == JoinRequestState.PENDING,
            )
        )
    ).scalars()
    requests = list(rows)
    ids = {r.membership_id for r in requests} | {
        r.invited_by_membership_id for r in requests if r.invited_by_membership_id
    }
    names = dict(
        (await session.execute(select(Membership.id, Membership.name).where(Membership.id.in_(ids)))).all()
    )
    return [
        PendingRequest(r, names.get(r.membership_id, ""), names.get(r.invited_by_membership_id or ""))
        for r in requests
    ]


async def decide(
    session: AsyncSession, context: AppContext, viewer: Actor, request_id: str, *, approve: bool
) -> GroupJoinRequest:
    request = await session.get(GroupJoinRequest, request_id)
    if request is None or request.org_id != viewer.org_id or request.state != JoinRequestState.PENDING:
        raise AppError(errors.JOIN_REQUEST_NOT_FOUND)
    seat = await seat_of(session, viewer, request.conversation_id)
    if not seat.manages:
        raise AppError(errors.NOT_GROUP_MANAGER)
    request.state = JoinRequestState.APPROVED if approve else JoinRequestState.REJECTED
    request.decided_by_membership_id = viewer.membership_id
    request.decided_at = utcnow()
    if approve:
        newcomer = await session.get(Membership, request.membership_id)
        actor = await session.get(Membership, viewer.membership_id)
        if newcomer is not None:
            await seat_members(session, context, seat.conversation, [newcomer], actor=actor)
    return request
