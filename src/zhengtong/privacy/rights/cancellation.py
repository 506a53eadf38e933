"""Cancelling one's account (注销账号): confirmed with an SMS code to the account's own number, the
person leaves every organisation by the same path as an admin removing a member
(`org.service.remove_member` and its hooks, which erase what the inventory says), then the account
is deleted. Refused while the person is the only main admin of an organisation: it would be left
without anyone who can administer it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from zhengtong.core.caller import Caller
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import MemberRole, Membership, Organization
from zhengtong.platform import audit
from zhengtong.privacy.rights import errors
from zhengtong.privacy.rights.exporting import delete_exports_of

CODE_PURPOSE = "cancel_account"
CANCELLATION_CODE_TEXT = (
    "【政通】您的验证码是 {code}，5 分钟内有效，用于注销账号。注销后数据将被删除且无法恢复。请勿告诉他人。"
)


@dataclass(frozen=True)
class BlockingOrganization:
    id: str
    name: str


async def organizations_blocking(session: AsyncSession, account_id: str) -> list[BlockingOrganization]:
    """The organisations of which the account is the only main admin."""
    other = aliased(Membership)
    other_main_admins = (
        select(func.count())
        .where(
            other.org_id == Organization.id,
            other.role == MemberRole.MAIN_ADMIN,
            other.account_id != account_id,
        )
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Organization.id, Organization.name)
        .join(Membership, Membership.org_id == Organization.id)
        .where(
            Membership.account_id == account_id,
            Membership.role == MemberRole.MAIN_ADMIN,
            other_main_admins == 0,
        )
        .order_by(Organization.name)
    )
    return [BlockingOrganization(org_id, name) for org_id, name in rows.all()]


async def _refuse_when_blocked(session: AsyncSession, account_id: str) -> None:
    blocking = await organizations_blocking(session, account_id)
    if blocking:
        raise AppError(
            errors.LAST_MAIN_ADMIN,
            {"organizations": [{"id": found.id, "name": found.name} for found in blocking]},
        )


async def _own_mobile(session: AsyncSession, context: AppContext, caller: Caller) -> str:
    account = await session.get(Account, caller.account_id)
    assert account is not None  # the caller's session holds it
    return identity.decrypt_mobile(context.keyring, account)


async def send_code(
    session: AsyncSession, context: AppContext, caller: Caller, *, ip: str
) -> identity.CodeSent:
    """Sends the confirmation code to the account's own number (refused early when blocked)."""
    await _refuse_when_blocked(session, caller.account_id)
    mobile = await _own_mobile(session, context, caller)
    return await identity.send_verification_code(
        session, context, mobile=mobile, purpose=CODE_PURPOSE, ip=ip, text=CANCELLATION_CODE_TEXT
    )


async def cancel_account(
    session: AsyncSession, context: AppContext, caller: Caller, *, code: str, ip: str
) -> None:
    """Checks the code, leaves every organisation and deletes the account, all in the caller's
    transaction: either all of it happens or none."""
    account_id = caller.account_id
    await _refuse_when_blocked(session, account_id)
    mobile = await _own_mobile(session, context, caller)
    await identity.verify_code(session, context, mobile=mobile, code=code, purpose=CODE_PURPOSE, ip=ip)
    await delete_exports_of(session, context, account_id)
    left = 0
    for membership, organization in await org_service.memberships_of(session, account_id):
        # The person acts on their own membership, as if they were an admin of exactly that.
        own_scope = AdminScope(organization.id, membership.id, True, (), frozenset())
        await org_service.remove_member(session, context, own_scope, membership, actor_id=account_id, ip=ip)
        left += 1
    await identity.delete_account(session, account_id)  # already gone when the last membership went
    await audit.record(
        session,
        context.keyring,
        action="privacy.account_cancelled",
        actor_id=account_id,
        object_type="account",
        object_id=account_id,
        ip=ip,
        detail={"organizations_left": left},
    )
