"""Web Push (RFC 8030) with payload encryption (RFC 8291, aes128gcm, by pywebpush) signed with the
installation's VAPID key (vapid.py): one message to one browser's push service.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from py_vapid import VapidException
from pywebpush import WebPusher

from zhengtong.core.config import Settings
from zhengtong.platform.channels.vapid import Subscription, VapidKey, endpoint_refusal
from zhengtong.platform.notify import DeliveryFailed

TTL_SECONDS = 24 * 3600  # a notice still matters tomorrow; the push service drops it after that
_TITLE_CHARS, _BODY_CHARS = 100, 1000  # a push payload holds about 4 KB


class GoneSubscription(DeliveryFailed):
    """The push service no longer knows the subscription (404 or 410): delete it."""

    def __init__(self, status: int) -> None:
        super().__init__(f"http {status}")


def push_payload(title: str, text: str, params: dict[str, Any]) -> bytes:
    """What the service worker (frontend/public/sw.js) shows: title, body, the client path to
    open and the notice id as the notification's tag."""
    return json.dumps(
        {
            "title": title[:_TITLE_CHARS],
            "body": text[:_BODY_CHARS],
            "link": str(params.get("link") or "/"),
            "tag": str(params.get("notice_id") or ""),
        },
        ensure_ascii=False,
    ).encode()


class WebPushSender:
    """Encrypts a payload for one subscription and posts it to its push service."""

    def __init__(self, settings: Settings, key: VapidKey) -> None:
        try:  # push services refuse a signature without the operator's contact: refuse to start
            key.authorization("https://push.invalid", settings.vapid_subject)
        except VapidException as error:
            raise ValueError(
                "ZT_VAPID_SUBJECT must be mailto:someone@example.gov.cn or an https:// URL"
            ) from error
        self.settings = settings
        self.key = key
        self.timeout = float(settings.notify_timeout_seconds)

    async def send(self, subscription: Subscription, data: bytes, *, urgent: bool = False) -> None:
        if endpoint_refusal(self.settings, subscription.endpoint):
            raise DeliveryFailed("EndpointRefused")
        info = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
        body = WebPusher(info).encode(data, "aes128gcm")["body"]
        headers = {
            "Authorization": self.key.authorization(subscription.endpoint, self.settings.vapid_subject),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(TTL_SECONDS),
            "Urgency": "high" if urgent else "normal",
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                response = await client.post(subscription.endpoint, content=body, headers=headers)
        except httpx.TimeoutException as error:
            raise DeliveryFailed("Timeout") from error
        except httpx.HTTPError as error:
            raise DeliveryFailed(type(error).__name__) from error
        if response.status_code in (404, 410):
            raise GoneSubscription(response.status_code)
        if not response.is_success:
            raise DeliveryFailed(f"http {response.status_code}")
