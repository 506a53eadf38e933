"""The organisation's background jobs: directory import and export (see org.importing and
org.exporting), and the hourly removal of their files once they are a week old. The job runner
imports this module at start, which registers them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from zhengtong.core.clock import utcnow
from zhengtong.org import exporting, importing
from zhengtong.platform import jobs
from zhengtong.platform.jobs import FINISHED_STATUSES, Job, JobContext

TRANSFER_FILES_KEPT = timedelta(days=7)
CLEANUP_JOB = "org.transfer_files_cleanup"


@jobs.register(importing.IMPORT_JOB)
async def import_directory(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return await importing.run_import(job, payload)


@jobs.register(exporting.EXPORT_JOB)
async def export_directory(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return await exporting.run_export(job, payload)


def _files_of(job: Job) -> list[str]:
    org_id = job.org_id or ""
    if job.kind == importing.IMPORT_JOB:
        return [importing.upload_key(org_id, job.id), importing.report_key(org_id, job.id)]
    return [exporting.export_key(org_id, job.id)]


@jobs.register(CLEANUP_JOB)
async def remove_old_transfer_files(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Uploads, error reports and exports hold personal data: they go a week after their job
    ended (a cancelled import's upload too). The job's result remembers that they are gone."""
    removed = 0
    async with job.transaction() as session:
        finished = await session.execute(
            select(Job).where(
                Job.kind.in_([importing.IMPORT_JOB, exporting.EXPORT_JOB]),
                Job.status.in_(list(FINISHED_STATUSES)),
                Job.finished_at < utcnow() - TRANSFER_FILES_KEPT,
            )
        )
        for old in finished.scalars():
            if (old.result or {}).get("files_removed"):
                continue
            for key in _files_of(old):
                await job.context.storage.delete(key)
            old.result = {**(old.result or {}), "files_removed": True}
            removed += 1
    return {"jobs_cleaned": removed}


jobs.schedule(CLEANUP_JOB, kind=CLEANUP_JOB, every_seconds=3600)
