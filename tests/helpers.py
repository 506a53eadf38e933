"""Test helpers: create organisations and members, log in over the real API."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp
import uvicorn

from zhengtong.core.context import AppContext
from zhengtong.directory import index
from zhengtong.identity import service as identity
from zhengtong.org import service as org_service
from zhengtong.org.models import MemberDepartment, MemberRole
from zhengtong.platform.eventlog import Listener
from zhengtong.platform.notify import read_outbox
from zhengtong.web.websocket_protocol import UVICORN_OPTIONS

_mobiles = itertools.count(13900000000)


def next_mobile() -> str:
    return str(next(_mobiles))


@dataclass
class Member:
    account_id: str
    org_id: str
    mobile: str
    name: str
    membership_id: str


async def create_member(
    context: AppContext,
    *,
    mobile: str | None = None,
    org_name: str = "测试单位",
    name: str = "测试成员",
    role: MemberRole = MemberRole.MEMBER,
) -> Member:
    """An account in an organisation (created when absent) seated in its root department, as an
    admin would open it."""
    mobile = mobile or next_mobile()
    async with context.db.transaction() as session:
        organization = await org_service.get_organization_by_name(session, org_name)
        if organization is None:
            organization = await org_service.create_organization(session, context.keyring, name=org_name)
        account, _ = await identity.get_or_create_account(session, context.keyring, mobile)
        membership = await org_service.add_membership(
            session, org_id=organization.id, account_id=account.id, name=name, role=role
        )
        root = await org_service.root_department(session, organization.id)
        session.add(
            MemberDepartment(org_id=organization.id, membership_id=membership.id, department_id=root.id)
        )
        await index.reindex_member(session, membership)
        return Member(account.id, organization.id, mobile, name, membership.id)


def last_code(context: AppContext, mobile: str) -> str:
    """The most recent login code the outbox recorded for `mobile`."""
    e164 = identity.normalise_mobile(mobile)
    for message in reversed(read_outbox(context.settings.outbox_path)):
        if message.to == e164 and message.template == "login_code":
            return str(message.params["code"])
    raise AssertionError(f"no login code was sent to {mobile}")


async def forget_send_cooldown(context: AppContext, mobile: str) -> None:
    index = identity.mobile_index(context.keyring, identity.normalise_mobile(mobile))
    await context.limiter.reset(f"sms-cooldown:{index.hex()}")


def csrf_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies.get("zt_csrf") or ""}


async def login(client: httpx.AsyncClient, context: AppContext, mobile: str) -> dict[str, str]:
    """Logs `client` in by SMS code; returns the login result. After it, the client's cookies
    carry the session; send `csrf_headers(client)` with unsafe requests. Tests log in many times,
    so the resend cooldown (tested on its own) is lifted first."""
    await forget_send_cooldown(context, mobile)
    sent = await client.post("/api/v1/auth/sms/send", json={"mobile": mobile})
    assert sent.status_code == 200, sent.text
    answer = await client.post(
        "/api/v1/auth/sms/login", json={"mobile": mobile, "code": last_code(context, mobile)}
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, str] = answer.json()
    return result


# A real server in the test's own event loop answers in milliseconds, but CI shares a small
# machine: httpx's default of 5 s once timed out a login there while the disk or CPU stalled.
LIVE_SERVER_TIMEOUT = httpx.Timeout(30)


async def live_session_token(context: AppContext, host: str, member: Member) -> str:
    """Logs the member in on the live server at `host` ("127.0.0.1:port"); returns the session
    token, which a WebSocket presents as its `token` parameter or zt_session cookie."""
    async with httpx.AsyncClient(base_url=f"http://{host}", timeout=LIVE_SERVER_TIMEOUT) as http:
        await login(http, context, member.mobile)
        return str(http.cookies.get("zt_session"))


async def events_socket_url(server: uvicorn.Server, context: AppContext, member: Member) -> str:
    """The events socket's address on a live `server`, with a session of the member's as the token."""
    host = f"127.0.0.1:{server.config.port}"
    return f"ws://{host}/api/v1/ws?token={await live_session_token(context, host, member)}"


async def login_admin(client: httpx.AsyncClient, context: AppContext, mobile: str) -> str:
    """Logs an admin in, enrolling TOTP on first login; returns the TOTP secret."""
    result = await login(client, context, mobile)
    assert result["status"] == "totp_setup_required", result
    setup = await client.post("/api/v1/auth/totp/setup", headers=csrf_headers(client))
    secret = str(setup.json()["secret"])
    enabled = await client.post(
        "/api/v1/auth/totp/enable", json={"code": pyotp.TOTP(secret).now()}, headers=csrf_headers(client)
    )
    assert enabled.status_code == 200, enabled.text
    return secret


async def next_event(listener: Listener) -> dict[str, Any]:
    """The next event a listener of the event log receives (within two seconds)."""
    delivery = await asyncio.wait_for(listener.get(), 2)
    assert delivery is not None, "the listener overflowed"
    return delivery.event


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def uvicorn_in_process(app: Any) -> AsyncIterator[uvicorn.Server]:
    """A real uvicorn serving the app on a free port inside this event loop, as `zhengtong serve`
    runs it (web.websocket_protocol.UVICORN_OPTIONS)."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=free_port(),
        lifespan="off",
        log_level="warning",
        **UVICORN_OPTIONS,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield server
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def serve_in_process(app: Any) -> AsyncIterator[str]:
    """The app served by a real uvicorn on a free port inside this event loop; yields host:port."""
    async with uvicorn_in_process(app) as server:
        yield f"127.0.0.1:{server.config.port}"
