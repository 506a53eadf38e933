"""Joining by invitation: an admin creates a link (shown as a QR too) into a department; a person
opens it, proves their mobile number with an SMS code and asks to join; an admin approves, which
opens the membership as an ordinary "add member" would."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.identity import service as identity
from zhengtong.org import errors
from zhengtong.org.access import AdminScope, get_department, require_paths_in_scope
from zhengtong.org.models import Department, Invite, JoinRequest, JoinRequestStatus, Membership, Organization
from zhengtong.org.service import MemberProfile, Seat, add_member, get_membership
from zhengtong.platform import audit

JOIN_CODE_PURPOSE = "join"
TOKEN_PREFIX = "inv_"


def _token_hash(context: AppContext, token: str) -> bytes:
    return context.keyring.blind_index("invite-token", token)


def _mobile_aad(request: JoinRequest) -> bytes:
    return b"join-request-mobile:" + request.id.encode()


@dataclass(frozen=True)
class CreatedInvite:
    invite: Invite
    token: str  # shown once; the link is /join/<token>


async def create_invite(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    department_id: str,
    valid_days: int,
    actor_id: str,
    ip: str,
) -> CreatedInvite:
    department = await get_department(session, scope.org_id, department_id)
    require_paths_in_scope(scope, [department.path])
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    invite = Invite(
        org_id=scope.org_id,
        token_hash=_token_hash(context, token),
        department_id=department.id,
        created_by_membership_id=scope.membership_id,
        expires_at=utcnow() + timedelta(days=valid_days),
    )
    session.add(invite)
    await session.flush()
    await audit.record(
        session,
        context.keyring,
        action="org.invite_created",
        org_id=scope.org_id,
        actor_id=actor_id,
        object_type="invite",
        object_id=invite.id,
        ip=ip,
    )
    return CreatedInvite(invite, token)


async def revoke_invite(session: AsyncSession, scope: AdminScope, *, invite_id: str) -> None:
    invite = await session.get(Invite, invite_id)
    if invite is None or invite.org_id != scope.org_id:
        raise AppError(NOT_FOUND)
    invite.revoked_at = utcnow()


@dataclass(frozen=True)
class InviteInfo:
    invite: Invite
    organization: Organization
    department: Department


async def open_invite(session: AsyncSession, context: AppContext, token: str) -> InviteInfo:
    """The invitation behind a link, while it is valid: what the join page shows."""
    result = await session.execute(select(Invite).where(Invite.token_hash == _token_hash(context, token)))
    invite = result.scalars().first()
    if invite is None or invite.revoked_at is not None or invite.expires_at <= utcnow():
        raise AppError(errors.INVITE_INVALID)
    organization = await session.get(Organization, invite.org_id)
    department = await session.get(Department, invite.department_id)
    if organization is None or department is None:
        raise AppError(errors.INVITE_INVALID)
    return InviteInfo(invite, organization, department)


async def send_join_code(
    session: AsyncSession, context: AppContext, *, token: str, mobile: str, ip: str
) -> None:
    await open_invite(session, context, token)
    await identity.send_verification_code(session, context, mobile=mobile, purpose=JOIN_CODE_PURPOSE, ip=ip)


async def request_to_join(
    session: AsyncSession, context: AppContext, *, token: str, mobile: str, code: str, name: str, ip: str
) -> JoinRequest:
    """Files a join request after the code proves the number; refuses duplicates."""
    info = await open_invite(session, context, token)
    e164 = await identity.verify_code(
        session, context, mobile=mobile, code=code, purpose=JOIN_CODE_PURPOSE, ip=ip
    )
    index = identity.mobile_index(context.keyring, e164)
    account = await identity.get_account_by_mobile(session, context.keyring, e164)
    if account is not None and await get_membership(
        session, org_id=info.organization.id, account_id=account.id
    ):
        raise AppError(errors.MEMBER_EXISTS)
    pending = await session.execute(
        select(JoinRequest.id).where(
            JoinRequest.org_id == info.organization.id,
            JoinRequest.mobile_index == index,
            JoinRequest.status == JoinRequestStatus.PENDING,
        )
    )
    if pending.first() is not None:
        raise AppError(errors.JOIN_REQUEST_PENDING)
    request = JoinRequest(
        org_id=info.organization.id,
        invite_id=info.invite.id,
        mobile_encrypted=b"",
        mobile_index=index,
        name=name,
    )
    session.add(request)
    await session.flush()
    request.mobile_encrypted = context.keyring.platform.encrypt_text(e164, aad=_mobile_aad(request))
    return request


async def list_join_requests(
    session: AsyncSession, scope: AdminScope, *, status: str
) -> Sequence[JoinRequest]:
    result = await session.execute(
        select(JoinRequest)
        .where(JoinRequest.org_id == scope.org_id, JoinRequest.status == status)
        .order_by(JoinRequest.created_at)
    )
    return result.scalars().all()


def masked_mobile_of(context: AppContext, request: JoinRequest) -> str:
    return identity.mask_mobile(
        context.keyring.platform.decrypt_text(request.mobile_encrypted, _mobile_aad(request))
    )


async def decide_join_request(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    request_id: str,
    approve: bool,
    actor_id: str,
    ip: str,
) -> Membership | None:
    """Approving opens the membership in the invitation's department; rejecting closes the request."""
    request = await session.get(JoinRequest, request_id)
    if request is None or request.org_id != scope.org_id:
        raise AppError(NOT_FOUND)
    if request.status != JoinRequestStatus.PENDING:
        raise AppError(errors.JOIN_REQUEST_DECIDED)
    invite = await session.get(Invite, request.invite_id)
    assert invite is not None
    department = await get_department(session, scope.org_id, invite.department_id)
    require_paths_in_scope(scope, [department.path])
    request.decided_at = utcnow()
    if not approve:
        request.status = JoinRequestStatus.REJECTED
        return None
    request.status = JoinRequestStatus.APPROVED
    mobile = context.keyring.platform.decrypt_text(request.mobile_encrypted, _mobile_aad(request))
    profile = MemberProfile(name=request.name, seats=[Seat(department.id)])
    return await add_member(session, context, scope, mobile=mobile, profile=profile, actor_id=actor_id, ip=ip)
