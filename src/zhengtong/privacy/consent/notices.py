"""The first-login notice: which data the organisation provided about the person.

The organisation is the controller of the profile it opened the account with (policy, part two,
§1). At the first login after a membership was opened, the person is shown what that
organisation recorded about them: every profile field that is set, the mobile number masked.
Once they have seen it (`mark_seen`), it is not shown again for that membership.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org.models import (
    CustomFieldDefinition,
    Department,
    MemberDepartment,
    MemberRoleLink,
    Membership,
    MemberStatus,
    Organization,
    Role,
)
from zhengtong.privacy.consent.models import DataNotice, MinorRecord


@dataclass(frozen=True)
class ProvidedField:
    key: str  # name, mobile, job_number, …, custom
    value: str
    label: str = ""  # the organisation's own label, for a custom field


@dataclass(frozen=True)
class DataNoticeContent:
    org_id: str
    org_name: str
    membership_id: str
    fields: list[ProvidedField]


async def pending(session: AsyncSession, context: AppContext, caller: Caller) -> list[DataNoticeContent]:
    """The caller's active memberships whose data notice they have not seen yet."""
    seen = select(DataNotice.membership_id)
    result = await session.execute(
        select(Membership, Organization)
        .join(Organization, Organization.id == Membership.org_id)
        .where(
            Membership.account_id == caller.account_id,
            Membership.status == MemberStatus.ACTIVE,
            Membership.id.not_in(seen),
        )
        .order_by(Membership.created_at, Membership.id)
    )
    account = await session.get(Account, caller.account_id)
    assert account is not None
    mobile = identity.mask_mobile(identity.decrypt_mobile(context.keyring, account))
    return [
        DataNoticeContent(
            organization.id,
            organization.name,
            membership.id,
            await provided_fields(session, membership, mobile),
        )
        for membership, organization in result.all()
    ]


async def provided_fields(
    session: AsyncSession, membership: Membership, mobile_masked: str
) -> list[ProvidedField]:
    """Every field of the membership that the organisation set, in the order of the profile."""
    fields = [ProvidedField("name", membership.name), ProvidedField("mobile", mobile_masked)]
    for key in ("job_number", "title", "org_email", "office_phone", "work_place"):
        value = getattr(membership, key)
        if value:
            fields.append(ProvidedField(key, str(value)))
    if membership.hired_date:
        fields.append(ProvidedField("hired_date", membership.hired_date.isoformat()))
    departments = await _department_names(session, membership.id)
    if departments:
        fields.append(ProvidedField("departments", "、".join(departments)))
    if membership.manager_id:
        manager = await session.get(Membership, membership.manager_id)
        if manager is not None:
            fields.append(ProvidedField("manager", manager.name))
    roles = await _role_names(session, membership.id)
    if roles:
        fields.append(ProvidedField("roles", "、".join(roles)))
    if membership.avatar_key:
        fields.append(ProvidedField("avatar", ""))
    fields.extend(await _custom_fields(session, membership))
    minor = await session.execute(select(MinorRecord.id).where(MinorRecord.membership_id == membership.id))
    if minor.first() is not None:
        fields.append(ProvidedField("birth_date", ""))  # recorded; shown to admins, not repeated here
    return fields


async def _department_names(session: AsyncSession, membership_id: str) -> list[str]:
    result = await session.execute(
        select(Department.name, MemberDepartment.title)
        .join(MemberDepartment, MemberDepartment.department_id == Department.id)
        .where(MemberDepartment.membership_id == membership_id)
        .order_by(MemberDepartment.sort_order, Department.name)
    )
    return [f"{name}（{title}）" if title else name for name, title in result.all()]


async def _role_names(session: AsyncSession, membership_id: str) -> list[str]:
    result = await session.execute(
        select(Role.name)
        .join(MemberRoleLink, MemberRoleLink.role_id == Role.id)
        .where(MemberRoleLink.membership_id == membership_id)
        .order_by(Role.name)
    )
    return list(result.scalars())


async def _custom_fields(session: AsyncSession, membership: Membership) -> list[ProvidedField]:
    values = membership.custom_fields or {}
    if not values:
        return []
    result = await session.execute(
        select(CustomFieldDefinition)
        .where(CustomFieldDefinition.org_id == membership.org_id)
        .order_by(CustomFieldDefinition.sort_order, CustomFieldDefinition.key)
    )
    return [
        ProvidedField("custom", str(values[definition.key]), definition.label)
        for definition in result.scalars()
        if values.get(definition.key) not in (None, "")
    ]


async def mark_seen(session: AsyncSession, caller: Caller, membership_ids: Sequence[str]) -> None:
    """Records that the caller saw the notices of these memberships (only their own count)."""
    result = await session.execute(
        select(Membership.id, Membership.org_id).where(
            Membership.account_id == caller.account_id,
            Membership.id.in_(membership_ids),
            Membership.id.not_in(select(DataNotice.membership_id)),
        )
    )
    now = utcnow()
    session.add_all(
        DataNotice(org_id=org_id, membership_id=membership_id, seen_at=now)
        for membership_id, org_id in result.all()
    )
    await session.flush()
