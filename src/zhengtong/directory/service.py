"""Reading the address book: the department tree with member counts, a department's members,
a member's card, search by name, pinyin, initials, job number and title. Everything passes
through the viewer's visibility (directory.visibility)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.directory.index import RANK_JOB_NUMBER, normalise_query
from zhengtong.directory.models import MemberSearchToken
from zhengtong.directory.visibility import Viewer, visible_members_condition
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org.models import Department, MemberDepartment, Membership
from zhengtong.platform import audit

SEARCH_LIMIT = 30


class TreeDepartment(NamedTuple):
    """The columns of a department the tree needs (ORM objects for 2,000 departments cost more
    than the queries)."""

    id: str
    parent_id: str | None
    name: str
    sort_order: int
    path: str


@dataclass(frozen=True)
class DepartmentNode:
    department: TreeDepartment
    member_count: int  # visible members in the subtree (a member with two seats counts twice)


async def department_tree(session: AsyncSession, viewer: Viewer) -> list[DepartmentNode]:
    """Departments the viewer may browse: the visible ones and their ancestors (so the tree can
    be walked down to them), each with its count of visible members in the subtree."""
    rows = await session.execute(
        select(Department.id, Department.parent_id, Department.name, Department.sort_order, Department.path)
        .where(Department.org_id == viewer.org_id)
        .order_by(Department.sort_order, Department.name)
    )
    departments = [TreeDepartment(*row) for row in rows.all()]
    direct = await _direct_counts(session, viewer)
    by_id = {department.id: department for department in departments}
    subtree: dict[str, int] = defaultdict(int)
    for department_id, count in direct.items():
        department = by_id.get(department_id)
        # A visible member's seat in a department the viewer may not see (hidden, or outside
        # their rule) is not theirs to count: it would betray that seat through the ancestors.
        if department is None or not viewer.path_visible(department.path):
            continue
        for ancestor_id in department.path.strip("/").split("/"):
            subtree[ancestor_id] += count
    browsable = _browsable_ids(viewer, departments)
    return [DepartmentNode(d, subtree.get(d.id, 0)) for d in departments if d.id in browsable]


def _browsable_ids(viewer: Viewer, departments: Sequence[TreeDepartment]) -> set[str]:
    """Visible departments and the viewer's own, plus their ancestors (so the tree can be walked
    down to them), minus whatever lies under a department hidden from the viewer."""
    browsable: set[str] = set()
    for path in viewer.own_paths:
        browsable.update(path.strip("/").split("/"))
    for department in departments:
        if viewer.path_visible(department.path):
            browsable.update(department.path.strip("/").split("/"))
    return {
        d.id
        for d in departments
        if d.id in browsable and not any(d.path.startswith(hidden) for hidden in viewer.hidden_paths)
    }


async def _direct_counts(session: AsyncSession, viewer: Viewer) -> dict[str, int]:
    """Seats per department. Only the departments the viewer may see are counted (the caller
    checks), and everyone seated in one of those is visible: no per-member condition is needed."""
    result = await session.execute(
        select(MemberDepartment.department_id, func.count())
        .where(MemberDepartment.org_id == viewer.org_id)
        .group_by(MemberDepartment.department_id)
    )
    return {department_id: int(count) for department_id, count in result.all()}


@dataclass(frozen=True)
class MemberSummary:
    membership: Membership
    title: str  # the title held in the department being listed, else the member's main title
    is_head: bool
    departments: tuple[str, ...] = ()  # in search results: the departments the viewer may see


async def department_members(
    session: AsyncSession, viewer: Viewer, department_id: str, *, offset: int, limit: int
) -> tuple[list[MemberSummary], int]:
    """Direct members of a department visible to the viewer, heads first, then by name."""
    department = await session.get(Department, department_id)
    if (
        department is None
        or department.org_id != viewer.org_id
        or not _department_reachable(viewer, department)
    ):
        raise AppError(NOT_FOUND)
    # Everyone seated in a department the viewer may see is visible. In one outside the viewer's
    # rule (an ancestor on the way to theirs, say) only the viewer themself is listed: others'
    # seats there are not visible, even when the people are.
    condition = (
        MemberDepartment.department_id == department_id,
        MemberDepartment.org_id == viewer.org_id,
        true()
        if viewer.path_visible(department.path)
        else MemberDepartment.membership_id == viewer.membership_id,
    )
    total = (
        await session.execute(select(func.count()).select_from(MemberDepartment).where(*condition))
    ).scalar_one()
    rows = await session.execute(
        select(Membership, MemberDepartment.title, MemberDepartment.is_head)
        .join(MemberDepartment, MemberDepartment.membership_id == Membership.id)
        .where(*condition)
        .order_by(MemberDepartment.is_head.desc(), Membership.name, Membership.id)
        .offset(offset)
        .limit(limit)
    )
    members = [MemberSummary(m, title or m.title, bool(head)) for m, title, head in rows.all()]
    return members, int(total)


def _department_reachable(viewer: Viewer, department: Department) -> bool:
    return viewer.is_admin or not any(department.path.startswith(hidden) for hidden in viewer.hidden_paths)


async def access_visible_member(session: AsyncSession, viewer: Viewer, membership_id: str) -> Membership:
    """A member the viewer may see; `not_found` otherwise, so ids cannot be probed."""
    result = await session.execute(
        select(Membership).where(
            Membership.id == membership_id,
            Membership.org_id == viewer.org_id,
            visible_members_condition(viewer),
        )
    )
    membership = result.scalars().first()
    if membership is None:
        raise AppError(NOT_FOUND)
    return membership


@dataclass(frozen=True)
class Seat:
    department_id: str
    department_name: str
    title: str
    is_head: bool


@dataclass(frozen=True)
class MemberCard:
    membership: Membership
    mobile_masked: str | None  # None when the member hides it from this viewer
    can_reveal_mobile: bool
    seats: list[Seat]
    manager_name: str | None
    fields: dict[str, Any]  # the profile fields the viewer may see


CARD_FIELDS = (
    "job_number",
    "title",
    "org_email",
    "office_phone",
    "work_place",
    "hired_date",
    "custom_fields",
)


def mobile_hidden_from(viewer: Viewer, membership: Membership) -> bool:
    if viewer.membership_id == membership.id or viewer.is_admin:
        return False
    return membership.hide_mobile or membership.executive or "mobile" in viewer.hidden_fields


async def member_card(
    session: AsyncSession, context: AppContext, viewer: Viewer, membership_id: str
) -> MemberCard:
    membership = await access_visible_member(session, viewer, membership_id)
    account = await session.get(Account, membership.account_id)
    assert account is not None
    hidden = mobile_hidden_from(viewer, membership)
    mobile = None if hidden else identity.mask_mobile(identity.decrypt_mobile(context.keyring, account))
    seats = await _seats(session, viewer, membership.id)
    manager = await _visible_manager(session, viewer, membership)
    is_self = viewer.membership_id == membership.id
    fields = {
        name: getattr(membership, name) for name in CARD_FIELDS if is_self or name not in viewer.hidden_fields
    }
    return MemberCard(
        membership=membership,
        mobile_masked=mobile,
        can_reveal_mobile=not hidden,
        seats=seats,
        manager_name=manager.name if manager else None,
        fields=fields,
    )


async def _visible_manager(
    session: AsyncSession, viewer: Viewer, membership: Membership
) -> Membership | None:
    """The member's manager, when the viewer may see them; else nothing (not even the name)."""
    if membership.manager_id is None:
        return None
    try:
        return await access_visible_member(session, viewer, membership.manager_id)
    except AppError:
        return None


async def _seats(session: AsyncSession, viewer: Viewer, membership_id: str) -> list[Seat]:
    rows = await session.execute(
        select(MemberDepartment, Department)
        .join(Department, Department.id == MemberDepartment.department_id)
        .where(MemberDepartment.membership_id == membership_id)
        .order_by(MemberDepartment.sort_order)
    )
    return [
        Seat(department.id, department.name, seat.title, seat.is_head)
        for seat, department in rows.all()
        if viewer.path_visible(department.path) or viewer.membership_id == membership_id
    ]


async def reveal_mobile(
    session: AsyncSession, context: AppContext, viewer: Viewer, membership_id: str, *, ip: str
) -> str:
    """The full mobile number, for a viewer allowed to see it; each reveal is audited."""
    membership = await access_visible_member(session, viewer, membership_id)
    if mobile_hidden_from(viewer, membership):
        raise AppError(NOT_FOUND)
    account = await session.get(Account, membership.account_id)
    assert account is not None
    await audit.record(
        session,
        context.keyring,
        action="directory.mobile_viewed",
        org_id=viewer.org_id,
        actor_id=viewer.account_id,
        object_type="member",
        object_id=membership.id,
        ip=ip,
    )
    return identity.decrypt_mobile(context.keyring, account)


@dataclass(frozen=True)
class SearchResult:
    members: list[MemberSummary]
    departments: list[Department]


async def search(
    session: AsyncSession, viewer: Viewer, query: str, *, limit: int = SEARCH_LIMIT
) -> SearchResult:
    """Members whose name, pinyin, initials, job number or title starts with the query (names
    also match from any character), best matches first; and departments by name."""
    needle = normalise_query(query)
    if not needle:
        return SearchResult([], [])
    upper = needle + "\uffff"
    best = (
        select(MemberSearchToken.membership_id, func.min(MemberSearchToken.rank).label("rank"))
        .where(
            MemberSearchToken.org_id == viewer.org_id,
            MemberSearchToken.token >= needle,
            MemberSearchToken.token < upper,
            *_hidden_token_ranks(viewer),
        )
        .group_by(MemberSearchToken.membership_id)
        .subquery()
    )
    # Each candidate's name by primary key (a scalar subquery): as a join, PostgreSQL hashed every
    # membership of the organisation for a common character (20-40 ms instead of under 10).
    name = (
        select(Membership.name)
        .where(Membership.id == best.c.membership_id)
        .correlate_except(Membership)
        .scalar_subquery()
    )
    ranked = (
        select(best.c.membership_id, best.c.rank, name.label("name"))
        .where(visible_members_condition(viewer, member_id=best.c.membership_id))
        .subquery()
    )
    order = (ranked.c.rank, func.length(ranked.c.name), ranked.c.name, ranked.c.membership_id)
    top = select(ranked).order_by(*order).limit(limit).subquery()
    rows = await session.execute(
        select(Membership)
        .join(top, top.c.membership_id == Membership.id)
        .order_by(top.c.rank, func.length(top.c.name), top.c.name, top.c.membership_id)
    )
    found = list(rows.scalars().all())
    seats = await _visible_department_names(session, viewer, [m.id for m in found])
    members = [MemberSummary(m, m.title, False, seats.get(m.id, ())) for m in found]
    departments = await _search_departments(session, viewer, query.strip(), limit)
    return SearchResult(members, departments)


async def _visible_department_names(
    session: AsyncSession, viewer: Viewer, membership_ids: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """Each member's departments that the viewer may see, in the member's own order."""
    rows = await session.execute(
        select(MemberDepartment.membership_id, Department.name, Department.path)
        .join(Department, Department.id == MemberDepartment.department_id)
        .where(MemberDepartment.membership_id.in_(membership_ids))
        .order_by(MemberDepartment.sort_order)
    )
    names: dict[str, list[str]] = defaultdict(list)
    for membership_id, name, path in rows.all():
        if viewer.path_visible(path) or membership_id == viewer.membership_id:
            names[membership_id].append(name)
    return {membership_id: tuple(found) for membership_id, found in names.items()}


def _hidden_token_ranks(viewer: Viewer) -> list[ColumnElement[bool]]:
    """A hidden job-number field must not be found (and so confirmed) through search."""
    if "job_number" in viewer.hidden_fields:
        return [MemberSearchToken.rank != RANK_JOB_NUMBER]
    return []


async def _search_departments(
    session: AsyncSession, viewer: Viewer, query: str, limit: int
) -> list[Department]:
    if not query:
        return []
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await session.execute(
        select(Department)
        .where(Department.org_id == viewer.org_id, Department.name.like(f"%{escaped}%", escape="\\"))
        .order_by(func.length(Department.name), Department.name)
        .limit(limit)
    )
    return [
        d for d in rows.scalars().all() if viewer.path_visible(d.path) or _is_ancestor_visible(viewer, d)
    ][:limit]


def _is_ancestor_visible(viewer: Viewer, department: Department) -> bool:
    return viewer.allowed_paths is not None and any(
        p.startswith(department.path) for p in viewer.allowed_paths
    )
