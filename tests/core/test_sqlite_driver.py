"""The SQLite driver (core/sqlite_driver.py) through SQLAlchemy, as the application uses it: a
statement makes one trip to the connection's thread, a unit of work that wrote nothing commits
without one, and results of any size come back whole, whether fetched at once or streamed."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from zhengtong.core import sqlite_driver
from zhengtong.core.db import Database

ROWS = sqlite_driver.PREFETCH_ROWS * 2 + 7


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with database.engine.begin() as connection:
        await connection.execute(sa.text("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)"))
    yield database
    await database.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the calls made on a connection's thread, by the function's name."""
    counted: Counter[str] = Counter()
    run_on_thread = aiosqlite.Connection._execute

    async def counting(
        self: aiosqlite.Connection, function: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
        named = getattr(function, "func", function)  # through functools.partial
        counted[getattr(named, "__name__", repr(named))] += 1
        return await run_on_thread(self, function, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return counted


async def fill(engine: AsyncEngine, count: int) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            sa.text("INSERT INTO items (id, name) VALUES (:id, :name)"),
            [{"id": n, "name": f"第{n}项"} for n in range(count)],
        )


async def test_a_read_makes_one_trip_and_a_unit_of_work_that_wrote_nothing_none_more(
    database: Database, trips: Counter[str]
) -> None:
    await fill(database.engine, 3)
    async with database.transaction() as session:  # a warm pooled connection
        await session.execute(sa.text("SELECT 1"))
    trips.clear()
    async with database.transaction() as session:
        names = (await session.execute(sa.text("SELECT name FROM items ORDER BY id"))).scalars().all()
        total = await session.scalar(sa.text("SELECT count(*) FROM items"))
    assert names == ["第0项", "第1项", "第2项"] and total == 3
    assert trips == Counter({"_execute_and_prefetch": 2})  # no cursor, close, commit or rollback


async def test_a_write_commits_and_a_failed_unit_of_work_rolls_back(
    database: Database, trips: Counter[str]
) -> None:
    async with database.transaction() as session:
        result = await session.execute(sa.text("INSERT INTO items (id, name) VALUES (1, 'a')"))
        assert result.rowcount == 1
        # The connection reads its own uncommitted write.
        assert await session.scalar(sa.text("SELECT name FROM items WHERE id = 1")) == "a"
    assert trips["commit"] == 1
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await session.execute(sa.text("UPDATE items SET name = 'b' WHERE id = 1"))
            raise RuntimeError("the handler failed")
    assert trips["rollback"] == 1
    async with database.transaction() as session:
        assert await session.scalar(sa.text("SELECT name FROM items WHERE id = 1")) == "a"


async def test_results_beyond_the_first_rows_come_back_whole(database: Database) -> None:
    await fill(database.engine, ROWS)
    query = sa.text("SELECT id FROM items ORDER BY id")
    async with database.transaction() as session:
        assert (await session.execute(query)).scalars().all() == list(range(ROWS))
        streamed = await session.stream(query.execution_options(yield_per=300))
        assert [row async for row in streamed.scalars()] == list(range(ROWS))
        # A cursor left before its end is closed on its thread, and the connection goes on.
        partial = await session.stream(query.execution_options(yield_per=10))
        assert await anext(partial.scalars().partitions(10)) == list(range(10))
        await partial.close()
        assert await session.scalar(sa.text("SELECT count(*) FROM items")) == ROWS


async def test_fetching_one_row_at_a_time_reaches_the_end(database: Database) -> None:
    await fill(database.engine, sqlite_driver.PREFETCH_ROWS + 2)
    connection = await sqlite_driver.async_creator(str(database.url))()
    try:
        cursor = await connection.cursor()
        await cursor.execute("SELECT id FROM items ORDER BY id")
        rows = [await cursor.fetchone() for _ in range(sqlite_driver.PREFETCH_ROWS + 3)]
        assert [row[0] for row in rows[:-1]] == list(range(sqlite_driver.PREFETCH_ROWS + 2))
        assert rows[-1] is None
        await cursor.close()
    finally:
        await connection.close()


async def test_a_savepoint_that_opens_the_transaction_makes_another_writer_wait(database: Database) -> None:
    """A unit of work that reads in a savepoint and then writes, while another one commits a
    write in between, succeeds instead of failing with "database is locked": the savepoint took
    the write lock, so the other writer waited for this commit."""
    await fill(database.engine, 1)
    other_may_write = asyncio.Event()

    async def other_writer() -> None:
        await other_may_write.wait()
        async with database.transaction() as session:
            await session.execute(sa.text("INSERT INTO items (id, name) VALUES (100, '另一项')"))

    writer = asyncio.create_task(other_writer())
    async with database.transaction() as session, session.begin_nested():
        count = (await session.execute(sa.text("SELECT count(*) FROM items"))).scalar_one()
        other_may_write.set()
        await asyncio.sleep(0.2)  # the other writer commits now, if it can
        await session.execute(
            sa.text("INSERT INTO items (id, name) VALUES (:id, '计数')"), {"id": 200 + count}
        )
    await asyncio.wait_for(writer, 10)
    async with database.transaction() as session:
        ids = (await session.execute(sa.text("SELECT id FROM items ORDER BY id"))).scalars().all()
    assert ids == [0, 100, 201]
