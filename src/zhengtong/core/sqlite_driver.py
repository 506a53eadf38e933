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

Writers take turns in order (WriteTurns). SQLite lets one transaction write at a time, and one
that finds the lock taken sleeps in its busy handler for 1, 2, 5 … up to 100 ms between tries,
so a writer that keeps losing to newcomers waited for seconds: eight chat messages sent at once
answered in 46 ms at the median but 2.3 s at p99. The connections of one engine now queue for the
write lock on the event loop, first come first served, before the statement that would take it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar, cast

import aiosqlite
from aiosqlite.context import contextmanager
from sqlalchemy.dialects.sqlite.aiosqlite import dialect as aiosqlite_dialect
from sqlalchemy.engine import make_url

# Rows fetched with the execution itself; a larger result is fetched on demand, as aiosqlite would.
PREFETCH_ROWS = 1000

T = TypeVar("T")
Parameters = Sequence[Any] | Mapping[str, Any]


# The first word of a statement that never takes the write lock: reads outside a transaction and
# the connection's settings. Anything else may write, so it queues for a turn unless its connection
# already has one (a transaction that has begun holds the lock until it ends).
READ_ONLY_STATEMENTS = ("SELECT", "PRAGMA", "EXPLAIN")


class WriteTurns:
    """The order in which one database's connections (in this process) take SQLite's write lock:
    a FIFO lock held from the statement that begins a write transaction until its commit or
    rollback. Waiting longer than the busy timeout fails as SQLite itself would."""

    def __init__(self, busy_timeout: float) -> None:
        self.lock = asyncio.Lock()
        self.busy_timeout = busy_timeout

    async def take(self) -> None:
        try:
            async with asyncio.timeout(self.busy_timeout):
                await self.lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None

    def give_back(self) -> None:
        self.lock.release()


def _may_write(sql: str) -> bool:
    return not sql.lstrip()[:7].upper().startswith(READ_ONLY_STATEMENTS)


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
        async with self._connection.turn_for(sql):
            rows, self._exhausted = await self._on_thread(call)
        self._prefetched = deque(rows)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> PrefetchingCursor:
        self._prefetched, self._exhausted = deque(), True
        async with self._connection.turn_for(sql):
            await self._on_thread(partial(self._cursor.executemany, sql, parameters))  # type: ignore[arg-type]
        return self

    @property
    def _connection(self) -> PrefetchingConnection:
        return cast(PrefetchingConnection, self._conn)

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
    def __init__(self, connector: Callable[[], sqlite3.Connection], write_turns: WriteTurns) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._write_turns = write_turns
        self._has_turn = False

    @contextmanager
    async def cursor(self) -> aiosqlite.Cursor:
        # Creating a sqlite3 cursor touches no database state: it needs no trip (the connection is
        # opened with check_same_thread=False, and SQLAlchemy uses it for one call at a time).
        return PrefetchingCursor(self, self._conn.cursor())

    @asynccontextmanager
    async def turn_for(self, sql: str) -> AsyncIterator[None]:
        """Around one statement: takes a write turn first when the statement may begin a write
        transaction; keeps it while the transaction lasts, gives it back when none began."""
        if not self._has_turn and not self._conn.in_transaction and _may_write(sql):
            await self._write_turns.take()
            self._has_turn = True
        try:
            yield
        finally:
            self._end_turn_unless_in_transaction()

    def _end_turn_unless_in_transaction(self) -> None:
        if self._has_turn and not self._conn.in_transaction:  # a closed connection has no _conn
            self._end_turn()

    def _end_turn(self) -> None:
        if self._has_turn:
            self._has_turn = False
            self._write_turns.give_back()

    async def commit(self) -> None:
        if self._conn.in_transaction:
            try:
                await super().commit()
            finally:
                self._end_turn_unless_in_transaction()

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            try:
                await super().rollback()
            finally:
                self._end_turn_unless_in_transaction()

    def stop(self) -> asyncio.Future[Any] | None:
        # Closing (close() ends here too) or SQLAlchemy terminating a connection it lost track of:
        # the sqlite3 connection closes on its thread, which ends any transaction, so the turn goes.
        stopping = super().stop()
        self._end_turn()
        return stopping


def async_creator(url: str, **connect_args: Any) -> Any:
    """For `create_async_engine(async_creator=...)`: opens the database `url` names, as the
    aiosqlite dialect would, on a PrefetchingConnection."""
    arguments, options = aiosqlite_dialect().create_connect_args(make_url(url))
    options.update(connect_args, check_same_thread=False)
    (database,) = arguments
    write_turns = WriteTurns(busy_timeout=options.get("timeout", 5.0))

    async def connect() -> aiosqlite.Connection:
        connection = PrefetchingConnection(lambda: sqlite3.connect(database, **options), write_turns)
        connection._thread.daemon = True  # as SQLAlchemy's dialect does: never holds up exit
        return await connection

    return connect
