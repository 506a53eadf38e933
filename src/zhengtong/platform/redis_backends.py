"""Redis implementations of the event bus and the rate limiter, for several server processes.

Every key and channel starts with `prefix`, so that several installations (or test runs) can share
one Redis. Pub/sub delivers at most once: a message published while a subscriber is reconnecting
is lost to it, so subscribers treat events as hints and fetch the state they describe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from zhengtong.platform.eventlog import (
    RETAINED_EVENTS,
    Backlog,
    Delivery,
    Listener,
    LocalListeners,
    backlog_from,
    frame_tail,
)
from zhengtong.platform.ratelimit import LimiterUnavailable, Verdict

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


# Commands wait this long for a free pooled connection: a burst (a thousand sockets sending their
# heartbeat in the same second) queues instead of failing, as the default pool would past 100.
POOL_CONNECTIONS = 64
POOL_WAIT_SECONDS = 10


def command_client(url: str, name: str) -> Redis:
    """A client for ordinary commands: a bounded pool that waits, and retries on a fresh
    connection."""
    # The retry goes to the pool's connections: a client handed a pool does not pass its own on.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_CONNECTIONS,
        timeout=POOL_WAIT_SECONDS,
        client_name=name,
        retry=_command_retry(),
    )
    return Redis(connection_pool=pool)


async def _close_pubsub(pubsub: PubSub) -> None:
    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


class _RedisSubscription:
    """Async iterator of the payloads published to some channels. When the connection drops it
    reconnects and subscribes again, waiting longer after each failed attempt, for as long as it
    takes: a subscriber outlives a Redis restart."""

    def __init__(
        self, client: Redis, names: list[str], on_reconnect: Callable[[], None] | None = None
    ) -> None:
        self._client = client
        self._names = names
        self._pubsub: PubSub | None = None
        self._on_reconnect = on_reconnect

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
            except _CONNECTION_ERRORS as error:
                delay = min(delay * 2, _MAX_BACKOFF_SECONDS)
                log.warning("event bus: Redis unreachable (%s); next attempt in %.2fs", error, delay)
                continue
            if self._on_reconnect is not None:
                self._on_reconnect()  # whatever was published during the gap was missed
            return

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
        self._publisher = command_client(url, f"{prefix}publisher")
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
        self._redis = command_client(url, f"{prefix}ratelimit")
        self._hit = self._redis.register_script(_HIT_SCRIPT)

    def _key(self, key: str) -> str:
        return f"{self.prefix}ratelimit:{key}"

    async def hit(self, key: str, limit: int, window_seconds: int) -> Verdict:
        try:
            count, seconds_left = await self._hit(keys=[self._key(key)], args=[window_seconds])
        except _CONNECTION_ERRORS as error:
            raise LimiterUnavailable(str(error)) from error
        return Verdict(allowed=int(count) <= limit, retry_after=max(1, int(seconds_left)))

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._key(key))

    async def close(self) -> None:
        await self._redis.aclose()


# Numbers, stores and publishes one event for all its recipients, atomically. ARGV: prefix, event
# JSON, retained length, log lifetime in seconds, an epoch to use if none exists yet, and the
# recipients' account ids joined by commas (ids are ULIDs): one argument, because redis-py encodes
# each argument in Python, and a thousand of them cost ~1 ms of the server's CPU per event. Heads
# live in one hash; each person's log is a stream whose entry ids are their sequence numbers.
# Returns the epoch.
_APPEND_SCRIPT = """
local prefix = ARGV[1]
redis.call('SET', prefix .. 'ev:epoch', ARGV[5], 'NX')
local epoch = redis.call('GET', prefix .. 'ev:epoch')
local targets = {}
for account in string.gmatch(ARGV[6], '[^,]+') do
  local seq = redis.call('HINCRBY', prefix .. 'ev:head', account, 1)
  local stream = prefix .. 'ev:log:' .. account
  redis.call('XADD', stream, 'MAXLEN', '~', ARGV[3], seq .. '-1', 'e', ARGV[2])
  redis.call('EXPIRE', stream, ARGV[4])
  targets[#targets + 1] = '"' .. account .. '":' .. seq
end
redis.call('PUBLISH', prefix .. 'ev:fanout',
  '{"epoch":"' .. epoch .. '","event":' .. ARGV[2] .. ',"targets":{' .. table.concat(targets, ',') .. '}}')
return epoch
"""
_LOG_LIFETIME_SECONDS = 7 * 24 * 3600
# Events held in a process while Redis is unreachable, at most; beyond that they are dropped and,
# once Redis is back, the epoch is replaced so that every client resyncs from the database.
PENDING_LIMIT = 10_000
# What a command to the event log may fail with and still be worth retrying later: the server is
# unreachable, or answers an error it may stop answering (OOM, READONLY during a failover, LOADING).
_HOLD_ERRORS = (RedisError, OSError)


class RedisEventLog:
    """Per-user event streams in Redis, shared by every server process. One script call per event
    (whatever the number of recipients) and one pub/sub message, which each process fans out to
    the connections it holds.

    When Redis is unreachable, events wait in order in this process and go out once it is back:
    delivery pauses, nothing is dropped — unless more than PENDING_LIMIT pile up, in which case
    they are dropped and the epoch is replaced when Redis is back, so that clients resync. If
    Redis lost its data the epoch changes too, and clients resync from the database."""

    def __init__(self, url: str, prefix: str = "zt:") -> None:
        self.prefix = prefix
        self._redis = command_client(url, f"{prefix}eventlog")
        self._subscriber = Redis.from_url(
            url,
            retry=Retry(NoBackoff(), 0),
            client_name=f"{prefix}eventlog-fanout",
            socket_keepalive=True,
            socket_keepalive_options=_KEEPALIVE_OPTIONS,
        )
        self._append = self._redis.register_script(_APPEND_SCRIPT)
        self._listeners = LocalListeners()
        self._pending: deque[tuple[str, bytes]] = deque()
        self._pending_dropped = False
        self._flusher: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._dispatcher_ready = asyncio.Lock()

    @property
    def _fanout(self) -> str:
        return self.prefix + "ev:fanout"

    # -- sending

    async def append(self, account_ids: Sequence[str], event: dict[str, Any]) -> None:
        if not account_ids:
            return
        item = (",".join(account_ids), orjson.dumps(event))
        if self._pending or self._pending_dropped or not await self._try_append(*item):
            self._hold(item)

    def _hold(self, item: tuple[str, bytes]) -> None:
        if len(self._pending) >= PENDING_LIMIT:
            log.error(
                "event log: more than %d events waiting for Redis; dropping them, clients will resync",
                PENDING_LIMIT,
            )
            self._pending.clear()
            self._pending_dropped = True
        self._pending.append(item)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_pending())

    async def _try_append(self, account_ids: str, event_json: bytes) -> bool:
        try:
            await self._append(
                args=[
                    self.prefix,
                    event_json,
                    RETAINED_EVENTS,
                    _LOG_LIFETIME_SECONDS,
                    secrets.token_hex(8),
                    account_ids,
                ]
            )
        except _HOLD_ERRORS as error:
            log.warning("event log: Redis unavailable (%s); holding events until it is back", error)
            return False
        return True

    async def _try_new_epoch(self) -> bool:
        """Replaces the epoch (every client then resyncs) and wakes every process's connections
        so that those that hear nothing else learn it too."""
        try:
            await self._redis.set(self.prefix + "ev:epoch", secrets.token_hex(8))
            await self._redis.publish(self._fanout, orjson.dumps({"wake": True}))
        except _HOLD_ERRORS as error:
            log.warning("event log: Redis unavailable (%s); holding events until it is back", error)
            return False
        return True

    async def _flush_pending(self) -> None:
        delay = _FIRST_BACKOFF_SECONDS
        while self._pending or self._pending_dropped:
            if self._pending_dropped:
                done = await self._try_new_epoch()
                if done:
                    self._pending_dropped = False
            else:
                done = await self._try_append(*self._pending[0])
                if done:
                    self._pending.popleft()
            if done:
                delay = _FIRST_BACKOFF_SECONDS
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_BACKOFF_SECONDS)

    async def transient(self, account_ids: Sequence[str], event: dict[str, Any]) -> None:
        message = {"epoch": "", "event": event, "targets": dict.fromkeys(account_ids, 0)}
        # Transient by definition: typing and progress are not worth waiting for.
        with contextlib.suppress(*_HOLD_ERRORS):
            await self._redis.publish(self._fanout, orjson.dumps(message))

    # -- receiving

    @asynccontextmanager
    async def listen(self, account_id: str) -> AsyncIterator[Listener]:
        await self._ensure_dispatcher()
        listener = Listener(account_id)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.remove(listener)

    async def _ensure_dispatcher(self) -> None:
        async with self._dispatcher_ready:
            if self._dispatcher is not None and not self._dispatcher.done():
                return
            subscription = _RedisSubscription(self._subscriber, [self._fanout], on_reconnect=self._wake_all)
            await subscription.open()
            self._dispatcher = asyncio.create_task(self._dispatch(subscription))

    async def _dispatch(self, subscription: _RedisSubscription) -> None:
        try:
            async for message in subscription:
                try:
                    self._fan_out(message)
                except Exception:  # one malformed message must not silence every connection
                    log.exception("event log: dropped a fanout message it could not read")
        except Exception:
            log.exception("event log: the fanout subscription failed")
            raise
        finally:
            await subscription.close()
            # Without a subscription the connections would wait for nothing: they are ended,
            # and their clients reconnect (which subscribes again) and resume.
            self._listeners.close_all()

    def _fan_out(self, message: dict[str, Any]) -> None:
        if message.get("wake"):
            self._wake_all()
            return
        if message.get("reconnect"):
            self._listeners.close_all()
            return
        event: dict[str, Any] = message.get("event") or {}
        epoch = str(message.get("epoch", ""))
        tail = b""
        for account_id, seq in message.get("targets", {}).items():
            if self._listeners.connected(account_id):
                tail = tail or frame_tail(event)
                self._listeners.deliver(account_id, Delivery(int(seq), event, epoch, tail))

    def _wake_all(self) -> None:
        """After a gap in the subscription, every connection checks its stream for what it missed."""
        for account_id in list(self._listeners.by_account):
            self._listeners.deliver(account_id, Delivery(0, {"type": "stream.check"}, ""))

    async def backlog(self, account_id: str, client_epoch: str | None, since: int | None) -> Backlog:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self.prefix + "ev:epoch", secrets.token_hex(8), nx=True)
            pipe.get(self.prefix + "ev:epoch")
            pipe.hget(self.prefix + "ev:head", account_id)
            if since is not None:
                pipe.xrange(self.prefix + "ev:log:" + account_id, min=f"{since + 1}-0")
            answers = await pipe.execute()
        epoch = answers[1].decode()
        head = int(answers[2] or 0)
        entries = answers[3] if since is not None else []
        missed = [
            Delivery(int(entry_id.decode().split("-")[0]), orjson.loads(fields[b"e"]), epoch)
            for entry_id, fields in entries
        ]
        return backlog_from(epoch, head, missed, client_epoch, since)

    def is_connected(self, account_id: str) -> bool:
        return self._listeners.connected(account_id)

    async def reconnect_all(self) -> None:
        # Through the fanout channel, so that every process ends its own connections.
        try:
            await self._redis.publish(self._fanout, orjson.dumps({"reconnect": True}))
        except _HOLD_ERRORS as error:  # the sockets are ended anyway when the subscription breaks
            log.warning("event log: could not ask for reconnects (%s)", error)

    async def close(self) -> None:
        for task in (self._dispatcher, self._flusher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._redis.aclose()
        await self._subscriber.aclose()


async def forget_in_redis(
    url: str,
    prefix: str,
    *,
    naming: Sequence[str] = (),
    event_streams_of: Sequence[str] = (),
    departed_accounts: Sequence[str] = (),
) -> int:
    """Deletes what Redis holds about an organisation or people leaving it; returns how many keys
    went. `naming`: every key whose name contains one of these (an organisation id, an account id,
    the hex of a mobile's blind index: rate-limit windows, presence). `event_streams_of`: these
    accounts' event streams, which carry their organisations' events in clear; the head stays, so
    their clients resync instead of replaying. `departed_accounts`: accounts that are gone, whose
    stream heads go too."""
    redis = command_client(url, f"{prefix}erasure")
    try:
        doomed: set[bytes] = set()
        for name in naming:
            doomed.update([key async for key in redis.scan_iter(match=f"{prefix}*{name}*", count=1000)])
        doomed.update(f"{prefix}ev:log:{account_id}".encode() for account_id in event_streams_of)
        removed = 0
        keys = sorted(doomed)
        for start in range(0, len(keys), 500):
            removed += int(await redis.unlink(*keys[start : start + 500]))
        if departed_accounts:
            await redis.hdel(f"{prefix}ev:head", *departed_accounts)
        return removed
    finally:
        await redis.aclose()
        await redis.connection_pool.disconnect()  # a pool handed to the client is not closed with it
