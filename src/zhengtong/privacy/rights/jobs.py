"""Background jobs of privacy.rights: the export of "my data", and the hourly removal of exports
whose link expired. Registered when the job runner imports `zhengtong.privacy.jobs`."""

from __future__ import annotations

from typing import Any

from zhengtong.platform import jobs
from zhengtong.platform.jobs import JobContext
from zhengtong.privacy.rights import exporting


@jobs.register(exporting.EXPORT_JOB)
async def export_my_data(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return await exporting.run_export(job, payload)


@jobs.register(exporting.CLEANUP_JOB)
async def remove_expired_exports(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return await exporting.remove_expired_exports(job, payload)


jobs.schedule(exporting.CLEANUP_JOB, kind=exporting.CLEANUP_JOB, every_seconds=3600)
