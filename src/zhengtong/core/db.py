"""Database: declarative base with a constraint naming convention, engines for SQLite and
PostgreSQL, and the unit of work that owns the transaction and runs side effects after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, String, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from zhengtong.core import sqlite_driver
from zhengtong.core.clock import utcnow
from zhengtong.core.ids import new_id
from zhengtong.core.inventory import NOT_PERSONAL

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id, info=NOT_PERSONAL)


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, info=NOT_PERSONAL)


# SQLite reads the database through a shared memory map instead of copying each page into every
# connection's own small cache: the latest page of a conversation holding a million messages costs
# a few page lookups, not read() calls (the operating system still decides what stays in memory).
SQLITE_MMAP_BYTES = 1 << 30


def create_engine(url: str) -> AsyncEngine:
    # hide_parameters: a database error's text (which reaches logs and job errors) names the
    # statement but never the values bound to it (names, numbers).
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, async_creator=sqlite_driver.async_creator(url, timeout=30), hide_parameters=True
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, hide_parameters=True)


AfterCommit = Callable[[], Awaitable[None]]
_AFTER_COMMIT_KEY = "zt_after_commit"


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once the session's transaction has committed; dropped on rollback."""
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


async def run_after_commit(session: AsyncSession) -> None:
    callbacks: list[AfterCommit] = session.info.pop(_AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        await callback()


class Database:
    """Engine plus session factory. `transaction()` is the unit of work a request or job owns."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Yields a session; commits when the block succeeds, rolls back when it raises, then runs
        the after-commit callbacks (events, notifications) only for committed work."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                session.info.pop(_AFTER_COMMIT_KEY, None)
                await session.rollback()
                raise
            await run_after_commit(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
