"""HTTP endpoints of privacy.erasure: deregistering the caller's current organisation.

Removing a member is `DELETE /api/v1/org/members/{id}` (org.api), which erases through
privacy.erasure.service.erase_member."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.context import AppContext
from zhengtong.privacy.erasure import deregistration
from zhengtong.privacy.erasure.schemas import (
    DeregistrationCodeSent,
    DeregistrationRead,
    DeregistrationRequest,
)
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession

router = APIRouter(tags=["privacy"])


async def _read(session: AsyncSession, context: AppContext, caller: Caller) -> DeregistrationRead:
    status = await deregistration.get_status(session, context, caller)
    return DeregistrationRead.model_validate(status)


@router.get("/org/deregistration", response_model=DeregistrationRead)
async def get_deregistration(
    caller: CurrentCaller, session: DbSession, context: Context
) -> DeregistrationRead:
    """Whether the organisation is being deregistered and when its data will be purged."""
    return await _read(session, context, caller)


@router.post("/org/deregistration/code", response_model=DeregistrationCodeSent)
async def send_deregistration_code(
    caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> DeregistrationCodeSent:
    """Sends the main admin the SMS code that confirms a deregistration."""
    sent, masked = await deregistration.send_code(session, context, caller, ip=ip)
    return DeregistrationCodeSent(
        cooldown_seconds=sent.cooldown_seconds,
        expires_in_seconds=sent.expires_in_seconds,
        mobile_masked=masked,
    )


@router.post("/org/deregistration", response_model=DeregistrationRead, status_code=201)
async def request_deregistration(
    body: DeregistrationRequest, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> DeregistrationRead:
    """The main admin asks to deregister the organisation (its name typed, the SMS code given);
    the purge follows the cooling-off period."""
    await deregistration.request_deregistration(
        session, context, caller, org_name=body.org_name, code=body.code, ip=ip
    )
    return await _read(session, context, caller)


@router.delete("/org/deregistration", response_model=DeregistrationRead)
async def cancel_deregistration(
    caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> DeregistrationRead:
    """The main admin cancels during the cooling-off period."""
    await deregistration.cancel_deregistration(session, context, caller, ip=ip)
    return await _read(session, context, caller)
