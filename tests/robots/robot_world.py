"""A group for the robot tests: 张三 owns it, 李四 and 王五 are members, the organisation's main
admin is not in it; 赵六 is a member of the organisation outside the group; another organisation
has its own admin and member. Each person is logged in with their own client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select

from helpers import Member, create_member, csrf_headers, login, login_admin
from zhengtong.core.context import AppContext
from zhengtong.im.models import Message
from zhengtong.org.models import MemberRole
from zhengtong.platform.jobs import JobRunner

MakeClient = Callable[..., httpx.AsyncClient]
ORG, OTHER_ORG = "某市应急管理局", "某县财政局"


@dataclass
class Person:
    member: Member
    http: httpx.AsyncClient

    @property
    def id(self) -> str:
        return self.member.membership_id

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.request(
            method, f"/api/v1{path}", json=body, headers=csrf_headers(self.http) if method != "GET" else {}
        )


@dataclass
class RobotWorld:
    group_id: str
    people: dict[str, Person] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Person:
        return self.people[name]

    @property
    def robots(self) -> str:
        return f"/im/conversations/{self.group_id}/robots"

    async def add_robot(self, by: str = "张三", **spec: Any) -> dict[str, Any]:
        answer = await self[by].call("POST", self.robots, {"name": "告警机器人", **spec})
        assert answer.status_code == 201, answer.text
        robot: dict[str, Any] = answer.json()
        return robot

    async def history(self, by: str = "李四") -> list[dict[str, Any]]:
        answer = await self[by].call("GET", f"/im/conversations/{self.group_id}/messages")
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items


async def _person(
    context: AppContext, make_client: MakeClient, name: str, org: str, role: MemberRole = MemberRole.MEMBER
) -> Person:
    member = await create_member(context, name=name, org_name=org, role=role)
    http = make_client()
    if role == MemberRole.MEMBER:
        await login(http, context, member.mobile)
    else:
        await login_admin(http, context, member.mobile)
    return Person(member, http)


async def build_world(context: AppContext, make_client: MakeClient) -> RobotWorld:
    people = {
        name: await _person(context, make_client, name, ORG) for name in ("张三", "李四", "王五", "赵六")
    }
    people["管理员"] = await _person(context, make_client, "管理员", ORG, MemberRole.MAIN_ADMIN)
    people["他单位管理员"] = await _person(
        context, make_client, "他单位管理员", OTHER_ORG, MemberRole.MAIN_ADMIN
    )
    people["他单位成员"] = await _person(context, make_client, "他单位成员", OTHER_ORG)
    answer = await people["张三"].call(
        "POST",
        "/im/conversations/group",
        {"name": "值班群", "member_ids": [people["李四"].id, people["王五"].id]},
    )
    assert answer.status_code == 201, answer.text
    return RobotWorld(str(answer.json()["id"]), people)


async def run_jobs(context: AppContext) -> int:
    return await JobRunner(context).run_until_idle()


async def message_count(context: AppContext) -> int:
    async with context.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)
