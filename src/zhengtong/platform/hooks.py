"""Hooks by which one domain reacts to another's changes inside the same transaction, without
the first importing the second: the organisation chart changes, and chat groups that follow it
(department and all-staff groups) update their members; a department is created with its group;
a member is about to be removed, and chat hands their group ownerships on; a member sent a chat
message, and the group's outgoing robots hear of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext
from zhengtong.org.models import Department, Membership

if TYPE_CHECKING:
    from zhengtong.im.models import Message

# (session, context, org_id, membership ids whose seats changed, or None: anything may have changed)
ChartListener = Callable[[AsyncSession, AppContext, str, Sequence[str] | None], Awaitable[None]]
_chart_listeners: list[ChartListener] = []


def on_org_chart_changed(listener: ChartListener) -> ChartListener:
    if listener not in _chart_listeners:
        _chart_listeners.append(listener)
    return listener


async def org_chart_changed(
    session: AsyncSession, context: AppContext, org_id: str, membership_ids: Sequence[str] | None = None
) -> None:
    """Called by the organisation service after members' seats (`membership_ids`) or, without
    them, departments or many members changed."""
    for listener in _chart_listeners:
        await listener(session, context, org_id, membership_ids)


MemberListener = Callable[[AsyncSession, AppContext, Membership], Awaitable[None]]
_leaving_listeners: list[MemberListener] = []


def on_member_leaving(listener: MemberListener) -> MemberListener:
    if listener not in _leaving_listeners:
        _leaving_listeners.append(listener)
    return listener


async def member_leaving(session: AsyncSession, context: AppContext, membership: Membership) -> None:
    """Called by the organisation service just before a membership is deleted."""
    for listener in _leaving_listeners:
        await listener(session, context, membership)


GroupListener = Callable[[AsyncSession, AppContext, Department, str], Awaitable[None]]
_group_listeners: list[GroupListener] = []


def on_department_group_wanted(listener: GroupListener) -> GroupListener:
    if listener not in _group_listeners:
        _group_listeners.append(listener)
    return listener


async def department_group_wanted(
    session: AsyncSession, context: AppContext, department: Department, owner_membership_id: str
) -> None:
    """An admin created a department and asked for its chat group along with it."""
    for listener in _group_listeners:
        await listener(session, context, department, owner_membership_id)


MessageListener = Callable[[AsyncSession, AppContext, "Message"], Awaitable[None]]
_message_listeners: list[MessageListener] = []


def on_message_sent(listener: MessageListener) -> MessageListener:
    if listener not in _message_listeners:
        _message_listeners.append(listener)
    return listener


async def message_sent(session: AsyncSession, context: AppContext, message: Message) -> None:
    """Called by chat once a member's new message is stored (not for the platform's or robots'
    own messages, nor copies made by forwarding)."""
    for listener in _message_listeners:
        await listener(session, context, message)
