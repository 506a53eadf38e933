"""HTTP endpoints for jobs: the owner follows a job's progress and may cancel it. Anyone else gets
`not_found`, so that job ids cannot be probed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter

from zhengtong.core.schemas import OutputSchema
from zhengtong.platform import jobs
from zhengtong.platform.jobs import JobStatus
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import DbSession
from zhengtong.web.gates import Gate, open_through

router = APIRouter(tags=["jobs"])


class JobProgress(OutputSchema):
    done: int
    total: int | None
    percent: int | None  # None while the total is unknown
    message: str


class JobRead(OutputSchema):
    id: str
    kind: str
    status: JobStatus
    attempts: int
    progress: JobProgress
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: jobs.Job) -> JobRead:
        progress = JobProgress(
            done=job.progress_done,
            total=job.progress_total,
            percent=job.progress_percent,
            message=job.progress_message,
        )
        return cls(
            id=job.id,
            kind=job.kind,
            status=JobStatus(job.status),
            attempts=job.attempts,
            progress=progress,
            result=job.result,
            error=job.error,
            created_at=job.created_at,
            finished_at=job.finished_at,
        )


@open_through(Gate.POLICY)
@router.get("/jobs/{job_id}", response_model=JobRead)
async def get_job(job_id: str, caller: CurrentCaller, session: DbSession) -> JobRead:
    job = await jobs.access_own_job(session, job_id=job_id, account_id=caller.account_id)
    return JobRead.of(job)


@open_through(Gate.COLLECTION)
@router.post("/jobs/{job_id}/cancel", response_model=JobRead)
async def cancel_job(job_id: str, caller: CurrentCaller, session: DbSession) -> JobRead:
    job = await jobs.access_own_job(session, job_id=job_id, account_id=caller.account_id)
    await jobs.cancel(session, job=job)
    return JobRead.of(job)
