"""SMS and voice calls through the HTTP gateway, against a local bridge that checks each request's
signature the way docs/gateway.md tells an operator to; a bridge answering 5xx or hanging fails
the send within the timeout, and a forged or replayed request is refused by the bridge."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from notify_world import BODY, SUBJECT, deliveries, run_jobs
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from helpers import create_member, serve_in_process
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext
from zhengtong.notifications.notices import notify_people
from zhengtong.platform.channels.gateway import GatewayProvider
from zhengtong.platform.notify import CallStatus, DeliveryFailed

SECRET = "a-long-shared-secret-for-tests"
BASE_PATH = "/bridge/zt"


@dataclass
class Bridge:
    """The operator's bridge: verifies, records, and answers as told ("ok", "fail", "hang")."""

    mode: str = "ok"
    received: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def verified(self, request: Request, body: bytes) -> bool:
        """The recipe of docs/gateway.md, written out independently of the provider's code."""
        timestamp = request.headers.get("x-zt-timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return False
        path = request.url.path.removeprefix(BASE_PATH)
        signed = f"{timestamp}\n{request.method}\n{path}\n".encode() + body
        expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, request.headers.get("x-zt-signature", ""))

    async def answer(self, request: Request) -> Response:
        body = await request.body()
        if not self.verified(request, body):
            self.refused.append(request.url.path)
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if self.mode == "hang":
            await self.release.wait()
        if self.mode == "fail":
            return JSONResponse({"error": "carrier unavailable"}, status_code=503)
        payload = json.loads(body) if body else {}
        self.received.append((request.method, request.url.path.removeprefix(BASE_PATH), payload))
        if request.url.path.endswith("/calls"):
            return JSONResponse({"call_id": "call-0001"})
        if "/calls/" in request.url.path:
            return JSONResponse({"status": "answered"})
        return JSONResponse({"message_id": "sms-0001"})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(f"{BASE_PATH}/sms", self.answer, methods=["POST"]),
                Route(f"{BASE_PATH}/calls", self.answer, methods=["POST"]),
                Route(BASE_PATH + "/calls/{call_id}", self.answer, methods=["GET"]),
            ]
        )


@pytest.fixture
async def bridge() -> AsyncIterator[tuple[Bridge, str]]:
    peer = Bridge()
    async with serve_in_process(peer.app()) as address:
        yield peer, f"http://{address}{BASE_PATH}"
        peer.release.set()  # let a hanging answer end, so that the server can stop


def _gateway(settings: Settings, url: str) -> GatewayProvider:
    return GatewayProvider(
        settings.with_overrides(sms_provider="gateway", sms_gateway_url=url, sms_gateway_secret=SECRET)
    )


async def test_an_sms_reaches_the_bridge_signed(settings: Settings, bridge: tuple[Bridge, str]) -> None:
    peer, url = bridge

    await _gateway(settings, url).send_sms(
        "+8613900000001", "login_code", "【政通】验证码 123456", {"code": "123456"}
    )

    assert peer.refused == []
    assert peer.received == [
        (
            "POST",
            "/sms",
            {
                "to": "+8613900000001",
                "text": "【政通】验证码 123456",
                "template": "login_code",
                "params": {"code": "123456"},
            },
        )
    ]


async def test_a_call_is_placed_and_its_outcome_asked(settings: Settings, bridge: tuple[Bridge, str]) -> None:
    peer, url = bridge
    gateway = _gateway(settings, url)

    call_id = await gateway.place_call("+8613900000001", "ding", "您有一条紧急DING消息", {"ding_id": "D1"})
    status = await gateway.call_status(call_id)

    assert (call_id, status) == ("call-0001", CallStatus.ANSWERED)
    assert [(method, path) for method, path, _ in peer.received] == [
        ("POST", "/calls"),
        ("GET", "/calls/call-0001"),
    ]
    assert peer.refused == []


async def test_the_bridge_refuses_a_forged_or_replayed_request(bridge: tuple[Bridge, str]) -> None:
    peer, url = bridge
    body = json.dumps({"to": "+8613900000001", "text": "x", "template": "t", "params": {}}).encode()
    stale = str(int(time.time()) - 3600)
    stale_signature = (
        "sha256=" + hmac.new(SECRET.encode(), f"{stale}\nPOST\n/sms\n".encode() + body, "sha256").hexdigest()
    )
    async with httpx.AsyncClient() as client:
        forged = await client.post(
            f"{url}/sms",
            content=body,
            headers={"X-ZT-Timestamp": str(int(time.time())), "X-ZT-Signature": "sha256=00"},
        )
        replayed = await client.post(
            f"{url}/sms", content=body, headers={"X-ZT-Timestamp": stale, "X-ZT-Signature": stale_signature}
        )
        # a signed SMS sent to the call endpoint does not verify: the path is signed
        moved = await client.post(
            f"{url}/calls", content=body, headers={"X-ZT-Timestamp": stale, "X-ZT-Signature": stale_signature}
        )
    assert [forged.status_code, replayed.status_code, moved.status_code] == [401, 401, 401]
    assert peer.received == []


@pytest.mark.parametrize(("mode", "reason"), [("fail", "http 503"), ("hang", "Timeout")])
async def test_a_failing_or_hanging_bridge_fails_the_send_within_the_timeout(
    settings: Settings, bridge: tuple[Bridge, str], mode: str, reason: str
) -> None:
    peer, url = bridge
    peer.mode = mode
    started = time.monotonic()

    with pytest.raises(DeliveryFailed) as failed:
        await _gateway(settings, url).send_sms("+8613900000001", "t", "正文", {})

    assert failed.value.reason == reason
    assert time.monotonic() - started < 2.5


async def test_a_notice_by_sms_goes_through_the_bridge_and_a_hang_is_recorded(
    app: object, context: AppContext, settings: Settings, bridge: tuple[Bridge, str]
) -> None:
    peer, url = bridge
    peer.mode = "hang"
    zhang = await create_member(context, name="张明")
    context.sms = _gateway(settings, url)
    async with context.db.transaction() as session:
        await notify_people(
            session,
            context,
            [zhang.account_id],
            kind="maintenance",
            subject=SUBJECT,
            body=BODY,
            channels=["sms"],
        )

    started = time.monotonic()
    await run_jobs(context)

    assert time.monotonic() - started < 5
    sms = (await deliveries(context, zhang.account_id))["sms"]
    assert (sms.result, sms.detail, sms.attempts, sms.waiting) == ("queued", "Timeout", 1, True)
