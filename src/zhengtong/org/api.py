"""Organisation admin endpoints (the admin console's API) and the operator's endpoints.

Each handler first turns the caller into an `AdminScope` for the duty and function it needs
(org.access), so nothing is read or changed before the right is established."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.errors import AppError
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org import errors, schemas, service
from zhengtong.org.access import AdminScope, access_department, access_member, admin_scope, current_membership
from zhengtong.org.models import (
    AdminDuty,
    AdminGrant,
    CustomFieldDefinition,
    MemberRole,
    Membership,
    Organization,
    Role,
    VisibilityRule,
)
from zhengtong.platform import audit, hooks
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession

router = APIRouter(tags=["org"])


async def _system(session: AsyncSession, caller: Caller, function: str) -> AdminScope:
    return await admin_scope(session, caller, AdminDuty.SYSTEM, function)


async def _security(session: AsyncSession, caller: Caller, function: str) -> AdminScope:
    return await admin_scope(session, caller, AdminDuty.SECURITY, function)


@router.get("/org/admin-rights", response_model=schemas.AdminRightsRead)
async def my_admin_rights(caller: CurrentCaller, session: DbSession) -> schemas.AdminRightsRead:
    membership = await current_membership(session, caller)
    if membership.role == MemberRole.MAIN_ADMIN:
        grants = [schemas.GrantIn(duty="system"), schemas.GrantIn(duty="security")]
    else:
        rows = await session.execute(select(AdminGrant).where(AdminGrant.membership_id == membership.id))
        grants = [
            schemas.GrantIn(duty=g.duty, department_ids=g.department_ids, functions=g.functions)
            for g in rows.scalars()
        ]
    return schemas.AdminRightsRead(role=membership.role, grants=grants)


# Departments --------------------------------------------------------------------------------
@router.get("/org/departments", response_model=list[schemas.DepartmentRead])
async def list_departments(caller: CurrentCaller, session: DbSession) -> list[schemas.DepartmentRead]:
    scope = await _system(session, caller, "departments")
    departments = await service.list_departments(session, scope.org_id)
    return [schemas.DepartmentRead.model_validate(d) for d in departments]


@router.post("/org/departments", response_model=schemas.DepartmentRead, status_code=201)
async def create_department(
    body: schemas.DepartmentCreate, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.DepartmentRead:
    scope = await _system(session, caller, "departments")
    department = await service.create_department(
        session,
        context,
        scope,
        parent_id=body.parent_id,
        name=body.name,
        sort_order=body.sort_order,
        actor_id=caller.account_id,
        ip=ip,
    )
    if body.chat_group:
        await hooks.department_group_wanted(session, context, department, scope.membership_id)
    return schemas.DepartmentRead.model_validate(department)


@router.patch("/org/departments/{department_id}", response_model=schemas.DepartmentRead)
async def update_department(
    department_id: str,
    body: schemas.DepartmentUpdate,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.DepartmentRead:
    # Renaming, reordering and moving are the system duty's; hiding is the security duty's. Each
    # change asks for its own duty, and the department must lie in that duty's scope.
    hiding = body.hidden is not None or body.hidden_whitelist is not None
    structural = body.name is not None or body.sort_order is not None or body.parent_id is not None
    scopes = [await _system(session, caller, "departments")] if structural or not hiding else []
    if hiding:
        scopes.append(await _security(session, caller, "visibility"))
    for needed in scopes:
        department = await access_department(session, needed, department_id)
    scope = scopes[0]
    changes = service.DepartmentChanges(
        name=body.name,
        sort_order=body.sort_order,
        parent_id=body.parent_id,
        hidden=body.hidden,
        hidden_whitelist=body.hidden_whitelist.model_dump() if body.hidden_whitelist else None,
    )
    updated = await service.update_department(
        session, context, scope, department, changes, actor_id=caller.account_id, ip=ip
    )
    return schemas.DepartmentRead.model_validate(updated)


@router.delete("/org/departments/{department_id}", status_code=204)
async def delete_department(
    department_id: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> Response:
    scope = await _system(session, caller, "departments")
    department = await access_department(session, scope, department_id)
    await service.delete_department(session, context, scope, department, actor_id=caller.account_id, ip=ip)
    return Response(status_code=204)


# Members ------------------------------------------------------------------------------------
def _profile(body: schemas.MemberProfileFields, name: str | None) -> service.MemberProfile:
    return service.MemberProfile(
        name=name,
        job_number=body.job_number,
        title=body.title,
        org_email=body.org_email,
        office_phone=body.office_phone,
        work_place=body.work_place,
        hired_date=body.hired_date,
        manager_id=body.manager_id,
        hide_mobile=body.hide_mobile,
        executive=body.executive,
        custom_fields=body.custom_fields,
        seats=[service.Seat(s.department_id, s.title, s.is_head) for s in body.seats]
        if body.seats is not None
        else None,
    )


async def _member_reads(
    session: AsyncSession, context: Context, members: list[Membership]
) -> list[schemas.MemberAdminRead]:
    seats = await service.seats_of(session, [m.id for m in members])
    accounts = {
        account.id: account
        for account in (
            await session.execute(select(Account).where(Account.id.in_([m.account_id for m in members])))
        ).scalars()
    }
    return [
        schemas.MemberAdminRead(
            id=m.id,
            account_id=m.account_id,
            name=m.name,
            mobile_masked=identity.mask_mobile(
                identity.decrypt_mobile(context.keyring, accounts[m.account_id])
            ),
            role=m.role,
            status=m.status,
            job_number=m.job_number,
            title=m.title,
            org_email=m.org_email,
            office_phone=m.office_phone,
            work_place=m.work_place,
            hired_date=m.hired_date,
            manager_id=m.manager_id,
            hide_mobile=m.hide_mobile,
            executive=m.executive,
            custom_fields=m.custom_fields or {},
            seats=[schemas.SeatRead.model_validate(seat) for seat in seats[m.id]],
            created_at=m.created_at,
            activated_at=m.activated_at,
        )
        for m in members
    ]


@router.get("/org/members", response_model=schemas.MemberPage)
async def list_members(
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    department_id: str | None = None,
    status: str | None = Query(default=None, pattern="^(active|not_activated)$"),
    q: str | None = Query(default=None, max_length=64),
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=50, ge=1, le=200),
) -> schemas.MemberPage:
    scope = await _system(session, caller, "members")
    members, total = await service.list_members(
        session, scope, department_id=department_id, status=status, query=q, offset=offset, limit=limit
    )
    return schemas.MemberPage(total=total, items=await _member_reads(session, context, members))


@router.post("/org/members", response_model=schemas.MemberAdminRead, status_code=201)
async def add_member(
    body: schemas.MemberCreate, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.MemberAdminRead:
    scope = await _system(session, caller, "members")
    membership = await service.add_member(
        session,
        context,
        scope,
        mobile=body.mobile,
        profile=_profile(body, body.name),
        actor_id=caller.account_id,
        ip=ip,
    )
    return (await _member_reads(session, context, [membership]))[0]


@router.get("/org/members/{membership_id}", response_model=schemas.MemberAdminRead)
async def get_member(
    membership_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.MemberAdminRead:
    scope = await _system(session, caller, "members")
    membership = await access_member(session, scope, membership_id)
    return (await _member_reads(session, context, [membership]))[0]


@router.patch("/org/members/{membership_id}", response_model=schemas.MemberAdminRead)
async def update_member(
    membership_id: str,
    body: schemas.MemberUpdate,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.MemberAdminRead:
    scope = await _system(session, caller, "members")
    membership = await access_member(session, scope, membership_id)
    await service.update_member(
        session, context, scope, membership, _profile(body, body.name), actor_id=caller.account_id, ip=ip
    )
    return (await _member_reads(session, context, [membership]))[0]


@router.delete("/org/members/{membership_id}", status_code=204)
async def remove_member(
    membership_id: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> Response:
    scope = await _system(session, caller, "members")
    membership = await access_member(session, scope, membership_id)
    await service.remove_member(session, context, scope, membership, actor_id=caller.account_id, ip=ip)
    return Response(status_code=204)


@router.put("/org/members/{membership_id}/roles", status_code=204)
async def set_member_roles(
    membership_id: str, body: schemas.MemberRolesIn, caller: CurrentCaller, session: DbSession
) -> Response:
    scope = await _system(session, caller, "roles")
    membership = await access_member(session, scope, membership_id)
    await service.set_member_roles(session, scope, membership, body.role_ids)
    return Response(status_code=204)


# Roles --------------------------------------------------------------------------------------
@router.get("/org/roles", response_model=list[schemas.RoleRead])
async def list_roles(caller: CurrentCaller, session: DbSession) -> list[schemas.RoleRead]:
    scope = await _system(session, caller, "roles")
    roles = await session.execute(
        select(Role).where(Role.org_id == scope.org_id).order_by(Role.group_name, Role.name)
    )
    return [schemas.RoleRead.model_validate(role) for role in roles.scalars()]


@router.post("/org/roles", response_model=schemas.RoleRead, status_code=201)
async def create_role(
    body: schemas.RoleCreate, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.RoleRead:
    scope = await _system(session, caller, "roles")
    role = await service.create_role(
        session, context, scope, name=body.name, group_name=body.group_name, actor_id=caller.account_id, ip=ip
    )
    return schemas.RoleRead.model_validate(role)


# Admins -------------------------------------------------------------------------------------
@router.get("/org/admins", response_model=list[schemas.AdminRead])
async def list_admins(caller: CurrentCaller, session: DbSession) -> list[schemas.AdminRead]:
    scope = await _security(session, caller, "admins")
    admins = await session.execute(
        select(Membership).where(
            Membership.org_id == scope.org_id, Membership.role.in_(["main_admin", "admin"])
        )
    )
    grants = await session.execute(select(AdminGrant).where(AdminGrant.org_id == scope.org_id))
    by_member: dict[str, list[schemas.GrantIn]] = {}
    for grant in grants.scalars():
        by_member.setdefault(grant.membership_id, []).append(
            schemas.GrantIn(duty=grant.duty, department_ids=grant.department_ids, functions=grant.functions)
        )
    return [
        schemas.AdminRead(membership_id=m.id, name=m.name, role=m.role, grants=by_member.get(m.id, []))
        for m in admins.scalars()
    ]


@router.put("/org/members/{membership_id}/admin", status_code=204)
async def set_admin_grants(
    membership_id: str,
    body: schemas.AdminGrantsIn,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> Response:
    scope = await _security(session, caller, "admins")
    membership = await access_member(session, scope, membership_id)
    grants = [
        AdminGrant(duty=g.duty, department_ids=g.department_ids, functions=g.functions) for g in body.grants
    ]
    await service.set_admin_grants(
        session, context, scope, membership, grants, actor_id=caller.account_id, ip=ip
    )
    return Response(status_code=204)


# Visibility, settings, custom fields --------------------------------------------------------
@router.get("/org/visibility-rules", response_model=list[schemas.VisibilityRuleRead])
async def list_visibility_rules(
    caller: CurrentCaller, session: DbSession
) -> list[schemas.VisibilityRuleRead]:
    scope = await _security(session, caller, "visibility")
    rules = await session.execute(select(VisibilityRule).where(VisibilityRule.org_id == scope.org_id))
    return [schemas.VisibilityRuleRead.model_validate(rule) for rule in rules.scalars()]


@router.put("/org/visibility-rules/{department_id}", response_model=schemas.VisibilityRuleRead)
async def set_visibility_rule(
    department_id: str,
    body: schemas.VisibilityRuleIn,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.VisibilityRuleRead:
    scope = await _security(session, caller, "visibility")
    rule = await service.set_visibility_rule(
        session,
        context,
        scope,
        department_id=department_id,
        mode=body.mode,
        listed_department_ids=body.listed_department_ids,
        actor_id=caller.account_id,
        ip=ip,
    )
    return schemas.VisibilityRuleRead.model_validate(rule)


@router.delete("/org/visibility-rules/{department_id}", status_code=204)
async def delete_visibility_rule(
    department_id: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> Response:
    scope = await _security(session, caller, "visibility")
    await service.delete_visibility_rule(
        session, context, scope, department_id=department_id, actor_id=caller.account_id, ip=ip
    )
    return Response(status_code=204)


def _settings_read(organization: Organization) -> schemas.OrgSettingsRead:
    settings = organization.settings or {}
    return schemas.OrgSettingsRead(
        id=organization.id,
        name=organization.name,
        watermark=bool(settings.get("watermark", False)),
        hidden_fields=list(settings.get("hidden_fields", [])),
    )


@router.get("/org/settings", response_model=schemas.OrgSettingsRead)
async def get_settings(caller: CurrentCaller, session: DbSession) -> schemas.OrgSettingsRead:
    scope = await _security(session, caller, "visibility")
    organization = await session.get(Organization, scope.org_id)
    assert organization is not None
    return _settings_read(organization)


@router.patch("/org/settings", response_model=schemas.OrgSettingsRead)
async def update_settings(
    body: schemas.OrgSettingsIn, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.OrgSettingsRead:
    scope = await _security(session, caller, "visibility")
    changes = body.model_dump(exclude_none=True)
    organization = await service.update_settings(
        session, context, scope, changes=changes, actor_id=caller.account_id, ip=ip
    )
    return _settings_read(organization)


@router.get("/org/custom-fields", response_model=list[schemas.CustomFieldRead])
async def list_custom_fields(caller: CurrentCaller, session: DbSession) -> list[schemas.CustomFieldRead]:
    scope = await _system(session, caller, "members")
    rows = await session.execute(
        select(CustomFieldDefinition)
        .where(CustomFieldDefinition.org_id == scope.org_id)
        .order_by(CustomFieldDefinition.sort_order, CustomFieldDefinition.key)
    )
    return [schemas.CustomFieldRead.model_validate(row) for row in rows.scalars()]


@router.post("/org/custom-fields", response_model=schemas.CustomFieldRead, status_code=201)
async def define_custom_field(
    body: schemas.CustomFieldIn, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.CustomFieldRead:
    scope = await _system(session, caller, "members")
    definition = await service.define_custom_field(
        session, context, scope, key=body.key, label=body.label, actor_id=caller.account_id, ip=ip
    )
    return schemas.CustomFieldRead.model_validate(definition)


# Audit log: the audit admin's only window ---------------------------------------------------
@router.get("/org/audit-log", response_model=schemas.AuditPage)
async def read_audit_log(
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    before_seq: int | None = Query(default=None, ge=1),
    limit: int = Query(default=50, ge=1, le=200),
) -> schemas.AuditPage:
    scope = await admin_scope(session, caller, AdminDuty.AUDIT, "audit_log")
    report = await audit.verify(session, context.keyring, scope=scope.org_id)
    entries = await audit.list_entries(session, scope=scope.org_id, limit=limit, before_seq=before_seq)
    return schemas.AuditPage(
        chain_ok=report.ok,
        first_broken_seq=report.first_broken_seq,
        items=[schemas.AuditEntryRead.model_validate(entry) for entry in entries],
    )


# Operator -----------------------------------------------------------------------------------
async def _require_operator(session: AsyncSession, caller: Caller) -> None:
    account = await session.get(Account, caller.account_id)
    if account is None or not account.is_operator:
        raise AppError(errors.OPERATOR_REQUIRED)


@router.get("/operator/organizations", response_model=list[schemas.OrganizationRead], tags=["operator"])
async def list_organizations(caller: CurrentCaller, session: DbSession) -> list[schemas.OrganizationRead]:
    await _require_operator(session, caller)
    return [
        schemas.OrganizationRead(
            id=o.id, name=o.name, status=o.status, created_at=o.created_at, member_count=count
        )
        for o, count in await service.list_organizations(session)
    ]


@router.post(
    "/operator/organizations", response_model=schemas.OrganizationRead, status_code=201, tags=["operator"]
)
async def open_organization(
    body: schemas.OrganizationCreate,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.OrganizationRead:
    await _require_operator(session, caller)
    organization = await service.open_organization(
        session,
        context,
        name=body.name,
        admin_mobile=body.admin_mobile,
        admin_name=body.admin_name,
        actor_id=caller.account_id,
        ip=ip,
    )
    return schemas.OrganizationRead(
        id=organization.id,
        name=organization.name,
        status=organization.status,
        created_at=organization.created_at,
        member_count=1,
    )
