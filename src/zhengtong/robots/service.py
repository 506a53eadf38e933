"""Managing a group's robots: who may (the group's owner and admins, and the organisation's
admins), adding, changing, removing them, replacing their credentials, and what their outgoing
calls did. Every credential is sealed with the organisation's data key; the webhook's token is
found by its keyed hash."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import FieldCipher
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.core.ids import new_id
from zhengtong.directory.visibility import actor_for
from zhengtong.im import content as sealing
from zhengtong.im import errors as im_errors
from zhengtong.im.models import Conversation, ConversationKind
from zhengtong.im.seats import seat_of
from zhengtong.org import errors as org_errors
from zhengtong.org.access import admin_scope
from zhengtong.org.models import AdminDuty, Organization
from zhengtong.platform import audit
from zhengtong.robots import errors, schemas
from zhengtong.robots.egress import url_refusal
from zhengtong.robots.models import Robot, RobotDelivery

DELIVERIES_SHOWN = 50
DELIVERIES_KEPT = timedelta(days=7)


@dataclass(frozen=True)
class ManagedGroup:
    """A group the caller may manage the robots of, and who they are."""

    conversation: Conversation
    organization: Organization
    membership_id: str
    account_id: str


# Sealed credentials -----------------------------------------------------------------------
def cipher_of(context: AppContext, organization: Organization) -> FieldCipher:
    return sealing.org_cipher(context, organization)


def token_index(context: AppContext, token: str) -> bytes:
    return context.keyring.blind_index("robot-token", token)


def seal(cipher: FieldCipher, purpose: str, robot_id: str, value: str) -> bytes:
    return sealing.seal_text(cipher, purpose, robot_id, value)


def unseal(cipher: FieldCipher, purpose: str, robot_id: str, sealed: bytes | None) -> str | None:
    return sealing.unseal_text(cipher, purpose, robot_id, sealed) if sealed is not None else None


def webhook_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/robot/send?access_token={token}"


# Who may manage ---------------------------------------------------------------------------
async def _is_org_admin(session: AsyncSession, caller: Caller) -> bool:
    """The main admin, or an admin with the system duty over the whole organisation."""
    try:
        scope = await admin_scope(session, caller, AdminDuty.SYSTEM, "apps")
    except AppError as error:
        if error.error is org_errors.NOT_AN_ADMIN:
            return False
        raise
    return scope.whole_org


async def access_group(session: AsyncSession, caller: Caller, conversation_id: str) -> ManagedGroup:
    """The group if the caller manages it or is an admin of its organisation; a member who does
    not manage it is refused, anyone else is told it does not exist."""
    actor = await actor_for(session, caller)
    try:
        seat = await seat_of(session, actor, conversation_id)
    except AppError as error:
        if error.error is not im_errors.NOT_IN_CONVERSATION:
            raise
        seat = None
    conversation = seat.conversation if seat else await session.get(Conversation, conversation_id)
    if conversation is None or conversation.org_id != actor.org_id:
        raise AppError(NOT_FOUND)
    if not (seat and seat.manages) and not await _is_org_admin(session, caller):
        raise AppError(errors.NOT_MANAGER if seat else NOT_FOUND)
    if conversation.kind == ConversationKind.DIRECT:
        raise AppError(im_errors.NOT_A_GROUP)
    if conversation.disbanded_at is not None:
        raise AppError(im_errors.CONVERSATION_DISBANDED)
    organization = await session.get(Organization, conversation.org_id)
    assert organization is not None
    return ManagedGroup(conversation, organization, actor.membership_id, actor.account_id)


async def _own_robot(session: AsyncSession, group: ManagedGroup, robot_id: str) -> Robot:
    robot = await session.get(Robot, robot_id)
    if robot is None or robot.conversation_id != group.conversation.id:
        raise AppError(NOT_FOUND)
    return robot


# Reading -----------------------------------------------------------------------------------
def robot_read(context: AppContext, group: ManagedGroup, robot: Robot, base_url: str) -> schemas.RobotRead:
    cipher = cipher_of(context, group.organization)
    return schemas.RobotRead(
        id=robot.id,
        conversation_id=robot.conversation_id,
        name=robot.name,
        avatar=robot.avatar,
        webhook_url=webhook_url(base_url, unseal(cipher, "robot-token", robot.id, robot.token_sealed) or ""),
        signature=robot.secret_sealed is not None,
        secret=unseal(cipher, "robot-secret", robot.id, robot.secret_sealed),
        keywords=list(robot.keywords or []),
        ip_allowlist=list(robot.ip_allowlist or []),
        rate_limit_per_minute=robot.rate_limit_per_minute,
        outgoing_enabled=robot.outgoing_enabled,
        outgoing_url=robot.outgoing_url,
        outgoing_token=unseal(cipher, "robot-outgoing-token", robot.id, robot.outgoing_token_sealed),
        disabled=robot.disabled_at is not None,
        created_at=robot.created_at,
    )


async def list_robots(session: AsyncSession, group: ManagedGroup) -> Sequence[Robot]:
    rows = await session.scalars(
        select(Robot).where(Robot.conversation_id == group.conversation.id).order_by(Robot.created_at)
    )
    return rows.all()


async def list_deliveries(
    session: AsyncSession, group: ManagedGroup, robot_id: str
) -> Sequence[RobotDelivery]:
    """The latest calls to the robot, newest first."""
    robot = await _own_robot(session, group, robot_id)
    rows = await session.scalars(
        select(RobotDelivery)
        .where(RobotDelivery.robot_id == robot.id)
        .order_by(RobotDelivery.created_at.desc(), RobotDelivery.id.desc())
        .limit(DELIVERIES_SHOWN)
    )
    return rows.all()


async def prune_deliveries(session: AsyncSession, robot_id: str) -> None:
    await session.execute(
        delete(RobotDelivery).where(
            RobotDelivery.robot_id == robot_id, RobotDelivery.created_at < utcnow() - DELIVERIES_KEPT
        )
    )


# Changing ----------------------------------------------------------------------------------
def _ip_ranges(entries: Sequence[str]) -> list[str]:
    try:
        return [str(ipaddress.ip_network(entry.strip(), strict=False)) for entry in entries]
    except ValueError as error:
        raise AppError(errors.IP_RANGE_INVALID) from error


def _keywords(entries: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(entry.strip() for entry in entries if entry.strip()))


def _check_outgoing(context: AppContext, robot: Robot) -> None:
    if not robot.outgoing_enabled:
        return
    refusal = url_refusal(context.settings, robot.outgoing_url)
    if refusal == "scheme":
        raise AppError(errors.OUTGOING_URL_INVALID)
    if refusal:
        raise AppError(errors.OUTGOING_URL_REFUSED, {"reason": refusal})


def _check_security(robot: Robot) -> None:
    if robot.secret_sealed is None and not robot.keywords and not robot.ip_allowlist:
        raise AppError(errors.NO_SECURITY)


def _new_token(context: AppContext, cipher: FieldCipher, robot: Robot) -> None:
    token = secrets.token_hex(32)  # 64 hex digits, like DingTalk's
    robot.token_index = token_index(context, token)
    robot.token_sealed = seal(cipher, "robot-token", robot.id, token)


def _new_secret(cipher: FieldCipher, robot: Robot) -> None:
    robot.secret_sealed = seal(cipher, "robot-secret", robot.id, "SEC" + secrets.token_hex(32))


def _new_outgoing_token(cipher: FieldCipher, robot: Robot) -> None:
    robot.outgoing_token_sealed = seal(cipher, "robot-outgoing-token", robot.id, secrets.token_urlsafe(24))


def _apply(context: AppContext, cipher: FieldCipher, robot: Robot, change: schemas.RobotUpdate) -> None:
    """Writes the given fields onto the robot, making the credentials that modes now need."""
    if change.name is not None:
        robot.name = change.name.strip()
    if change.avatar is not None:
        robot.avatar = change.avatar
    if change.signature is not None:
        if not change.signature:
            robot.secret_sealed = None
        elif robot.secret_sealed is None:
            _new_secret(cipher, robot)
    if change.keywords is not None:
        robot.keywords = _keywords(change.keywords)
    if change.ip_allowlist is not None:
        robot.ip_allowlist = _ip_ranges(change.ip_allowlist)
    if change.rate_limit_per_minute is not None:
        robot.rate_limit_per_minute = change.rate_limit_per_minute
    if change.outgoing_url is not None:
        robot.outgoing_url = change.outgoing_url.strip()
    if change.outgoing_enabled is not None:
        robot.outgoing_enabled = change.outgoing_enabled
        if change.outgoing_enabled and robot.outgoing_token_sealed is None:
            _new_outgoing_token(cipher, robot)
    if change.disabled is not None:
        robot.disabled_at = (robot.disabled_at or utcnow()) if change.disabled else None
    _check_security(robot)
    _check_outgoing(context, robot)


async def _flush_unique_name(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise AppError(errors.NAME_TAKEN) from error


async def add_robot(
    session: AsyncSession,
    context: AppContext,
    group: ManagedGroup,
    spec: schemas.RobotCreate,
    *,
    base_url: str,
    ip: str,
) -> Robot:
    """A new robot of the group, with its webhook token (and secret, and outgoing token, as its
    modes need them)."""
    cipher = cipher_of(context, group.organization)
    robot = Robot(
        id=new_id(),  # before sealing: the sealed credentials are bound to it
        org_id=group.conversation.org_id,
        conversation_id=group.conversation.id,
        created_by_membership_id=group.membership_id,
        keywords=[],
        ip_allowlist=[],
        base_url=base_url,
    )
    _new_token(context, cipher, robot)
    _apply(context, cipher, robot, schemas.RobotUpdate(**spec.model_dump()))
    session.add(robot)
    await _flush_unique_name(session)
    await _audit(session, context, group, "robots.created", robot, ip)
    return robot


async def update_robot(
    session: AsyncSession,
    context: AppContext,
    group: ManagedGroup,
    robot_id: str,
    change: schemas.RobotUpdate,
    *,
    base_url: str,
    ip: str,
) -> Robot:
    robot = await _own_robot(session, group, robot_id)
    _apply(context, cipher_of(context, group.organization), robot, change)
    robot.base_url = base_url
    await _flush_unique_name(session)
    await _audit(session, context, group, "robots.updated", robot, ip)
    return robot


async def reset_credentials(
    session: AsyncSession,
    context: AppContext,
    group: ManagedGroup,
    robot_id: str,
    which: schemas.RobotReset,
    *,
    ip: str,
) -> Robot:
    """New credentials where asked (a secret only in signature mode, an outgoing token only for
    an outgoing robot); the old ones stop working at once."""
    robot = await _own_robot(session, group, robot_id)
    cipher = cipher_of(context, group.organization)
    if which.token:
        _new_token(context, cipher, robot)
    if which.secret and robot.secret_sealed is not None:
        _new_secret(cipher, robot)
    if which.outgoing_token and robot.outgoing_token_sealed is not None:
        _new_outgoing_token(cipher, robot)
    await _audit(session, context, group, "robots.credentials_reset", robot, ip)
    return robot


async def remove_robot(
    session: AsyncSession, context: AppContext, group: ManagedGroup, robot_id: str, *, ip: str
) -> None:
    robot = await _own_robot(session, group, robot_id)
    await _audit(session, context, group, "robots.removed", robot, ip)
    await session.delete(robot)


async def _audit(
    session: AsyncSession, context: AppContext, group: ManagedGroup, action: str, robot: Robot, ip: str
) -> None:
    await audit.record(
        session,
        context.keyring,
        action=action,
        org_id=group.conversation.org_id,
        actor_id=group.account_id,
        object_type="robot",
        object_id=robot.id,
        ip=ip,
        detail={"conversation_id": robot.conversation_id},
    )
