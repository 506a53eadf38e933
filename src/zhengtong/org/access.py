"""Who may administer what: `access_*` functions load an object and check the caller's right to
it in one step, raising before anything changes.

The main admin holds the system and security duties over the whole organisation. A sub-admin
holds the duties of their grants, each within department subtrees and chosen functions. The
audit duty only reads the audit log. A member of another organisation never gets past
`current_membership`: every lookup below is by (org_id, id).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.org import errors
from zhengtong.org.models import (
    AdminDuty,
    AdminGrant,
    Department,
    MemberDepartment,
    MemberRole,
    Membership,
)

# Functions a grant may be limited to, per duty.
SYSTEM_FUNCTIONS = ("members", "departments", "roles", "import_export", "apps", "work_notices")
SECURITY_FUNCTIONS = ("visibility", "admins", "scim")


_CURRENT_MEMBERSHIP = "zhengtong.current_membership"


def remember_current_membership(session: AsyncSession, membership: Membership) -> None:
    """Authentication loads the caller's membership; keeping it in the unit of work saves the
    handler a second query for it (the session's identity map alone holds objects weakly)."""
    session.info[_CURRENT_MEMBERSHIP] = membership


async def current_membership(session: AsyncSession, caller: Caller) -> Membership:
    """The caller's membership in their current organisation."""
    if caller.org_id is None:
        raise AppError(errors.NO_CURRENT_ORG)
    known = session.info.get(_CURRENT_MEMBERSHIP)
    if isinstance(known, Membership) and (known.org_id, known.account_id) == (
        caller.org_id,
        caller.account_id,
    ):
        return known
    result = await session.execute(
        select(Membership).where(
            Membership.org_id == caller.org_id, Membership.account_id == caller.account_id
        )
    )
    membership = result.scalars().first()
    if membership is None:
        raise AppError(errors.NOT_A_MEMBER)
    return membership


@dataclass(frozen=True)
class AdminScope:
    """Where an admin may act for one duty: the whole organisation, or the subtrees whose paths
    are listed."""

    org_id: str
    membership_id: str
    whole_org: bool
    subtree_paths: tuple[str, ...]
    functions: frozenset[str]  # empty: every function of the duty

    def covers_path(self, path: str) -> bool:
        return self.whole_org or any(path.startswith(prefix) for prefix in self.subtree_paths)

    def covers_department(self, department: Department) -> bool:
        return self.covers_path(department.path)

    def allows(self, function: str) -> bool:
        return not self.functions or function in self.functions


async def admin_scope(session: AsyncSession, caller: Caller, duty: AdminDuty, function: str) -> AdminScope:
    """The caller's scope for `duty` limited to `function`, or `org.admin_required`."""
    membership = await current_membership(session, caller)
    if membership.role == MemberRole.MAIN_ADMIN and duty in (AdminDuty.SYSTEM, AdminDuty.SECURITY):
        return AdminScope(membership.org_id, membership.id, True, (), frozenset())
    if membership.role != MemberRole.ADMIN:
        raise AppError(errors.NOT_AN_ADMIN)
    grant = (
        await session.execute(
            select(AdminGrant).where(AdminGrant.membership_id == membership.id, AdminGrant.duty == duty)
        )
    ).scalar_one_or_none()
    if grant is None or (grant.functions and function not in grant.functions):
        raise AppError(errors.NOT_AN_ADMIN)
    paths = await _paths_of(session, membership.org_id, grant.department_ids)
    return AdminScope(
        membership.org_id, membership.id, not grant.department_ids, paths, frozenset(grant.functions)
    )


async def _paths_of(session: AsyncSession, org_id: str, department_ids: Sequence[str]) -> tuple[str, ...]:
    if not department_ids:
        return ()
    result = await session.execute(
        select(Department.path).where(Department.org_id == org_id, Department.id.in_(department_ids))
    )
    return tuple(result.scalars())


async def access_department(session: AsyncSession, scope: AdminScope, department_id: str) -> Department:
    """A department of the admin's organisation inside their scope; `not_found` for another
    organisation's id, `org.admin_out_of_scope` for one of theirs outside the scope."""
    department = await get_department(session, scope.org_id, department_id)
    if not scope.covers_department(department):
        raise AppError(errors.OUT_OF_SCOPE)
    return department


async def get_department(session: AsyncSession, org_id: str, department_id: str) -> Department:
    department = await session.get(Department, department_id)
    if department is None or department.org_id != org_id:
        raise AppError(NOT_FOUND)
    return department


async def get_member(session: AsyncSession, org_id: str, membership_id: str) -> Membership:
    membership = await session.get(Membership, membership_id)
    if membership is None or membership.org_id != org_id:
        raise AppError(NOT_FOUND)
    return membership


async def department_paths_of_member(session: AsyncSession, membership_id: str) -> list[str]:
    result = await session.execute(
        select(Department.path)
        .join(MemberDepartment, MemberDepartment.department_id == Department.id)
        .where(MemberDepartment.membership_id == membership_id)
    )
    return list(result.scalars())


async def access_member(session: AsyncSession, scope: AdminScope, membership_id: str) -> Membership:
    """A member the admin may manage: in their organisation, seated in at least one department
    inside their scope (whole-organisation admins manage everyone)."""
    membership = await get_member(session, scope.org_id, membership_id)
    if not scope.whole_org:
        paths = await department_paths_of_member(session, membership.id)
        if not any(scope.covers_path(path) for path in paths):
            raise AppError(errors.OUT_OF_SCOPE)
    return membership


def require_paths_in_scope(scope: AdminScope, paths: Iterable[str]) -> None:
    if not all(scope.covers_path(path) for path in paths):
        raise AppError(errors.OUT_OF_SCOPE)
