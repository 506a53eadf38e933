"""ASGI middleware: request body limit, security headers and a de-identified access log."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhengtong.core.errors import REQUEST_TOO_LARGE

access_log = logging.getLogger("zhengtong.access")


class _BodyTooLarge(HTTPException):
    """Raised while the body is being read. An HTTPException, because FastAPI passes those through
    its body parsing (anything else becomes a generic 400) to the 413 handler."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


def _too_large_body(language: str) -> bytes:
    message = REQUEST_TOO_LARGE.message(language)
    return orjson.dumps({"code": REQUEST_TOO_LARGE.code, "message": message, "detail": None})


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


UPLOAD_SUFFIX = "/upload"


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413 before the handler reads a byte too many, whether
    the client announced the length or streams without one. File uploads (paths ending in
    UPLOAD_SUFFIX) get the larger upload limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language = "en" if _header(scope, b"accept-language").lower().startswith("en") else "zh"
        limit = (
            self.max_upload_bytes if str(scope.get("path", "")).endswith(UPLOAD_SUFFIX) else self.max_bytes
        )
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(send, language)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await self._refuse(send, language)

    @staticmethod
    async def _refuse(send: Send, language: str) -> None:
        body = _too_large_body(language)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        b"connect-src 'self' ws: wss:; frame-ancestors 'none'",
    ),
]


def path_template(scope: Scope) -> str:
    """The request path with its parameters put back as names (/api/v1/jobs/{job_id}), so ids
    that could lead to a person do not reach the log; unrouted paths are not logged verbatim."""
    if "route" not in scope:
        return "(unrouted)"
    path = str(scope.get("path", ""))
    for name, value in (scope.get("path_params") or {}).items():
        if value:
            path = path.replace(str(value), "{" + name + "}")
    return path


class AccessLogMiddleware:
    """One line per request: method, route template, status, duration and the caller's keyed
    pseudonym (set by authentication into scope['state']). No IP, no query string, no body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers: list[Any] = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            state = scope.get("state") or {}
            access_log.info(
                "%s %s %s %.1fms actor=%s",
                scope.get("method"),
                path_template(scope),
                status,
                (time.perf_counter() - started) * 1000,
                state.get("actor_pseudonym", "-"),
            )
