"""The policy gate: while the latest major version of the privacy policy is newer than the last
version an account acknowledged, its calls are refused with `privacy.consent.policy_ack_required`
(428, the version in the detail) and change nothing.

It sits in one place, `web.auth.require_caller`, which every route for a fully logged-in caller
goes through, so a new route is gated without doing anything. (A dependency added to every router
would also resolve the caller for public routes such as the login endpoints, and with it the
CSRF check, changing what they answer.) The WebSocket checks it at connect and at each ping (realtime.py).

Let through: the routes marked `@open_through(Gate.POLICY)` (zhengtong.web.gates) — reading and
acknowledging the policy, /me (so the client can tell who is logged in), choosing the interface
language (to read the policy in it), logging out, and what someone who does not accept the new
version needs to leave: exporting their data (with the job's progress) and cancelling their
account. Public routes, static files and /healthz have no caller and are never gated.
"""

from __future__ import annotations

import time

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.privacy.consent import errors, policy
from zhengtong.web.gates import Gate, is_open_through

LATEST_MAJOR_SECONDS = 5.0
_ACKNOWLEDGED_KEY = "privacy.consent.acknowledged"
_ACKNOWLEDGED_ENTRIES = 100_000  # remembered accounts per process; forgotten all at once beyond


async def check_policy_gate(request: Request, session: AsyncSession, caller: Caller) -> None:
    if is_open_through(getattr(request.scope.get("route"), "endpoint", None), Gate.POLICY):
        return
    await require_policy_acknowledged(session, request.app.state.context, caller.account_id)


async def require_policy_acknowledged(session: AsyncSession, context: AppContext, account_id: str) -> None:
    """Asked on every request, so answered from memory when it can be: the latest major version
    (cached for a few seconds per process, forgotten at once by the process that publishes) and the
    accounts known to have acknowledged it. An acknowledgement is never withdrawn, so a remembered
    one cannot let anybody through wrongly; another process starts blocking on a new major version
    within `LATEST_MAJOR_SECONDS`."""
    latest = await _latest_major(session, context)
    if latest is None:
        return
    acknowledged: dict[str, int] = context.extras.setdefault(_ACKNOWLEDGED_KEY, {})
    if acknowledged.get(account_id, 0) >= latest:
        return
    required = await policy.required_version(session, account_id)
    if required is not None:
        raise AppError(errors.POLICY_ACK_REQUIRED, {"version": required})
    if len(acknowledged) >= _ACKNOWLEDGED_ENTRIES:
        acknowledged.clear()
    acknowledged[account_id] = latest


async def _latest_major(session: AsyncSession, context: AppContext) -> int | None:
    cached = context.extras.get(policy.LATEST_MAJOR_KEY)
    if cached is not None and time.monotonic() - cached[0] < LATEST_MAJOR_SECONDS:
        return cached[1]  # type: ignore[no-any-return]
    latest = await policy.latest_major_version(session)
    context.extras[policy.LATEST_MAJOR_KEY] = (time.monotonic(), latest)
    return latest
