"""Shared setup of the address book tests: an organisation built through the org service
(departments, members with seats, visibility rules, hidden departments, settings), whose people
log in over the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select

from helpers import login, login_admin, next_mobile
from zhengtong.core.context import AppContext
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import Membership
from zhengtong.platform.audit import AuditEntry

ADMIN_NAME = "王主管"
IP = "192.0.2.1"

# A seat: a department name, or (department name, title, is_head).
SeatSpec = str | tuple[str, str, bool]


@dataclass
class DirectoryOrg:
    """An organisation under construction. Departments and members are known by name."""

    context: AppContext
    make_client: Callable[..., httpx.AsyncClient]
    id: str
    name: str
    scope: AdminScope
    admin_account_id: str
    departments: dict[str, str] = field(default_factory=dict)  # name → id
    members: dict[str, str] = field(default_factory=dict)  # name → membership id
    mobiles: dict[str, str] = field(default_factory=dict)  # name → mobile
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    @property
    def root_id(self) -> str:
        return self.departments[self.name]

    async def department(self, name: str, parent: str | None = None, sort_order: int = 0) -> str:
        async with self.context.db.transaction() as session:
            created = await org_service.create_department(
                session,
                self.context,
                self.scope,
                parent_id=self.departments[parent or self.name],
                name=name,
                sort_order=sort_order,
                actor_id=self.admin_account_id,
                ip=IP,
            )
            self.departments[name] = created.id
            return created.id

    async def member(self, name: str, seats: Sequence[SeatSpec] = (), **profile: Any) -> str:
        mobile = profile.pop("mobile", None) or next_mobile()
        seat_list = [
            org_service.Seat(self.departments[seat])
            if isinstance(seat, str)
            else org_service.Seat(self.departments[seat[0]], seat[1], seat[2])
            for seat in seats
        ]
        async with self.context.db.transaction() as session:
            membership = await org_service.add_member(
                session,
                self.context,
                self.scope,
                mobile=mobile,
                profile=org_service.MemberProfile(name=name, seats=seat_list, **profile),
                actor_id=self.admin_account_id,
                ip=IP,
            )
            self.members[name] = membership.id
            self.mobiles[name] = mobile
            return membership.id

    async def update(self, who: str, **profile: Any) -> None:
        async with self.context.db.transaction() as session:
            membership = await session.get(Membership, self.members[who])
            assert membership is not None
            await org_service.update_member(
                session,
                self.context,
                self.scope,
                membership,
                org_service.MemberProfile(**profile),
                actor_id=self.admin_account_id,
                ip=IP,
            )

    async def rule(self, department: str, mode: str, listed: Sequence[str] = ()) -> None:
        async with self.context.db.transaction() as session:
            await org_service.set_visibility_rule(
                session,
                self.context,
                self.scope,
                department_id=self.departments[department],
                mode=mode,
                listed_department_ids=[self.departments[name] for name in listed],
                actor_id=self.admin_account_id,
                ip=IP,
            )

    async def hide(
        self, department: str, members: Sequence[str] = (), departments: Sequence[str] = ()
    ) -> None:
        whitelist = {
            "members": [self.members[name] for name in members],
            "departments": [self.departments[name] for name in departments],
        }
        async with self.context.db.transaction() as session:
            hidden = await org_service.get_department(session, self.id, self.departments[department])
            await org_service.update_department(
                session,
                self.context,
                self.scope,
                hidden,
                org_service.DepartmentChanges(hidden=True, hidden_whitelist=whitelist),
                actor_id=self.admin_account_id,
                ip=IP,
            )

    async def settings(self, **changes: Any) -> None:
        async with self.context.db.transaction() as session:
            await org_service.update_settings(
                session, self.context, self.scope, changes=changes, actor_id=self.admin_account_id, ip=IP
            )

    async def client(self, name: str) -> httpx.AsyncClient:
        """`name`'s client, logged in (admins with two-step verification) at the first call."""
        if name not in self.clients:
            http = self.make_client()
            if name == ADMIN_NAME:
                await login_admin(http, self.context, self.mobiles[name])
            else:
                await login(http, self.context, self.mobiles[name])
            self.clients[name] = http
        return self.clients[name]

    async def audit_count(self, action: str) -> int:
        async with self.context.db.transaction() as session:
            counted = await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.scope == self.id, AuditEntry.action == action)
            )
        return int(counted or 0)

    def names(self, ids: Sequence[str]) -> list[str]:
        by_id = {**{v: k for k, v in self.members.items()}, **{v: k for k, v in self.departments.items()}}
        return [by_id[i] for i in ids]


MakeOrg = Callable[..., Awaitable[DirectoryOrg]]
