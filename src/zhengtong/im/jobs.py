"""Chat's background jobs: the hourly removal of uploads that no message carried. The job
runner imports this module at start, which registers them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from zhengtong.im.files import remove_unsent_uploads
from zhengtong.platform import jobs
from zhengtong.platform.jobs import JobContext

UNSENT_UPLOADS_JOB = "im.unsent_uploads_sweep"
# Long enough for a person to finish writing the message an upload belongs to.
UNSENT_UPLOADS_KEPT = timedelta(hours=24)


@jobs.register(UNSENT_UPLOADS_JOB)
async def sweep_unsent_uploads(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return {"removed": await remove_unsent_uploads(job.context, older_than=UNSENT_UPLOADS_KEPT)}


jobs.schedule(UNSENT_UPLOADS_JOB, kind=UNSENT_UPLOADS_JOB, every_seconds=3600)
