"""The background jobs of work notices, registered where they are written: sending (service.py)."""

from __future__ import annotations

from zhengtong.worknotices import service as _service  # noqa: F401
