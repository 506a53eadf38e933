"""One Alembic history for SQLite and PostgreSQL, and it matches the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from zhengtong.core.config import Settings
from zhengtong.core.db import create_engine
from zhengtong.migrate import upgrade
from zhengtong.models import metadata


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_create_exactly_the_models(empty_database_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=empty_database_url)
    await asyncio.to_thread(upgrade, settings)  # Alembic runs its own event loop
    engine = create_engine(empty_database_url)
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    await engine.dispose()
    assert differences == [], "models and migrations drifted; run: alembic revision --autogenerate"
