"""Two organisations for the erasure tests, with people who chat, share files and hold admin
duties, one of them (王五) in both; and ways to look at the whole database at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from helpers import Member, create_member, csrf_headers, forget_send_cooldown, login, login_admin
from zhengtong.core.context import AppContext
from zhengtong.identity import service as identity
from zhengtong.models import metadata
from zhengtong.org.models import MemberRole
from zhengtong.platform.jobs import JobRunner
from zhengtong.platform.notify import read_outbox

MakeClient = Callable[..., httpx.AsyncClient]
API = "/api/v1"


@dataclass
class Person:
    member: Member
    http: httpx.AsyncClient

    @property
    def id(self) -> str:
        return self.member.membership_id

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(f"{API}{path}", json=body or {}, headers=csrf_headers(self.http))

    async def put(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.put(f"{API}{path}", json=body or {}, headers=csrf_headers(self.http))

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(f"{API}{path}", params=params)

    async def delete(self, path: str) -> httpx.Response:
        return await self.http.delete(f"{API}{path}", headers=csrf_headers(self.http))

    async def send(self, conversation_id: str, text: str, **extra: Any) -> dict[str, Any]:
        answer = await self.post(f"/im/conversations/{conversation_id}/messages", {"text": text, **extra})
        assert answer.status_code == 200, answer.text
        sent: dict[str, Any] = answer.json()
        return sent


async def person(context: AppContext, make_client: MakeClient, name: str, *, org_name: str) -> Person:
    member = await create_member(context, name=name, org_name=org_name)
    http = make_client()
    await login(http, context, member.mobile)
    return Person(member, http)


async def open_group(owner: Person, *others: Person, name: str) -> str:
    answer = await owner.post("/im/conversations/group", {"name": name, "member_ids": [p.id for p in others]})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def open_direct(one: Person, other: Person) -> str:
    answer = await one.post("/im/conversations/direct", {"membership_id": other.id})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


@dataclass
class Admin:
    mobile: str
    account_id: str
    membership_id: str
    org_id: str
    http: httpx.AsyncClient

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(f"{API}{path}", json=body or {}, headers=csrf_headers(self.http))

    async def delete(self, path: str) -> httpx.Response:
        return await self.http.delete(f"{API}{path}", headers=csrf_headers(self.http))

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(f"{API}{path}")


@dataclass
class World:
    first_admin: Admin  # 甲单位's main admin
    second_admin: Admin  # 乙单位's main admin
    zhang: Person  # 甲单位: chats, owns a group, shares a file
    li: Person  # 甲单位
    wang: Person  # 甲单位, and 乙单位 with the same account (wang_second)
    wang_second: Person
    zhao: Person  # 乙单位
    group_id: str  # 甲单位's group, owned by 张三
    second_group_id: str  # 乙单位's group


async def main_admin(context: AppContext, make_client: MakeClient, org_name: str) -> Admin:
    member = await create_member(context, org_name=org_name, name="主管理员", role=MemberRole.MAIN_ADMIN)
    http = make_client()
    await login_admin(http, context, member.mobile)
    return Admin(member.mobile, member.account_id, member.membership_id, member.org_id, http)


async def build_world(context: AppContext, make_client: MakeClient) -> World:
    first_admin = await main_admin(context, make_client, "甲单位")
    second_admin = await main_admin(context, make_client, "乙单位")
    zhang = await person(context, make_client, "张三丰", org_name="甲单位")
    li = await person(context, make_client, "李四海", org_name="甲单位")
    wang = await person(context, make_client, "王五岳", org_name="甲单位")
    wang_second_member = await create_member(
        context, mobile=wang.member.mobile, org_name="乙单位", name="王五岳"
    )
    wang_second = Person(wang_second_member, make_client())
    await login(wang_second.http, context, wang.member.mobile)
    switched = await wang_second.put("/me/current-org", {"org_id": wang_second_member.org_id})
    assert switched.status_code == 200, switched.text
    zhao = await person(context, make_client, "赵六合", org_name="乙单位")
    group_id = await open_group(zhang, li, wang, name="甲项目组")
    await zhang.send(group_id, "张三丰的手机是 13911112222，请李四海回电")
    await li.send(group_id, "收到，张三丰")
    direct_id = await open_direct(zhang, li)
    await zhang.send(direct_id, "私聊：明天开会")
    second_group_id = await open_group(zhao, wang_second, name="乙项目组")
    await zhao.send(second_group_id, "乙单位的消息")
    await wang_second.send(second_group_id, "王五岳在乙单位")
    return World(first_admin, second_admin, zhang, li, wang, wang_second, zhao, group_id, second_group_id)


async def upload(who: Person, conversation_id: str, name: str, content: bytes) -> dict[str, Any]:
    uploaded = await who.http.post(
        f"{API}/im/conversations/{conversation_id}/files/upload",
        files={"file": (name, content, "text/plain")},
        data={"kind": "file"},
        headers=csrf_headers(who.http),
    )
    assert uploaded.status_code == 201, uploaded.text
    result: dict[str, Any] = uploaded.json()
    return result


async def rows_of(context: AppContext, table_name: str, **equals: Any) -> list[dict[str, Any]]:
    table = metadata.tables[table_name]
    query = select(table).where(*(table.columns[name] == value for name, value in equals.items()))
    async with context.db.transaction() as session:
        return [dict(row._mapping) for row in (await session.execute(query)).all()]


async def count_rows(context: AppContext, table_name: str, **equals: Any) -> int:
    table = metadata.tables[table_name]
    query = select(func.count()).select_from(table)
    query = query.where(*(table.columns[name] == value for name, value in equals.items()))
    async with context.db.transaction() as session:
        return int(await session.scalar(query) or 0)


async def whole_database(context: AppContext) -> dict[str, list[str]]:
    """Every row of every table, to prove that a refused request changed nothing."""
    state = {}
    async with context.db.transaction() as session:
        for table in metadata.sorted_tables:
            rows = await session.execute(select(table))
            state[table.name] = sorted(repr(tuple(row)) for row in rows.all())
    return state


async def rows_of_org(context: AppContext, org_id: str) -> dict[str, int]:
    """How many rows each table holds that carry `org_id` in an org_id column (non-zero only)."""
    counts = {}
    for table in metadata.sorted_tables:
        if "org_id" in table.columns and table.name != "privacy_deregistrations":
            found = await count_rows(context, table.name, org_id=org_id)
            if found:
                counts[table.name] = found
    return counts


def last_sms(context: AppContext, mobile: str, template: str) -> dict[str, Any]:
    e164 = identity.normalise_mobile(mobile)
    for message in reversed(read_outbox(context.settings.outbox_path)):
        if message.to == e164 and message.template == template:
            return {"text": message.text, **message.params}
    raise AssertionError(f"no {template} SMS was sent to {mobile}")


async def deregistration_code(context: AppContext, admin: Admin) -> str:
    """Asks for the confirming SMS code (the login a moment ago started the resend cooldown,
    which its own test covers) and reads it from the outbox."""
    await forget_send_cooldown(context, admin.mobile)
    sent = await admin.post("/org/deregistration/code")
    assert sent.status_code == 200, sent.text
    return str(last_sms(context, admin.mobile, "deregister_code")["code"])


async def request_deregistration(context: AppContext, admin: Admin, org_name: str) -> httpx.Response:
    code = await deregistration_code(context, admin)
    return await admin.post("/org/deregistration", {"org_name": org_name, "code": code})


async def run_jobs(context: AppContext) -> int:
    """Runs every due job (and due scheduled job) to its end; returns how many ran."""
    return await JobRunner(context).run_until_idle()
