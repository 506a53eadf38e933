"""Redis implementations of the event bus and the rate limiter, for several server processes.

Every key and channel starts with `prefix`, so that several installations (or test runs) can share
one Redis. Pub/sub delivers at most once: a message published while a subscriber is reconnecting
is lost to it, so subscribers treat events as hints and fetch the state they describe.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from zhengtong.platform.ratelimit import Verdict

log = logging.getLogger(__name__)

_CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
_FIRST_BACKOFF_SECONDS = 0.05
_MAX_BACKOFF_SECONDS = 5.0
_SUBSCRIBE_TIMEOUT_SECONDS = 10.0
# A subscriber only reads, so a server that vanished without closing the connection (a crashed
# host) would never be noticed; TCP keepalive probes notice within about a minute on Linux.
_KEEPALIVE_OPTIONS = {
    getattr(socket, name): value
    for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3))
    if hasattr(socket, name)
}


def _command_retry() -> Retry:
    """Commands retry on a fresh connection: pooled connections go stale when Redis restarts, and
    clients made with `from_url` would not retry at all."""
    return Retry(ExponentialWithJitterBackoff(base=0.01, cap=1.0), retries=3)


async def _close_pubsub(pubsub: PubSub) -> None:
    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


class _RedisSubscription:
    """Async iterator of the payloads published to some channels. When the connection drops it
    reconnects and subscribes again, waiting longer after each failed attempt, for as long as it
    takes: a subscriber outlives a Redis restart."""

    def __init__(self, client: Redis, names: list[str]) -> None:
        self._client = client
        self._names = names
        self._pubsub: PubSub | None = None

    async def open(self) -> None:
        """Subscribes, and returns once Redis has confirmed it: nothing published after this is missed."""
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(*self._names)
            pending = set(self._names)
            async with asyncio.timeout(_SUBSCRIBE_TIMEOUT_SECONDS):
                while pending:
                    message = await pubsub.get_message(timeout=None)
                    if message is not None and message["type"] == "subscribe":
                        pending.discard(message["channel"].decode())
        except BaseException:
            await _close_pubsub(pubsub)
            raise
        self._pubsub = pubsub

    async def close(self) -> None:
        if self._pubsub is not None:
            await _close_pubsub(self._pubsub)
            self._pubsub = None

    async def _reopen(self) -> None:
        await self.close()
        delay = _FIRST_BACKOFF_SECONDS
        while True:
            await asyncio.sleep(delay)
            try:
                await self.open()
                return
            except _CONNECTION_ERRORS as error:
                delay = min(delay * 2, _MAX_BACKOFF_SECONDS)
                log.warning("event bus: Redis unreachable (%s); next attempt in %.2fs", error, delay)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while True:
            if self._pubsub is None:
                raise StopAsyncIteration  # closed
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            except _CONNECTION_ERRORS as error:
                log.warning("event bus: lost the Redis subscription (%s); reconnecting", error)
                await self._reopen()
                continue
            if message is None or message["type"] != "message":
                continue
            try:
                payload: dict[str, Any] = orjson.loads(message["data"])
            except orjson.JSONDecodeError:
                log.error("event bus: dropped a message that is not JSON on %s", message["channel"])
                continue
            return payload


class RedisBus:
    """The event bus over Redis pub/sub: payloads are JSON, channels carry the prefix."""

    def __init__(self, url: str, prefix: str = "zt:") -> None:
        self.prefix = prefix
        self._publisher = Redis.from_url(url, retry=_command_retry(), client_name=f"{prefix}publisher")
        # Subscriptions reconnect on their own terms (see _RedisSubscription), so the client
        # library does not retry under them. The name tells them apart in CLIENT LIST.
        self._subscriber = Redis.from_url(
            url,
            retry=Retry(NoBackoff(), 0),
            client_name=f"{prefix}subscriber",
            socket_keepalive=True,
            socket_keepalive_options=_KEEPALIVE_OPTIONS,
        )

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        await self._publisher.publish(self.prefix + channel, orjson.dumps(payload))

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Subscribed when the block starts; yields an async iterator of the payloads."""
        subscription = _RedisSubscription(self._subscriber, [self.prefix + channel for channel in channels])
        await subscription.open()
        try:
            yield subscription
        finally:
            await subscription.close()

    async def close(self) -> None:
        await self._publisher.aclose()
        await self._subscriber.aclose()


# Counts a hit and returns {count, seconds left in the window}. The window starts with the first
# hit; a key found without an expiry (none should exist) gets one, so it cannot block forever.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisRateLimiter:
    """Fixed windows counted in Redis, shared by every process; one atomic script per hit."""

    def __init__(self, url: str, prefix: str = "zt:") -> None:
        self.prefix = prefix
        self._redis = Redis.from_url(url, retry=_command_retry(), client_name=f"{prefix}ratelimit")
        self._hit = self._redis.register_script(_HIT_SCRIPT)

    def _key(self, key: str) -> str:
        return f"{self.prefix}ratelimit:{key}"

    async def hit(self, key: str, limit: int, window_seconds: int) -> Verdict:
        count, seconds_left = await self._hit(keys=[self._key(key)], args=[window_seconds])
        return Verdict(allowed=int(count) <= limit, retry_after=max(1, int(seconds_left)))

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._key(key))

    async def close(self) -> None:
        await self._redis.aclose()
