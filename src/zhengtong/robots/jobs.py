"""The robots' background job: calling an outgoing robot with a message that may @mention it
(queued by triggers.py)."""

from __future__ import annotations

from typing import Any

from zhengtong.platform import jobs
from zhengtong.robots import outgoing
from zhengtong.robots.triggers import OUTGOING_JOB


@jobs.register(OUTGOING_JOB)
async def call_outgoing_robot(job: jobs.JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return await outgoing.deliver(
        job.context, job.attempt, str(payload["robot_id"]), str(payload["message_id"])
    )
