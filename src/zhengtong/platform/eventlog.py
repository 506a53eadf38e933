"""Per-user event streams: every event a person receives gets the next number of their own
sequence, and the recent past is kept so that a client that reconnects receives exactly what it
missed.

A stream is identified by an epoch: when the retained history is gone (the process restarted
with the in-process log, or Redis lost its data), the epoch changes and a client that presents an
old epoch, or a sequence older than what is retained, is told to resync: it refetches state from
the database, which is where acknowledged messages live. Events are hints; the database is truth.

Transient events (typing, job progress) take no sequence number and are not replayed.

`InProcessEventLog` serves one process; `RedisEventLog` (in redis_backends) lets several server
processes share streams: one atomic script numbers, stores and publishes an event for all its
recipients, and every process fans it out to its own connections.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.db import after_commit

log = logging.getLogger(__name__)

# How many sequenced events each person's stream keeps for replay.
RETAINED_EVENTS = 1000
# A listener that falls this far behind (a client not reading) is dropped; it reconnects and resumes.
LISTENER_QUEUE_LIMIT = 5000


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a listener receives: a sequenced event (seq > 0) or a transient one (seq == 0), with
    the epoch of the stream that numbered it."""

    seq: int
    event: dict[str, Any]
    epoch: str = ""
    # The end of the frame (the event as JSON and the frame's closing brace), encoded once and
    # shared by the deliveries to all its recipients: in a big group, encoding (and compressing,
    # web.websocket_protocol) per socket would cost more than the sending.
    shared_tail: bytes = b""

    def frame_head(self) -> str:
        """The frame's beginning, which differs between recipients: their sequence number."""
        return f'{{"type":"event","seq":{self.seq},"event":'

    def frame_tail(self) -> bytes:
        return self.shared_tail or frame_tail(self.event)

    def frame(self) -> str:
        """The WebSocket frame carrying this delivery."""
        return self.frame_head() + self.frame_tail().decode()


def frame_tail(event: dict[str, Any]) -> bytes:
    """What every delivery of `event` ends with (Delivery.shared_tail)."""
    return orjson.dumps(event) + b"}"


@dataclass(frozen=True)
class Backlog:
    """The answer to "what did I miss since `seq`": the events, or resync when they are gone."""

    epoch: str
    head: int  # the stream's latest sequence number
    events: list[Delivery]
    resync: bool


class Listener:
    """One connection's view of one person's stream: the live deliveries it has not read yet.

    Lighter than an asyncio.Queue (four deques and an Event each): an idle socket holds only
    this object; the buffer exists while deliveries wait, and one future while the reader does.

    `direct`, when the reader sets it, takes a delivery at once, in the appender's call, while
    the reader is idle (waiting in get() with nothing pending, so nothing can overtake it); it
    returns False to have the delivery queued instead. A socket that sends right away saves
    waking its writer task, which in a big group costs as much as the send itself."""

    __slots__ = ("_pending", "_waiter", "account_id", "direct", "overflowed")

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.overflowed = False
        self.direct: Callable[[Delivery], bool] | None = None
        self._pending: deque[Delivery | None] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put(self, delivery: Delivery) -> None:
        if self.overflowed:
            return
        if self.direct is not None and self._reader_idle() and self._sent_directly(delivery):
            return
        if self.waiting() >= LISTENER_QUEUE_LIMIT:
            self.overflowed = True
            self._push(None)  # tells the reader to close; the client will resume
            return
        self._push(delivery)

    def close(self) -> None:
        """Ends the connection that reads this listener (as an overflow does): its client
        reconnects and resumes."""
        if not self.overflowed:
            self.overflowed = True
            self._push(None)

    def _sent_directly(self, delivery: Delivery) -> bool:
        assert self.direct is not None
        try:
            return self.direct(delivery)
        except Exception:  # one socket's failure must never reach whoever appended the event
            log.exception("direct delivery failed; the socket's writer takes it")
            return False

    def _reader_idle(self) -> bool:
        return self._pending is None and self._waiter is not None and not self._waiter.done()

    def waiting(self) -> int:
        """How many deliveries wait to be read."""
        return len(self._pending) if self._pending else 0

    async def get(self) -> Delivery | None:
        while not self._pending:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        delivery = self._pending.popleft()
        if not self._pending:
            self._pending = None
        return delivery

    def take_waiting(self, limit: int) -> list[Delivery | None]:
        """Up to `limit` of the deliveries that are waiting, without waiting for more."""
        pending = self._pending
        if not pending:
            return []
        taken = [pending.popleft() for _ in range(min(limit, len(pending)))]
        if not pending:
            self._pending = None
        return taken

    def _push(self, item: Delivery | None) -> None:
        if self._pending is None:
            self._pending = deque()
        self._pending.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


@dataclass
class LocalListeners:
    """The listeners connected to this process, by account."""

    by_account: dict[str, set[Listener]] = field(default_factory=dict)

    def add(self, listener: Listener) -> None:
        self.by_account.setdefault(listener.account_id, set()).add(listener)

    def remove(self, listener: Listener) -> None:
        listeners = self.by_account.get(listener.account_id)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self.by_account[listener.account_id]

    def deliver(self, account_id: str, delivery: Delivery) -> None:
        for listener in self.by_account.get(account_id, ()):
            listener.put(delivery)

    def connected(self, account_id: str) -> bool:
        return account_id in self.by_account

    def close_all(self) -> None:
        for listeners in list(self.by_account.values()):
            for listener in list(listeners):
                listener.close()


def backlog_from(
    epoch: str, head: int, missed: Sequence[Delivery], client_epoch: str | None, since: int | None
) -> Backlog:
    """What a client that last saw (`client_epoch`, `since`) missed. `missed` holds the retained
    events numbered after `since`, oldest first; unless they continue right after `since` up to
    `head`, something is gone and the client must resync."""
    if since is None:
        return Backlog(epoch, head, [], resync=False)  # a fresh client loads state itself
    if client_epoch != epoch or since > head:
        return Backlog(epoch, head, [], resync=True)
    if since == head:
        return Backlog(epoch, head, [], resync=False)
    complete = bool(missed) and missed[0].seq == since + 1 and missed[-1].seq == head
    return Backlog(epoch, head, list(missed) if complete else [], resync=not complete)


class EventLog(Protocol):
    async def append(self, account_ids: Sequence[str], event: dict[str, Any]) -> None:
        """Gives the event the next sequence number of each recipient's stream and delivers it."""
        ...

    async def transient(self, account_ids: Sequence[str], event: dict[str, Any]) -> None:
        """Delivers an event without a sequence number (typing, progress); nothing is kept."""
        ...

    def listen(self, account_id: str) -> Any:
        """Async context manager yielding a Listener registered for live deliveries."""
        ...

    async def backlog(self, account_id: str, client_epoch: str | None, since: int | None) -> Backlog: ...

    def is_connected(self, account_id: str) -> bool: ...

    async def reconnect_all(self) -> None:
        """Ends every connection of every process; each client reconnects and resumes, passing
        the checks made at connect again (the privacy policy gate)."""
        ...

    async def close(self) -> None: ...


@dataclass
class _Stream:
    head: int = 0
    # (seq, frame tail) of each retained event: tuples of plain values, which the cycle collector
    # stops tracking. A thousand members each keeping a thousand Delivery objects were a million
    # tracked objects, walked by every full collection (~250 ms, the tail of delivery latency).
    retained: deque[tuple[int, bytes]] = field(default_factory=lambda: deque(maxlen=RETAINED_EVENTS))


class InProcessEventLog:
    """Streams held in this process's memory; a restart starts a new epoch."""

    def __init__(self) -> None:
        self.epoch = secrets.token_hex(8)
        self._streams: dict[str, _Stream] = {}
        self._listeners = LocalListeners()

    async def append(self, account_ids: Sequence[str], event: dict[str, Any]) -> None:
        tail = frame_tail(event)
        for account_id in account_ids:
            stream = self._streams.get(account_id)
            if stream is None:
                stream = self._streams[account_id] = _Stream()
            stream.head += 1
            stream.retained.append((stream.head, tail))
            if self._listeners.connected(account_id):
                self._listeners.deliver(account_id, Delivery(stream.head, event, self.epoch, tail))

    async def transient(self, account_ids: Sequence[str], event: dict[str, Any]) -> None:
        delivery = Delivery(0, event, self.epoch, frame_tail(event))
        for account_id in account_ids:
            self._listeners.deliver(account_id, delivery)

    @asynccontextmanager
    async def listen(self, account_id: str) -> AsyncIterator[Listener]:
        listener = Listener(account_id)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.remove(listener)

    async def backlog(self, account_id: str, client_epoch: str | None, since: int | None) -> Backlog:
        stream = self._streams.get(account_id) or _Stream()
        missed = [
            Delivery(seq, orjson.loads(tail[:-1]), self.epoch, tail)
            for seq, tail in stream.retained
            if since is not None and seq > since
        ]
        return backlog_from(self.epoch, stream.head, missed, client_epoch, since)

    def is_connected(self, account_id: str) -> bool:
        return self._listeners.connected(account_id)

    async def reconnect_all(self) -> None:
        self._listeners.close_all()

    async def close(self) -> None:
        self._streams.clear()


def append_after_commit(
    session: AsyncSession, events: EventLog, account_ids: Sequence[str], event: dict[str, Any]
) -> None:
    """Queues a sequenced event that leaves only if the session's transaction commits."""

    async def _append() -> None:
        await events.append(account_ids, event)

    after_commit(session, _append)


def transient_after_commit(
    session: AsyncSession, events: EventLog, account_ids: Sequence[str], event: dict[str, Any]
) -> None:
    async def _send() -> None:
        await events.transient(account_ids, event)

    after_commit(session, _send)
