"""People and clients for chat tests: each person logged in with their own client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from helpers import Member, create_member, csrf_headers, login
from zhengtong.core.context import AppContext


@dataclass
class Person:
    member: Member
    http: httpx.AsyncClient

    @property
    def id(self) -> str:
        return self.member.membership_id

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(f"/api/v1{path}", json=body or {}, headers=csrf_headers(self.http))

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(f"/api/v1{path}", params=params)

    async def patch(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.patch(f"/api/v1{path}", json=body, headers=csrf_headers(self.http))

    async def put(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.put(f"/api/v1{path}", json=body or {}, headers=csrf_headers(self.http))

    async def delete(self, path: str) -> httpx.Response:
        return await self.http.delete(f"/api/v1{path}", headers=csrf_headers(self.http))

    async def send(self, conversation_id: str, text: str, **extra: Any) -> dict[str, Any]:
        answer = await self.post(f"/im/conversations/{conversation_id}/messages", {"text": text, **extra})
        assert answer.status_code == 200, answer.text
        sent: dict[str, Any] = answer.json()
        return sent

    async def conversation(self, conversation_id: str) -> dict[str, Any]:
        answer = await self.get(f"/im/conversations/{conversation_id}")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    async def history(self, conversation_id: str, **params: Any) -> dict[str, Any]:
        answer = await self.get(f"/im/conversations/{conversation_id}/messages", **params)
        assert answer.status_code == 200, answer.text
        page: dict[str, Any] = answer.json()
        return page


async def person(
    context: AppContext, make_client: Any, name: str, *, org_name: str = "测试单位", **options: Any
) -> Person:
    member = await create_member(context, name=name, org_name=org_name, **options)
    http = make_client()
    await login(http, context, member.mobile)
    return Person(member, http)


async def open_group(owner: Person, *others: Person, name: str = "项目组") -> str:
    answer = await owner.post("/im/conversations/group", {"name": name, "member_ids": [p.id for p in others]})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def open_direct(one: Person, other: Person) -> str:
    answer = await one.post("/im/conversations/direct", {"membership_id": other.id})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])
