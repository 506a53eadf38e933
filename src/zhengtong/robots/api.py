"""The group robots' management endpoints (/api/v1/im/conversations/{id}/robots), for the group's
owner and admins and the organisation's admins. The webhook itself is in webhook.py."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from zhengtong.core.context import AppContext
from zhengtong.robots import schemas, service
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession

router = APIRouter(tags=["robots"])
ROBOTS = "/im/conversations/{conversation_id}/robots"


def _base_url(request: Request, context: AppContext) -> str:
    """Where robots reach the installation: ZT_PUBLIC_URL, else the address this request came to."""
    return (context.settings.public_url or str(request.base_url)).rstrip("/")


@router.get(ROBOTS, response_model=list[schemas.RobotRead])
async def list_robots(
    conversation_id: str, request: Request, caller: CurrentCaller, session: DbSession, context: Context
) -> list[schemas.RobotRead]:
    group = await service.access_group(session, caller, conversation_id)
    base_url = _base_url(request, context)
    return [
        service.robot_read(context, group, robot, base_url)
        for robot in await service.list_robots(session, group)
    ]


@router.post(ROBOTS, response_model=schemas.RobotRead, status_code=201)
async def add_robot(
    conversation_id: str,
    body: schemas.RobotCreate,
    request: Request,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.RobotRead:
    group = await service.access_group(session, caller, conversation_id)
    base_url = _base_url(request, context)
    robot = await service.add_robot(session, context, group, body, base_url=base_url, ip=ip)
    return service.robot_read(context, group, robot, base_url)


@router.patch(ROBOTS + "/{robot_id}", response_model=schemas.RobotRead)
async def update_robot(
    conversation_id: str,
    robot_id: str,
    body: schemas.RobotUpdate,
    request: Request,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.RobotRead:
    group = await service.access_group(session, caller, conversation_id)
    base_url = _base_url(request, context)
    robot = await service.update_robot(session, context, group, robot_id, body, base_url=base_url, ip=ip)
    return service.robot_read(context, group, robot, base_url)


@router.post(ROBOTS + "/{robot_id}/reset", response_model=schemas.RobotRead)
async def reset_robot_credentials(
    conversation_id: str,
    robot_id: str,
    body: schemas.RobotReset,
    request: Request,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.RobotRead:
    group = await service.access_group(session, caller, conversation_id)
    robot = await service.reset_credentials(session, context, group, robot_id, body, ip=ip)
    return service.robot_read(context, group, robot, _base_url(request, context))


@router.delete(ROBOTS + "/{robot_id}", status_code=204)
async def remove_robot(
    conversation_id: str,
    robot_id: str,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> Response:
    group = await service.access_group(session, caller, conversation_id)
    await service.remove_robot(session, context, group, robot_id, ip=ip)
    return Response(status_code=204)


@router.get(ROBOTS + "/{robot_id}/deliveries", response_model=list[schemas.RobotDeliveryRead])
async def list_robot_deliveries(
    conversation_id: str, robot_id: str, caller: CurrentCaller, session: DbSession
) -> list[schemas.RobotDeliveryRead]:
    group = await service.access_group(session, caller, conversation_id)
    return [
        schemas.RobotDeliveryRead.model_validate(row)
        for row in await service.list_deliveries(session, group, robot_id)
    ]
