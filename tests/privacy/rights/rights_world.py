"""Organisations, people and logged-in clients for the rights tests."""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from helpers import csrf_headers, login, login_admin
from zhengtong.core.context import AppContext
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import Membership
from zhengtong.platform.jobs import JobRunner

IP = "192.0.2.77"
MakeClient = Callable[..., httpx.AsyncClient]
_serial = itertools.count(1)


def new_mobile() -> str:
    return f"1375512{next(_serial):04d}"


@dataclass
class Person:
    name: str
    mobile: str
    account_id: str
    membership_id: str
    org_id: str
    http: httpx.AsyncClient

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(f"/api/v1{path}", params=params)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(f"/api/v1{path}", json=body or {}, headers=csrf_headers(self.http))

    async def patch(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.patch(f"/api/v1{path}", json=body, headers=csrf_headers(self.http))

    async def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.put(f"/api/v1{path}", json=body, headers=csrf_headers(self.http))


@dataclass
class Org:
    id: str
    name: str
    scope: AdminScope  # the main admin's
    admin: Person


async def open_org(context: AppContext, make_client: MakeClient, name: str) -> Org:
    """An organisation with its main admin logged in (TOTP enrolled)."""
    mobile = new_mobile()
    async with context.db.transaction() as session:
        organization = await org_service.open_organization(
            session, context, name=name, admin_mobile=mobile, admin_name="主管理员", actor_id=None, ip=IP
        )
        admin = (
            await session.execute(select(Membership).where(Membership.org_id == organization.id))
        ).scalar_one()
        scope = AdminScope(organization.id, admin.id, True, (), frozenset())
    client = make_client(IP)
    await login_admin(client, context, mobile)
    person = Person("主管理员", mobile, admin.account_id, admin.id, organization.id, client)
    return Org(organization.id, name, scope, person)


async def add_person(
    context: AppContext,
    make_client: MakeClient,
    org: Org,
    name: str,
    *,
    mobile: str | None = None,
    log_in: bool = True,
    profile: org_service.MemberProfile | None = None,
) -> Person:
    """A member opened by the main admin (an existing account when `mobile` has one), logged in."""
    mobile = mobile or new_mobile()
    async with context.db.transaction() as session:
        membership = await org_service.add_member(
            session,
            context,
            org.scope,
            mobile=mobile,
            profile=profile or org_service.MemberProfile(name=name),
            actor_id=org.admin.account_id,
            ip=IP,
        )
    client = make_client(IP)
    if log_in:
        await login(client, context, mobile)
        switched = await client.put(
            "/api/v1/me/current-org", json={"org_id": membership.org_id}, headers=csrf_headers(client)
        )
        assert switched.status_code == 200, switched.text
    return Person(name, mobile, membership.account_id, membership.id, membership.org_id, client)


async def run_jobs(context: AppContext) -> int:
    return await JobRunner(context).run_until_idle()


async def export_zip(person: Person, context: AppContext) -> tuple[str, zipfile.ZipFile]:
    """Starts an export, runs it, downloads it through the signed link."""
    started = await person.post("/privacy/exports")
    assert started.status_code == 202, started.text
    job_id = str(started.json()["job_id"])
    await run_jobs(context)
    listed = await person.get("/privacy/exports")
    assert listed.status_code == 200, listed.text
    entry = next(item for item in listed.json()["items"] if item["job_id"] == job_id)
    assert entry["status"] == "succeeded", entry
    download = await person.http.get(entry["download_url"])
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/zip"
    return job_id, zipfile.ZipFile(io.BytesIO(download.content))
