"""One place that tells the time, so tests can move it and every datetime is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Wall clock in UTC; tests shift it with `advance` instead of sleeping."""

    def __init__(self) -> None:
        self._offset_seconds = 0.0

    def now(self) -> datetime:
        moment = datetime.now(UTC)
        return moment + timedelta(seconds=self._offset_seconds)

    def advance(self, seconds: float) -> None:
        self._offset_seconds += seconds

    def reset(self) -> None:
        self._offset_seconds = 0.0


clock = Clock()


def utcnow() -> datetime:
    return clock.now()
