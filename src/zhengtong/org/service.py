"""Organisations, departments, members, roles, admins and visibility settings.

Admin actions take an `AdminScope` (from org.access), so the check happens before the call and
the service only has to keep the scope's limits when it moves things (a member into a department,
a department under another). Services never commit; every change is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import Keyring
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.core.ids import new_id
from zhengtong.org import errors
from zhengtong.org.access import AdminScope, get_department, get_member, require_paths_in_scope
from zhengtong.org.models import (
    ADMIN_ROLES,
    AdminGrant,
    CustomFieldDefinition,
    Department,
    MemberDepartment,
    MemberRole,
    MemberRoleLink,
    Membership,
    MemberStatus,
    Organization,
    Role,
    VisibilityRule,
)
from zhengtong.platform import audit, hooks

# Organisations ------------------------------------------------------------------------------


async def create_organization(session: AsyncSession, keyring: Keyring, *, name: str) -> Organization:
    """A new tenant with its own data key (wrapped under the master key and the organisation's
    secret in the key store) and its root department."""
    org_id = new_id()
    organization = Organization(
        id=org_id, name=name, data_key_wrapped=keyring.new_org_key(org_id), settings={}
    )
    session.add(organization)
    await session.flush()  # the root department refers to it
    root_id = new_id()
    session.add(Department(id=root_id, org_id=org_id, parent_id=None, name=name, path=f"/{root_id}/"))
    await session.flush()
    return organization


async def get_organization_by_name(session: AsyncSession, name: str) -> Organization | None:
    result = await session.execute(select(Organization).where(Organization.name == name))
    return result.scalars().first()


async def root_department(session: AsyncSession, org_id: str) -> Department:
    result = await session.execute(
        select(Department).where(Department.org_id == org_id, Department.parent_id.is_(None))
    )
    return result.scalars().one()


async def open_organization(
    session: AsyncSession,
    context: AppContext,
    *,
    name: str,
    admin_mobile: str,
    admin_name: str,
    actor_id: str | None,
    ip: str,
) -> Organization:
    """The operator opens an organisation with its main admin (opened by mobile number)."""
    from zhengtong.identity import service as identity

    organization = await create_organization(session, context.keyring, name=name)
    account, _created = await identity.get_or_create_account(session, context.keyring, admin_mobile)
    membership = await add_membership(
        session, org_id=organization.id, account_id=account.id, name=admin_name, role=MemberRole.MAIN_ADMIN
    )
    root = await root_department(session, organization.id)
    session.add(MemberDepartment(org_id=organization.id, membership_id=membership.id, department_id=root.id))
    await session.flush()
    from zhengtong.directory import index

    await index.reindex_member(session, membership)
    await audit.record(
        session,
        context.keyring,
        action="org.created",
        actor_id=actor_id,
        object_type="organization",
        object_id=organization.id,
        ip=ip,
    )
    return organization


async def list_organizations(session: AsyncSession) -> list[tuple[Organization, int]]:
    """Every organisation with its member count (the operator's view: no names, no content)."""
    counts = select(Membership.org_id, func.count().label("members")).group_by(Membership.org_id).subquery()
    rows = await session.execute(
        select(Organization, func.coalesce(counts.c.members, 0))
        .outerjoin(counts, counts.c.org_id == Organization.id)
        .order_by(Organization.created_at)
    )
    return [(organization, int(members)) for organization, members in rows.all()]


# Memberships (the little that login needs) --------------------------------------------------


async def add_membership(
    session: AsyncSession, *, org_id: str, account_id: str, name: str, role: MemberRole = MemberRole.MEMBER
) -> Membership:
    membership = Membership(org_id=org_id, account_id=account_id, name=name, role=role, custom_fields={})
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


# Departments --------------------------------------------------------------------------------


async def _sibling_name_free(
    session: AsyncSession, org_id: str, parent_id: str, name: str, own_id: str
) -> None:
    clash = await session.execute(
        select(Department.id).where(
            Department.org_id == org_id,
            Department.parent_id == parent_id,
            Department.name == name,
            Department.id != own_id,
        )
    )
    if clash.first() is not None:
        raise AppError(errors.DEPARTMENT_NAME_TAKEN)


async def create_department(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    parent_id: str,
    name: str,
    sort_order: int = 0,
    actor_id: str | None,
    ip: str,
) -> Department:
    parent = await get_department(session, scope.org_id, parent_id)
    require_paths_in_scope(scope, [parent.path])
    department_id = new_id()
    await _sibling_name_free(session, scope.org_id, parent.id, name, department_id)
    department = Department(
        id=department_id,
        org_id=scope.org_id,
        parent_id=parent.id,
        name=name,
        path=f"{parent.path}{department_id}/",
        sort_order=sort_order,
        hidden_whitelist={},
    )
    session.add(department)
    await session.flush()
    await _audit(session, context, scope, "org.department_created", "department", department.id, actor_id, ip)
    return department


@dataclass(frozen=True)
class DepartmentChanges:
    name: str | None = None
    sort_order: int | None = None
    parent_id: str | None = None  # move under this department
    hidden: bool | None = None
    hidden_whitelist: dict[str, list[str]] | None = None


async def update_department(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    department: Department,
    changes: DepartmentChanges,
    *,
    actor_id: str | None,
    ip: str,
) -> Department:
    """Renames, reorders, moves (never under itself) or hides a department."""
    if changes.parent_id is not None and changes.parent_id != department.parent_id:
        await _move(session, scope, department, changes.parent_id)
    if changes.name is not None and changes.name != department.name:
        if department.parent_id is not None:
            await _sibling_name_free(session, scope.org_id, department.parent_id, changes.name, department.id)
        department.name = changes.name
    if changes.sort_order is not None:
        department.sort_order = changes.sort_order
    if changes.hidden is not None:
        department.hidden = changes.hidden
    if changes.hidden_whitelist is not None:
        department.hidden_whitelist = changes.hidden_whitelist
    await session.flush()
    if changes.parent_id is not None:
        await hooks.org_chart_changed(session, context, scope.org_id)  # ancestors' groups change
    changed = sorted(key for key, value in vars(changes).items() if value is not None)
    await _audit(
        session,
        context,
        scope,
        "org.department_updated",
        "department",
        department.id,
        actor_id,
        ip,
        {"fields": changed},
    )
    return department


async def _move(session: AsyncSession, scope: AdminScope, department: Department, new_parent_id: str) -> None:
    if department.parent_id is None:
        raise AppError(errors.ROOT_DEPARTMENT)
    new_parent = await get_department(session, scope.org_id, new_parent_id)
    if new_parent.path.startswith(department.path):
        raise AppError(errors.DEPARTMENT_CYCLE)
    require_paths_in_scope(scope, [new_parent.path])
    await _sibling_name_free(session, scope.org_id, new_parent.id, department.name, department.id)
    old_prefix = department.path
    new_prefix = f"{new_parent.path}{department.id}/"
    # Rewrite the paths of the whole subtree in one statement.
    await session.execute(
        update(Department)
        .where(Department.org_id == scope.org_id, Department.path.startswith(old_prefix))
        .values(path=func.replace(Department.path, old_prefix, new_prefix))
        .execution_options(synchronize_session=False)
    )
    await session.refresh(department)
    department.parent_id = new_parent.id


async def delete_department(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    department: Department,
    *,
    actor_id: str | None,
    ip: str,
) -> None:
    """Only an empty department goes: no sub-departments, no members."""
    if department.parent_id is None:
        raise AppError(errors.ROOT_DEPARTMENT)
    children = await session.execute(
        select(Department.id).where(Department.parent_id == department.id).limit(1)
    )
    seats = await session.execute(
        select(MemberDepartment.id).where(MemberDepartment.department_id == department.id).limit(1)
    )
    if children.first() is not None or seats.first() is not None:
        raise AppError(errors.DEPARTMENT_NOT_EMPTY)
    await session.execute(delete(VisibilityRule).where(VisibilityRule.department_id == department.id))
    await session.delete(department)
    await session.flush()
    await hooks.org_chart_changed(session, context, scope.org_id)  # its department group goes
    await _audit(session, context, scope, "org.department_deleted", "department", department.id, actor_id, ip)


async def list_departments(session: AsyncSession, org_id: str) -> Sequence[Department]:
    result = await session.execute(
        select(Department).where(Department.org_id == org_id).order_by(Department.sort_order, Department.name)
    )
    return result.scalars().all()


# Members ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    department_id: str
    title: str = ""
    is_head: bool = False


PROFILE_FIELDS = (
    "name",
    "job_number",
    "title",
    "org_email",
    "office_phone",
    "work_place",
    "hired_date",
    "manager_id",
    "hide_mobile",
    "executive",
    "custom_fields",
)


@dataclass
class MemberProfile:
    """The organisation-controlled profile; None leaves a field as it is on update."""

    name: str | None = None
    job_number: str | None = None
    title: str | None = None
    org_email: str | None = None
    office_phone: str | None = None
    work_place: str | None = None
    hired_date: date | None = None
    manager_id: str | None = None
    hide_mobile: bool | None = None
    executive: bool | None = None
    custom_fields: dict[str, Any] | None = None
    seats: list[Seat] | None = None  # None: keep; [] on create: the root department
    extra: dict[str, Any] = field(default_factory=dict)


async def _check_job_number(session: AsyncSession, org_id: str, job_number: str, own_id: str | None) -> None:
    clash = await session.execute(
        select(Membership.id).where(
            Membership.org_id == org_id, Membership.job_number == job_number, Membership.id != (own_id or "")
        )
    )
    if clash.first() is not None:
        raise AppError(errors.JOB_NUMBER_TAKEN)


async def _check_custom_fields(session: AsyncSession, org_id: str, values: dict[str, Any]) -> None:
    if not values:
        return
    defined = await session.execute(
        select(CustomFieldDefinition.key).where(CustomFieldDefinition.org_id == org_id)
    )
    unknown = set(values) - set(defined.scalars())
    if unknown:
        raise AppError(errors.UNKNOWN_CUSTOM_FIELD, {"fields": sorted(unknown)})


async def _apply_profile(
    session: AsyncSession, org_id: str, membership: Membership, profile: MemberProfile
) -> None:
    if profile.job_number:
        await _check_job_number(session, org_id, profile.job_number, membership.id)
    if profile.manager_id:
        await get_member(session, org_id, profile.manager_id)
    if profile.custom_fields is not None:
        await _check_custom_fields(session, org_id, profile.custom_fields)
    for name in PROFILE_FIELDS:
        value = getattr(profile, name)
        if value is None:
            continue
        if name in ("job_number", "manager_id") and value == "":
            value = None  # "" clears them (one is unique per organisation, the other a reference)
        setattr(membership, name, value)


async def _set_seats(
    session: AsyncSession, scope: AdminScope, membership: Membership, seats: list[Seat]
) -> None:
    if not seats:
        seats = [Seat((await root_department(session, scope.org_id)).id)]
    departments = [await get_department(session, scope.org_id, seat.department_id) for seat in seats]
    # A scoped admin changes only the seats inside their scope; any other seat stays exactly as it is.
    current = await session.execute(
        select(MemberDepartment, Department.path)
        .join(Department, Department.id == MemberDepartment.department_id)
        .where(MemberDepartment.membership_id == membership.id)
    )
    kept_outside = {
        (seat.department_id, seat.title, seat.is_head)
        for seat, path in current.all()
        if not scope.covers_path(path)
    }
    wanted_outside = {
        (seat.department_id, seat.title, seat.is_head)
        for seat, department in zip(seats, departments, strict=True)
        if not scope.covers_department(department)
    }
    if wanted_outside != kept_outside:
        raise AppError(errors.OUT_OF_SCOPE)
    await session.execute(delete(MemberDepartment).where(MemberDepartment.membership_id == membership.id))
    for order, seat in enumerate(seats):
        session.add(
            MemberDepartment(
                org_id=scope.org_id,
                membership_id=membership.id,
                department_id=seat.department_id,
                title=seat.title,
                is_head=seat.is_head,
                sort_order=order,
            )
        )
    await session.flush()


async def add_member(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    mobile: str,
    profile: MemberProfile,
    actor_id: str | None,
    ip: str,
) -> Membership:
    """Opens (or links) the account for `mobile` and makes it a not-yet-activated member."""
    from zhengtong.directory import index
    from zhengtong.identity import service as identity

    account, _created = await identity.get_or_create_account(session, context.keyring, mobile)
    if await get_membership(session, org_id=scope.org_id, account_id=account.id) is not None:
        raise AppError(errors.MEMBER_EXISTS)
    membership = Membership(
        org_id=scope.org_id, account_id=account.id, name=profile.name or "", custom_fields={}
    )
    session.add(membership)
    await session.flush()
    await _apply_profile(session, scope.org_id, membership, profile)
    await _set_seats(session, scope, membership, profile.seats or [])
    await index.reindex_member(session, membership)
    await hooks.org_chart_changed(session, context, scope.org_id, [membership.id])
    await _audit(session, context, scope, "org.member_added", "member", membership.id, actor_id, ip)
    return membership


async def update_member(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    membership: Membership,
    profile: MemberProfile,
    *,
    actor_id: str | None,
    ip: str,
) -> Membership:
    from zhengtong.directory import index

    await _apply_profile(session, scope.org_id, membership, profile)
    if profile.seats is not None:
        await _set_seats(session, scope, membership, profile.seats)
    await session.flush()
    await index.reindex_member(session, membership)
    if profile.seats is not None:
        await hooks.org_chart_changed(session, context, scope.org_id, [membership.id])
    changed = sorted(name for name in (*PROFILE_FIELDS, "seats") if getattr(profile, name) is not None)
    await _audit(
        session,
        context,
        scope,
        "org.member_updated",
        "member",
        membership.id,
        actor_id,
        ip,
        {"fields": changed},
    )
    return membership


async def remove_member(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    membership: Membership,
    *,
    actor_id: str | None,
    ip: str,
) -> None:
    """Ends the membership and deletes or anonymises the person's data in the organisation as the
    personal-data inventory says (privacy.erasure.service.erase_member, which runs the
    `member_leaving` hooks first); the account goes too when no organisation is left."""
    from zhengtong.privacy.erasure.service import erase_member

    if membership.role == MemberRole.MAIN_ADMIN:
        others = await session.execute(
            select(func.count()).where(
                Membership.org_id == scope.org_id,
                Membership.role == MemberRole.MAIN_ADMIN,
                Membership.id != membership.id,
            )
        )
        if others.scalar_one() == 0:
            raise AppError(errors.LAST_MAIN_ADMIN)
    membership_id = membership.id
    await erase_member(session, context, membership)
    await _audit(session, context, scope, "org.member_removed", "member", membership_id, actor_id, ip)


async def list_members(
    session: AsyncSession,
    scope: AdminScope,
    *,
    department_id: str | None,
    status: str | None,
    query: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Membership], int]:
    """Members an admin manages, filtered by department subtree, activation state and name."""
    conditions = [Membership.org_id == scope.org_id]
    subtree = await get_department(session, scope.org_id, department_id) if department_id else None
    seat_paths = [subtree.path] if subtree else list(scope.subtree_paths)
    if subtree is not None:
        require_paths_in_scope(scope, [subtree.path])
    if subtree is not None or not scope.whole_org:
        # No paths (a scoped admin whose departments were all deleted): nobody, not everybody.
        seated = (
            select(MemberDepartment.membership_id)
            .join(Department, Department.id == MemberDepartment.department_id)
            .where(or_(false(), *(Department.path.startswith(path) for path in seat_paths)))
        )
        conditions.append(Membership.id.in_(seated))
    if status:
        conditions.append(Membership.status == status)
    if query:
        from zhengtong.directory.index import normalise_query
        from zhengtong.directory.models import MemberSearchToken

        needle = normalise_query(query)
        matching = select(MemberSearchToken.membership_id).where(
            MemberSearchToken.org_id == scope.org_id,
            MemberSearchToken.token >= needle,
            MemberSearchToken.token < needle + "\uffff",
        )
        conditions.append(Membership.id.in_(matching))
    total = (
        await session.execute(select(func.count()).select_from(Membership).where(*conditions))
    ).scalar_one()
    rows = await session.execute(
        select(Membership)
        .where(*conditions)
        .order_by(Membership.name, Membership.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows.scalars().all()), int(total)


async def seats_of(session: AsyncSession, membership_ids: Sequence[str]) -> dict[str, list[MemberDepartment]]:
    rows = await session.execute(
        select(MemberDepartment)
        .where(MemberDepartment.membership_id.in_(membership_ids))
        .order_by(MemberDepartment.sort_order)
    )
    seats: dict[str, list[MemberDepartment]] = {membership_id: [] for membership_id in membership_ids}
    for seat in rows.scalars().all():
        seats[seat.membership_id].append(seat)
    return seats


# Roles, admins, visibility, settings --------------------------------------------------------


async def create_role(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    name: str,
    group_name: str,
    actor_id: str,
    ip: str,
) -> Role:
    clash = await session.execute(select(Role.id).where(Role.org_id == scope.org_id, Role.name == name))
    if clash.first() is not None:
        raise AppError(errors.ROLE_NAME_TAKEN)
    role = Role(org_id=scope.org_id, name=name, group_name=group_name)
    session.add(role)
    await session.flush()
    await _audit(session, context, scope, "org.role_created", "role", role.id, actor_id, ip)
    return role


async def set_member_roles(
    session: AsyncSession, scope: AdminScope, membership: Membership, role_ids: Sequence[str]
) -> None:
    known = await session.execute(select(Role.id).where(Role.org_id == scope.org_id, Role.id.in_(role_ids)))
    valid = set(known.scalars())
    if valid != set(role_ids):
        raise AppError(NOT_FOUND, {"role_ids": sorted(set(role_ids) - valid)})
    await session.execute(delete(MemberRoleLink).where(MemberRoleLink.membership_id == membership.id))
    for role_id in role_ids:
        session.add(MemberRoleLink(org_id=scope.org_id, membership_id=membership.id, role_id=role_id))


async def set_admin_grants(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    membership: Membership,
    grants: Sequence[AdminGrant],
    *,
    actor_id: str,
    ip: str,
) -> None:
    """Replaces a member's admin duty (none: back to an ordinary member). Only whole-organisation
    security admins (the main admin, usually) hand out duties, never to themselves, and one person
    holds one duty: system, security and audit stay with different people (三员分立)."""
    if not scope.whole_org:
        raise AppError(errors.OUT_OF_SCOPE)
    if membership.role == MemberRole.MAIN_ADMIN:
        raise AppError(errors.MAIN_ADMIN_FIXED)
    if membership.id == scope.membership_id:
        raise AppError(errors.CANNOT_GRANT_SELF)
    if len({grant.duty for grant in grants}) != len(grants) or len(grants) > 1:
        raise AppError(errors.DUTIES_SEPARATED)
    await session.execute(delete(AdminGrant).where(AdminGrant.membership_id == membership.id))
    for grant in grants:
        await _paths_exist(session, scope.org_id, grant.department_ids)
        grant.org_id = scope.org_id
        grant.membership_id = membership.id
        session.add(grant)
    membership.role = MemberRole.ADMIN if grants else MemberRole.MEMBER
    await session.flush()
    detail = {"duties": sorted(grant.duty for grant in grants)}
    await _audit(
        session, context, scope, "org.admin_grants_set", "member", membership.id, actor_id, ip, detail
    )


async def _paths_exist(session: AsyncSession, org_id: str, department_ids: Sequence[str]) -> None:
    for department_id in department_ids:
        await get_department(session, org_id, department_id)


async def set_visibility_rule(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    department_id: str,
    mode: str,
    listed_department_ids: Sequence[str],
    actor_id: str,
    ip: str,
) -> VisibilityRule:
    department = await get_department(session, scope.org_id, department_id)
    require_paths_in_scope(scope, [department.path])
    await _paths_exist(session, scope.org_id, listed_department_ids)
    existing = (
        await session.execute(
            select(VisibilityRule).where(
                VisibilityRule.org_id == scope.org_id, VisibilityRule.department_id == department_id
            )
        )
    ).scalar_one_or_none()
    rule = existing or VisibilityRule(org_id=scope.org_id, department_id=department_id)
    rule.mode = mode
    rule.listed_department_ids = list(listed_department_ids)
    session.add(rule)
    await session.flush()
    await _audit(
        session, context, scope, "org.visibility_rule_set", "department", department_id, actor_id, ip
    )
    return rule


async def delete_visibility_rule(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    department_id: str,
    actor_id: str,
    ip: str,
) -> None:
    department = await get_department(session, scope.org_id, department_id)
    require_paths_in_scope(scope, [department.path])
    await session.execute(
        delete(VisibilityRule).where(
            VisibilityRule.org_id == scope.org_id, VisibilityRule.department_id == department_id
        )
    )
    await _audit(
        session, context, scope, "org.visibility_rule_deleted", "department", department_id, actor_id, ip
    )


async def update_settings(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    changes: dict[str, Any],
    actor_id: str,
    ip: str,
) -> Organization:
    if not scope.whole_org:
        raise AppError(errors.OUT_OF_SCOPE)  # the settings hold for the whole organisation
    organization = await session.get(Organization, scope.org_id)
    assert organization is not None
    organization.settings = {**(organization.settings or {}), **changes}
    await session.flush()
    detail = {"fields": sorted(changes)}
    await _audit(
        session, context, scope, "org.settings_updated", "organization", scope.org_id, actor_id, ip, detail
    )
    return organization


async def define_custom_field(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    key: str,
    label: str,
    actor_id: str,
    ip: str,
) -> CustomFieldDefinition:
    clash = await session.execute(
        select(CustomFieldDefinition.id).where(
            CustomFieldDefinition.org_id == scope.org_id, CustomFieldDefinition.key == key
        )
    )
    if clash.first() is not None:
        raise AppError(errors.CUSTOM_FIELD_TAKEN)
    definition = CustomFieldDefinition(org_id=scope.org_id, key=key, label=label)
    session.add(definition)
    await session.flush()
    await _audit(
        session, context, scope, "org.custom_field_defined", "custom_field", definition.id, actor_id, ip
    )
    return definition


async def _audit(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    action: str,
    object_type: str,
    object_id: str,
    actor_id: str | None,
    ip: str,
    detail: dict[str, Any] | None = None,
) -> None:
    await audit.record(
        session,
        context.keyring,
        action=action,
        org_id=scope.org_id,
        actor_id=actor_id,
        object_type=object_type,
        object_id=object_id,
        ip=ip,
        detail=detail,
    )
