"""Shared setup of the SCIM tests: an organisation with a main admin and a SCIM token, request
bodies, and checks of what every SCIM answer must look like (RFC 7643/7644)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from helpers import next_mobile
from zhengtong.core.context import AppContext
from zhengtong.identity import service as identity
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import MemberDepartment, Membership
from zhengtong.platform.audit import AuditEntry
from zhengtong.scim import service as scim_service

BASE = "/scim/v2"
LOCATION_BASE = "http://testserver/scim/v2"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
DEPARTMENT = "urn:zhengtong:scim:schemas:extension:department:1.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@dataclass
class ScimOrg:
    id: str
    admin_mobile: str
    admin_account_id: str
    admin_id: str  # the main admin's membership
    root_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/scim+json"}


async def open_scim_org(context: AppContext, name: str = "测试单位") -> ScimOrg:
    """An organisation (its main admin at the root) with a SCIM token issued to it."""
    admin_mobile = next_mobile()
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
        root = await org_service.root_department(session, organization.id)
        scope = AdminScope(organization.id, admin.id, True, (), frozenset())
        _token, secret = await scim_service.create_token(
            session, context, scope, name="人事系统", actor_id=admin.account_id, ip="192.0.2.1"
        )
        return ScimOrg(organization.id, admin_mobile, admin.account_id, admin.id, root.id, secret)


def e164(mobile: str) -> str:
    return identity.normalise_mobile(mobile)


def user_body(mobile: str, name: str = "张三", **attributes: Any) -> dict[str, Any]:
    return {"schemas": [USER], "userName": e164(mobile), "name": {"formatted": name}, **attributes}


def patch_body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(operations)}


async def create_user(http: httpx.AsyncClient, org: ScimOrg, name: str = "张三", **attributes: Any) -> Any:
    answer = await http.post(
        f"{BASE}/Users", json=user_body(next_mobile(), name, **attributes), headers=org.headers
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def create_group(http: httpx.AsyncClient, org: ScimOrg, name: str, **attributes: Any) -> Any:
    body = {"schemas": [GROUP], "displayName": name, **attributes}
    answer = await http.post(f"{BASE}/Groups", json=body, headers=org.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def assert_resource(resource: dict[str, Any], resource_type: str) -> None:
    """The common attributes every resource carries (RFC 7643 §3.1)."""
    core = USER if resource_type == "User" else GROUP
    assert core in resource["schemas"]
    assert all(urn in resource for urn in resource["schemas"] if urn != core)  # extensions present
    assert isinstance(resource["id"], str) and resource["id"]
    assert resource["meta"]["resourceType"] == resource_type
    assert resource["meta"]["location"] == f"{LOCATION_BASE}/{resource_type}s/{resource['id']}"
    assert resource["meta"]["created"].endswith("+00:00")


def assert_scim_error(answer: httpx.Response, status: int, scim_type: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/scim+json"
    body = answer.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    assert body.get("scimType") == scim_type


async def audit_entries(context: AppContext, org_id: str) -> list[AuditEntry]:
    async with context.db.transaction() as session:
        rows = await session.execute(
            select(AuditEntry).where(AuditEntry.scope == org_id).order_by(AuditEntry.seq)
        )
        return list(rows.scalars().all())


async def seat_ids(context: AppContext, membership_id: str) -> set[str]:
    async with context.db.transaction() as session:
        rows = await session.execute(
            select(MemberDepartment.department_id).where(MemberDepartment.membership_id == membership_id)
        )
        return set(rows.scalars())


async def membership(context: AppContext, membership_id: str) -> Membership | None:
    async with context.db.transaction() as session:
        return await session.get(Membership, membership_id)
