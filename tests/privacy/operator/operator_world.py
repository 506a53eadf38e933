"""People, organisations and helpers for the operator tests: an operator (in no organisation),
organisations with members who have e-mail addresses, logged-in clients, and the job runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import update

from helpers import Member, create_member, csrf_headers, login, login_admin, next_mobile
from zhengtong.core.context import AppContext
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org.models import MemberRole, Membership
from zhengtong.platform.jobs import JobRunner
from zhengtong.platform.notify import OutboxMessage, read_outbox

MakeClient = Callable[..., httpx.AsyncClient]
API = "/api/v1"


@dataclass
class Client:
    """A logged-in browser: its account and the calls the tests make."""

    http: httpx.AsyncClient
    account_id: str

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(f"{API}{path}", params=params)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(f"{API}{path}", json=body or {}, headers=csrf_headers(self.http))


async def operator(context: AppContext, make_client: MakeClient) -> Client:
    """One of the operator's staff, in no organisation, logged in."""
    mobile = next_mobile()
    async with context.db.transaction() as session:
        account, _ = await identity.get_or_create_account(session, context.keyring, mobile)
        await session.execute(update(Account).where(Account.id == account.id).values(is_operator=True))
        account_id = account.id
    http = make_client()
    await login(http, context, mobile)
    return Client(http, account_id)


@dataclass
class OrgPeople:
    org_id: str
    name: str
    members: list[Member] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)  # account id → organisation e-mail

    @property
    def account_ids(self) -> list[str]:
        return [member.account_id for member in self.members]


async def organisation(
    context: AppContext, name: str, people: list[str], *, without_email: tuple[str, ...] = ()
) -> OrgPeople:
    """An organisation with the named members; each has an organisation e-mail unless listed."""
    org = OrgPeople(org_id="", name=name)
    for number, person in enumerate(people):
        member = await create_member(context, org_name=name, name=person)
        org.org_id = member.org_id
        org.members.append(member)
        if person not in without_email:
            email = f"user{number}.{member.account_id[-6:].lower()}@{name.encode().hex()[:8]}.gov.example"
            async with context.db.transaction() as session:
                await session.execute(
                    update(Membership).where(Membership.id == member.membership_id).values(org_email=email)
                )
            org.emails[member.account_id] = email
    return org


async def main_admin(context: AppContext, org: OrgPeople, name: str = "王局长") -> Member:
    return await create_member(context, org_name=org.name, name=name, role=MemberRole.MAIN_ADMIN)


async def admin_client(context: AppContext, make_client: MakeClient, org: OrgPeople) -> Client:
    """The organisation's main admin (a new member), logged in with their second factor."""
    admin = await main_admin(context, org)
    http = make_client()
    await login_admin(http, context, admin.mobile)
    return Client(http, admin.account_id)


async def logged_in(context: AppContext, make_client: MakeClient, member: Member) -> Client:
    http = make_client()
    await login(http, context, member.mobile)
    return Client(http, member.account_id)


async def run_jobs(context: AppContext) -> int:
    """Runs every due job to the end, here and now."""
    return await JobRunner(context).run_until_idle()


def outbox(context: AppContext, *, template: str | None = None) -> list[OutboxMessage]:
    return [
        m for m in read_outbox(context.settings.outbox_path) if template is None or m.template == template
    ]
