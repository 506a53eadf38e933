"""Invitation links: admins create them and decide requests; anyone with a valid link asks to join."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema
from zhengtong.org import invites
from zhengtong.org.access import admin_scope
from zhengtong.org.models import AdminDuty
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession

router = APIRouter(tags=["org"])


class InviteCreate(InputSchema):
    department_id: str = Field(min_length=1, max_length=26)
    valid_days: int = Field(default=7, ge=1, le=90)


class InviteCreated(OutputSchema):
    id: str
    token: str
    join_path: str  # the client turns it into a link and a QR
    expires_at: datetime


class InvitePublic(OutputSchema):
    organization_name: str
    department_name: str
    expires_at: datetime


class JoinCodeIn(InputSchema):
    mobile: str = Field(min_length=1, max_length=32)


class JoinIn(InputSchema):
    mobile: str = Field(min_length=1, max_length=32)
    code: str = Field(min_length=1, max_length=12)
    name: str = Field(min_length=1, max_length=100)


class JoinRequestRead(OutputSchema):
    id: str
    name: str
    mobile_masked: str
    status: str
    created_at: datetime


class DecisionIn(InputSchema):
    approve: bool


@router.post("/org/invites", response_model=InviteCreated, status_code=201)
async def create_invite(
    body: InviteCreate, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> InviteCreated:
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, "members")
    created = await invites.create_invite(
        session,
        context,
        scope,
        department_id=body.department_id,
        valid_days=body.valid_days,
        actor_id=caller.account_id,
        ip=ip,
    )
    return InviteCreated(
        id=created.invite.id,
        token=created.token,
        join_path=f"/join/{created.token}",
        expires_at=created.invite.expires_at,
    )


@router.delete("/org/invites/{invite_id}", status_code=204)
async def revoke_invite(invite_id: str, caller: CurrentCaller, session: DbSession) -> Response:
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, "members")
    await invites.revoke_invite(session, scope, invite_id=invite_id)
    return Response(status_code=204)


@router.get("/org/join-requests", response_model=list[JoinRequestRead])
async def list_join_requests(
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    status: Literal["pending", "approved", "rejected"] = Query(default="pending"),
) -> list[JoinRequestRead]:
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, "members")
    requests = await invites.list_join_requests(session, scope, status=status)
    return [
        JoinRequestRead(
            id=r.id,
            name=r.name,
            mobile_masked=invites.masked_mobile_of(context, r),
            status=r.status,
            created_at=r.created_at,
        )
        for r in requests
    ]


@router.post("/org/join-requests/{request_id}/decision", status_code=204)
async def decide_join_request(
    request_id: str,
    body: DecisionIn,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> Response:
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, "members")
    await invites.decide_join_request(
        session,
        context,
        scope,
        request_id=request_id,
        approve=body.approve,
        actor_id=caller.account_id,
        ip=ip,
    )
    return Response(status_code=204)


# Public: the join page ----------------------------------------------------------------------
@router.get("/join/{token}", response_model=InvitePublic)
async def open_invite(token: str, session: DbSession, context: Context) -> InvitePublic:
    info = await invites.open_invite(session, context, token)
    return InvitePublic(
        organization_name=info.organization.name,
        department_name=info.department.name,
        expires_at=info.invite.expires_at,
    )


@router.post("/join/{token}/code", status_code=204)
async def send_join_code(
    token: str, body: JoinCodeIn, session: DbSession, context: Context, ip: ClientIp
) -> Response:
    await invites.send_join_code(session, context, token=token, mobile=body.mobile, ip=ip)
    return Response(status_code=204)


@router.post("/join/{token}", status_code=202)
async def request_to_join(
    token: str, body: JoinIn, session: DbSession, context: Context, ip: ClientIp
) -> Response:
    await invites.request_to_join(
        session, context, token=token, mobile=body.mobile, code=body.code, name=body.name, ip=ip
    )
    return Response(status_code=202)
