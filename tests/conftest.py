"""Shared fixtures: a fresh database per test run (SQLite by default, PostgreSQL when
ZT_TEST_DATABASE_URL is set), a running app, an HTTP client, and helpers to log in.

With CI=true a skipped test fails the run: CI must prove everything it claims.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from helpers import serve_in_process
from zhengtong.app import create_app
from zhengtong.core.clock import clock
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext, build_context
from zhengtong.models import metadata

TEST_DATABASE_URL = os.environ.get("ZT_TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("ZT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# When ZT_TEST_REDIS_URL is set, the app under test uses Redis for its bus and rate limits too.
APP_REDIS_URL = os.environ.get("ZT_TEST_REDIS_URL") or None
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """In CI a skip is a failure: nothing may pass by not running."""
    if IN_CI and call.excinfo is not None and call.excinfo.errisinstance(pytest.skip.Exception):
        call.excinfo = None  # type: ignore[assignment]
        raise AssertionError(f"{item.nodeid} was skipped, and skips are failures when CI=true")


async def _create_postgres_database(base_url: str) -> str:
    name = f"zt_test_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return base_url.rsplit("/", 1)[0] + f"/{name}"


async def _drop_postgres_database(base_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A database of this run's own, with the schema created; dropped at the end."""
    if TEST_DATABASE_URL:
        url = await _create_postgres_database(TEST_DATABASE_URL)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    yield url
    if TEST_DATABASE_URL:
        await _drop_postgres_database(TEST_DATABASE_URL, url)


@pytest.fixture
async def empty_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database without tables, for tests of migrations and of commands that migrate."""
    if TEST_DATABASE_URL:
        url = await _create_postgres_database(TEST_DATABASE_URL)
        yield url
        await _drop_postgres_database(TEST_DATABASE_URL, url)
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        redis_url=APP_REDIS_URL,
        redis_prefix=f"zt_test_{uuid.uuid4().hex[:10]}:",
        admin_totp_required=True,
    )


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


async def _empty_all_tables(context: AppContext) -> None:
    async with context.db.engine.begin() as connection:
        if context.db.is_sqlite:
            await connection.execute(sa.text("PRAGMA foreign_keys=OFF"))
            for table in reversed(metadata.sorted_tables):
                await connection.execute(table.delete())
            await connection.execute(sa.text("PRAGMA foreign_keys=ON"))
        else:
            names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
            await connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def context(settings: Settings) -> AsyncIterator[AppContext]:
    built = build_context(settings)
    yield built
    await _empty_all_tables(built)
    if APP_REDIS_URL:
        await _delete_redis_keys(APP_REDIS_URL, settings.redis_prefix)
    await built.close()


async def _delete_redis_keys(url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    keys = [key async for key in redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


@pytest.fixture
async def app(context: AppContext) -> AsyncIterator[Any]:
    application = create_app(context=context)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def make_client(app: Any) -> AsyncIterator[Any]:
    """Factory for extra clients (a second browser, another device, another IP)."""
    opened: list[httpx.AsyncClient] = []

    def _make(ip: str = "198.51.100.9") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 50001))
        http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        opened.append(http)
        return http

    yield _make
    for http in opened:
        await http.aclose()


@pytest.fixture
async def live_url(app: Any) -> AsyncIterator[str]:
    """The app served by a real uvicorn on a free port, inside the test's event loop."""
    async with serve_in_process(app) as url:
        yield url
