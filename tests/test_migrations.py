"""One Alembic history for SQLite and PostgreSQL, and it matches the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from conftest import TEST_DATABASE_URL, _create_postgres_database, _drop_postgres_database
from zhengtong.core.config import Settings
from zhengtong.core.db import create_engine
from zhengtong.migrate import upgrade
from zhengtong.models import metadata


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


@pytest.fixture
async def empty_database_url(tmp_path: Path):  # type: ignore[no-untyped-def]
    if TEST_DATABASE_URL:
        url = await _create_postgres_database(TEST_DATABASE_URL)
        yield url
        await _drop_postgres_database(TEST_DATABASE_URL, url)
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"


async def test_migrations_create_exactly_the_models(empty_database_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=empty_database_url)
    await asyncio.to_thread(upgrade, settings)  # Alembic runs its own event loop
    engine = create_engine(empty_database_url)
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    await engine.dispose()
    assert differences == [], "models and migrations drifted; run: alembic revision --autogenerate"
