"""SCIM Groups are departments; a group's members are the members seated in that department
itself (not in the departments below it). The group's id is the department id.

The tree: a department's parent is the extension attribute
`urn:zhengtong:scim:schemas:extension:department:1.0:Group` `parentId`; a new group without one
goes under the root department (the organisation itself, a group too). PUT or PATCH without it
leaves the department where it is.

Seats: members opened by SCIM sit at the root department until a group takes them in. Joining a
department takes a member out of the root; leaving their last department seats them at the root
again, since every member sits somewhere. A department is deleted only when it is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext
from zhengtong.org import service as org_service
from zhengtong.org.access import get_department
from zhengtong.org.models import Department, MemberDepartment, Membership
from zhengtong.scim.errors import ScimError, ScimType, invalid_value
from zhengtong.scim.patch import apply_patch, parse_filter
from zhengtong.scim.schemas import (
    DEPARTMENT_SCHEMA,
    GROUP_SCHEMA,
    PATCH_SCHEMA,
    GroupIn,
    PatchRequest,
    parse_body,
)
from zhengtong.scim.service import Page, ScimClient, list_response, meta, record


async def list_groups(
    session: AsyncSession, client: ScimClient, *, filter_text: str | None, page: Page, with_members: bool
) -> dict[str, Any]:
    """A page of the organisation's departments, root first, optionally filtered."""
    conditions = [Department.org_id == client.org_id]
    if filter_text:
        conditions.append(_filter_condition(filter_text))
    total = (
        await session.execute(select(func.count()).select_from(Department).where(*conditions))
    ).scalar_one()
    rows = await session.execute(
        select(Department).where(*conditions).order_by(Department.id).offset(page.offset).limit(page.count)
    )
    resources = await _resources(session, client, rows.scalars().all(), with_members=with_members)
    return list_response(resources, total, page)


def _filter_condition(text: str) -> ColumnElement[bool]:
    path, value = parse_filter(text)
    if path.schema is None and path.value_filter is None and path.sub_attribute is None:
        if path.attribute == "displayName" and isinstance(value, str):
            return Department.name == value
        if path.attribute == "id" and isinstance(value, str):
            return Department.id == value
    raise ScimError(400, "Groups can be filtered by displayName or id", ScimType.INVALID_FILTER)


async def get_group(
    session: AsyncSession, client: ScimClient, group_id: str, *, with_members: bool
) -> dict[str, Any]:
    department = await get_department(session, client.org_id, group_id)
    return (await _resources(session, client, [department], with_members=with_members))[0]


async def create_group(
    session: AsyncSession, context: AppContext, client: ScimClient, payload: Any
) -> dict[str, Any]:
    body = parse_body(GroupIn, payload, GROUP_SCHEMA)
    parent_id = _parent_id(body) or (await org_service.root_department(session, client.org_id)).id
    await _check_parent(session, client, parent_id)
    department = await org_service.create_department(
        session,
        context,
        client.scope,
        parent_id=parent_id,
        name=body.display_name,
        actor_id=None,
        ip=client.ip,
    )
    await _set_members(session, context, client, department, [member.value for member in body.members])
    await record(session, context, client, "scim.group_created", "department", department.id)
    return (await _resources(session, client, [department]))[0]


async def replace_group(
    session: AsyncSession, context: AppContext, client: ScimClient, group_id: str, payload: Any
) -> dict[str, Any]:
    department = await get_department(session, client.org_id, group_id)
    body = parse_body(GroupIn, payload, GROUP_SCHEMA)
    return await _store(session, context, client, department, body, "scim.group_replaced")


async def patch_group(
    session: AsyncSession, context: AppContext, client: ScimClient, group_id: str, payload: Any
) -> dict[str, Any]:
    department = await get_department(session, client.org_id, group_id)
    request = parse_body(PatchRequest, payload, PATCH_SCHEMA)
    current = (await _resources(session, client, [department]))[0]
    body = parse_body(GroupIn, apply_patch(current, request.operations), GROUP_SCHEMA)
    return await _store(session, context, client, department, body, "scim.group_patched")


async def delete_group(session: AsyncSession, context: AppContext, client: ScimClient, group_id: str) -> None:
    """Deletes an empty department; one with members or sub-departments stays (409)."""
    department = await get_department(session, client.org_id, group_id)
    await org_service.delete_department(
        session, context, client.scope, department, actor_id=None, ip=client.ip
    )
    await record(session, context, client, "scim.group_deleted", "department", department.id)


async def _store(
    session: AsyncSession,
    context: AppContext,
    client: ScimClient,
    department: Department,
    body: GroupIn,
    action: str,
) -> dict[str, Any]:
    parent_id = _parent_id(body)
    if parent_id is not None:
        await _check_parent(session, client, parent_id)
    moved = parent_id is not None and parent_id != department.parent_id
    if moved or body.display_name != department.name:
        changes = org_service.DepartmentChanges(name=body.display_name, parent_id=parent_id)
        await org_service.update_department(
            session, context, client.scope, department, changes, actor_id=None, ip=client.ip
        )
    await _set_members(session, context, client, department, [member.value for member in body.members])
    await record(session, context, client, action, "department", department.id)
    return (await _resources(session, client, [department]))[0]


def _parent_id(body: GroupIn) -> str | None:
    return body.department.parent_id if body.department else None


async def _check_parent(session: AsyncSession, client: ScimClient, parent_id: str) -> None:
    parent = await session.get(Department, parent_id)
    if parent is None or parent.org_id != client.org_id:
        raise invalid_value(f"The parent group {parent_id} is not a department of this organisation")


async def _set_members(
    session: AsyncSession, context: AppContext, client: ScimClient, department: Department, wanted: list[str]
) -> None:
    """Seats exactly the `wanted` members in `department`, through org.service so that each
    change is checked, indexed and audited like an admin's."""
    wanted_ids = set(wanted)
    known = await session.execute(
        select(Membership).where(Membership.org_id == client.org_id, Membership.id.in_(wanted_ids))
    )
    members = {membership.id: membership for membership in known.scalars()}
    unknown = wanted_ids - set(members)
    if unknown:
        raise invalid_value(f"Not members of this organisation: {', '.join(sorted(unknown))}")
    seated = await session.execute(
        select(MemberDepartment.membership_id).where(MemberDepartment.department_id == department.id)
    )
    current_ids = set(seated.scalars())
    joining, leaving = wanted_ids - current_ids, current_ids - wanted_ids
    if not joining and not leaving:
        return
    leavers = await session.execute(select(Membership).where(Membership.id.in_(leaving)))
    members.update({membership.id: membership for membership in leavers.scalars()})
    root = await org_service.root_department(session, client.org_id)
    seats = await org_service.seats_of(session, sorted(joining | leaving))
    for membership_id in sorted(joining | leaving):
        new_seats = _seats_after(
            seats[membership_id], department.id, root.id, joining=membership_id in joining
        )
        await org_service.update_member(
            session,
            context,
            client.scope,
            members[membership_id],
            org_service.MemberProfile(seats=new_seats),
            actor_id=None,
            ip=client.ip,
        )


def _seats_after(
    seats: list[MemberDepartment], department_id: str, root_id: str, *, joining: bool
) -> list[org_service.Seat]:
    """A member's seats after joining or leaving a department. A seat at the root means "no
    department yet", so joining gives it up; leaving the last department leaves no seat, and
    org.service then seats the member at the root."""
    kept = [
        org_service.Seat(seat.department_id, seat.title, seat.is_head)
        for seat in seats
        if seat.department_id != department_id
    ]
    if not joining:
        return kept
    return [seat for seat in kept if seat.department_id != root_id] + [org_service.Seat(department_id)]


async def _resources(
    session: AsyncSession, client: ScimClient, departments: Sequence[Department], *, with_members: bool = True
) -> list[dict[str, Any]]:
    members: dict[str, list[dict[str, Any]]] = {department.id: [] for department in departments}
    if with_members and departments:
        rows = await session.execute(
            select(MemberDepartment.department_id, Membership.id, Membership.name)
            .join(Membership, Membership.id == MemberDepartment.membership_id)
            .where(MemberDepartment.department_id.in_(members))
            .order_by(Membership.id)
        )
        for department_id, membership_id, name in rows.all():
            members[department_id].append(
                {
                    "value": membership_id,
                    "display": name,
                    "type": "User",
                    "$ref": client.location("User", membership_id),
                }
            )
    return [_resource(client, d, members[d.id] if with_members else None) for d in departments]


def _resource(
    client: ScimClient, department: Department, members: list[dict[str, Any]] | None
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": department.id,
        "displayName": department.name,
        "meta": meta(client, "Group", department.id, department.created_at),
    }
    if members is not None:
        resource["members"] = members
    if department.parent_id is not None:
        resource["schemas"].append(DEPARTMENT_SCHEMA)
        resource[DEPARTMENT_SCHEMA] = {"parentId": department.parent_id}
    return resource
