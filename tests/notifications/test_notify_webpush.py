"""Web Push against a local push service that records what it receives: a browser's subscription
is made exactly as a browser makes one (a P-256 key pair and a 16-byte auth secret), the request
is decrypted here by the RFC 8291 / RFC 8188 steps written out independently of the sender, and
its VAPID signature (RFC 8292) is verified with the public key the API hands to browsers. A
subscription the push service forgets (404, 410) or whose login ended is deleted; the API keeps
one subscription per login session and refuses malformed ones."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from notify_world import (
    BODY,
    SUBJECT,
    Browser,
    Client,
    MakeClient,
    b64url,
    deliveries,
    logged_in,
    run_jobs,
    unb64url,
)
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from helpers import create_member, serve_in_process
from zhengtong.core.context import AppContext
from zhengtong.notifications.models import Notice, PushSubscription
from zhengtong.notifications.notices import notify_people
from zhengtong.notifications.push_provider import WebPushProvider
from zhengtong.platform.channels.vapid import load_vapid_key
from zhengtong.platform.channels.webpush import WebPushSender


def vapid_claims(authorization: str, public_key: str) -> dict[str, Any]:
    """Verifies `vapid t=<JWT>,k=<key>` (ES256 over header.claims) and returns the claims."""
    scheme, _, parameters = authorization.partition(" ")
    values = dict(part.split("=", 1) for part in parameters.split(","))
    assert scheme == "vapid" and values["k"] == public_key
    header, claims, signature = values["t"].split(".")
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises when forged
    assert json.loads(unb64url(header)) == {"typ": "JWT", "alg": "ES256"}
    decoded: dict[str, Any] = json.loads(unb64url(claims))
    return decoded


@dataclass
class PushService:
    """Records each push; answers 201, or what `answers` says for an endpoint's token."""

    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)

    async def take(self, request: Request) -> Response:
        token = request.path_params["token"]
        self.received.append((token, dict(request.headers), await request.body()))
        return Response(status_code=self.answers.get(token, 201))


@pytest.fixture
async def push_service() -> AsyncIterator[tuple[PushService, str]]:
    service = PushService()
    app = Starlette(routes=[Route("/push/{token}", service.take, methods=["POST"])])
    async with serve_in_process(app) as address:
        yield service, f"http://{address}"


def _use_web_push(context: AppContext) -> None:
    context.push = WebPushProvider(context.db, WebPushSender(context.settings, context.vapid))


async def _notify(context: AppContext, account_id: str, *, urgent: bool = False) -> None:
    async with context.db.transaction() as session:
        await notify_people(
            session,
            context,
            [account_id],
            kind="maintenance",
            subject=SUBJECT,
            body=BODY,
            channels=["push"],
            link="/notices",
            urgent=urgent,
        )


async def _subscribe(client: Client, browser: Browser, endpoint: str) -> None:
    answer = await client.post("/push/subscriptions", browser.subscription(endpoint))
    assert answer.status_code == 201, answer.text


async def test_a_push_is_encrypted_for_the_browser_and_signed_with_the_vapid_key(
    app: object, context: AppContext, make_client: MakeClient, push_service: tuple[PushService, str]
) -> None:
    # given: 张明's browser subscribed with the key the API gives browsers
    service, base = push_service
    zhang = await create_member(context, name="张明")
    client = await logged_in(context, make_client, zhang)
    public_key = (await client.get("/push/vapid-public-key")).json()["public_key"]
    browser = Browser()
    await _subscribe(client, browser, f"{base}/push/zhang-1")
    _use_web_push(context)

    # when
    await _notify(context, zhang.account_id, urgent=True)
    await run_jobs(context)

    # then: the push service got ciphertext only, which the browser's key opens
    [(token, headers, body)] = service.received
    assert token == "zhang-1"
    assert "系统维护".encode() not in body and b"maintenance" not in body
    assert headers["content-encoding"] == "aes128gcm"
    assert (headers["ttl"], headers["urgency"]) == ("86400", "high")
    async with context.db.transaction() as session:
        notice_id = await session.scalar(select(Notice.id))
    assert json.loads(browser.decrypt(body)) == {
        "title": SUBJECT["zh-CN"],
        "body": BODY["zh-CN"],
        "link": "/notices",
        "tag": notice_id,
    }
    claims = vapid_claims(headers["authorization"], public_key)
    assert claims["aud"] == base and claims["sub"] == context.settings.vapid_subject
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    push = (await deliveries(context, zhang.account_id))["push"]
    assert (push.result, push.attempts) == ("sent", 1)


async def test_a_subscription_the_push_service_forgot_is_deleted(
    app: object, context: AppContext, make_client: MakeClient, push_service: tuple[PushService, str]
) -> None:
    # given: two browsers of 张明; the push service has forgotten the first (410)
    service, base = push_service
    service.answers["old"] = 410
    zhang = await create_member(context, name="张明")
    await _subscribe(await logged_in(context, make_client, zhang), Browser(), f"{base}/push/old")
    await _subscribe(await logged_in(context, make_client, zhang), Browser(), f"{base}/push/new")
    _use_web_push(context)

    # when
    await _notify(context, zhang.account_id)
    await run_jobs(context)

    # then: the notice reached the second browser, and the first subscription is gone
    assert sorted(token for token, _, _ in service.received) == ["new", "old"]
    assert (await deliveries(context, zhang.account_id))["push"].result == "sent"
    async with context.db.transaction() as session:
        left = await session.scalars(select(PushSubscription.endpoint))
        assert list(left) == [f"{base}/push/new"]


async def test_no_push_goes_to_a_browser_that_logged_out(
    app: object, context: AppContext, make_client: MakeClient, push_service: tuple[PushService, str]
) -> None:
    service, base = push_service
    zhang = await create_member(context, name="张明")
    client = await logged_in(context, make_client, zhang)
    await _subscribe(client, Browser(), f"{base}/push/zhang")
    assert (await client.post("/auth/logout")).status_code == 204
    _use_web_push(context)

    await _notify(context, zhang.account_id)
    await run_jobs(context)

    assert service.received == []
    assert (await deliveries(context, zhang.account_id))["push"].result == "no_address"
    async with context.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PushSubscription)) == 0


async def test_one_subscription_per_login_and_unsubscribing(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    zhang = await create_member(context, name="张明")
    client = await logged_in(context, make_client, zhang)
    assert (await client.get("/notifications/preferences")).json()["push_this_browser"] is False

    await _subscribe(client, Browser(), "https://push.example.com/send/first")
    await _subscribe(client, Browser(), "https://push.example.com/send/second")  # the browser renewed it

    assert (await client.get("/notifications/preferences")).json()["push_this_browser"] is True
    async with context.db.transaction() as session:
        assert list(await session.scalars(select(PushSubscription.endpoint))) == [
            "https://push.example.com/send/second"
        ]
    assert (await client.delete("/push/subscriptions/current")).status_code == 204
    assert (await client.get("/notifications/preferences")).json()["push_this_browser"] is False


@pytest.mark.parametrize(
    ("endpoint", "keys", "code", "detail"),
    [
        (
            "https://push.example.com/x",
            {"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": b64url(os.urandom(16))},
            "notifications.push_subscription_invalid",
            {"field": "p256dh"},
        ),
        (
            "https://push.example.com/x",
            {"p256dh": b64url(Browser().public_point), "auth": b64url(os.urandom(15))},
            "notifications.push_subscription_invalid",
            {"field": "auth"},
        ),
        ("http://push.example.com/x", None, "notifications.push_endpoint_refused", {"reason": "scheme"}),
        ("ftp://127.0.0.1/x", None, "notifications.push_endpoint_refused", {"reason": "scheme"}),
    ],
)
async def test_a_malformed_subscription_is_refused(
    app: object,
    context: AppContext,
    make_client: MakeClient,
    endpoint: str,
    keys: dict[str, str] | None,
    code: str,
    detail: dict[str, str],
) -> None:
    client = await logged_in(context, make_client, await create_member(context, name="张明"))
    body = Browser().subscription(endpoint)
    body["keys"] = keys or body["keys"]

    refused = await client.post("/push/subscriptions", body)

    assert (refused.status_code, refused.json()["code"], refused.json()["detail"]) == (422, code, detail)
    async with context.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PushSubscription)) == 0


async def test_the_operator_may_restrict_push_services(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    context.settings = context.settings.with_overrides(push_allowed_hosts=("push.zt.example.gov.cn",))
    client = await logged_in(context, make_client, await create_member(context, name="张明"))

    refused = await client.post(
        "/push/subscriptions", Browser().subscription("https://fcm.example.com/send/1")
    )
    allowed = await client.post(
        "/push/subscriptions", Browser().subscription("https://push.zt.example.gov.cn/1")
    )

    assert (refused.status_code, refused.json()["detail"]) == (422, {"reason": "host"})
    assert allowed.status_code == 201


def test_the_vapid_key_is_made_once_and_kept_private(tmp_path: Any) -> None:
    path = tmp_path / "vapid.key"
    first = load_vapid_key(None, path)
    again = load_vapid_key(None, path)
    configured = load_vapid_key(b64url((7).to_bytes(32, "big")), path)

    assert first.public_key == again.public_key != configured.public_key
    assert len(unb64url(first.public_key)) == 65
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError, match="ZT_VAPID_PRIVATE_KEY"):
        load_vapid_key("not-a-key", path)
