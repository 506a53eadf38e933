"""Durable background jobs: a `jobs` table, handlers registered by kind, and runners that claim due
jobs, run them and record the outcome.

- A job exists only once the enqueuing transaction commits; the commit wakes this process's runner.
- Runners in any number of processes claim jobs atomically (PostgreSQL: FOR UPDATE SKIP LOCKED;
  SQLite serialises writers) and hold a lease they renew while the handler runs. A lease that
  expires (the worker died) lets another runner take the job over, so delivery is at least once:
  handlers must be safe to run again.
- A failed attempt is retried with exponential backoff until `max_attempts`, then the job fails
  with the error text. Scheduled jobs (`schedule`) are enqueued once per interval across processes.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import os
import pkgutil
import random
import socket
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime, after_commit
from zhengtong.core.errors import NOT_FOUND, AppError, error_code
from zhengtong.core.ids import new_id
from zhengtong.core.inventory import DELETE, NOT_PERSONAL, DataClass, personal
from zhengtong.platform.eventlog import transient_after_commit

log = logging.getLogger(__name__)

JOB_ALREADY_FINISHED = error_code(
    "jobs.already_finished",
    409,
    "任务已结束，无法取消",
    "The job has already finished and cannot be cancelled",
)

LEASE_SECONDS = 60.0
MAX_RETRY_DELAY_SECONDS = 600.0
_ERROR_TEXT_LIMIT = 4000
_PROGRESS_MESSAGE_LIMIT = 500


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class Job(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_at", "status", "run_at"),)

    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    owner_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    kind: Mapped[str] = mapped_column(String(100), info=NOT_PERSONAL)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, info=personal(DataClass.BUSINESS, DELETE))
    status: Mapped[str] = mapped_column(String(12), default=JobStatus.QUEUED, info=NOT_PERSONAL)
    attempts: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)  # claims so far
    max_attempts: Mapped[int] = mapped_column(Integer, default=5, info=NOT_PERSONAL)
    run_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, info=NOT_PERSONAL)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    lease_owner: Mapped[str | None] = mapped_column(String(100), info=NOT_PERSONAL)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    progress_done: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)
    progress_total: Mapped[int | None] = mapped_column(Integer, info=NOT_PERSONAL)
    progress_message: Mapped[str] = mapped_column(
        String(_PROGRESS_MESSAGE_LIMIT),
        default="",
        info=personal(DataClass.BUSINESS, DELETE, note="free text written by the handler"),
    )
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, info=personal(DataClass.BUSINESS, DELETE))
    error: Mapped[str | None] = mapped_column(Text, info=personal(DataClass.BUSINESS, DELETE))

    @property
    def progress_percent(self) -> int | None:
        return progress_percent(self.progress_done, self.progress_total)


class JobSchedule(Base):
    """When each job declared with `schedule` runs next; the conditional update on this row makes
    one process (of however many run) enqueue each run."""

    __tablename__ = "job_schedules"

    name: Mapped[str] = mapped_column(String(100), primary_key=True, info=NOT_PERSONAL)
    kind: Mapped[str] = mapped_column(String(100), info=NOT_PERSONAL)
    interval_seconds: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)
    next_run_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


def progress_percent(done: int, total: int | None) -> int | None:
    """Whole percent done, or None while the total is unknown."""
    if not total or total <= 0:
        return None
    return max(0, min(100, round(100 * done / total)))


# Registration ---------------------------------------------------------------------------------
Handler = Callable[["JobContext", dict[str, Any]], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    kind: str
    every_seconds: int
    payload: dict[str, Any] = field(default_factory=dict)


_HANDLERS: dict[str, Handler] = {}
_SCHEDULES: dict[str, ScheduledJob] = {}


def register(kind: str) -> Callable[[Handler], Handler]:
    """Decorator: `handler(job, payload)` runs jobs of `kind`; a returned dict is stored as the result."""

    def decorate(handler: Handler) -> Handler:
        if kind in _HANDLERS:
            raise ValueError(f"job kind {kind!r} registered twice")
        _HANDLERS[kind] = handler
        return handler

    return decorate


def schedule(name: str, *, kind: str, every_seconds: int, payload: dict[str, Any] | None = None) -> None:
    """Declares a job enqueued every `every_seconds` (first run when a runner first sees it); with
    several processes each run is enqueued once."""
    if every_seconds <= 0:
        raise ValueError("a schedule needs a positive interval")
    if name in _SCHEDULES:
        raise ValueError(f"schedule {name!r} declared twice")
    _SCHEDULES[name] = ScheduledJob(name, kind, every_seconds, dict(payload or {}))


def import_domain_handlers() -> None:
    """Imports every `zhengtong.<domain>.jobs` module, where domains register their handlers, so
    that a worker process knows every kind the API processes enqueue."""
    import zhengtong

    for package in pkgutil.iter_modules(zhengtong.__path__):
        module_name = f"zhengtong.{package.name}.jobs"
        if package.ispkg and importlib.util.find_spec(module_name) is not None:
            importlib.import_module(module_name)


# Service functions ----------------------------------------------------------------------------
async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    org_id: str | None = None,
    owner_account_id: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = 5,
) -> Job:
    """Adds a job to the caller's transaction: it exists, and this process's runner wakes, only
    if that transaction commits."""
    if max_attempts < 1:
        raise ValueError("a job needs at least one attempt")
    job = Job(
        id=new_id(),
        kind=kind,
        payload=payload,
        org_id=org_id,
        owner_account_id=owner_account_id,
        status=JobStatus.QUEUED,
        attempts=0,
        max_attempts=max_attempts,
        run_at=run_at or utcnow(),
    )
    session.add(job)
    await session.flush()
    after_commit(session, _wake_local_runners)
    return job


async def get_job(session: AsyncSession, job_id: str) -> Job | None:
    """The job, or None; no permission check (see `access_own_job`)."""
    return await session.get(Job, job_id)


async def access_own_job(session: AsyncSession, *, job_id: str, account_id: str) -> Job:
    """The job if `account_id` owns it; `not_found` otherwise, so that ids cannot be probed."""
    job = await get_job(session, job_id)
    if job is None or job.owner_account_id != account_id:
        raise AppError(NOT_FOUND)
    return job


async def cancel(session: AsyncSession, *, job: Job) -> None:
    """Cancels a queued or running job (a running handler stops at its next progress report and
    its outcome is discarded). Cancelling twice is harmless; a finished job raises
    `jobs.already_finished`."""
    cancelled = await session.scalar(
        update(Job)
        .where(Job.id == job.id, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        .values(status=JobStatus.CANCELLED, finished_at=utcnow(), lease_owner=None, lease_expires_at=None)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(job)
    if cancelled is None and job.status != JobStatus.CANCELLED:
        raise AppError(JOB_ALREADY_FINISHED)


def retry_delay(attempt: int) -> timedelta:
    """Backoff after failed attempt number `attempt` (1-based): 2 s doubling per attempt, capped at
    ten minutes, with jitter so that jobs failing together do not retry together."""
    ceiling = min(MAX_RETRY_DELAY_SECONDS, 2.0 * 2 ** (attempt - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


# Running --------------------------------------------------------------------------------------
class JobCancelled(Exception):
    """Raised into a handler by `report_progress` when its job was cancelled or taken over."""


class JobInterrupted(Exception):
    """Raised into a handler by `report_progress` when the runner is stopping; the job goes back
    to the queue without using up an attempt."""


def _owned_by(job_id: str, worker_id: str) -> ColumnElement[bool]:
    return and_(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.lease_owner == worker_id)


async def _update_owned(session: AsyncSession, job_id: str, worker_id: str, **values: Any) -> bool:
    """Writes to a job only while this worker still holds it; False when it does not any more."""
    updated = await session.scalar(
        update(Job)
        .where(_owned_by(job_id, worker_id))
        .values(**values)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return updated is not None


class JobContext:
    """What a handler gets besides its payload: the platform, who the job is for, and progress."""

    def __init__(self, runner: JobRunner, job: Job) -> None:
        self.context: AppContext = runner.context
        self.job_id = job.id
        self.kind = job.kind
        self.org_id = job.org_id
        self.owner_account_id = job.owner_account_id
        self.attempt = job.attempts
        self._runner = runner

    async def report_progress(self, done: int, total: int, message: str = "") -> None:
        """Records progress in its own short transaction (renewing the lease) and tells the owner's
        clients. Raises JobCancelled or JobInterrupted when the handler should stop here."""
        if self._runner.stopping:
            raise JobInterrupted(self.job_id)
        message = message[:_PROGRESS_MESSAGE_LIMIT]
        async with self.context.db.transaction() as session:
            owned = await _update_owned(
                session,
                self.job_id,
                self._runner.worker_id,
                progress_done=done,
                progress_total=total,
                progress_message=message,
                lease_expires_at=utcnow() + timedelta(seconds=LEASE_SECONDS),
            )
            if not owned:
                raise JobCancelled(self.job_id)
            if self.owner_account_id:
                event = {
                    "type": "job.progress",
                    "job_id": self.job_id,
                    "kind": self.kind,
                    "done": done,
                    "total": total,
                    "percent": progress_percent(done, total),
                    "message": message,
                }
                transient_after_commit(session, self.context.events, [self.owner_account_id], event)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work for the handler's own writes: commits when the block ends."""
        async with self.context.db.transaction() as session:
            yield session


_STARTED_RUNNERS: weakref.WeakSet[JobRunner] = weakref.WeakSet()


async def _wake_local_runners() -> None:
    for runner in list(_STARTED_RUNNERS):
        runner.wake()


def _claimable(now: datetime) -> ColumnElement[bool]:
    due = and_(Job.status == JobStatus.QUEUED, Job.run_at <= now)
    abandoned = and_(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now)
    return or_(due, abandoned)


def _default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"


class JobRunner:
    """Claims due jobs and runs up to `concurrency` handlers at once. `start()` polls in the
    background (and wakes at once on a local enqueue); `run_until_idle()` runs in the foreground."""

    def __init__(
        self,
        context: AppContext,
        *,
        worker_id: str | None = None,
        concurrency: int = 2,
        poll_seconds: float = 1.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError("a runner needs a concurrency of at least 1")
        self.context = context
        self.worker_id = worker_id or _default_worker_id()
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.stopping = False
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._lease_renewed_at = time.monotonic()

    def wake(self) -> None:
        """Polls now instead of at the next interval."""
        self._wake.set()

    async def start(self) -> None:
        """Starts polling in the background."""
        if self._loop_task is not None:
            raise RuntimeError("the job runner is already running")
        self.stopping = False
        import_domain_handlers()
        await self._sync_schedules()
        self._loop_task = asyncio.create_task(self._poll_loop(), name=f"job-runner {self.worker_id}")
        _STARTED_RUNNERS.add(self)

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """Stops claiming, lets running handlers reach their next progress report (or their end)
        for up to `grace_seconds`, then cancels them; unfinished jobs go back to the queue."""
        _STARTED_RUNNERS.discard(self)
        self.stopping = True
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task
            self._loop_task = None
        if self._running:
            _, unfinished = await asyncio.wait(set(self._running), timeout=grace_seconds)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)

    async def run_until_idle(self) -> int:
        """Runs due jobs (enqueuing due scheduled ones first) until none is due; returns how many
        ran. For tests, benchmarks and one-off commands."""
        await self._sync_schedules()
        ran = 0
        while True:
            await self._enqueue_due_schedules()
            claimed = await self._claim(self.concurrency)
            if not claimed:
                return ran
            await asyncio.gather(*(self._run(job) for job in claimed))
            ran += len(claimed)

    async def _poll_loop(self) -> None:
        while not self.stopping:
            self._wake.clear()
            try:
                await self._poll_once()
            except Exception:  # the database may be briefly unreachable: try again next poll
                log.exception("job runner %s: poll failed", self.worker_id)
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def _poll_once(self) -> None:
        await self._renew_leases_when_due()
        await self._enqueue_due_schedules()
        free_slots = self.concurrency - len(self._running)
        if free_slots <= 0:
            return
        for job in await self._claim(free_slots):
            task = asyncio.create_task(self._run(job), name=f"job {job.kind} {job.id}")
            self._running.add(task)
            task.add_done_callback(self._on_task_done)

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()  # a slot is free: claim the next job now

    async def _claim(self, limit: int) -> list[Job]:
        """Marks up to `limit` due or abandoned jobs as running under this worker's lease."""
        now = utcnow()
        candidates = (
            select(Job.id)
            .where(_claimable(now))
            .order_by(Job.run_at)
            .limit(limit)
            # PostgreSQL: skip rows another worker is claiming; SQLite ignores this and serialises writers.
            .with_for_update(skip_locked=True)
        )
        async with self.context.db.transaction() as session:
            claimed = await session.scalars(
                update(Job)
                .where(Job.id.in_(candidates.scalar_subquery()))
                .values(
                    status=JobStatus.RUNNING,
                    attempts=Job.attempts + 1,
                    started_at=now,
                    lease_owner=self.worker_id,
                    lease_expires_at=now + timedelta(seconds=LEASE_SECONDS),
                )
                .returning(Job)
                .execution_options(synchronize_session=False)
            )
            return list(claimed.all())

    async def _run(self, job: Job) -> None:
        try:
            await self._execute(job)
        except asyncio.CancelledError:
            await self._release(job)
            raise
        except Exception:  # recording the outcome failed; the lease expires and the job runs again
            log.exception("job %s (%s): could not record the outcome", job.id, job.kind)

    async def _execute(self, job: Job) -> None:
        handler = _HANDLERS.get(job.kind)
        if handler is None:
            await self._finish(
                job, JobStatus.FAILED, error=f"unknown job kind {job.kind!r}: no handler is registered"
            )
            return
        if job.attempts > job.max_attempts:  # taken over after the worker running the last attempt died
            await self._finish(job, JobStatus.FAILED, error="the worker stopped during the last attempt")
            return
        try:
            result = await handler(JobContext(self, job), dict(job.payload))
        except JobCancelled:
            return  # whoever cancelled or took over the job owns its row now
        except JobInterrupted:
            await self._release(job)
            return
        except Exception as error:
            log.warning("job %s (%s) attempt %d failed", job.id, job.kind, job.attempts, exc_info=True)
            await self._record_failure(job, error)
            return
        await self._finish(job, JobStatus.SUCCEEDED, result=result)

    async def _finish(self, job: Job, status: JobStatus, **values: Any) -> None:
        async with self.context.db.transaction() as session:
            owned = await _update_owned(
                session,
                job.id,
                self.worker_id,
                status=status,
                finished_at=utcnow(),
                lease_owner=None,
                lease_expires_at=None,
                **values,
            )
            if owned and job.owner_account_id:
                event = {"type": "job.finished", "job_id": job.id, "kind": job.kind, "status": status.value}
                transient_after_commit(session, self.context.events, [job.owner_account_id], event)

    async def _record_failure(self, job: Job, error: Exception) -> None:
        error_text = f"{type(error).__name__}: {error}"[:_ERROR_TEXT_LIMIT]
        if job.attempts >= job.max_attempts:
            await self._finish(job, JobStatus.FAILED, error=error_text)
            return
        async with self.context.db.transaction() as session:
            await _update_owned(
                session,
                job.id,
                self.worker_id,
                status=JobStatus.QUEUED,
                run_at=utcnow() + retry_delay(job.attempts),
                error=error_text,
                lease_owner=None,
                lease_expires_at=None,
            )

    async def _release(self, job: Job) -> None:
        """Puts an interrupted job back in the queue; the interrupted attempt does not count."""
        async with self.context.db.transaction() as session:
            await _update_owned(
                session,
                job.id,
                self.worker_id,
                status=JobStatus.QUEUED,
                attempts=Job.attempts - 1,
                run_at=utcnow(),
                lease_owner=None,
                lease_expires_at=None,
            )

    async def _renew_leases_when_due(self) -> None:
        """Keeps the leases of running handlers alive so that no other worker takes them over."""
        if not self._running or time.monotonic() - self._lease_renewed_at < LEASE_SECONDS / 3:
            return
        async with self.context.db.transaction() as session:
            await session.execute(
                update(Job)
                .where(Job.lease_owner == self.worker_id, Job.status == JobStatus.RUNNING)
                .values(lease_expires_at=utcnow() + timedelta(seconds=LEASE_SECONDS))
                .execution_options(synchronize_session=False)
            )
        self._lease_renewed_at = time.monotonic()

    async def _sync_schedules(self) -> None:
        """Creates a row for each declared schedule (first run now) and updates changed ones."""
        if not _SCHEDULES:
            return
        insert = sqlite_insert if self.context.db.is_sqlite else postgresql_insert
        async with self.context.db.transaction() as session:
            for entry in _SCHEDULES.values():
                statement = insert(JobSchedule).values(
                    name=entry.name,
                    kind=entry.kind,
                    interval_seconds=entry.every_seconds,
                    next_run_at=utcnow(),
                )
                await session.execute(
                    statement.on_conflict_do_update(
                        index_elements=[JobSchedule.name],
                        set_={"kind": entry.kind, "interval_seconds": entry.every_seconds},
                    )
                )

    async def _enqueue_due_schedules(self) -> None:
        """Enqueues each due scheduled job; moving `next_run_at` with a conditional update makes
        exactly one of several competing runners do it."""
        if not _SCHEDULES:
            return
        now = utcnow()
        async with self.context.db.transaction() as session:
            due = await session.scalars(
                select(JobSchedule.name).where(
                    JobSchedule.name.in_(list(_SCHEDULES)), JobSchedule.next_run_at <= now
                )
            )
            for name in due.all():
                entry = _SCHEDULES[name]
                taken = await session.scalar(
                    update(JobSchedule)
                    .where(JobSchedule.name == name, JobSchedule.next_run_at <= now)
                    .values(next_run_at=now + timedelta(seconds=entry.every_seconds))
                    .returning(JobSchedule.name)
                    .execution_options(synchronize_session=False)
                )
                if taken is not None:
                    await enqueue(session, kind=entry.kind, payload=dict(entry.payload))
