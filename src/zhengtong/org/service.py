"""Organisations and memberships: the little the login needs now; the organisation and
directory issue builds departments, admins' scopes and the address book on top."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.crypto import Keyring
from zhengtong.core.ids import new_id
from zhengtong.org.models import ADMIN_ROLES, MemberRole, Membership, MemberStatus, Organization


async def create_organization(session: AsyncSession, keyring: Keyring, *, name: str) -> Organization:
    """A new tenant with its own data key (wrapped by the master key)."""
    org_id = new_id()
    organization = Organization(id=org_id, name=name, data_key_wrapped=keyring.new_org_key(org_id))
    session.add(organization)
    await session.flush()
    return organization


async def get_organization_by_name(session: AsyncSession, name: str) -> Organization | None:
    result = await session.execute(select(Organization).where(Organization.name == name))
    return result.scalars().first()


async def add_membership(
    session: AsyncSession, *, org_id: str, account_id: str, name: str, role: MemberRole = MemberRole.MEMBER
) -> Membership:
    membership = Membership(org_id=org_id, account_id=account_id, name=name, role=role)
    session.add(membership)
    await session.flush()
    return membership


async def memberships_of(session: AsyncSession, account_id: str) -> Sequence[tuple[Membership, Organization]]:
    """The account's memberships with their organisations, oldest first."""
    result = await session.execute(
        select(Membership, Organization)
        .join(Organization, Organization.id == Membership.org_id)
        .where(Membership.account_id == account_id)
        .order_by(Membership.created_at, Membership.id)
    )
    return [(membership, organization) for membership, organization in result.all()]


async def get_membership(session: AsyncSession, *, org_id: str, account_id: str) -> Membership | None:
    result = await session.execute(
        select(Membership).where(Membership.org_id == org_id, Membership.account_id == account_id)
    )
    return result.scalars().first()


def is_admin_role(role: str | None) -> bool:
    return role in ADMIN_ROLES


async def activate_memberships(session: AsyncSession, account_id: str) -> None:
    """A member opened by an admin becomes active at their first complete login."""
    for membership, _organization in await memberships_of(session, account_id):
        if membership.status == MemberStatus.NOT_ACTIVATED:
            membership.status = MemberStatus.ACTIVE
            membership.activated_at = utcnow()
