"""Background work that lives as long as a server process: the in-process job runner."""

from __future__ import annotations

from zhengtong.core.context import AppContext


async def start_background(context: AppContext) -> None:
    """Starts what the settings ask this process to run next to the API."""


async def stop_background(context: AppContext) -> None:
    """Stops it again, letting running work finish its current step."""
