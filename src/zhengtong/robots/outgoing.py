"""Outgoing robots: a member's message that @mentions a robot by name goes to the robot's server
as DingTalk posts it — its text, who sent it, and a session webhook on which the robot may answer
for 90 minutes — signed with the robot's outgoing token (headers `timestamp` and `sign`).

One job per message and robot (triggers.py) makes the call through egress.py. Each attempt is
recorded (robot_deliveries) for the group's managers: delivered, failed (a timeout, a connection
error, the server's 5xx or 429: the job runner tries again with backoff, three attempts in all),
or refused (an address the platform may not call: never tried again). A robot that answers its
call with a message body has it posted. A delivered call is entered in the disclosure ledger: the
sender's name and words went to a third party.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.inventory import DataClass
from zhengtong.im import content as sealing
from zhengtong.im.models import Conversation, Message
from zhengtong.org.models import ADMIN_ROLES, Membership, Organization
from zhengtong.privacy.rights.disclosures import record_disclosure
from zhengtong.privacy.rights.models import DisclosureSource, LegalBasis, RecipientKind
from zhengtong.robots import egress, incoming, service
from zhengtong.robots.models import Robot, RobotDelivery

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Call:
    """One outgoing call, prepared inside a transaction and made outside it."""

    org_id: str
    robot_id: str
    robot_name: str
    message_id: str
    sender_membership_id: str
    url: str
    body: bytes
    headers: dict[str, str]


def outgoing_signature(token: str, timestamp: str) -> str:
    """What the robot checks: base64(HMAC-SHA256(key=token, msg=f"{timestamp}\\n{token}"))."""
    digest = hmac.new(token.encode(), f"{timestamp}\n{token}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _now_ms() -> int:
    return int(utcnow().timestamp() * 1000)


def _payload(
    context: AppContext,
    robot: Robot,
    conversation: Conversation,
    message: Message,
    sender: Membership,
    text: str,
) -> dict[str, Any]:
    """DingTalk's outgoing message; user ids are membership ids, as the open API's are."""
    token, expires = incoming.session_token(context, robot.id)
    base = (context.settings.public_url or robot.base_url).rstrip("/")
    return {
        "msgtype": "text",
        "text": {"content": text.replace(f"@{robot.name}", "").strip()},
        "msgId": message.id,
        "createAt": int(message.created_at.timestamp() * 1000),
        "conversationType": "2",
        "conversationId": conversation.id,
        "conversationTitle": conversation.name,
        "senderId": sender.id,
        "senderNick": sender.name,
        "senderStaffId": sender.id,
        "chatbotUserId": robot.id,
        "isAdmin": sender.role in ADMIN_ROLES,
        "sessionWebhook": f"{base}/robot/sendBySession?session={token}",
        "sessionWebhookExpiredTime": expires,
        "isInAtList": True,
        "atUsers": [{"dingtalkId": robot.id}],
    }


async def _prepare(session: AsyncSession, context: AppContext, robot_id: str, message_id: str) -> Call | None:
    """The call for a message that @mentions the robot; None when there is nothing to send (no
    mention, the message recalled, the robot switched off or removed, the sender gone)."""
    robot = await session.get(Robot, robot_id)
    message = await session.get(Message, message_id)
    if robot is None or message is None or not robot.outgoing_enabled or robot.disabled_at is not None:
        return None
    sender = await session.get(Membership, message.sender_membership_id or "")
    if message.content_sealed is None or sender is None:
        return None
    organization = await session.get(Organization, robot.org_id)
    conversation = await session.get(Conversation, robot.conversation_id)
    assert organization is not None and conversation is not None
    cipher = service.cipher_of(context, organization)
    text = str(sealing.unseal(cipher, message.id, message.content_sealed).get("text", ""))
    if f"@{robot.name}" not in text:
        return None
    token = service.unseal(cipher, "robot-outgoing-token", robot.id, robot.outgoing_token_sealed) or ""
    timestamp = str(_now_ms())
    return Call(
        org_id=robot.org_id,
        robot_id=robot.id,
        robot_name=robot.name,
        message_id=message.id,
        sender_membership_id=sender.id,
        url=robot.outgoing_url,
        body=orjson.dumps(_payload(context, robot, conversation, message, sender, text)),
        headers={"timestamp": timestamp, "sign": outgoing_signature(token, timestamp)},
    )


async def _record(
    session: AsyncSession,
    call: Call,
    attempt: int,
    outcome: str,
    *,
    status: int | None = None,
    detail: str = "",
    replied: bool = False,
) -> None:
    if await session.get(Robot, call.robot_id) is None:
        return  # removed while its call was under way
    session.add(
        RobotDelivery(
            org_id=call.org_id,
            robot_id=call.robot_id,
            message_id=call.message_id,
            attempt=attempt,
            outcome=outcome,
            http_status=status,
            detail=detail[:300],
            replied=replied,
        )
    )
    await service.prune_deliveries(session, call.robot_id)


async def _disclose(session: AsyncSession, context: AppContext, call: Call) -> None:
    if await session.get(Membership, call.sender_membership_id) is None:
        return
    await record_disclosure(
        session,
        context,
        org_id=call.org_id,
        recipient_kind=RecipientKind.APP,
        recipient=call.robot_name,
        data_categories=[DataClass.IDENTITY, DataClass.BUSINESS],
        legal_basis=LegalBasis.CONTRACT,
        membership_ids=[call.sender_membership_id],
        reference=f"robot-message:{call.message_id}",
        purpose="@提及群机器人时，消息与发送人姓名发送给该机器人 / "
        "the message and its sender's name, sent to the group robot it @mentioned",
        source=DisclosureSource.APP,
        source_ref=call.robot_id,
    )


async def _post_reply(
    session: AsyncSession, context: AppContext, call: Call, answer: bytes
) -> tuple[bool, str]:
    """Posts the message body the robot answered with, if it answered with one: (posted, why
    it was refused)."""
    try:
        body = orjson.loads(answer)
    except orjson.JSONDecodeError:
        return False, ""  # "ok", an empty answer: nothing to post
    robot = await session.get(Robot, call.robot_id)
    if not isinstance(body, dict) or "msgtype" not in body or robot is None:
        return False, ""
    try:
        async with session.begin_nested():
            await incoming.receive_reply(session, context, robot, body)
    except incoming.Refusal as refusal:
        return False, f"the answer was not posted: {refusal.reason} {refusal.detail}".strip()
    return True, ""


async def _delivered(context: AppContext, call: Call, attempt: int, answer: egress.Answer) -> dict[str, Any]:
    """Posts the robot's answer and records the call."""
    async with context.db.transaction() as session:
        replied, refusal = await _post_reply(session, context, call, answer.body)
        await _record(
            session, call, attempt, "delivered", status=answer.status, detail=refusal, replied=replied
        )
        await _disclose(session, context, call)
    return {"outcome": "delivered", "status": answer.status, "replied": replied}


async def deliver(context: AppContext, attempt: int, robot_id: str, message_id: str) -> dict[str, Any]:
    """Calls the robot with the message if it @mentions it. Raises egress.Unreachable when the
    attempt should be repeated later (the job runner does, with backoff)."""
    async with context.db.transaction() as session:
        call = await _prepare(session, context, robot_id, message_id)
    if call is None:
        return {"outcome": "not_mentioned"}
    try:
        answer = await egress.post_json(context.settings, call.url, call.body, call.headers)
    except egress.Refused as refused:
        async with context.db.transaction() as session:
            await _record(session, call, attempt, "refused", detail=str(refused))
        return {"outcome": "refused"}
    except egress.Unreachable as failure:
        async with context.db.transaction() as session:
            await _record(session, call, attempt, "failed", detail=str(failure))
        raise
    if 200 <= answer.status < 300:
        return await _delivered(context, call, attempt, answer)
    async with context.db.transaction() as session:
        await _record(session, call, attempt, "failed", status=answer.status, detail=f"http {answer.status}")
    if answer.status in RETRIED_STATUSES:
        raise egress.Unreachable(f"http {answer.status}")
    return {"outcome": "failed", "status": answer.status}
