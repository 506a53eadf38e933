"""Background jobs of privacy.erasure: the purge of a deregistered organisation at the end of its
cooling-off period, the hourly sweep that re-enqueues a purge whose job failed for good, and the
organisation's archive with the hourly removal of expired ones (privacy.erasure.archive).
Imported by zhengtong.privacy.jobs, which the job runner imports at start."""

from __future__ import annotations

from typing import Any

from zhengtong.core.clock import utcnow
from zhengtong.platform import jobs
from zhengtong.platform.jobs import JobContext
from zhengtong.privacy.erasure import archive
from zhengtong.privacy.erasure.deregistration import PURGE_JOB, SWEEP_JOB, reschedule_forgotten_purges
from zhengtong.privacy.erasure.models import LIVE_STATES, Deregistration
from zhengtong.privacy.erasure.service import purge_organization


@jobs.register(PURGE_JOB)
async def purge_deregistered_organization(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Purges the organisation once its cooling-off period is over; a cancelled deregistration
    (or one purged already) is left alone. Safe to run again: the purge resumes where it stopped."""
    async with job.transaction() as session:
        deregistration = await session.get(Deregistration, str(payload["deregistration_id"]))
        if deregistration is None or deregistration.state not in LIVE_STATES:
            return {"skipped": deregistration.state if deregistration else "unknown"}
        if deregistration.purge_at > utcnow():
            return {"skipped": "not_due"}  # the sweep enqueues it again once it is due
        org_id = deregistration.org_id

    async def progress(done: int, total: int, step: str) -> None:
        await job.report_progress(done, total, step)

    report = await purge_organization(job.context, org_id, progress=progress)
    return report.to_json()


@jobs.register(SWEEP_JOB)
async def sweep_deregistrations(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    async with job.transaction() as session:
        return {"enqueued": await reschedule_forgotten_purges(session)}


jobs.schedule(SWEEP_JOB, kind=SWEEP_JOB, every_seconds=3600)


@jobs.register(archive.ARCHIVE_JOB)
async def archive_organization(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return await archive.run_archive(job, payload)


@jobs.register(archive.CLEANUP_JOB)
async def remove_expired_archives(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return await archive.remove_expired_archives(job, payload)


jobs.schedule(archive.CLEANUP_JOB, kind=archive.CLEANUP_JOB, every_seconds=3600)
