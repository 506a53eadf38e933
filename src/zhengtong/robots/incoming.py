"""What a robot posts into its group: through its webhook (`/robot/send?access_token=…`, with the
security modes its managers chose) or through a session webhook an outgoing call handed it
(`/robot/sendBySession?session=…`). Each check refuses with a `Refusal` that webhook.py answers
in DingTalk's envelope; the caller's transaction then rolls back, so nothing is posted.

Order: the token, the robot and its group, the IP allow-list, the signature, the rate limit,
the size, the body, the keywords. Only then are the @mentions resolved — among the group's
members only — and the message posted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.identity import service as identity
from zhengtong.im import messages
from zhengtong.im.models import Conversation, ConversationMember, Message
from zhengtong.org.models import Membership, Organization
from zhengtong.platform.ratelimit import LimiterUnavailable
from zhengtong.robots import bodies, service
from zhengtong.robots.models import Robot

MAX_BODY_BYTES = 20_000  # DingTalk's limit
SIGNATURE_WINDOW = timedelta(hours=1)
SESSION_WEBHOOK_LIFETIME = timedelta(minutes=90)


class Refusal(Exception):
    """Why a robot's message is not posted; `reason` names a row of webhook.ERRCODES."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Poster:
    """A robot allowed to post, with its group."""

    robot: Robot
    conversation: Conversation
    organization: Organization


# Finding the robot --------------------------------------------------------------------------
async def _poster(session: AsyncSession, robot: Robot | None) -> Poster:
    if robot is None:
        raise Refusal("token_unknown")
    if robot.disabled_at is not None:
        raise Refusal("robot_disabled")
    conversation = await session.get(Conversation, robot.conversation_id)
    organization = await session.get(Organization, robot.org_id)
    assert conversation is not None and organization is not None
    if conversation.disbanded_at is not None:
        raise Refusal("group_disbanded")
    return Poster(robot, conversation, organization)


async def _robot_by_token(session: AsyncSession, context: AppContext, token: str) -> Robot | None:
    if not token:
        return None
    robot: Robot | None = await session.scalar(
        select(Robot).where(Robot.token_index == service.token_index(context, token))
    )
    return robot


# Security modes -----------------------------------------------------------------------------
def _check_ip(robot: Robot, ip: str) -> None:
    if not robot.ip_allowlist:
        return
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        address = None
    allowed = address is not None and any(
        address in ipaddress.ip_network(network, strict=False) for network in robot.ip_allowlist
    )
    if not allowed:
        raise Refusal("ip_not_allowed", ip)


def signature(secret: str, timestamp: str) -> str:
    """DingTalk's: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _check_signature(context: AppContext, poster: Poster, timestamp: str, sign: str) -> None:
    secret = service.unseal(
        service.cipher_of(context, poster.organization),
        "robot-secret",
        poster.robot.id,
        poster.robot.secret_sealed,
    )
    if secret is None:
        return
    if not timestamp.isdigit():
        raise Refusal("timestamp_invalid")
    if abs(utcnow().timestamp() * 1000 - int(timestamp)) > SIGNATURE_WINDOW.total_seconds() * 1000:
        raise Refusal("timestamp_invalid")
    # A `+` the client did not percent-encode arrives as a space.
    if not hmac.compare_digest(signature(secret, timestamp), sign.replace(" ", "+")):
        raise Refusal("sign_mismatch")


def _check_keywords(robot: Robot, card: dict[str, Any]) -> None:
    if robot.keywords and not any(word in bodies.plain_text(card) for word in robot.keywords):
        raise Refusal("keywords_missing")


async def _check_rate(context: AppContext, robot: Robot) -> None:
    try:
        verdict = await context.limiter.hit(f"robot-send:{robot.id}", robot.rate_limit_per_minute, 60)
    except LimiterUnavailable:
        return  # a Redis outage must not silence alerts
    if not verdict.allowed:
        raise Refusal("too_fast", str(robot.rate_limit_per_minute))


# The message --------------------------------------------------------------------------------
def _parsed(raw: bytes) -> Any:
    if len(raw) > MAX_BODY_BYTES:
        raise Refusal("too_large")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise Refusal("body_invalid", "json") from error


def _card(body: Any) -> tuple[dict[str, Any], bodies.AtList]:
    try:
        return bodies.checked(body), bodies.at_list(body)
    except bodies.BodyInvalid as invalid:
        raise Refusal("body_invalid", invalid.field) from invalid


def _mobile_indexes(context: AppContext, mobiles: list[str]) -> dict[bytes, str]:
    """The blind index of each well-formed mobile number, to the number as the robot wrote it."""
    found = {}
    for mobile in mobiles:
        try:
            found[identity.mobile_index(context.keyring, identity.normalise_mobile(mobile))] = mobile
        except AppError:
            continue
    return found


async def _mentioned(
    session: AsyncSession, context: AppContext, conversation_id: str, at: bodies.AtList
) -> dict[str, tuple[str, str]]:
    """The group's members the robot @mentions, by how it wrote them (a mobile number or a user
    id) → (membership id, name). Anyone not in the group is left out."""
    written_by_index = _mobile_indexes(context, at.mobiles)
    account_ids = (
        await identity.account_ids_by_mobile_index(session, list(written_by_index))
        if written_by_index
        else {}
    )
    written_by_account = {account_id: written_by_index[index] for index, account_id in account_ids.items()}
    if not written_by_account and not at.user_ids:
        return {}
    rows = await session.execute(
        select(ConversationMember.membership_id, ConversationMember.account_id, Membership.name)
        .join(Membership, Membership.id == ConversationMember.membership_id)
        .where(
            ConversationMember.conversation_id == conversation_id,
            or_(
                ConversationMember.membership_id.in_(at.user_ids),
                ConversationMember.account_id.in_(list(written_by_account)),
            ),
        )
    )
    mentioned = {}
    for membership_id, account_id, name in rows.all():
        written = written_by_account.get(account_id) or membership_id
        mentioned[written] = (membership_id, name)
    return mentioned


def _named(card: dict[str, Any], mentioned: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """ "@13800000001" in the text becomes "@张三": the number is not kept in the group's history."""
    named = dict(card)
    for field in ("text", "summary"):
        value = str(named.get(field, ""))
        for written, (_membership_id, name) in mentioned.items():
            value = value.replace(f"@{written}", f"@{name}")
        if field in named:
            named[field] = value
    return named


async def _post(
    session: AsyncSession, context: AppContext, poster: Poster, card: dict[str, Any], at: bodies.AtList
) -> Message:
    mentioned = await _mentioned(session, context, poster.conversation.id, at)
    return await messages.post_robot_message(
        session,
        context,
        poster.conversation,
        poster.robot.id,
        poster.robot.name,
        {**_named(card, mentioned), "avatar": poster.robot.avatar},
        [membership_id for membership_id, _name in mentioned.values()],
        at.everyone,
    )


# Entry points -------------------------------------------------------------------------------
async def receive(
    session: AsyncSession, context: AppContext, *, token: str, timestamp: str, sign: str, ip: str, raw: bytes
) -> Message:
    """A message posted to a robot's webhook, checked by every security mode it has."""
    poster = await _poster(session, await _robot_by_token(session, context, token))
    _check_ip(poster.robot, ip)
    _check_signature(context, poster, timestamp, sign)
    await _check_rate(context, poster.robot)
    body = _parsed(raw)
    card, at = _card(body)
    _check_keywords(poster.robot, card)
    return await _post(session, context, poster, card, at)


def _session_mac(context: AppContext, claim: str) -> str:
    digest = context.keyring.keyed_digest("robot-session", claim.encode())[:18]
    return base64.urlsafe_b64encode(digest).decode()


def session_token(context: AppContext, robot_id: str) -> tuple[str, int]:
    """A session webhook's token for an outgoing call, and when it expires (ms since the epoch):
    the robot and the expiry, signed, so nothing is stored."""
    expires = int((utcnow() + SESSION_WEBHOOK_LIFETIME).timestamp() * 1000)
    claim = f"{robot_id}.{expires}"
    return f"{claim}.{_session_mac(context, claim)}", expires


async def _robot_by_session(session: AsyncSession, context: AppContext, token: str) -> Robot | None:
    claim, _, mac = token.rpartition(".")
    robot_id, _, expires = claim.partition(".")
    if not expires.isdigit() or not hmac.compare_digest(_session_mac(context, claim), mac):
        return None
    if int(expires) < utcnow().timestamp() * 1000:
        return None
    robot = await session.get(Robot, robot_id)
    return robot if robot is not None and robot.outgoing_enabled else None  # switched off: its sessions end


async def receive_on_session(
    session: AsyncSession, context: AppContext, *, token: str, raw: bytes
) -> Message:
    """A robot's answer on the session webhook of an outgoing call: the token stands for the
    security modes, the rate limit holds."""
    poster = await _poster(session, await _robot_by_session(session, context, token))
    await _check_rate(context, poster.robot)
    card, at = _card(_parsed(raw))
    return await _post(session, context, poster, card, at)


async def receive_reply(session: AsyncSession, context: AppContext, robot: Robot, body: Any) -> Message:
    """A message body an outgoing robot answered its call with."""
    poster = await _poster(session, robot)
    await _check_rate(context, poster.robot)
    card, at = _card(body)
    return await _post(session, context, poster, card, at)
