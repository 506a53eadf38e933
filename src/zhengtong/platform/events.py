"""Event bus: publish to a channel, subscribe to channels. In-process by default; Redis when
ZT_REDIS_URL is set so that several `zhengtong serve` processes hear each other.

Domains never publish directly from inside a transaction: `publish_after_commit` queues the event
on the session and it leaves only if the transaction commits.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.db import after_commit


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...


class EventBus(Protocol):
    async def publish(self, channel: str, payload: dict[str, Any]) -> None: ...

    def subscribe(self, *channels: str) -> Any:
        """Async context manager yielding an async iterator of payloads."""
        ...

    async def close(self) -> None: ...


class InProcessBus:
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        for queue in list(self._queues.get(channel, ())):
            queue.put_nowait(payload)

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for channel in channels:
            self._queues[channel].add(queue)

        async def iterate() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await queue.get()

        try:
            yield iterate()
        finally:
            for channel in channels:
                self._queues[channel].discard(queue)
                if not self._queues[channel]:
                    del self._queues[channel]

    async def close(self) -> None:
        self._queues.clear()


def publish_after_commit(session: AsyncSession, bus: EventBus, channel: str, payload: dict[str, Any]) -> None:
    async def _publish() -> None:
        await bus.publish(channel, payload)

    after_commit(session, _publish)
