"""How an outgoing robot hears of a message: a member's new text or markdown message in a group
with an outgoing robot queues one `robots.outgoing` job per such robot, in the transaction that
stores the message, so the call is made if and only if the message was committed.

Chat does not know robots exist: it calls the hook `message_sent` (platform.hooks), which this
listens to. The job then decides whether the message @mentions the robot by name (`@告警机器人`):
only the job opens the sealed text. Robots' own messages never reach the hook, so two robots
cannot answer each other forever.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext
from zhengtong.im.models import Message, MessageKind
from zhengtong.platform import hooks, jobs
from zhengtong.robots.models import Robot

OUTGOING_JOB = "robots.outgoing"
OUTGOING_ATTEMPTS = 3
_HEARD_KINDS = frozenset({MessageKind.TEXT, MessageKind.MARKDOWN})


@hooks.on_message_sent
async def queue_outgoing_calls(session: AsyncSession, context: AppContext, message: Message) -> None:
    if message.kind not in _HEARD_KINDS:
        return
    robot_ids = await session.scalars(
        select(Robot.id).where(
            Robot.conversation_id == message.conversation_id,
            Robot.outgoing_enabled.is_(True),
            Robot.disabled_at.is_(None),
        )
    )
    for robot_id in robot_ids.all():
        await jobs.enqueue(
            session,
            kind=OUTGOING_JOB,
            payload={"robot_id": robot_id, "message_id": message.id},
            org_id=message.org_id,
            max_attempts=OUTGOING_ATTEMPTS,
        )
