"""Who is calling: a browser session (cookie + CSRF header) or an API client (bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from zhengtong.core.caller import Caller
from zhengtong.core.errors import AUTH_REQUIRED, AppError
from zhengtong.web.deps import Context, DbSession

SESSION_COOKIE = "zt_session"
CSRF_COOKIE = "zt_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def optional_caller(request: Request, context: Context, session: DbSession) -> Caller | None:
    from zhengtong.identity import service

    cookie_token = request.cookies.get(SESSION_COOKIE)
    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    token = bearer or cookie_token
    if not token:
        return None
    caller = await service.authenticate(session, context, token, via_cookie=bearer is None)
    if caller is None:
        return None
    if caller.via_cookie and request.method not in SAFE_METHODS:
        service.check_csrf(context, token, request.headers.get(CSRF_HEADER, ""))
    request.scope.setdefault("state", {})["actor_pseudonym"] = context.keyring.pseudonym(
        "access-log", caller.account_id
    )
    return caller


async def caller_any_stage(caller: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    """Logged in, possibly still owing the second factor (to set it up or to enter it)."""
    if caller is None:
        raise AppError(AUTH_REQUIRED)
    return caller


async def require_caller(
    request: Request, caller: Annotated[Caller, Depends(caller_any_stage)], session: DbSession
) -> Caller:
    """Fully logged in: second factor done where the account needs one, and the latest major
    version of the privacy policy acknowledged (the gate; privacy.consent.gate)."""
    from zhengtong.identity.errors import SECOND_FACTOR_REQUIRED
    from zhengtong.privacy.consent.gate import check_policy_gate

    if not caller.second_factor_done:
        raise AppError(SECOND_FACTOR_REQUIRED, {"stage": caller.second_factor_stage})
    await check_policy_gate(request, session, caller)
    return caller


CurrentCaller = Annotated[Caller, Depends(require_caller)]
PartialCaller = Annotated[Caller, Depends(caller_any_stage)]
MaybeCaller = Annotated[Caller | None, Depends(optional_caller)]
