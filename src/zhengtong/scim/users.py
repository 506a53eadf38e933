"""SCIM Users are the organisation's members; a user's id is the membership id.

Member field ← SCIM attribute:
- the account ← `userName`, the mobile number in E.164 (or `phoneNumbers[type eq "mobile"]` when
  userName is not one). It is the person's key across organisations, so it cannot change here.
- name ← `name.formatted`, else `displayName`, else `name.familyName` + `name.givenName`
- job number (工号) ← `externalId`, or the enterprise extension's `employeeNumber`
- title ← `title`; org e-mail ← `emails[type eq "work"]`; office phone ← `phoneNumbers[type eq "work"]`
- manager ← the enterprise extension's `manager.value`, a member id of the same organisation
- departments are read-only here (`groups`, the enterprise `department`): they change through
  Groups, whose members they are.

The organisation controls its members' data, so `active: false` ends the membership as DELETE
does (org.service.remove_member deletes the member's data); a later POST opens it again, not
activated until the person logs in. PUT replaces: what the body leaves out is cleared. PATCH is
applied to the current representation, which is then stored like a PUT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org import service as org_service
from zhengtong.org.access import get_member
from zhengtong.org.models import Department, MemberDepartment, Membership
from zhengtong.scim.errors import ScimError, ScimType, invalid_value
from zhengtong.scim.patch import AttributePath, apply_patch, parse_filter, same_value
from zhengtong.scim.schemas import (
    ENTERPRISE_USER_SCHEMA,
    PATCH_SCHEMA,
    USER_SCHEMA,
    EnterpriseUser,
    Name,
    PatchRequest,
    UserIn,
    parse_body,
)
from zhengtong.scim.service import Page, ScimClient, list_response, meta, record


async def list_users(
    session: AsyncSession, context: AppContext, client: ScimClient, *, filter_text: str | None, page: Page
) -> dict[str, Any]:
    """A page of the organisation's members in creation order, optionally filtered."""
    conditions = [Membership.org_id == client.org_id]
    if filter_text:
        conditions.append(await _filter_condition(session, context, filter_text))
    total = (
        await session.execute(select(func.count()).select_from(Membership).where(*conditions))
    ).scalar_one()
    rows = await session.execute(
        select(Membership).where(*conditions).order_by(Membership.id).offset(page.offset).limit(page.count)
    )
    return list_response(await _resources(session, context, client, rows.scalars().all()), total, page)


async def _filter_condition(session: AsyncSession, context: AppContext, text: str) -> ColumnElement[bool]:
    path, value = parse_filter(text)
    if not isinstance(value, str):
        raise ScimError(400, "Filter values are strings", ScimType.INVALID_FILTER)
    if _is(path, None, "userName"):
        account_id = await _account_id_of(session, context, value)
        return Membership.account_id == account_id if account_id else false()
    if _is(path, None, "externalId") or _is(path, ENTERPRISE_USER_SCHEMA, "employeeNumber"):
        return Membership.job_number == value
    if (path.schema, path.attribute, path.sub_attribute) == (None, "emails", "value") and _is_work(path):
        return func.lower(Membership.org_email) == value.lower()
    if _is(path, None, "displayName") or _is(path, None, "name", "formatted"):
        return Membership.name == value
    if _is(path, None, "id"):
        return Membership.id == value
    raise ScimError(
        400,
        "Users can be filtered by userName, externalId, employeeNumber, emails, displayName or id",
        ScimType.INVALID_FILTER,
    )


def _is(path: AttributePath, schema: str | None, attribute: str, sub_attribute: str | None = None) -> bool:
    named = (path.schema, path.attribute, path.sub_attribute) == (schema, attribute, sub_attribute)
    return named and path.value_filter is None


def _is_work(path: AttributePath) -> bool:
    flt = path.value_filter
    return flt is None or (flt.attribute == "type" and same_value(flt.value, "work"))


async def _account_id_of(session: AsyncSession, context: AppContext, user_name: str) -> str | None:
    try:
        e164 = identity.normalise_mobile(user_name)
    except AppError:
        return None  # not a mobile number: nobody has it as userName
    account = await identity.get_account_by_mobile(session, context.keyring, e164)
    return account.id if account else None


async def get_user(
    session: AsyncSession, context: AppContext, client: ScimClient, user_id: str
) -> dict[str, Any]:
    membership = await get_member(session, client.org_id, user_id)
    return (await _resources(session, context, client, [membership]))[0]


async def create_user(
    session: AsyncSession, context: AppContext, client: ScimClient, payload: Any
) -> dict[str, Any]:
    """Opens the member (and the account, when the mobile number has none), seated at the root
    department until Groups place them."""
    body = parse_body(UserIn, payload, USER_SCHEMA)
    if not body.active:
        raise invalid_value("A user is created active: an inactive user is no member")
    profile = await _profile(session, client, body, current=None)
    membership = await org_service.add_member(
        session, context, client.scope, mobile=_mobile(body), profile=profile, actor_id=None, ip=client.ip
    )
    await record(session, context, client, "scim.user_created", "member", membership.id)
    return (await _resources(session, context, client, [membership]))[0]


async def replace_user(
    session: AsyncSession, context: AppContext, client: ScimClient, user_id: str, payload: Any
) -> dict[str, Any]:
    membership = await get_member(session, client.org_id, user_id)
    body = parse_body(UserIn, payload, USER_SCHEMA)
    current = (await _resources(session, context, client, [membership]))[0]
    return await _store(session, context, client, membership, current, body, "scim.user_replaced")


async def patch_user(
    session: AsyncSession, context: AppContext, client: ScimClient, user_id: str, payload: Any
) -> dict[str, Any]:
    membership = await get_member(session, client.org_id, user_id)
    request = parse_body(PatchRequest, payload, PATCH_SCHEMA)
    current = (await _resources(session, context, client, [membership]))[0]
    body = parse_body(UserIn, apply_patch(current, request.operations), USER_SCHEMA)
    return await _store(session, context, client, membership, current, body, "scim.user_patched")


async def delete_user(session: AsyncSession, context: AppContext, client: ScimClient, user_id: str) -> None:
    membership = await get_member(session, client.org_id, user_id)
    await org_service.remove_member(session, context, client.scope, membership, actor_id=None, ip=client.ip)
    await record(session, context, client, "scim.user_deleted", "member", membership.id)


async def _store(
    session: AsyncSession,
    context: AppContext,
    client: ScimClient,
    membership: Membership,
    current: dict[str, Any],
    body: UserIn,
    action: str,
) -> dict[str, Any]:
    """Makes the member what `body` says (`current` is how SCIM sees them now); an inactive user
    stops being a member."""
    if _mobile(body) != current["userName"]:
        raise ScimError(
            400,
            "userName (the mobile number) cannot change; delete the user and create it again",
            ScimType.MUTABILITY,
        )
    if not body.active:
        await org_service.remove_member(
            session, context, client.scope, membership, actor_id=None, ip=client.ip
        )
        await record(session, context, client, "scim.user_deactivated", "member", membership.id)
        return {**current, "active": False}
    profile = await _profile(session, client, body, current=membership)
    if profile.manager_id is None:
        profile.manager_id = ""  # PUT replaces: no manager in the body clears it
    await org_service.update_member(
        session, context, client.scope, membership, profile, actor_id=None, ip=client.ip
    )
    await record(session, context, client, action, "member", membership.id)
    return (await _resources(session, context, client, [membership]))[0]


# From SCIM to the member --------------------------------------------------------------------
def _mobile(body: UserIn) -> str:
    """The account key: userName when it is a mobile number, else the mobile phone number."""
    mobiles = [phone.value for phone in body.phone_numbers if (phone.type or "").lower() == "mobile"]
    for candidate in [body.user_name, *mobiles]:
        if candidate:
            try:
                return identity.normalise_mobile(candidate)
            except AppError:
                continue
    raise invalid_value('userName must be a mobile number (or give phoneNumbers[type eq "mobile"])')


def _changed(current: str | None, *candidates: str | None) -> str | None:
    """The value of a field SCIM gives under several names. After a PATCH, or from a client that
    keeps only one of them up to date, the names can disagree: the one that differs from the
    stored value is the change."""
    given = [candidate for candidate in candidates if candidate]
    return next((candidate for candidate in given if candidate != current), current if given else None)


def _family_given(name: Name | None) -> str | None:
    if name is None or not (name.family_name or name.given_name):
        return None
    return f"{name.family_name or ''}{name.given_name or ''}"  # 张 + 三: no space in Chinese names


def _typed(values: Sequence[Any], wanted: str) -> str | None:
    """The value of the given type (or of no type) among a multi-valued attribute's values."""
    return next((v.value for v in values if (v.type or wanted).lower() == wanted), None)


async def _profile(
    session: AsyncSession, client: ScimClient, body: UserIn, *, current: Membership | None
) -> org_service.MemberProfile:
    name = _changed(
        current.name if current else None,
        body.name.formatted if body.name else None,
        body.display_name,
        _family_given(body.name),
    )
    if not name or len(name) > 100:
        raise invalid_value("name.formatted or displayName is required (at most 100 characters)")
    enterprise = body.enterprise or EnterpriseUser()
    manager_id = enterprise.manager.value if enterprise.manager else None
    if manager_id:
        await _check_manager(session, client, manager_id, current)
    job_number = _changed(
        current.job_number if current else None, body.external_id, enterprise.employee_number
    )
    return org_service.MemberProfile(
        name=name,
        job_number=job_number or "",  # "" clears it
        title=body.title or "",
        org_email=_typed(body.emails, "work") or "",
        office_phone=_typed(body.phone_numbers, "work") or "",
        manager_id=manager_id,
    )


async def _check_manager(
    session: AsyncSession, client: ScimClient, manager_id: str, current: Membership | None
) -> None:
    manager = await session.get(Membership, manager_id)
    if manager is None or manager.org_id != client.org_id:
        raise invalid_value(f"The manager {manager_id} is not a member of this organisation")
    if current is not None and manager.id == current.id:
        raise invalid_value("A member cannot be their own manager")


# From the member to SCIM --------------------------------------------------------------------
async def _resources(
    session: AsyncSession, context: AppContext, client: ScimClient, members: Sequence[Membership]
) -> list[dict[str, Any]]:
    """The SCIM representations of `members`, with a fixed number of queries for any number."""
    if not members:
        return []
    accounts = await session.execute(select(Account).where(Account.id.in_({m.account_id for m in members})))
    mobiles = {
        account.id: identity.decrypt_mobile(context.keyring, account) for account in accounts.scalars()
    }
    seats = await org_service.seats_of(session, [m.id for m in members])
    department_ids = {seat.department_id for member_seats in seats.values() for seat in member_seats}
    departments = await session.execute(
        select(Department.id, Department.name).where(Department.id.in_(department_ids))
    )
    managers = await session.execute(
        select(Membership.id, Membership.name).where(Membership.id.in_({m.manager_id for m in members}))
    )
    names = Names(
        {row.id: row.name for row in departments.all()}, {row.id: row.name for row in managers.all()}
    )
    return [_resource(client, m, mobiles[m.account_id], seats[m.id], names) for m in members]


@dataclass(frozen=True)
class Names:
    """Display names of the departments and managers that representations refer to, by id."""

    departments: dict[str, str]
    managers: dict[str, str]


def _resource(
    client: ScimClient, member: Membership, mobile: str, seats: list[MemberDepartment], names: Names
) -> dict[str, Any]:
    phones = [{"value": mobile, "type": "mobile"}]
    if member.office_phone:
        phones.append({"value": member.office_phone, "type": "work"})
    resource: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "id": member.id,
        "userName": mobile,
        "name": {"formatted": member.name},
        "displayName": member.name,
        "active": True,
        "phoneNumbers": phones,
        "groups": [
            {
                "value": seat.department_id,
                "display": names.departments.get(seat.department_id, ""),
                "$ref": client.location("Group", seat.department_id),
                "type": "direct",
            }
            for seat in seats
        ],
        "meta": meta(client, "User", member.id, member.created_at),
    }
    if member.job_number:
        resource["externalId"] = member.job_number
    if member.title:
        resource["title"] = member.title
    if member.org_email:
        resource["emails"] = [{"value": member.org_email, "type": "work", "primary": True}]
    enterprise = _enterprise(client, member, seats, names)
    if enterprise:
        resource["schemas"].append(ENTERPRISE_USER_SCHEMA)
        resource[ENTERPRISE_USER_SCHEMA] = enterprise
    return resource


def _enterprise(
    client: ScimClient, member: Membership, seats: list[MemberDepartment], names: Names
) -> dict[str, Any]:
    enterprise: dict[str, Any] = {}
    if member.job_number:
        enterprise["employeeNumber"] = member.job_number
    if seats:
        enterprise["department"] = names.departments.get(
            seats[0].department_id, ""
        )  # the first seat: the main one
    if member.manager_id:
        enterprise["manager"] = {
            "value": member.manager_id,
            "$ref": client.location("User", member.manager_id),
            "displayName": names.managers.get(member.manager_id, ""),
        }
    return enterprise
