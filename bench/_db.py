"""Scratch databases for the benchmarks: a SQLite file in a temporary directory, or a PostgreSQL
database `zt_bench_<random>` created next to the one a --database-url names and dropped afterwards."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from zhengtong.models import metadata

ZHENGTONG = str(Path(sys.executable).with_name("zhengtong"))


@asynccontextmanager
async def scratch_database(
    base_url: str | None, data_dir: Path, *, schema: str = "metadata"
) -> AsyncIterator[str]:
    """A fresh database, dropped afterwards when on PostgreSQL. `schema` is "metadata" (the tables
    from the models, for benchmarks that call the services in process), "migrations" (`zhengtong
    migrate`, for benchmarks that start `zhengtong serve`, which migrates on start) or "none"."""
    if base_url is None:
        url = f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
    else:
        url = base_url.rsplit("/", 1)[0] + f"/zt_bench_{uuid.uuid4().hex[:10]}"
        await execute_autocommit(base_url, f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
    try:
        if schema == "metadata":
            engine = create_async_engine(url)
            async with engine.begin() as connection:
                await connection.run_sync(metadata.create_all)
            await engine.dispose()
        elif schema == "migrations":
            env = {**os.environ, "ZT_DATA_DIR": str(data_dir), "ZT_DATABASE_URL": url}
            migrate = await asyncio.create_subprocess_exec(
                ZHENGTONG,
                "migrate",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output, _ = await migrate.communicate()
            if migrate.returncode != 0:
                raise RuntimeError(f"zhengtong migrate failed:\n{output.decode(errors='replace')}")
        yield url
    finally:
        if base_url is not None:
            await execute_autocommit(
                base_url, f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'
            )


async def execute_autocommit(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(sa.text(statement))
    await engine.dispose()


async def analyze(url: str) -> None:
    """Refreshes the planner's statistics, as autovacuum or `PRAGMA optimize` would."""
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.execute(sa.text("ANALYZE"))
        await connection.commit()
    await engine.dispose()
