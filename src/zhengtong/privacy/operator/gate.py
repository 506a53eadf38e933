"""Collection stops at the shutdown date: one gate in front of every route.

From the moment the operator's shutdown takes effect, every request that could bring new data in
(POST, PUT, PATCH) is refused with `privacy.operator.service_shutting_down` — sign-ups, member
additions, messages, uploads, SCIM provisioning, and whatever route is added later — except
what lets people leave with their data or finish: logging in and out, reading notices, exporting,
requests for correction or deletion, cancelling an account or deregistering an organisation, deleting
(DELETE is always allowed), and the operator's own console. Granting a consent, uploading contacts or
recording a disclosure are collection, and stop. The gate is path-based middleware so that it covers
routes of every domain, public ones included, without each declaring it.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from zhengtong.privacy.operator.errors import SERVICE_SHUTTING_DOWN
from zhengtong.privacy.operator.shutdown import collection_stopped

_READING = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
# Writes that stay possible after collection stopped: they take nothing new from anyone.
STILL_ALLOWED_PREFIXES = (
    "/api/v1/auth/",  # log in to fetch an export, log out
    "/api/v1/me/current-org",
    "/api/v1/me/language",
    "/api/v1/notices",  # mark notices read
    "/api/v1/jobs/",  # cancel one's job
    "/api/v1/privacy/exports",  # the person takes their data with them …
    "/api/v1/privacy/requests",  # … asks for correction or deletion …
    "/api/v1/privacy/request-notices",
    "/api/v1/privacy/admin/requests",  # … and the organisation answers
    "/api/v1/privacy/account/cancellation",
    "/api/v1/privacy/policy/",  # acknowledging the policy
    "/api/v1/privacy/notices/",
    "/api/v1/org/export",  # an organisation takes its data with it …
    "/api/v1/org/deregistration",  # … or leaves before the purge
    "/api/v1/operator/",  # the operator finishes the shutdown …
)
STILL_REFUSED = (("POST", "/api/v1/operator/organizations"),)  # … but opens no organisation


def still_allowed(method: str, path: str) -> bool:
    if method in _READING:
        return True
    if (method, path.rstrip("/")) in STILL_REFUSED:
        return False
    return path.startswith(STILL_ALLOWED_PREFIXES)


class CollectionGate:
    """ASGI middleware: refuses collecting requests once the shutdown date has come."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or still_allowed(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        context = getattr(scope["app"].state, "context", None)
        if context is None or not await collection_stopped(context):
            await self.app(scope, receive, send)
            return
        await _refuse(scope, send)


async def _refuse(scope: Scope, send: Send) -> None:
    language = "zh"
    for key, value in scope.get("headers", ()):
        if key == b"accept-language" and value.decode("latin-1").lower().startswith("en"):
            language = "en"
    body = orjson.dumps(
        {
            "code": SERVICE_SHUTTING_DOWN.code,
            "message": SERVICE_SHUTTING_DOWN.message(language),
            "detail": None,
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": SERVICE_SHUTTING_DOWN.status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
