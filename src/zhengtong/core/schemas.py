"""Base classes for API schemas: inputs refuse unknown fields; outputs read from ORM objects."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class InputSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)
