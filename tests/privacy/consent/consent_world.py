"""Shared setup of the privacy.consent tests: organisations opened through the org service,
members opened by their admin, the platform operator, and logged-in clients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select, update

from helpers import csrf_headers, login, login_admin, next_mobile
from zhengtong.core.context import AppContext
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import Membership

API = "/api/v1"
IP = "192.0.2.1"
MakeClient = Callable[..., httpx.AsyncClient]


@dataclass
class World:
    """One organisation: its main admin, and members known by name."""

    context: AppContext
    make_client: MakeClient
    org_id: str
    scope: AdminScope
    admin_mobile: str
    admin_account_id: str
    members: dict[str, str] = field(default_factory=dict)  # name → membership id
    mobiles: dict[str, str] = field(default_factory=dict)  # name → mobile
    _admin_client: httpx.AsyncClient | None = None

    async def member(self, name: str, **profile: Any) -> str:
        """A member opened by the admin (not activated until they log in)."""
        mobile = profile.pop("mobile", None) or next_mobile()
        async with self.context.db.transaction() as session:
            membership = await org_service.add_member(
                session,
                self.context,
                self.scope,
                mobile=mobile,
                profile=org_service.MemberProfile(name=name, **profile),
                actor_id=self.admin_account_id,
                ip=IP,
            )
            self.members[name] = membership.id
            self.mobiles[name] = mobile
            return membership.id

    async def client_of(self, name: str) -> httpx.AsyncClient:
        http = self.make_client()
        await login(http, self.context, self.mobiles[name])
        return http

    async def admin(self) -> httpx.AsyncClient:
        if self._admin_client is None:
            self._admin_client = self.make_client()
            await login_admin(self._admin_client, self.context, self.admin_mobile)
        return self._admin_client


async def open_world(context: AppContext, make_client: MakeClient, name: str = "测试单位") -> World:
    admin_mobile = next_mobile()
    async with context.db.transaction() as session:
        organization = await org_service.open_organization(
            session,
            context,
            name=name,
            admin_mobile=admin_mobile,
            admin_name="王主管",
            actor_id=None,
            ip=IP,
        )
        admin = (
            await session.execute(select(Membership).where(Membership.org_id == organization.id))
        ).scalar_one()
        scope = AdminScope(organization.id, admin.id, True, (), frozenset())
        return World(context, make_client, organization.id, scope, admin_mobile, admin.account_id)


async def operator_client(context: AppContext, make_client: MakeClient) -> httpx.AsyncClient:
    """A logged-in account of the platform operator's staff (in no organisation)."""
    mobile = next_mobile()
    async with context.db.transaction() as session:
        account, _created = await identity.get_or_create_account(session, context.keyring, mobile)
        await session.execute(update(Account).where(Account.id == account.id).values(is_operator=True))
    http = make_client()
    await login(http, context, mobile)
    return http


async def publish(operator: httpx.AsyncClient, kind: str, note: str = "") -> int:
    """Publishes a version through the operator API; returns its number."""
    answer = await operator.post(
        f"{API}/operator/privacy/policy-versions",
        json={
            "kind": kind,
            "text_zh": f"隐私政策正文{note}",
            "text_en": f"Privacy policy text{note}",
            "summary_zh": f"变更说明{note}",
            "summary_en": f"What changed{note}",
        },
        headers=csrf_headers(operator),
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["version"])


async def count(context: AppContext, model: Any, *where: Any) -> int:
    async with context.db.transaction() as session:
        result = await session.execute(select(func.count()).select_from(model).where(*where))
        return int(result.scalar_one())
