"""Job runner throughput and latency, with a runner in the same process (the embedded default).

1. Throughput: N no-op jobs enqueued in one transaction; seconds until the runner has run them all.
2. Latency: jobs enqueued one per transaction (as requests would) at half that throughput, so no
   backlog builds up; enqueue-to-finish latency p50/p95 from each job's created_at and finished_at.

    .venv/bin/python bench/jobs.py                      # temporary SQLite database
    .venv/bin/python bench/jobs.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

With --database-url the benchmark creates its own database next to the given one and drops it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext, build_context
from zhengtong.models import metadata
from zhengtong.platform import jobs
from zhengtong.platform.jobs import Job, JobContext, JobRunner, JobStatus

NOOP_KIND = "bench.noop"


@jobs.register(NOOP_KIND)
async def noop(job: JobContext, payload: dict[str, Any]) -> None:
    return None


@asynccontextmanager
async def scratch_database(base_url: str | None, data_dir: Path) -> AsyncIterator[str]:
    """A fresh database with the schema: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if base_url is None:
        url = f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
    else:
        url = base_url.rsplit("/", 1)[0] + f"/zt_bench_{uuid.uuid4().hex[:10]}"
        await _execute_autocommit(base_url, f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    try:
        yield url
    finally:
        if base_url is not None:
            await _execute_autocommit(
                base_url, f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'
            )


async def _execute_autocommit(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(sa.text(statement))
    await engine.dispose()


async def measure_throughput(context: AppContext, runner: JobRunner, count: int) -> float:
    """Jobs per second for a backlog of `count` jobs."""
    async with context.db.transaction() as session:
        for number in range(count):
            await jobs.enqueue(session, kind=NOOP_KIND, payload={"n": number})
    started = time.perf_counter()
    await runner.run_until_idle()
    return count / (time.perf_counter() - started)


async def measure_latency_ms(context: AppContext, runner: JobRunner, count: int, rate: float) -> list[float]:
    """Sorted enqueue-to-finish latencies of `count` jobs enqueued one by one at `rate` per second,
    with the runner polling in the background and woken by each commit."""
    await runner.start()
    try:
        job_ids = []
        for number in range(count):
            async with context.db.transaction() as session:
                job_ids.append((await jobs.enqueue(session, kind=NOOP_KIND, payload={"n": number})).id)
            await asyncio.sleep(1 / rate)
        await wait_until_finished(context, job_ids)
    finally:
        await runner.stop()
    async with context.db.transaction() as session:
        rows = (
            await session.execute(sa.select(Job.created_at, Job.finished_at).where(Job.id.in_(job_ids)))
        ).all()
    return sorted((finished - created).total_seconds() * 1000 for created, finished in rows if finished)


async def wait_until_finished(context: AppContext, job_ids: list[str]) -> None:
    while True:
        async with context.db.transaction() as session:
            finished = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Job)
                .where(Job.id.in_(job_ids), Job.status == JobStatus.SUCCEEDED)
            )
        if finished == len(job_ids):
            return
        await asyncio.sleep(0.05)


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


async def bench(count: int, latency_count: int, concurrency: int, base_url: str | None) -> str:
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as data_dir:
        async with scratch_database(base_url, Path(data_dir)) as url:
            master_key = base64.b64encode(os.urandom(32)).decode()
            context = build_context(
                Settings(data_dir=Path(data_dir), database_url=url, master_key=master_key)
            )
            runner = JobRunner(context, concurrency=concurrency)
            try:
                throughput = await measure_throughput(context, runner, count)
                latencies = await measure_latency_ms(context, runner, latency_count, rate=throughput / 2)
            finally:
                await context.close()
    backend = "sqlite" if base_url is None else "postgresql"
    return (
        f"{backend}: {count} jobs at concurrency {concurrency}: {throughput:.0f} jobs/s; "
        f"{latency_count} jobs at {throughput / 2:.0f}/s: enqueue-to-finish latency "
        f"p50 {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=2000, help="how many jobs (default 2000)")
    parser.add_argument("--latency-jobs", type=int, default=500, help="jobs in the latency run (default 500)")
    parser.add_argument("--concurrency", type=int, default=4, help="runner concurrency (default 4)")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server to create a scratch database on"
    )
    arguments = parser.parse_args()
    summary = bench(arguments.jobs, arguments.latency_jobs, arguments.concurrency, arguments.database_url)
    print(asyncio.run(summary))


if __name__ == "__main__":
    main()
