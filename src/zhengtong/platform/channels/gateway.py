"""SMS and voice calls through an HTTP gateway: a small bridge the operator runs in front of their
carrier (China Mobile 云MAS, Aliyun, a local SMPP centre). The protocol is in docs/gateway.md:

    POST {base}/sms          {"to", "text", "template", "params"}      → 2xx
    POST {base}/calls        {"to", "text", "template", "params"}      → {"call_id"}
    GET  {base}/calls/{id}                                              → {"status"}

Every request carries `X-ZT-Timestamp` (Unix seconds) and `X-ZT-Signature: sha256=<hex>`, an
HMAC-SHA256 with the shared secret over "timestamp\\nMETHOD\\npath\\n" followed by the body, where
path is relative to the base ("/sms"): a signed SMS cannot be replayed as a call, and the bridge
refuses timestamps more than five minutes off. `X-ZT-Request-Id` is unique per request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote

import httpx

from zhengtong.core.config import Settings
from zhengtong.core.ids import new_id
from zhengtong.platform.notify import CallStatus, DeliveryFailed
from zhengtong.privacy.scan.residency import check_outgoing

TIMESTAMP_HEADER = "X-ZT-Timestamp"
SIGNATURE_HEADER = "X-ZT-Signature"
REQUEST_ID_HEADER = "X-ZT-Request-Id"


def signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """The value of X-ZT-Signature (what a bridge recomputes to check a request)."""
    message = f"{timestamp}\n{method}\n{path}\n".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class GatewayProvider:
    """SmsProvider and VoiceProvider over the gateway protocol."""

    def __init__(self, settings: Settings) -> None:
        if not settings.sms_gateway_url.startswith(("http://", "https://")):
            raise ValueError("ZT_SMS_GATEWAY_URL must be the bridge's http(s):// base URL")
        if len(settings.sms_gateway_secret) < 16:
            raise ValueError("ZT_SMS_GATEWAY_SECRET must be set, at least 16 characters")
        self.settings = settings
        self.base = settings.sms_gateway_url.rstrip("/")
        self.secret = settings.sms_gateway_secret
        self.timeout = float(settings.notify_timeout_seconds)

    async def send_sms(self, mobile: str, template: str, text: str, params: dict[str, Any]) -> None:
        await self._request("POST", "/sms", _message(mobile, template, text, params))

    async def place_call(self, mobile: str, template: str, text: str, params: dict[str, Any]) -> str:
        answer = await self._request("POST", "/calls", _message(mobile, template, text, params))
        call_id = answer.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            raise DeliveryFailed("BadAnswer")
        return call_id

    async def call_status(self, call_id: str) -> CallStatus:
        answer = await self._request("GET", f"/calls/{quote(call_id, safe='')}", None)
        try:
            return CallStatus(str(answer.get("status")))
        except ValueError as error:
            raise DeliveryFailed("BadAnswer") from error

    async def _request(self, method: str, path: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        url = self.base + path
        check_outgoing(self.settings, url)
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self.secret, timestamp, method, path, body),
            REQUEST_ID_HEADER: new_id(),
        }
        if payload is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                response = await client.request(method, url, content=body or None, headers=headers)
        except httpx.TimeoutException as error:
            raise DeliveryFailed("Timeout") from error
        except httpx.HTTPError as error:
            raise DeliveryFailed(type(error).__name__) from error
        if not response.is_success:
            raise DeliveryFailed(f"http {response.status_code}")
        return _json_object(response)


def _message(mobile: str, template: str, text: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"to": mobile, "text": text, "template": template, "params": params}


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; an empty body (an SMS accepted with 204) is an empty one."""
    if not response.content:
        return {}
    try:
        answer = response.json()
    except ValueError as error:
        raise DeliveryFailed("BadAnswer") from error
    if not isinstance(answer, dict):
        raise DeliveryFailed("BadAnswer")
    return answer
