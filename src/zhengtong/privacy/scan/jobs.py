"""The daily retention job: expired log files and audit entries (see privacy.scan.retention)."""

from __future__ import annotations

from typing import Any

from zhengtong.platform import jobs
from zhengtong.privacy.scan.retention import apply_retention

RETENTION_JOB = "privacy.scan.retention"
RETENTION_EVERY_SECONDS = 24 * 3600


@jobs.register(RETENTION_JOB)
async def run_retention(job: jobs.JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    result = await apply_retention(job.context)
    return {
        "log_files_deleted": len(result.log_files_deleted),
        "audit_entries_pruned": sum(result.audit_entries_pruned.values()),
    }


jobs.schedule(RETENTION_JOB, kind=RETENTION_JOB, every_seconds=RETENTION_EVERY_SECONDS)
