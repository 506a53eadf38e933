"""An organisation for the work-notice tests: a main admin, a department 办公室 with a sub-department
档案室, members in each, and an app (督办系统) with its key and secret."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select

from helpers import login, login_admin, next_mobile
from zhengtong.apps import service as apps
from zhengtong.core.context import AppContext
from zhengtong.identity import service as identity
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import MemberDepartment, Membership
from zhengtong.platform.jobs import JobRunner

MakeClient = Callable[..., httpx.AsyncClient]
OAPI = "/oapi/topapi/message/corpconversation"


@dataclass
class Person:
    name: str
    mobile: str
    account_id: str
    membership_id: str


@dataclass
class NoticeWorld:
    org_id: str
    admin: Person
    office_id: str  # 办公室
    archive_id: str  # 档案室, below 办公室
    people: dict[str, Person] = field(default_factory=dict)
    app_id: str = ""
    app_key: str = ""
    app_secret: str = ""
    agent_id: int = 0

    def __getitem__(self, name: str) -> Person:
        return self.people[name]


async def _person(context: AppContext, org_id: str, name: str, department_id: str) -> Person:
    mobile = next_mobile()
    async with context.db.transaction() as session:
        account, _ = await identity.get_or_create_account(session, context.keyring, mobile)
        membership = await org_service.add_membership(
            session, org_id=org_id, account_id=account.id, name=name
        )
        session.add(MemberDepartment(org_id=org_id, membership_id=membership.id, department_id=department_id))
    return Person(name, mobile, account.id, membership.id)


async def build_world(context: AppContext, org_name: str = "某市政务服务局") -> NoticeWorld:
    admin_mobile = next_mobile()
    async with context.db.transaction() as session:
        organization = await org_service.open_organization(
            session,
            context,
            name=org_name,
            admin_mobile=admin_mobile,
            admin_name="王主管",
            actor_id=None,
            ip="",
        )
        admin = (
            await session.execute(select(Membership).where(Membership.org_id == organization.id))
        ).scalar_one()
        root = await org_service.root_department(session, organization.id)
        scope = AdminScope(organization.id, admin.id, True, (), frozenset())
        office = await org_service.create_department(
            session, context, scope, parent_id=root.id, name="办公室", actor_id=None, ip=""
        )
        archive = await org_service.create_department(
            session, context, scope, parent_id=office.id, name="档案室", actor_id=None, ip=""
        )
        app, secret = await apps.create_app(
            session, context, scope, name="督办系统", description="", actor_id=admin.account_id, ip=""
        )
    world = NoticeWorld(
        org_id=organization.id,
        admin=Person("王主管", admin_mobile, admin.account_id, admin.id),
        office_id=office.id,
        archive_id=archive.id,
        app_id=app.id,
        app_key=app.app_key,
        app_secret=secret,
        agent_id=app.agent_id,
    )
    for name, department in (("张三", root.id), ("李四", office.id), ("赵六", archive.id)):
        world.people[name] = await _person(context, organization.id, name, department)
    return world


async def member_client(make_client: MakeClient, context: AppContext, person: Person) -> httpx.AsyncClient:
    http = make_client()
    await login(http, context, person.mobile)
    return http


async def admin_client(make_client: MakeClient, context: AppContext, world: NoticeWorld) -> httpx.AsyncClient:
    http = make_client()
    await login_admin(http, context, world.admin.mobile)
    return http


async def run_jobs(context: AppContext) -> int:
    return await JobRunner(context).run_until_idle()


async def access_token(client: httpx.AsyncClient, world: NoticeWorld) -> str:
    answer = (
        await client.get("/oapi/gettoken", params={"appkey": world.app_key, "appsecret": world.app_secret})
    ).json()
    assert answer["errcode"] == 0, answer
    return str(answer["access_token"])


async def oapi(client: httpx.AsyncClient, token: str, call: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post(f"{OAPI}/{call}", params={"access_token": token}, json=body)
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()
    return result
