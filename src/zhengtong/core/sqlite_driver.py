"""aiosqlite with fewer trips to the connection's thread.

aiosqlite runs every call of the sqlite3 API on the connection's own thread: a trip there and back
costs 150–200 µs on our machines, against a few microseconds for an indexed query itself. Through
SQLAlchemy a plain SELECT made four trips (create the cursor, execute, fetch all, close), and every
unit of work two more (commit, and the pool's rollback when the connection is returned), so a
request's time went mostly to trips. Here a statement makes one: it executes and fetches its first
rows in the same trip; creating a cursor needs no trip, nor does closing one whose rows were all
fetched, nor committing or rolling back a connection that holds no transaction.

Streaming reads (`session.stream`) still fetch the rest in chunks, beyond the first rows. A savepoint
that opens a transaction takes the write lock at once (see _execute_and_prefetch).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

import aiosqlite
from aiosqlite.context import contextmanager
from sqlalchemy.dialects.sqlite.aiosqlite import dialect as aiosqlite_dialect
from sqlalchemy.engine import make_url

# Rows fetched with the execution itself; a larger result is fetched on demand, as aiosqlite would.
PREFETCH_ROWS = 1000

T = TypeVar("T")
Parameters = Sequence[Any] | Mapping[str, Any]


def _execute_and_prefetch(cursor: sqlite3.Cursor, sql: str, parameters: Parameters) -> tuple[list[Any], bool]:
    """Runs on the connection's thread: the statement, its first rows, and whether they are all
    (then sqlite3 has already reset the statement, and closing the cursor needs no trip)."""
    if sql.startswith("SAVEPOINT") and not cursor.connection.in_transaction:
        # A savepoint outside a transaction would begin a deferred one, whose reads pin a snapshot:
        # if another connection commits before this one's first write, that write fails at once
        # ("database is locked", which no busy timeout waits out). Taking the write lock first
        # makes the other writer wait instead, as sqlite3's own BEGIN before a write does.
        cursor.execute("BEGIN IMMEDIATE")
    cursor.execute(sql, parameters)
    if cursor.description is None:
        return [], True
    rows = cursor.fetchmany(PREFETCH_ROWS + 1)
    return rows, len(rows) <= PREFETCH_ROWS


class PrefetchingCursor(aiosqlite.Cursor):
    def __init__(self, conn: aiosqlite.Connection, cursor: sqlite3.Cursor) -> None:
        super().__init__(conn, cursor)
        self._prefetched: deque[Any] = deque()
        self._exhausted = False

    async def _on_thread(self, function: Callable[[], T]) -> T:
        result: T = await self._conn._execute(function)  # type: ignore[no-untyped-call]
        return result

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> PrefetchingCursor:
        bound: Any = () if parameters is None else parameters  # a sequence or a mapping, as sqlite3 takes
        call = partial(_execute_and_prefetch, self._cursor, sql, bound)
        rows, self._exhausted = await self._on_thread(call)
        self._prefetched = deque(rows)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> PrefetchingCursor:
        self._prefetched, self._exhausted = deque(), True
        await self._on_thread(partial(self._cursor.executemany, sql, parameters))  # type: ignore[arg-type]
        return self

    async def fetchone(self) -> Any:
        if self._prefetched:
            return self._prefetched.popleft()
        return None if self._exhausted else await super().fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        wanted = self._cursor.arraysize if size is None else size
        rows = [self._prefetched.popleft() for _ in range(min(wanted, len(self._prefetched)))]
        if len(rows) < wanted and not self._exhausted:
            rows.extend(await super().fetchmany(wanted - len(rows)))
        return rows

    async def fetchall(self) -> list[Any]:
        rows = list(self._prefetched)
        self._prefetched.clear()
        if not self._exhausted:
            rows.extend(await super().fetchall())
        return rows

    async def close(self) -> None:
        self._prefetched.clear()
        if not self._exhausted:
            self._exhausted = True
            await super().close()


class PrefetchingConnection(aiosqlite.Connection):
    @contextmanager
    async def cursor(self) -> aiosqlite.Cursor:
        # Creating a sqlite3 cursor touches no database state: it needs no trip (the connection is
        # opened with check_same_thread=False, and SQLAlchemy uses it for one call at a time).
        return PrefetchingCursor(self, self._conn.cursor())

    async def commit(self) -> None:
        if self._conn.in_transaction:
            await super().commit()

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


def async_creator(url: str, **connect_args: Any) -> Any:
    """For `create_async_engine(async_creator=...)`: opens the database `url` names, as the
    aiosqlite dialect would, on a PrefetchingConnection."""
    arguments, options = aiosqlite_dialect().create_connect_args(make_url(url))
    options.update(connect_args, check_same_thread=False)
    (database,) = arguments

    async def connect() -> aiosqlite.Connection:
        connection = PrefetchingConnection(lambda: sqlite3.connect(database, **options), iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy's dialect does: never holds up exit
        return await connection

    return connect
