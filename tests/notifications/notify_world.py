"""People and peers for the notification tests: members with an organisation e-mail, logged-in
clients, deliveries as the database holds them, the job runner, providers that fail or hang on
purpose, and a browser's side of a Web Push subscription."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select, update

from helpers import Member, create_member, csrf_headers, login
from zhengtong.core.context import AppContext
from zhengtong.notifications.models import Notice, NoticeDelivery
from zhengtong.org.models import Membership
from zhengtong.platform.jobs import JobRunner
from zhengtong.platform.notify import DeliveryFailed

MakeClient = Callable[..., httpx.AsyncClient]
API = "/api/v1"
SUBJECT = {"zh-CN": "系统维护通知", "en": "Maintenance notice"}
BODY = {
    "zh-CN": "本周六 22:00 至 24:00 系统维护，请提前保存工作。",
    "en": "Maintenance on Saturday 22:00-24:00.",
}


async def member_with_email(
    context: AppContext, name: str, org_name: str = "某市税务局"
) -> tuple[Member, str]:
    member = await create_member(context, org_name=org_name, name=name)
    email = f"{member.account_id[-8:].lower()}@shuiwu.example.gov.cn"
    async with context.db.transaction() as session:
        await session.execute(
            update(Membership).where(Membership.id == member.membership_id).values(org_email=email)
        )
    return member, email


@dataclass
class Client:
    """A logged-in browser."""

    http: httpx.AsyncClient

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(f"{API}{path}")

    async def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.put(f"{API}{path}", json=body, headers=csrf_headers(self.http))

    async def patch(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.patch(f"{API}{path}", json=body, headers=csrf_headers(self.http))

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(f"{API}{path}", json=body or {}, headers=csrf_headers(self.http))

    async def delete(self, path: str) -> httpx.Response:
        return await self.http.delete(f"{API}{path}", headers=csrf_headers(self.http))


async def logged_in(context: AppContext, make_client: MakeClient, member: Member) -> Client:
    http = make_client()
    await login(http, context, member.mobile)
    return Client(http)


@dataclass(frozen=True)
class Delivery:
    channel: str
    result: str
    detail: str
    attempts: int
    waiting: bool  # a later attempt is planned (not_before set)
    fallback_from: str


async def deliveries(context: AppContext, account_id: str) -> dict[str, Delivery]:
    """channel → the delivery of the person's (only) notice."""
    async with context.db.transaction() as session:
        rows = await session.scalars(
            select(NoticeDelivery)
            .join(Notice, Notice.id == NoticeDelivery.notice_id)
            .where(Notice.account_id == account_id)
        )
        return {
            row.channel: Delivery(
                row.channel,
                row.result,
                row.detail,
                row.attempts,
                row.not_before is not None,
                row.fallback_from,
            )
            for row in rows
        }


async def run_jobs(context: AppContext) -> int:
    """Runs every due job to the end, here and now."""
    return await JobRunner(context).run_until_idle()


class Recorder:
    """A provider for every channel that records what it was given, fails the first `failures`
    calls and hangs when told to."""

    def __init__(self, *, failures: int = 0, hang: bool = False) -> None:
        self.failures = failures
        self.hang = hang
        self.sent: list[tuple[str, str, str]] = []  # (channel, to, text)

    async def _take(self, channel: str, to: str, text: str) -> None:
        if self.hang:
            await asyncio.sleep(3600)
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryFailed("http 503")
        self.sent.append((channel, to, text))

    async def send_sms(self, mobile: str, template: str, text: str, params: dict[str, Any]) -> None:
        await self._take("sms", mobile, text)

    async def send_email(
        self, address: str, template: str, subject: str, text: str, params: dict[str, Any]
    ) -> None:
        await self._take("email", address, text)

    async def send_push(
        self, account_id: str, template: str, title: str, text: str, params: dict[str, Any]
    ) -> None:
        await self._take("push", account_id, text)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


@dataclass
class Browser:
    """A browser's side of a subscription: its key pair and auth secret, as PushManager makes them."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def public_point(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def subscription(self, endpoint: str) -> dict[str, Any]:
        return {
            "endpoint": endpoint,
            "keys": {"p256dh": b64url(self.public_point), "auth": b64url(self.auth_secret)},
        }

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 §3.4 (the key) and RFC 8188 §2 (aes128gcm, one record)."""
        salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        sender_point, ciphertext = body[21 : 21 + id_length], body[21 + id_length :]
        assert len(ciphertext) <= record_size
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_point)
        shared = self.private_key.exchange(ec.ECDH(), sender)
        key_info = b"WebPush: info\x00" + self.public_point + sender_point
        ikm = _hmac(_hmac(self.auth_secret, shared), key_info + b"\x01")
        prk = _hmac(salt, ikm)
        content_key = _hmac(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
        nonce = _hmac(prk, b"Content-Encoding: nonce\x00\x01")[:12]
        padded = AESGCM(content_key).decrypt(nonce, ciphertext, None).rstrip(b"\x00")
        assert padded[-1:] == b"\x02", "the last record ends with the delimiter 2"
        return padded[:-1]
