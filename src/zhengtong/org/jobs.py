"""The organisation's background jobs: directory import and export (see org.importing and
org.exporting). The job runner imports this module at start, which registers them."""

from __future__ import annotations

from typing import Any

from zhengtong.org import exporting, importing
from zhengtong.platform import jobs
from zhengtong.platform.jobs import JobContext


@jobs.register(importing.IMPORT_JOB)
async def import_directory(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return await importing.run_import(job, payload)


@jobs.register(exporting.EXPORT_JOB)
async def export_directory(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return await exporting.run_export(job, payload)
