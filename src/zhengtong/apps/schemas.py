"""Request and response shapes of the admin console's apps."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema


class AppCreate(InputSchema):
    name: str = Field(min_length=1, max_length=60)
    description: str = Field(default="", max_length=300)


class AppRead(OutputSchema):
    id: str
    name: str
    description: str
    agent_id: int
    app_key: str
    created_at: datetime
    disabled_at: datetime | None


class AppWithSecret(AppRead):
    app_secret: str  # shown this once: only its keyed hash is kept


class AppDisabled(InputSchema):
    disabled: bool
