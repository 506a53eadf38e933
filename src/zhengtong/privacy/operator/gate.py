"""Collection stops at the shutdown date: one gate in front of every route.

From the moment the operator's shutdown takes effect, every request that could bring new data in
(POST, PUT, PATCH) is refused with `privacy.operator.service_shutting_down` — sign-ups, member
additions, messages, uploads, SCIM provisioning, the open API, and whatever route is added later —
except the routes marked `@open_through(Gate.COLLECTION)` (zhengtong.web.gates): what lets people
leave with their data or finish — logging in and out, reading notices, exporting, requests for
correction or deletion, cancelling an account or deregistering an organisation — and the
operator's own shutdown work. Reading and deleting are always allowed. Granting a consent,
uploading contacts or recording a disclosure are collection, and stop.

The gate is a dependency of every router the application includes (app.create_app), so it covers
routes of every domain, public ones included, without each declaring it; it runs after routing, so
it reads the route's own mark.
"""

from __future__ import annotations

from fastapi import Request

from zhengtong.core.errors import AppError
from zhengtong.privacy.operator.errors import SERVICE_SHUTTING_DOWN
from zhengtong.privacy.operator.shutdown import collection_stopped
from zhengtong.web.gates import Gate, is_open_through

_READING = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


async def check_collection_gate(request: Request) -> None:
    if request.method in _READING:
        return
    route = request.scope.get("route")
    if is_open_through(getattr(route, "endpoint", None), Gate.COLLECTION):
        return
    if await collection_stopped(request.app.state.context):
        raise AppError(SERVICE_SHUTTING_DOWN)
