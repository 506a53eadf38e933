"""Who may see whom. Every API that returns a person (directory, search, pickers, later chat
member lists and the open API) builds a `Viewer` and filters through it, on the server.

- Visibility rules: members of a department (and below) see only themselves, their own
  departments, or their own plus listed departments; the deepest rule that applies wins.
- Hidden departments: invisible, with their members, except to admins and the whitelist.
- Admins see the whole directory; everyone always sees themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from zhengtong.core.caller import Caller
from zhengtong.org.access import current_membership
from zhengtong.org.models import (
    AdminDuty,
    AdminGrant,
    Department,
    MemberDepartment,
    MemberRole,
    Membership,
    Organization,
    VisibilityMode,
    VisibilityRule,
)


@dataclass(frozen=True)
class Actor:
    """A member acting in their organisation, without what they may see of the directory: enough
    for calls that never show a person the caller picks or browses (chat messages, read marks),
    at one query instead of the four visibility needs."""

    org_id: str
    membership_id: str
    account_id: str
    name: str


@dataclass(frozen=True)
class Viewer(Actor):
    is_admin: bool
    own_paths: tuple[str, ...]  # the viewer's own departments
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


def _actor_of(membership: Membership) -> Actor:
    return Actor(
        org_id=membership.org_id,
        membership_id=membership.id,
        account_id=membership.account_id,
        name=membership.name,
    )


async def actor_for(session: AsyncSession, caller: Caller) -> Actor:
    return _actor_of(await current_membership(session, caller))


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
    is_admin = await _sees_whole_directory(session, membership)
    return Viewer(
        **asdict(_actor_of(membership)),
        is_admin=is_admin,
        own_paths=own_paths,
        allowed_paths=None if is_admin else await _allowed_paths(session, membership.org_id, own_paths),
        hidden_paths=() if is_admin else await _hidden_paths(session, membership, seats),
        hidden_fields=frozenset(() if is_admin else settings.get("hidden_fields", ())),
        watermark=bool(settings.get("watermark", False)),
    )


async def _sees_whole_directory(session: AsyncSession, membership: Membership) -> bool:
    """The main admin and admins holding the system duty (who manage members) see everyone;
    security- and audit-only admins see the directory like any member."""
    if membership.role == MemberRole.MAIN_ADMIN:
        return True
    if membership.role != MemberRole.ADMIN:
        return False
    grant = await session.execute(
        select(AdminGrant.id).where(
            AdminGrant.membership_id == membership.id, AdminGrant.duty == AdminDuty.SYSTEM
        )
    )
    return grant.first() is not None


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


# A member's seat, apart from any member_departments of the enclosing query. One alias for every
# query, so that SQLAlchemy's statement cache recognises the statements it has compiled.
_SEAT = aliased(MemberDepartment, name="visible_seat")


def visible_members_condition(
    viewer: Viewer, member_id: ColumnElement[str] | InstrumentedAttribute[str] = Membership.id
) -> ColumnElement[bool]:
    """SQL condition on a membership id (Membership.id unless given): the viewer may see this member."""
    if viewer.is_admin or (viewer.allowed_paths is None and not viewer.hidden_paths):
        return true()
    # The seat's department path, looked up by primary key for each seat. (As a join, PostgreSQL
    # chose to scan all departments for every candidate member: 100 ms for a one-character search.)
    seat = _SEAT
    seat_path = (
        select(Department.path)
        .where(Department.id == seat.department_id)
        .correlate_except(Department)
        .scalar_subquery()
    )
    seat_allowed: ColumnElement[bool] = (
        true()
        if viewer.allowed_paths is None
        else or_(false(), *(seat_path.startswith(path) for path in viewer.allowed_paths))
    )
    seat_hidden = or_(false(), *(seat_path.startswith(path) for path in viewer.hidden_paths))
    visible_seat = exists(
        select(seat.id)
        .where(seat.membership_id == member_id, and_(seat_allowed, not_(seat_hidden)))
        .correlate_except(seat)
    )
    return or_(member_id == viewer.membership_id, visible_seat)
