"""Shared setup of the organisation admin API tests: a small organisation, clients for each kind
of actor (anonymous, member, sub-admins with one duty, scope or function, another organisation's
admin) and a full copy of the tables an admin request can change, to prove a refusal changed
nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from helpers import csrf_headers, login, login_admin, next_mobile
from zhengtong.core.context import AppContext
from zhengtong.directory.models import MemberSearchToken
from zhengtong.identity.models import Account
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import (
    AdminGrant,
    CustomFieldDefinition,
    Department,
    MemberDepartment,
    MemberRoleLink,
    Membership,
    Organization,
    Role,
    VisibilityRule,
)
from zhengtong.platform.audit import AuditEntry

API = "/api/v1/org"
MakeClient = Callable[..., httpx.AsyncClient]


@dataclass
class Org:
    id: str
    admin_mobile: str
    admin_account_id: str
    admin_id: str  # the main admin's membership
    root_id: str
    office_id: str  # 办公室
    section_id: str  # 综合科, in 办公室, with one member
    archive_id: str  # 档案组, in 综合科, empty
    finance_id: str  # 财务处
    clerk_mobile: str  # 李科员, seated in 综合科
    clerk_id: str
    admin_client: httpx.AsyncClient | None = None  # the main admin, once logged in


async def open_org(context: AppContext, name: str = "测试单位") -> Org:
    """root ─ 办公室 ─ 综合科 ─ 档案组, root ─ 财务处; the main admin at the root, 李科员 in 综合科."""
    admin_mobile, clerk_mobile = next_mobile(), next_mobile()
    async with context.db.transaction() as session:
        organization = await org_service.open_organization(
            session,
            context,
            name=name,
            admin_mobile=admin_mobile,
            admin_name="王主管",
            actor_id=None,
            ip="192.0.2.1",
        )
        admin = (
            await session.execute(select(Membership).where(Membership.org_id == organization.id))
        ).scalar_one()
        scope = AdminScope(organization.id, admin.id, True, (), frozenset())
        root = await org_service.root_department(session, organization.id)

        async def department(parent_id: str, department_name: str) -> str:
            created = await org_service.create_department(
                session,
                context,
                scope,
                parent_id=parent_id,
                name=department_name,
                actor_id=admin.account_id,
                ip="192.0.2.1",
            )
            return created.id

        office_id = await department(root.id, "办公室")
        section_id = await department(office_id, "综合科")
        archive_id = await department(section_id, "档案组")
        finance_id = await department(root.id, "财务处")
        clerk = await org_service.add_member(
            session,
            context,
            scope,
            mobile=clerk_mobile,
            profile=org_service.MemberProfile(name="李科员", seats=[org_service.Seat(section_id, "科员")]),
            actor_id=admin.account_id,
            ip="192.0.2.1",
        )
        return Org(
            organization.id,
            admin_mobile,
            admin.account_id,
            admin.id,
            root.id,
            office_id,
            section_id,
            archive_id,
            finance_id,
            clerk_mobile,
            clerk.id,
        )


async def main_admin(context: AppContext, make_client: MakeClient, org: Org) -> httpx.AsyncClient:
    """The main admin's client, logged in (TOTP enrolled) at the first call."""
    if org.admin_client is None:
        org.admin_client = make_client()
        await login_admin(org.admin_client, context, org.admin_mobile)
    return org.admin_client


async def sub_admin(
    context: AppContext, make_client: MakeClient, org: Org, grants: list[dict[str, Any]]
) -> httpx.AsyncClient:
    """A member (seated at the root) made a sub-admin by the main admin over the API, logged in."""
    mobile = next_mobile()
    admin = await main_admin(context, make_client, org)
    added = await admin.post(
        f"{API}/members", json={"mobile": mobile, "name": "赵管理"}, headers=csrf_headers(admin)
    )
    assert added.status_code == 201, added.text
    granted = await admin.put(
        f"{API}/members/{added.json()['id']}/admin", json={"grants": grants}, headers=csrf_headers(admin)
    )
    assert granted.status_code == 204, granted.text
    http = make_client()
    await login_admin(http, context, mobile)
    return http


# Who is refused a system-duty request (departments, members) about 综合科 or 档案组, both in
# 办公室, and with which answer.
REFUSED: dict[str, tuple[int, str]] = {
    "anonymous": (401, "auth.required"),
    "member": (403, "org.admin_required"),
    "security_admin": (403, "org.admin_required"),
    "audit_admin": (403, "org.admin_required"),
    "roles_only_admin": (403, "org.admin_required"),
    "finance_admin": (403, "org.admin_out_of_scope"),
    "other_org_admin": (404, "not_found"),
}


async def client_of(actor: str, context: AppContext, make_client: MakeClient, org: Org) -> httpx.AsyncClient:
    if actor == "anonymous":
        return make_client()
    if actor == "member":
        http = make_client()
        await login(http, context, org.clerk_mobile)
        return http
    if actor == "other_org_admin":
        return await main_admin(context, make_client, await open_org(context, "另一单位"))
    grants = {
        "security_admin": [{"duty": "security"}],
        "audit_admin": [{"duty": "audit"}],
        "roles_only_admin": [{"duty": "system", "functions": ["roles"]}],
        "finance_admin": [{"duty": "system", "department_ids": [org.finance_id]}],
        "office_admin": [{"duty": "system", "department_ids": [org.office_id]}],
        "system_admin": [{"duty": "system"}],
        "members_only_admin": [{"duty": "system", "functions": ["members"]}],
        "visibility_only_admin": [{"duty": "security", "functions": ["visibility"]}],
        "admins_only_admin": [{"duty": "security", "functions": ["admins"]}],
        "finance_security_admin": [{"duty": "security", "department_ids": [org.finance_id]}],
    }[actor]
    return await sub_admin(context, make_client, org, grants)


STATE_TABLES = (
    Organization,
    Department,
    Membership,
    MemberDepartment,
    AdminGrant,
    Role,
    MemberRoleLink,
    VisibilityRule,
    CustomFieldDefinition,
    MemberSearchToken,
    Account,
    AuditEntry,
)


async def database_state(context: AppContext) -> dict[str, list[str]]:
    """Every row of every table an admin request can change."""
    state = {}
    async with context.db.transaction() as session:
        for model in STATE_TABLES:
            rows = await session.execute(select(model.__table__))
            state[model.__tablename__] = sorted(repr(tuple(row)) for row in rows.all())
    return state


async def audit_actions(context: AppContext, org_id: str) -> list[str]:
    async with context.db.transaction() as session:
        rows = await session.execute(
            select(AuditEntry.action).where(AuditEntry.scope == org_id).order_by(AuditEntry.seq)
        )
        return list(rows.scalars())
