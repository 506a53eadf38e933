"""Who may see whom. Every API that returns a person (directory, search, pickers, later chat
member lists and the open API) builds a `Viewer` and filters through it, on the server.

- Visibility rules: members of a department (and below) see only themselves, their own
  departments, or their own plus listed departments; the deepest rule that applies wins.
- Hidden departments: invisible, with their members, except to admins and the whitelist.
- Admins see the whole directory; everyone always sees themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.org.access import current_membership
from zhengtong.org.models import (
    ADMIN_ROLES,
    Department,
    MemberDepartment,
    Membership,
    Organization,
    VisibilityMode,
    VisibilityRule,
)


@dataclass(frozen=True)
class Viewer:
    org_id: str
    membership_id: str
    account_id: str
    name: str
    is_admin: bool
    # Department subtrees whose members the viewer may see; None: no restriction.
    allowed_paths: tuple[str, ...] | None
    hidden_paths: tuple[str, ...]  # hidden subtrees the viewer is not whitelisted for
    hidden_fields: frozenset[str]
    watermark: bool

    def path_visible(self, path: str) -> bool:
        if self.is_admin:
            return True
        if any(path.startswith(hidden) for hidden in self.hidden_paths):
            return False
        return self.allowed_paths is None or any(path.startswith(allowed) for allowed in self.allowed_paths)


async def viewer_for(session: AsyncSession, caller: Caller) -> Viewer:
    membership = await current_membership(session, caller)
    organization = await session.get(Organization, membership.org_id)
    settings = (organization.settings if organization else None) or {}
    rows = await session.execute(
        select(Department.id, Department.path)
        .join(MemberDepartment, MemberDepartment.department_id == Department.id)
        .where(MemberDepartment.membership_id == membership.id)
    )
    seats = [(department_id, path) for department_id, path in rows.all()]
    own_paths = tuple(path for _id, path in seats)
    is_admin = membership.role in ADMIN_ROLES
    return Viewer(
        org_id=membership.org_id,
        membership_id=membership.id,
        account_id=membership.account_id,
        name=membership.name,
        is_admin=is_admin,
        allowed_paths=None if is_admin else await _allowed_paths(session, membership.org_id, own_paths),
        hidden_paths=() if is_admin else await _hidden_paths(session, membership, seats),
        hidden_fields=frozenset(() if is_admin else settings.get("hidden_fields", ())),
        watermark=bool(settings.get("watermark", False)),
    )


async def _allowed_paths(
    session: AsyncSession, org_id: str, own_paths: tuple[str, ...]
) -> tuple[str, ...] | None:
    rules = (
        await session.execute(
            select(VisibilityRule, Department.path)
            .join(Department, Department.id == VisibilityRule.department_id)
            .where(VisibilityRule.org_id == org_id)
        )
    ).all()
    applicable = [(path, rule) for rule, path in rules if any(own.startswith(path) for own in own_paths)]
    if not applicable:
        return None
    _path, rule = max(applicable, key=lambda item: len(item[0]))  # the deepest rule wins
    if rule.mode == VisibilityMode.SELF:
        return ()
    if rule.mode == VisibilityMode.OWN_DEPARTMENTS:
        return own_paths
    listed = await session.execute(
        select(Department.path).where(
            Department.org_id == org_id, Department.id.in_(rule.listed_department_ids)
        )
    )
    return own_paths + tuple(listed.scalars())


async def _hidden_paths(
    session: AsyncSession, membership: Membership, seats: list[tuple[str, str]]
) -> tuple[str, ...]:
    own_ids = {department_id for department_id, _path in seats}
    own_paths = [path for _id, path in seats]
    hidden = (
        await session.execute(
            select(Department).where(Department.org_id == membership.org_id, Department.hidden.is_(True))
        )
    ).scalars()
    paths = []
    for department in hidden:
        whitelist = department.hidden_whitelist or {}
        if membership.id in whitelist.get("members", ()):
            continue
        listed = set(whitelist.get("departments", ()))
        if own_ids & listed or any(own.startswith(department.path) for own in own_paths):
            continue  # whitelisted departments, and the hidden department's own members
        paths.append(department.path)
    return tuple(paths)


def visible_members_condition(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition on Membership: the viewer may see this member."""
    if viewer.is_admin:
        return true()
    seat_allowed: ColumnElement[bool] = (
        true()
        if viewer.allowed_paths is None
        else or_(false(), *(Department.path.startswith(path) for path in viewer.allowed_paths))
    )
    seat_hidden = or_(false(), *(Department.path.startswith(path) for path in viewer.hidden_paths))
    visible_seat = exists(
        select(MemberDepartment.id)
        .join(Department, Department.id == MemberDepartment.department_id)
        .where(MemberDepartment.membership_id == Membership.id, and_(seat_allowed, not_(seat_hidden)))
    )
    return or_(Membership.id == viewer.membership_id, visible_seat)
