"""Rate limits: fixed windows counted in process, or in Redis when it is configured."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

from zhengtong.core.errors import RATE_LIMITED, AppError

log = logging.getLogger(__name__)


class LimiterUnavailable(Exception):
    """The shared counter store (Redis) cannot be reached."""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window resets


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int) -> Verdict: ...

    async def reset(self, key: str) -> None: ...

    async def close(self) -> None: ...


class InProcessRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: int, window_seconds: int) -> Verdict:
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window_seconds:
            started, count = now, 0
        count += 1
        self._windows[key] = (started, count)
        retry_after = max(1, int(window_seconds - (now - started)))
        return Verdict(count <= limit, retry_after)

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    async def close(self) -> None:
        self._windows.clear()


async def enforce(
    limiter: RateLimiter, key: str, limit: int, window_seconds: int, *, open_when_unavailable: bool = False
) -> None:
    """Raises `rate_limited` (429 with Retry-After) once `key` exceeds `limit` in the window.

    When the counters cannot be reached, a limit that guards against abuse of sending (chat)
    lets the request through (`open_when_unavailable`): a Redis outage must not stop work. Limits
    that guard secrets (login codes) stay closed and the request fails."""
    try:
        verdict = await limiter.hit(key, limit, window_seconds)
    except LimiterUnavailable:
        if not open_when_unavailable:
            raise
        log.warning("rate limiter unavailable; letting %s through", key.split(":", 1)[0])
        return
    if not verdict.allowed:
        raise AppError(
            RATE_LIMITED,
            {"retry_after": verdict.retry_after},
            headers={"Retry-After": str(verdict.retry_after)},
        )
