"""The admin console's endpoints for the organisation's apps (/api/v1/org/apps)."""

from __future__ import annotations

from fastapi import APIRouter

from zhengtong.apps import schemas, service
from zhengtong.org.access import admin_scope
from zhengtong.org.models import AdminDuty
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession

router = APIRouter(tags=["apps"])


@router.post("/org/apps", response_model=schemas.AppWithSecret, status_code=201)
async def create_app(
    body: schemas.AppCreate, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.AppWithSecret:
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, "apps")
    app, secret = await service.create_app(
        session,
        context,
        scope,
        name=body.name,
        description=body.description,
        actor_id=caller.account_id,
        ip=ip,
    )
    return schemas.AppWithSecret(**schemas.AppRead.model_validate(app).model_dump(), app_secret=secret)


@router.get("/org/apps", response_model=list[schemas.AppRead])
async def list_apps(caller: CurrentCaller, session: DbSession) -> list[schemas.AppRead]:
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, "apps")
    return [schemas.AppRead.model_validate(app) for app in await service.list_apps(session, scope)]


@router.post("/org/apps/{app_id}/secret", response_model=schemas.AppWithSecret)
async def rotate_app_secret(
    app_id: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.AppWithSecret:
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, "apps")
    app, secret = await service.rotate_secret(
        session, context, scope, app_id=app_id, actor_id=caller.account_id, ip=ip
    )
    return schemas.AppWithSecret(**schemas.AppRead.model_validate(app).model_dump(), app_secret=secret)


@router.put("/org/apps/{app_id}/disabled", response_model=schemas.AppRead)
async def set_app_disabled(
    app_id: str,
    body: schemas.AppDisabled,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.AppRead:
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, "apps")
    app = await service.set_disabled(
        session, context, scope, app_id=app_id, disabled=body.disabled, actor_id=caller.account_id, ip=ip
    )
    return schemas.AppRead.model_validate(app)
