"""DING's background jobs: delivery rounds, releases after quiet hours, call checks, and the
hourly removal of attachments no DING took. The job runner imports this module at start, which
registers them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from zhengtong.ding import delivery, files, service
from zhengtong.platform import jobs
from zhengtong.platform.jobs import JobContext

UNSENT_UPLOADS_JOB = "ding.unsent_uploads_sweep"
# Long enough for a person to finish writing the DING an upload belongs to.
UNSENT_UPLOADS_KEPT = timedelta(hours=24)


@jobs.register(service.SEND_JOB)
async def send_round(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return await delivery.run_round(job.context, str(payload["ding_id"]), int(payload.get("round", 1)))


@jobs.register(delivery.RELEASE_JOB)
async def release_after_quiet_hours(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return await delivery.release_held(job.context, str(payload["ding_id"]))


@jobs.register(delivery.CALL_CHECK_JOB)
async def check_calls(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    attempt_ids = [str(attempt_id) for attempt_id in payload["attempt_ids"]]
    return await delivery.check_calls(job.context, str(payload["ding_id"]), attempt_ids)


@jobs.register(UNSENT_UPLOADS_JOB)
async def sweep_unsent_uploads(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return {"removed": await files.remove_unsent_uploads(job.context, older_than=UNSENT_UPLOADS_KEPT)}


jobs.schedule(UNSENT_UPLOADS_JOB, kind=UNSENT_UPLOADS_JOB, every_seconds=3600)
