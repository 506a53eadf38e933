"""Durable jobs: enqueue in the caller's transaction, run, retry, fail, report progress, survive a
dead worker, never run twice, scheduled runs, cancellation and a graceful stop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from helpers import Member, create_member, next_event
from zhengtong.core.clock import clock, utcnow
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext, build_context
from zhengtong.core.errors import AppError
from zhengtong.core.inventory import declaration_of
from zhengtong.platform import jobs
from zhengtong.platform.jobs import Job, JobContext, JobRunner, JobStatus


@pytest.fixture(autouse=True)
def _empty_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test registers only its own handlers and schedules."""
    monkeypatch.setattr(jobs, "_HANDLERS", {})
    monkeypatch.setattr(jobs, "_SCHEDULES", {})


@pytest.fixture
async def other_process(settings: Settings) -> AsyncIterator[AppContext]:
    """A second platform context on the same database, as another server or worker would have."""
    built = build_context(settings)
    yield built
    await built.close()


@pytest.fixture
async def owner(context: AppContext) -> Member:
    return await create_member(context, name="任务发起人")


async def _enqueue(
    context: AppContext, kind: str, payload: dict[str, Any] | None = None, **options: Any
) -> str:
    async with context.db.transaction() as session:
        job = await jobs.enqueue(session, kind=kind, payload=payload or {}, **options)
        return job.id


async def _read(context: AppContext, job_id: str) -> Job:
    async with context.db.transaction() as session:
        job = await jobs.get_job(session, job_id)
        assert job is not None
        return job


async def _count_jobs(context: AppContext) -> int:
    async with context.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Job)) or 0)


async def test_enqueued_job_runs_and_stores_its_result(context: AppContext, owner: Member) -> None:
    @jobs.register("echo")
    async def echo(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "echo": payload["text"],
            "org": job.org_id,
            "owner": job.owner_account_id,
            "attempt": job.attempt,
        }

    job_id = await _enqueue(
        context, "echo", {"text": "你好"}, org_id=owner.org_id, owner_account_id=owner.account_id
    )

    ran = await JobRunner(context).run_until_idle()

    job = await _read(context, job_id)
    assert ran == 1
    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"echo": "你好", "org": owner.org_id, "owner": owner.account_id, "attempt": 1}
    assert job.attempts == 1
    assert job.error is None
    assert job.finished_at is not None
    assert job.lease_owner is None


async def test_job_does_not_exist_when_the_enqueuing_transaction_rolls_back(context: AppContext) -> None:
    calls: list[str] = []

    @jobs.register("never")
    async def never(job: JobContext, payload: dict[str, Any]) -> None:
        calls.append(job.job_id)

    with pytest.raises(RuntimeError, match="caller failed"):
        async with context.db.transaction() as session:
            await jobs.enqueue(session, kind="never", payload={})
            raise RuntimeError("caller failed")

    assert await _count_jobs(context) == 0
    assert await JobRunner(context).run_until_idle() == 0
    assert calls == []


async def test_started_runner_wakes_on_commit_instead_of_waiting_for_its_poll(context: AppContext) -> None:
    finished = asyncio.Event()

    @jobs.register("quick")
    async def quick(job: JobContext, payload: dict[str, Any]) -> None:
        finished.set()

    runner = JobRunner(context, poll_seconds=3600)
    await runner.start()
    try:
        await asyncio.sleep(0.05)  # the first poll has found nothing; the next is an hour away
        await _enqueue(context, "quick")
        await asyncio.wait_for(finished.wait(), timeout=5)
    finally:
        await runner.stop()


async def test_failed_attempts_are_retried_with_backoff_until_success(context: AppContext) -> None:
    attempts_seen: list[int] = []

    @jobs.register("flaky")
    async def flaky(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
        attempts_seen.append(job.attempt)
        if job.attempt < 3:
            raise ConnectionError(f"upstream down (attempt {job.attempt})")
        return {"done": True}

    job_id = await _enqueue(context, "flaky")
    runner = JobRunner(context)

    before = utcnow()
    await runner.run_until_idle()
    job = await _read(context, job_id)
    assert job.status == JobStatus.QUEUED
    assert job.error == "ConnectionError: upstream down (attempt 1)"
    assert before + timedelta(seconds=1) <= job.run_at <= utcnow() + timedelta(seconds=2)

    assert await runner.run_until_idle() == 0  # not due yet
    clock.advance(2)
    assert await runner.run_until_idle() == 1
    job = await _read(context, job_id)
    assert job.status == JobStatus.QUEUED
    assert utcnow() + timedelta(seconds=1) <= job.run_at <= utcnow() + timedelta(seconds=4)  # doubled

    clock.advance(4)
    await runner.run_until_idle()
    job = await _read(context, job_id)
    assert attempts_seen == [1, 2, 3]
    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"done": True}
    assert job.attempts == 3


def test_retry_delay_doubles_and_is_capped_at_ten_minutes() -> None:
    for attempt, ceiling in ((1, 2), (2, 4), (3, 8), (10, 600), (40, 600)):
        delay = jobs.retry_delay(attempt).total_seconds()
        assert ceiling / 2 <= delay <= ceiling


async def test_job_fails_with_the_error_text_once_attempts_are_exhausted(context: AppContext) -> None:
    calls: list[int] = []

    @jobs.register("broken")
    async def broken(job: JobContext, payload: dict[str, Any]) -> None:
        calls.append(job.attempt)
        raise ValueError("row 17: 手机号格式不正确")

    job_id = await _enqueue(context, "broken", max_attempts=2)
    runner = JobRunner(context)

    await runner.run_until_idle()
    clock.advance(jobs.MAX_RETRY_DELAY_SECONDS)
    await runner.run_until_idle()
    clock.advance(jobs.MAX_RETRY_DELAY_SECONDS)
    await runner.run_until_idle()

    job = await _read(context, job_id)
    assert calls == [1, 2]
    assert job.status == JobStatus.FAILED
    assert job.attempts == 2
    assert job.error == "ValueError: row 17: 手机号格式不正确"
    assert job.finished_at is not None


async def test_unknown_kind_fails_at_once_with_a_clear_error(context: AppContext) -> None:
    job_id = await _enqueue(context, "no.such.kind")

    await JobRunner(context).run_until_idle()

    job = await _read(context, job_id)
    assert job.status == JobStatus.FAILED
    assert job.attempts == 1
    assert job.error == "unknown job kind 'no.such.kind': no handler is registered"


async def test_progress_is_stored_and_published_to_the_owner(context: AppContext, owner: Member) -> None:
    progress_in_database: list[tuple[int, int | None, str]] = []

    @jobs.register("import")
    async def import_rows(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
        await job.report_progress(50, 200, "已导入 50 行")
        stored = await _read(job.context, job.job_id)
        progress_in_database.append((stored.progress_done, stored.progress_total, stored.progress_message))
        await job.report_progress(200, 200, "完成")
        return {"rows": 200}

    job_id = await _enqueue(context, "import", owner_account_id=owner.account_id)
    async with context.events.listen(owner.account_id) as listener:
        await JobRunner(context).run_until_idle()
        received = [await next_event(listener) for _ in range(3)]

    assert progress_in_database == [(50, 200, "已导入 50 行")]
    progress = {"type": "job.progress", "job_id": job_id, "kind": "import", "total": 200}
    assert received == [
        {**progress, "done": 50, "percent": 25, "message": "已导入 50 行"},
        {**progress, "done": 200, "percent": 100, "message": "完成"},
        {"type": "job.finished", "job_id": job_id, "kind": "import", "status": "succeeded"},
    ]
    job = await _read(context, job_id)
    assert (job.progress_done, job.progress_total, job.progress_percent) == (200, 200, 100)


async def test_job_of_a_dead_worker_is_taken_over_once_its_lease_expires(context: AppContext) -> None:
    calls: list[int] = []

    @jobs.register("resumable")
    async def resumable(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
        calls.append(job.attempt)
        return {"finished_by_attempt": job.attempt}

    job_id = await _enqueue(context, "resumable")
    async with context.db.transaction() as session:  # a worker claimed it, then its process died
        job = await jobs.get_job(session, job_id)
        assert job is not None
        job.status = JobStatus.RUNNING
        job.attempts = 1
        job.lease_owner = "dead-host:4242:abcdef"
        job.lease_expires_at = utcnow() + timedelta(seconds=jobs.LEASE_SECONDS)
    rescuer = JobRunner(context, worker_id="rescuer")

    assert await rescuer.run_until_idle() == 0  # the lease still holds
    clock.advance(jobs.LEASE_SECONDS + 1)
    assert await rescuer.run_until_idle() == 1

    job = await _read(context, job_id)
    assert calls == [2]
    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"finished_by_attempt": 2}


async def test_two_runners_never_run_the_same_job_twice(
    context: AppContext, other_process: AppContext
) -> None:
    calls: Counter[str] = Counter()

    @jobs.register("count")
    async def count(job: JobContext, payload: dict[str, Any]) -> None:
        calls[job.job_id] += 1
        await asyncio.sleep(0)  # let the other runner interleave

    async with context.db.transaction() as session:
        job_ids = [(await jobs.enqueue(session, kind="count", payload={"n": n})).id for n in range(60)]
    first = JobRunner(context, worker_id="first", concurrency=4)
    second = JobRunner(other_process, worker_id="second", concurrency=4)

    ran = await asyncio.gather(first.run_until_idle(), second.run_until_idle())

    assert sum(ran) == 60
    assert calls == Counter(dict.fromkeys(job_ids, 1))
    async with context.db.transaction() as session:
        statuses = (await session.scalars(select(Job.status).distinct())).all()
    assert statuses == [JobStatus.SUCCEEDED]


async def test_scheduled_job_is_enqueued_once_per_interval_across_runners(
    context: AppContext, other_process: AppContext
) -> None:
    ticks: list[dict[str, Any]] = []

    @jobs.register("cleanup")
    async def cleanup(job: JobContext, payload: dict[str, Any]) -> None:
        ticks.append(payload)

    jobs.schedule("nightly-cleanup", kind="cleanup", every_seconds=3600, payload={"scope": "expired"})
    runners = [JobRunner(context, worker_id="a"), JobRunner(other_process, worker_id="b")]

    async def run_all() -> None:
        await asyncio.gather(*(runner.run_until_idle() for runner in runners))

    await run_all()
    assert ticks == [{"scope": "expired"}]  # first run as soon as a runner sees the schedule
    await run_all()
    clock.advance(3599)
    await run_all()
    assert len(ticks) == 1
    clock.advance(1)
    await run_all()
    await run_all()
    assert len(ticks) == 2


async def test_cancelled_queued_job_never_runs(context: AppContext) -> None:
    calls: list[str] = []

    @jobs.register("export")
    async def export(job: JobContext, payload: dict[str, Any]) -> None:
        calls.append(job.job_id)

    job_id = await _enqueue(context, "export")
    for _ in range(2):  # cancelling twice is harmless
        async with context.db.transaction() as session:
            job = await jobs.get_job(session, job_id)
            assert job is not None
            await jobs.cancel(session, job=job)
            assert job.status == JobStatus.CANCELLED

    assert await JobRunner(context).run_until_idle() == 0
    job = await _read(context, job_id)
    assert calls == []
    assert job.status == JobStatus.CANCELLED
    assert job.finished_at is not None


async def test_cancelling_a_finished_job_is_refused(context: AppContext) -> None:
    @jobs.register("done")
    async def done(job: JobContext, payload: dict[str, Any]) -> None:
        return None

    job_id = await _enqueue(context, "done")
    await JobRunner(context).run_until_idle()

    async with context.db.transaction() as session:
        job = await jobs.get_job(session, job_id)
        assert job is not None
        with pytest.raises(AppError) as refused:
            await jobs.cancel(session, job=job)
    assert refused.value.error is jobs.JOB_ALREADY_FINISHED
    assert (await _read(context, job_id)).status == JobStatus.SUCCEEDED


async def test_running_job_stops_at_its_next_progress_report_once_cancelled(context: AppContext) -> None:
    first_step_done = asyncio.Event()
    may_continue = asyncio.Event()
    steps: list[int] = []

    @jobs.register("long")
    async def long_job(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
        for step in range(1, 4):
            await job.report_progress(step, 3)
            steps.append(step)
            first_step_done.set()
            await may_continue.wait()
        return {"completed": True}

    job_id = await _enqueue(context, "long")
    running = asyncio.create_task(JobRunner(context).run_until_idle())
    await asyncio.wait_for(first_step_done.wait(), timeout=5)
    async with context.db.transaction() as session:
        job = await jobs.get_job(session, job_id)
        assert job is not None
        await jobs.cancel(session, job=job)
    may_continue.set()
    await asyncio.wait_for(running, timeout=5)

    job = await _read(context, job_id)
    assert steps == [1]
    assert job.status == JobStatus.CANCELLED
    assert job.result is None


async def test_stopping_runner_puts_the_job_back_at_its_next_step(context: AppContext) -> None:
    started = asyncio.Event()

    @jobs.register("steps")
    async def steps(job: JobContext, payload: dict[str, Any]) -> None:
        for step in range(1, 1000):
            await job.report_progress(step, 1000)
            started.set()
            await asyncio.sleep(0.01)

    job_id = await _enqueue(context, "steps")
    runner = JobRunner(context)
    await runner.start()
    await asyncio.wait_for(started.wait(), timeout=5)
    await runner.stop(grace_seconds=5)

    job = await _read(context, job_id)
    assert job.status == JobStatus.QUEUED
    assert job.attempts == 0  # an interrupted attempt does not count
    assert job.lease_owner is None
    assert 0 < job.progress_done < 1000


def test_every_column_is_in_the_personal_data_inventory() -> None:
    for table in (Job.__table__, jobs.JobSchedule.__table__):
        undeclared = [column.name for column in table.columns if declaration_of(column) is None]
        assert undeclared == [], table.name


async def test_app_runs_jobs_in_process_while_it_is_up(app: Any, context: AppContext) -> None:
    finished = asyncio.Event()

    @jobs.register("in-process")
    async def in_process(job: JobContext, payload: dict[str, Any]) -> None:
        finished.set()

    assert isinstance(context.extras["job_runner"], JobRunner)
    await _enqueue(context, "in-process")
    await asyncio.wait_for(finished.wait(), timeout=5)


async def test_worker_command_runs_jobs_until_sigterm(settings: Settings, context: AppContext) -> None:
    job_id = await _enqueue(context, "kind.only.the.test.knows")
    environment = {
        **os.environ,
        "ZT_DATA_DIR": str(settings.data_dir),
        "ZT_DATABASE_URL": settings.resolved_database_url,
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "zhengtong.cli", "worker", "--concurrency", "1", env=environment
    )
    try:
        for _ in range(200):  # the worker fails the job (it has no handler for it), proving it ran
            if (await _read(context, job_id)).status == JobStatus.FAILED:
                break
            await asyncio.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(worker.wait(), timeout=15)

    assert exit_code == 0
    assert (
        await _read(context, job_id)
    ).error == "unknown job kind 'kind.only.the.test.knows': no handler is registered"
