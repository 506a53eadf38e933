"""The canary world: two organisations whose canary members have data everywhere the platform
can hold it, each with values distinctive enough that finding one anywhere means it is theirs.

`build_canary_world(context, make_client)` seeds, through the real services and API:
profile fields (title, e-mail, office phone, work place, job number, custom fields with an ID
number), department seats, an admin grant, sessions and known devices (logins from two
clients), direct and group chat messages that mention them (name, mobile, e-mail, ID number), a
group announcement naming them, chat files they uploaded (the values inside the file and in its
name), the directory's and the chat's search indexes, audit entries about them, an import job
whose uploaded file lists them, an export job whose file lists them, a job whose payload names
them, and access-log lines (requests made as them). With Redis configured, the event streams in
Redis hold the messages too.

One canary (宇髄天元) belongs to both organisations with one account, so that removing them from
one organisation must leave the other's data and the account alone.

The world runs its jobs itself and waits for them by their `job.finished` event, so it works
with or without the app's in-process job runner.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pyotp
from sqlalchemy import select

from helpers import csrf_headers, login, login_admin
from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.org import importing
from zhengtong.org import jobs as _org_jobs  # noqa: F401  (registers the import and export handlers)
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.exporting import start_export
from zhengtong.org.models import AdminDuty, AdminGrant, Membership
from zhengtong.platform import jobs
from zhengtong.platform.jobs import JobRunner

IP = "192.0.2.55"
ID_NUMBER_FIELD = "id_number"
_serial = itertools.count(1)

# name, the Latin alias used for e-mail addresses, and the birth date inside the ID number
_ORG_A = ("鬼杀队甲府", [("甘露寺蜜璃", "mitsuri", "19930601"), ("胡蝶忍", "shinobu", "19950224")])
_ORG_B = ("鬼杀队乙府", [("炼狱杏寿郎", "kyojuro", "19910510"), ("时透无一郎", "muichiro", "20000814")])
_SHARED = ("宇髄天元", "tengen", "19881031")  # a member of both organisations


def id_number(region: str, birth: str, sequence: int) -> str:
    """An 18-character resident ID number (GB 11643-1999) with a valid check character."""
    body = f"{region}{birth}{sequence:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(digit) * weight for digit, weight in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


@dataclass
class Canary:
    name: str
    mobile: str  # national form, 11 digits
    email: str
    id_number: str
    account_id: str = ""
    memberships: dict[str, str] = field(default_factory=dict)  # org id → membership id
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)  # org id → logged-in client

    @property
    def needles(self) -> list[str]:
        return [self.name, self.mobile, self.email, self.id_number]


@dataclass
class CanaryOrg:
    id: str
    name: str
    scope: AdminScope
    admin_account_id: str
    admin_client: httpx.AsyncClient
    canaries: list[Canary] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)

    @property
    def needles(self) -> list[str]:
        return [needle for canary in self.canaries for needle in canary.needles]


@dataclass
class CanaryWorld:
    orgs: list[CanaryOrg]
    canaries: dict[str, Canary]  # by name

    def canary(self, name: str) -> Canary:
        return self.canaries[name]

    def org(self, name: str) -> CanaryOrg:
        return next(org for org in self.orgs if org.name == name)

    @property
    def needles_by_canary(self) -> dict[str, list[str]]:
        return {name: canary.needles for name, canary in self.canaries.items()}

    @property
    def needles_by_org(self) -> dict[str, list[str]]:
        return {org.id: org.needles for org in self.orgs}

    @property
    def all_needles(self) -> list[str]:
        return [needle for canary in self.canaries.values() for needle in canary.needles]


def _new_canary(name: str, alias: str, birth: str) -> Canary:
    serial = next(_serial)
    return Canary(
        name=name,
        mobile=f"1376688{serial:04d}",
        email=f"{alias}.{serial}@canary.example.cn",
        id_number=id_number("110105", birth, 100 + serial),
    )


async def _open_org(
    context: AppContext, make_client: Callable[..., httpx.AsyncClient], name: str
) -> CanaryOrg:
    admin_mobile = f"1355577{next(_serial):04d}"
    async with context.db.transaction() as session:
        organization = await org_service.open_organization(
            session, context, name=name, admin_mobile=admin_mobile, admin_name="府主", actor_id=None, ip=IP
        )
        admin = (
            await session.execute(select(Membership).where(Membership.org_id == organization.id))
        ).scalar_one()
        scope = AdminScope(organization.id, admin.id, True, (), frozenset())
        await org_service.define_custom_field(
            session, context, scope, key=ID_NUMBER_FIELD, label="身份证号", actor_id=admin.account_id, ip=IP
        )
        await org_service.create_department(
            session,
            context,
            scope,
            parent_id=(await org_service.root_department(session, organization.id)).id,
            name="炎柱办公室",
            actor_id=admin.account_id,
            ip=IP,
        )
    admin_client = make_client(IP)
    await login_admin(admin_client, context, admin_mobile)
    return CanaryOrg(organization.id, name, scope, admin.account_id, admin_client)


async def _add_canary(context: AppContext, org: CanaryOrg, canary: Canary, job_number: str) -> None:
    async with context.db.transaction() as session:
        departments = await org_service.list_departments(session, org.id)
        office = next(d for d in departments if d.parent_id is not None)
        membership = await org_service.add_member(
            session,
            context,
            org.scope,
            mobile=canary.mobile,
            profile=org_service.MemberProfile(
                name=canary.name,
                job_number=job_number,
                title="柱",
                org_email=canary.email,
                office_phone=f"010-{canary.mobile[-8:]}",
                work_place=f"{canary.name}的办公室",
                custom_fields={ID_NUMBER_FIELD: canary.id_number},
                seats=[org_service.Seat(office.id, f"{canary.name}（主管）", True)],
            ),
            actor_id=org.admin_account_id,
            ip=IP,
        )
        canary.account_id = membership.account_id
        canary.memberships[org.id] = membership.id
    org.canaries.append(canary)


async def _grant_admin(context: AppContext, org: CanaryOrg, canary: Canary) -> None:
    async with context.db.transaction() as session:
        membership = await session.get(Membership, canary.memberships[org.id])
        assert membership is not None
        grant = AdminGrant(duty=AdminDuty.SYSTEM, department_ids=[], functions=[])
        await org_service.set_admin_grants(
            session, context, org.scope, membership, [grant], actor_id=org.admin_account_id, ip=IP
        )


async def _log_in(
    context: AppContext, make_client: Callable[..., httpx.AsyncClient], org: CanaryOrg, canary: Canary
) -> None:
    """Two devices: the second login records a second known device. Each client then works in
    `org` (a canary of two organisations picks it). An admin enrols TOTP on the first device and
    gives the next step's code on the second (a code is good once)."""
    is_admin = canary is org.canaries[0]
    totp_secret = ""
    for ip in ("198.51.100.23", "2001:db8:5:6::23"):
        client = make_client(ip)
        if is_admin and not totp_secret:
            totp_secret = await login_admin(client, context, canary.mobile)
        else:
            await login(client, context, canary.mobile)
        if is_admin and ip != "198.51.100.23":
            code = pyotp.TOTP(totp_secret).at(utcnow() + timedelta(seconds=30))
            verified = await client.post(
                "/api/v1/auth/totp/verify", json={"code": code}, headers=csrf_headers(client)
            )
            assert verified.status_code == 200, verified.text
        switched = await client.put(
            "/api/v1/me/current-org", json={"org_id": org.id}, headers=csrf_headers(client)
        )
        assert switched.status_code == 200, switched.text
        canary.clients[org.id] = client


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post(f"/api/v1{path}", json=body, headers=csrf_headers(client))
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, Any] = answer.json()
    return result


async def _chat(context: AppContext, org: CanaryOrg) -> None:
    first, second = org.canaries[0], org.canaries[1]
    one, two = first.clients[org.id], second.clients[org.id]
    direct = await _post(one, "/im/conversations/direct", {"membership_id": second.memberships[org.id]})
    await _post(
        one,
        f"/im/conversations/{direct['id']}/messages",
        {"text": f"我是{first.name}，手机{first.mobile}，邮箱{first.email}"},
    )
    await _post(
        two,
        f"/im/conversations/{direct['id']}/messages",
        {"text": f"收到。我的身份证号是{second.id_number}，手机+86 {second.mobile}"},
    )
    member_ids = [c.memberships[org.id] for c in org.canaries[1:]]
    group = await _post(one, "/im/conversations/group", {"name": "柱合会议", "member_ids": member_ids})
    for canary in org.canaries:
        await _post(
            one,
            f"/im/conversations/{group['id']}/messages",
            {
                "text": f"@{canary.name} 请核对：{canary.name} {canary.mobile} "
                f"{canary.email} {canary.id_number}",
                "mentions": [canary.memberships[org.id]],
            },
        )
    announced = await one.put(
        f"/api/v1/im/conversations/{group['id']}/announcement",
        json={"text": f"本周值班：{first.name}（{first.mobile}）"},
        headers=csrf_headers(one),
    )
    assert announced.status_code == 200, announced.text
    for canary in org.canaries:
        await _upload(canary.clients[org.id], group["id"], canary)


async def _upload(client: httpx.AsyncClient, conversation_id: str, canary: Canary) -> None:
    content = f"履历表\n姓名：{canary.name}\n手机：{canary.mobile}\n身份证：{canary.id_number}\n".encode()
    uploaded = await client.post(
        f"/api/v1/im/conversations/{conversation_id}/files/upload",
        files={"file": (f"{canary.name}的履历表.txt", content, "text/plain")},
        data={"kind": "file"},
        headers=csrf_headers(client),
    )
    assert uploaded.status_code == 201, uploaded.text
    await _post(
        client,
        f"/im/conversations/{conversation_id}/messages",
        {"text": "", "kind": "file", "file_id": uploaded.json()["id"]},
    )


async def _browse(org: CanaryOrg) -> None:
    """Requests made as each canary (access-log lines), including searches for each other."""
    for canary in org.canaries:
        client = canary.clients[org.id]
        for other in org.canaries:
            found = await client.get("/api/v1/directory/search", params={"q": other.name})
            assert found.status_code == 200, found.text
            card = await client.get(f"/api/v1/directory/members/{other.memberships[org.id]}")
            assert card.status_code == 200, card.text
        assert (await client.get("/api/v1/im/conversations")).status_code == 200


def _import_file(org: CanaryOrg) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.header for column in importing.FIXED_COLUMNS] + ["身份证号"])
    for number, canary in enumerate(org.canaries, start=1):
        row = {"姓名*": canary.name, "手机号*": canary.mobile, "工号": f"Z{number:03d}"}
        row["组织邮箱"] = canary.email
        writer.writerow(
            [row.get(column.header, "") for column in importing.FIXED_COLUMNS] + [canary.id_number]
        )
    return buffer.getvalue().encode()


async def _jobs(context: AppContext, org: CanaryOrg) -> None:
    """An import whose upload lists the canaries, an export of the members, and a job whose
    payload names them (queued far in the future, so that it stays as it is)."""
    async with context.events.listen(org.admin_account_id) as listener:
        async with context.db.transaction() as session:
            imported = await importing.start_import(
                session,
                context,
                org.scope,
                data=_import_file(org),
                options=importing.ImportOptions(mode=importing.ImportMode.SKIP_INVALID_ROWS),
                actor_id=org.admin_account_id,
                ip=IP,
                language="zh",
            )
            exported = await start_export(session, org.scope, actor_id=org.admin_account_id, ip=IP)
            waiting = {imported.id, exported.id}
            org.job_ids += [imported.id, exported.id]
        await JobRunner(context).run_until_idle()  # when no runner runs in the app, this one does
        while waiting:
            delivery = await asyncio.wait_for(listener.get(), 60)
            assert delivery is not None, "the job listener overflowed"
            event = delivery.event
            if event.get("type") == "job.finished" and event.get("job_id") in waiting:
                assert event["status"] == "succeeded", event
                waiting.discard(event["job_id"])
    async with context.db.transaction() as session:
        noted = await jobs.enqueue(
            session,
            kind="canary.follow_up",
            payload={"about": [{"name": c.name, "mobile": c.mobile} for c in org.canaries]},
            org_id=org.id,
            owner_account_id=org.admin_account_id,
            run_at=utcnow() + timedelta(days=3650),
        )
        org.job_ids.append(noted.id)


async def build_canary_world(
    context: AppContext, make_client: Callable[..., httpx.AsyncClient]
) -> CanaryWorld:
    """Seeds both organisations and returns who is where with which needles."""
    shared = _new_canary(*_SHARED)
    orgs: list[CanaryOrg] = []
    canaries: dict[str, Canary] = {shared.name: shared}
    for org_name, people in (_ORG_A, _ORG_B):
        org = await _open_org(context, make_client, org_name)
        for number, person in enumerate(people, start=1):
            canary = _new_canary(*person)
            canaries[canary.name] = canary
            await _add_canary(context, org, canary, f"A{number:03d}")
        await _add_canary(context, org, shared, "A900")
        await _grant_admin(context, org, org.canaries[0])
        orgs.append(org)
    for org in orgs:
        for canary in org.canaries:
            await _log_in(context, make_client, org, canary)
        await _chat(context, org)
        await _browse(org)
        await _jobs(context, org)
    return CanaryWorld(orgs, canaries)
