"""How an outgoing robot hears of a message: a member's new text or markdown message in a group
with an outgoing robot queues one `robots.outgoing` job per such robot, in the transaction that
stores the message, so the call is made if and only if the message was committed.

Chat does not know robots exist: this listens for rows inserted into `im_messages` (a SQLAlchemy
mapper event) instead of asking chat to call it. The job then decides whether the message
@mentions the robot by name (`@告警机器人`): only the job can open the sealed text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event, insert, select
from sqlalchemy.orm import Mapper

from zhengtong.core.clock import utcnow
from zhengtong.core.ids import new_id
from zhengtong.im.models import Message, MessageKind
from zhengtong.platform.jobs import Job, JobStatus
from zhengtong.robots.models import Robot

OUTGOING_JOB = "robots.outgoing"
OUTGOING_ATTEMPTS = 3
_HEARD_KINDS = frozenset({MessageKind.TEXT, MessageKind.MARKDOWN})


def _outgoing_robots(connection: Connection, conversation_id: str) -> list[str]:
    rows = connection.execute(
        select(Robot.id).where(
            Robot.conversation_id == conversation_id,
            Robot.outgoing_enabled.is_(True),
            Robot.disabled_at.is_(None),
        )
    )
    return list(rows.scalars())


@event.listens_for(Message, "after_insert")
def queue_outgoing_calls(_mapper: Mapper[Any], connection: Connection, message: Message) -> None:
    """Runs inside the flush that inserts `message`; writes the jobs with the same connection.
    Robots' own messages (no sender) are never sent to robots, so two robots cannot loop."""
    if message.sender_membership_id is None or message.kind not in _HEARD_KINDS:
        return
    robot_ids = _outgoing_robots(connection, message.conversation_id)
    if not robot_ids:
        return
    now = utcnow()
    connection.execute(
        insert(Job),
        [
            {
                "id": new_id(),
                "org_id": message.org_id,
                "kind": OUTGOING_JOB,
                "payload": {"robot_id": robot_id, "message_id": message.id},
                "status": JobStatus.QUEUED,
                "attempts": 0,
                "max_attempts": OUTGOING_ATTEMPTS,
                "run_at": now,
                "created_at": now,
            }
            for robot_id in robot_ids
        ],
    )
