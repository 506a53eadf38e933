"""The operator's console: who is an operator, and what the operator may see of organisations.

The operator runs the platform and never reads its business data: the console shows each
organisation's status and counts (members, messages, files, storage bytes) and nothing that was
written, uploaded or entered about a person. Business content is sealed with each organisation's
own key, and no operator endpoint opens it; tests/privacy/operator/test_operator_route_sweep.py
calls every route of the application with an operator's credentials to prove it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from zhengtong.core.caller import Caller
from zhengtong.core.errors import AppError
from zhengtong.identity.models import Account
from zhengtong.im.models import ChatFile, Conversation, Message
from zhengtong.org import errors as org_errors
from zhengtong.org.models import Membership, Organization
from zhengtong.privacy.erasure.models import LIVE_STATES, Deregistration


async def require_operator(session: AsyncSession, caller: Caller) -> None:
    """Only the platform operator's staff (`zhengtong operator grant`) pass."""
    account = await session.get(Account, caller.account_id)
    if account is None or not account.is_operator:
        raise AppError(org_errors.OPERATOR_REQUIRED)


async def is_operator(session: AsyncSession, account_id: str) -> bool:
    return bool(await session.scalar(select(Account.is_operator).where(Account.id == account_id)))


@dataclass(frozen=True)
class OrganizationUsage:
    """One organisation as the operator sees it: status and numbers, no content."""

    id: str
    name: str
    status: str
    created_at: datetime
    members: int
    conversations: int
    messages: int
    files: int
    storage_bytes: int
    purge_at: datetime | None  # when a deregistration's cooling-off ends and the purge runs


async def _per_org(
    session: AsyncSession,
    org_id: InstrumentedAttribute[str],
    figure: ColumnElement[Any],
    *conditions: ColumnElement[bool],
) -> dict[str, int]:
    """org id → a count or sum, from one grouped query."""
    rows = await session.execute(select(org_id, figure).where(*conditions).group_by(org_id))
    return {org: int(value or 0) for org, value in rows.all()}


async def organization_usage(session: AsyncSession) -> list[OrganizationUsage]:
    """Every organisation with its usage figures, oldest first."""
    members = await _per_org(session, Membership.org_id, func.count(Membership.id))
    conversations = await _per_org(session, Conversation.org_id, func.count(Conversation.id))
    messages = await _per_org(session, Message.org_id, func.count(Message.id))
    stored = ChatFile.erased_at.is_(None)
    files = await _per_org(session, ChatFile.org_id, func.count(ChatFile.id), stored)
    storage = await _per_org(session, ChatFile.org_id, func.sum(ChatFile.size), stored)
    purges = dict(
        (
            await session.execute(
                select(Deregistration.org_id, Deregistration.purge_at).where(
                    Deregistration.state.in_(LIVE_STATES)
                )
            )
        ).all()
    )
    organizations: Sequence[Organization] = (
        await session.scalars(select(Organization).order_by(Organization.created_at, Organization.id))
    ).all()
    return [
        OrganizationUsage(
            id=organization.id,
            name=organization.name,
            status=organization.status,
            created_at=organization.created_at,
            members=members.get(organization.id, 0),
            conversations=conversations.get(organization.id, 0),
            messages=messages.get(organization.id, 0),
            files=files.get(organization.id, 0),
            storage_bytes=storage.get(organization.id, 0),
            purge_at=purges.get(organization.id),
        )
        for organization in organizations
    ]
