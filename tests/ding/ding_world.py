"""People and clients for DING tests: each person logged in with their own client, DINGs sent
over the API, jobs run here and now, the outbox read back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from helpers import Member, create_member, csrf_headers, login, login_admin, next_event
from zhengtong.core.context import AppContext
from zhengtong.ding.models import DingAttempt, DingRecipient
from zhengtong.ding.service import ATTEMPT_ORDER
from zhengtong.identity import service as identity
from zhengtong.org.models import MemberRole, Membership
from zhengtong.platform.eventlog import Listener
from zhengtong.platform.jobs import JobRunner
from zhengtong.platform.notify import OutboxMessage, read_outbox


@dataclass
class Person:
    member: Member
    http: httpx.AsyncClient

    @property
    def id(self) -> str:
        return self.member.membership_id

    @property
    def account_id(self) -> str:
        return self.member.account_id

    @property
    def e164(self) -> str:
        return identity.normalise_mobile(self.member.mobile)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(f"/api/v1{path}", json=body or {}, headers=csrf_headers(self.http))

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(f"/api/v1{path}", params=params)

    async def patch(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.patch(f"/api/v1{path}", json=body, headers=csrf_headers(self.http))

    async def ding(self, *recipients: Person, text: str = "请立即查看", **extra: Any) -> dict[str, Any]:
        answer = await self.post(
            "/ding", {"text": text, "recipient_ids": [r.id for r in recipients], **extra}
        )
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    async def upload(self, name: str, data: bytes) -> httpx.Response:
        return await self.http.post(
            "/api/v1/ding/files/upload", files={"file": (name, data)}, headers=csrf_headers(self.http)
        )


async def person(
    context: AppContext,
    make_client: Any,
    name: str,
    *,
    org_name: str = "测试单位",
    role: MemberRole = MemberRole.MEMBER,
    executive: bool = False,
) -> Person:
    member = await create_member(context, name=name, org_name=org_name, role=role)
    if executive:
        async with context.db.transaction() as session:
            membership = await session.get(Membership, member.membership_id)
            assert membership is not None
            membership.executive = True
    http = make_client()
    if role == MemberRole.MEMBER:
        await login(http, context, member.mobile)
    else:
        await login_admin(http, context, member.mobile)
    return Person(member, http)


async def run_jobs(context: AppContext) -> int:
    """Runs every due job to its end, here and now."""
    return await JobRunner(context).run_until_idle()


def outbox_to(context: AppContext, who: Person, channel: str) -> list[OutboxMessage]:
    """What the outbox recorded for `who` on `channel` from DINGs (not their login codes)."""
    return [
        m
        for m in read_outbox(context.settings.outbox_path)
        if m.channel == channel and m.to == who.e164 and m.template.startswith("ding.")
    ]


async def attempts_of(context: AppContext, ding_id: str, who: Person) -> list[tuple[str, str, int]]:
    """(channel, result, round) of every attempt to `who`, oldest first."""
    async with context.db.transaction() as session:
        rows = await session.execute(
            select(DingAttempt.channel, DingAttempt.result, DingAttempt.round_number)
            .join(DingRecipient, DingRecipient.id == DingAttempt.recipient_id)
            .where(DingAttempt.ding_id == ding_id, DingRecipient.membership_id == who.id)
            .order_by(*ATTEMPT_ORDER)
        )
        return [(channel, result, round_number) for channel, result, round_number in rows.all()]


async def drain(context: AppContext, listener: Listener) -> list[dict[str, Any]]:
    """Everything the listener has heard so far (a barrier event marks the end, so that with
    Redis nothing still on its way is missed)."""
    await context.events.append([listener.account_id], {"type": "barrier"})
    events = []
    while (event := await next_event(listener))["type"] != "barrier":
        events.append(event)
    return events
