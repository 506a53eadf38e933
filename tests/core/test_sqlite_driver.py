"""The SQLite driver (core/sqlite_driver.py) through SQLAlchemy, as the application uses it: a
statement makes one trip to the connection's thread, a unit of work that wrote nothing commits
without one, results of any size come back whole, whether fetched at once or streamed, and
writers take the write lock in turn, in the order they asked for it."""

from __future__ import annotations

import asyncio
import sqlite3
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


async def test_writers_take_the_write_lock_in_the_order_they_asked(database: Database) -> None:
    """Five writers arrive while a sixth holds the lock; they write in the order they arrived
    (SQLite's busy handler alone lets whoever retries at the right moment go first)."""
    holder_wrote, holder_may_commit = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with database.transaction() as session:
            await session.execute(sa.text("INSERT INTO items (name) VALUES ('先到')"))
            holder_wrote.set()
            await holder_may_commit.wait()

    async def writer(number: int) -> None:
        async with database.transaction() as session:
            await session.execute(sa.text("INSERT INTO items (name) VALUES (:name)"), {"name": str(number)})

    first = asyncio.create_task(holder())
    await holder_wrote.wait()
    waiting = []
    for number in range(5):
        waiting.append(asyncio.create_task(writer(number)))
        await asyncio.sleep(0.02)  # each one is queued before the next arrives
    holder_may_commit.set()
    await asyncio.wait_for(asyncio.gather(first, *waiting), 10)

    async with database.transaction() as session:
        names = (await session.execute(sa.text("SELECT name FROM items ORDER BY id"))).scalars().all()
    assert names == ["先到", "0", "1", "2", "3", "4"]


async def test_a_read_outside_a_transaction_does_not_wait_for_the_writer(database: Database) -> None:
    await fill(database.engine, 3)
    async with database.transaction() as writing:
        await writing.execute(sa.text("INSERT INTO items (id, name) VALUES (10, '未提交')"))
        async with database.transaction() as reading:
            read = reading.execute(sa.text("SELECT count(*) FROM items"))
            assert (await asyncio.wait_for(read, 5)).scalar_one() == 3  # WAL: the last commit's view


async def test_a_failed_write_gives_its_turn_back_with_the_rollback(database: Database) -> None:
    await fill(database.engine, 1)
    with pytest.raises(sa.exc.IntegrityError):
        async with database.transaction() as session:
            await session.execute(sa.text("INSERT INTO items (id, name) VALUES (0, '重复')"))
    async with asyncio.timeout(5), database.transaction() as session:
        await session.execute(sa.text("INSERT INTO items (id, name) VALUES (1, '下一个')"))
    async with database.transaction() as session:
        assert (await session.execute(sa.text("SELECT count(*) FROM items"))).scalar_one() == 2


async def test_waiting_for_a_turn_longer_than_the_busy_timeout_fails_as_sqlite_would() -> None:
    turns = sqlite_driver.WriteTurns(busy_timeout=0.05)
    await turns.take()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        await turns.take()
    turns.give_back()
    await asyncio.wait_for(turns.take(), 1)  # the one that timed out did not keep a place


async def test_a_connection_closed_in_its_transaction_gives_its_turn_back(database: Database) -> None:
    """As when SQLAlchemy invalidates a connection that failed mid-transaction: the transaction is
    gone with the connection, and the next writer does not wait out the busy timeout."""
    connection = await database.engine.connect()
    await connection.execute(sa.text("INSERT INTO items (id, name) VALUES (1, '未提交')"))
    await connection.invalidate()
    await connection.close()
    async with asyncio.timeout(5), database.transaction() as session:
        await session.execute(sa.text("INSERT INTO items (id, name) VALUES (2, '下一个')"))
    async with database.transaction() as session:
        ids = (await session.execute(sa.text("SELECT id FROM items"))).scalars().all()
    assert ids == [2]
