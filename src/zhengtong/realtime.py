"""WebSocket endpoint: each connected client hears its person's event stream.

Protocol (every frame is a JSON object with a "type"):
- The client connects to /api/v1/ws, optionally with `?epoch=E&since=N`: the stream epoch and the
  last sequence number it has seen.
- The server answers `{"type": "hello", "epoch", "seq", "resync"}`, where seq is the stream's
  latest number. With `resync: false` it then sends every event after N up to that seq, so the
  client has missed nothing; with `resync: true` the events are gone (or the epoch changed) and
  the client refetches its state over the REST API, then carries on from the hello's seq. A
  client that connects without `since` loads its state itself and hears what follows.
- Events arrive as `{"type": "event", "seq", "event"}`; seq is 0 for transient ones (typing,
  presence, job progress), which are never replayed. A person is online while any of their
  sockets is open and heartbeating; the people they share a direct conversation with hear
  `{"type": "presence", "membership_id", "online"}` when that changes. A later
  `{"type": "resync", "epoch", "seq"}` means the stream was lost while connected (Redis lost its
  data): refetch, then carry on from `seq`.
- The client sends `{"type": "ping"}` at least every 60 seconds and gets `{"type": "pong"}`; a
  client silent for longer is disconnected. `{"type": "typing", "conversation_id"}` tells the
  other members of a conversation that the person is typing. Frames that are not JSON objects
  of a known type are ignored.
- A client that connects with `batch=1` may receive `{"type": "batch", "frames": [...]}`: the
  frames above, in order, sent together. The server batches only what was already waiting when
  the socket's writer woke (a busy server, a big group, a replay), so a frame never waits for
  company; under load, one WebSocket message (one compression, one write) carries several events.
- A close with code 1013 (try again later) means the socket fell behind, or the stream could not
  be read: the client reconnects with its epoch and seq and resumes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

from fastapi import WebSocket, WebSocketDisconnect

from zhengtong.core.caller import Caller
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.core.ids import new_id
from zhengtong.identity import service as identity
from zhengtong.im import realtime_actions
from zhengtong.platform.eventlog import Delivery, EventLog, Listener
from zhengtong.privacy.consent.gate import require_policy_acknowledged
from zhengtong.web.auth import SESSION_COOKIE
from zhengtong.web.websocket_protocol import SEND_NOW_EXTENSION

log = logging.getLogger(__name__)

EVENTS_SOCKET_PATH = "/api/v1/ws"
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
IDLE_TIMEOUT_SECONDS = 90
# At most this many frames in one batch: a client that fell far behind gets several messages of
# bounded size rather than one huge one.
BATCH_FRAMES = 64
STREAM_CHECK = "stream.check"


def _same_origin(websocket: WebSocket) -> bool:
    """Browsers send cookies with cross-site WebSocket handshakes, so a cookie-authenticated
    socket must come from a page of ours."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


async def _authenticate(websocket: WebSocket, context: AppContext) -> Caller | None:
    token = websocket.query_params.get("token")
    via_cookie = token is None
    token = token or websocket.cookies.get(SESSION_COOKIE)
    if not token or (via_cookie and not _same_origin(websocket)):
        return None
    async with context.db.transaction() as session:
        caller = await identity.authenticate(session, context, token, via_cookie=via_cookie)
        if caller is None or not caller.second_factor_done:
            return None
        try:
            await require_policy_acknowledged(session, context, caller.account_id)
        except AppError:
            return None  # the privacy policy gate: acknowledge over REST first
    return caller


def _batches(websocket: WebSocket) -> bool:
    return websocket.query_params.get("batch") == "1"


def _resume_point(websocket: WebSocket) -> tuple[str | None, int | None]:
    since = websocket.query_params.get("since")
    epoch = websocket.query_params.get("epoch")
    return epoch, int(since) if since is not None and since.isdigit() else None


async def events_socket(websocket: WebSocket) -> None:
    """EVENTS_SOCKET_PATH, answered ahead of the middleware and routing (app.ZhengtongAPI)."""
    context: AppContext = websocket.app.state.context
    async with context.socket_queries:
        caller = await _authenticate(websocket, context)
    if caller is None:
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    client_epoch, since = _resume_point(websocket)
    close_code = 1000
    connection = _Connection(context, caller.account_id)
    try:
        async with context.events.listen(caller.account_id) as listener:
            stream = _StreamWriter(websocket, context.events, listener, batches=_batches(websocket))
            await stream.start(client_epoch, since)
            send_now = websocket.scope.get("extensions", {}).get(SEND_NOW_EXTENSION)
            if callable(send_now):  # served by web.websocket_protocol (not, say, a test client)
                stream.send_now = send_now
                listener.direct = stream.direct
            async with context.socket_queries:
                await connection.opened()
            close_code = await _serve(websocket, context, caller, stream, connection)
    except WebSocketDisconnect:
        pass
    except Exception as error:  # the stream is unavailable (Redis unreachable): the client resumes later
        log.warning("event stream unavailable (%s: %s); closing the socket", type(error).__name__, error)
        close_code = TRY_AGAIN_LATER
    finally:
        await connection.closed()
    with suppress(RuntimeError, WebSocketDisconnect):
        await websocket.close(code=close_code)


class _Connection:
    """This socket's part in presence: the person is online while any of their sockets is open
    and heartbeating. Presence is a courtesy: its failures are logged and never end a socket."""

    def __init__(self, context: AppContext, account_id: str) -> None:
        self.context = context
        self.account_id = account_id
        self.id = new_id()
        self.counted = False

    async def opened(self) -> None:
        try:
            first = await self.context.presence.connected(self.account_id, self.id)
            self.counted = True
            if first:
                await realtime_actions.presence_changed(self.context, self.account_id, online=True)
        except Exception as error:
            log.warning("presence not recorded (%s: %s)", type(error).__name__, error)

    async def heartbeat(self) -> None:
        try:
            await self.context.presence.heartbeat(self.account_id, self.id)
        except Exception as error:
            log.warning("presence heartbeat lost (%s: %s)", type(error).__name__, error)

    async def closed(self) -> None:
        if not self.counted:
            return
        try:
            if await self.context.presence.disconnected(self.account_id, self.id):
                await realtime_actions.presence_changed(self.context, self.account_id, online=False)
        except Exception as error:
            log.warning("presence not cleared (%s: %s)", type(error).__name__, error)


async def _serve(
    websocket: WebSocket, context: AppContext, caller: Caller, stream: _StreamWriter, connection: _Connection
) -> int:
    """Forwards the stream and reads the client until either side ends; returns the close code.
    A forwarder that stops (its listener overflowed, or the stream failed) ends the connection,
    so that the client reconnects and resumes instead of waiting on a socket that says nothing.

    The client is read in this task and the stream forwarded in one other (two tasks per socket
    would cost an idle socket more memory); a forwarder that ends interrupts the reading."""
    endpoint = asyncio.current_task()
    assert endpoint is not None
    reading = True
    return_code: int | None = None

    def stream_ended(_: asyncio.Task[None]) -> None:
        if reading:
            endpoint.cancel()

    forward = asyncio.create_task(stream.forward())
    forward.add_done_callback(stream_ended)
    try:
        await _read_client(websocket, context, caller, connection)
    except asyncio.CancelledError:
        if not forward.done():
            raise  # the server is stopping
        endpoint.uncancel()
    except (WebSocketDisconnect, TimeoutError):
        pass
    except _PolicyNotAcknowledged:
        return_code = POLICY_VIOLATION
    except Exception as error:
        log.warning("client reader failed (%s: %s); closing the socket", type(error).__name__, error)
    finally:
        reading = False
        forward.cancel()
        await asyncio.gather(forward, return_exceptions=True)
    if return_code is not None:
        return return_code
    if forward.cancelled():
        return 1000
    failure = forward.exception()
    if failure is not None:
        log.warning("event stream failed (%s: %s); closing the socket", type(failure).__name__, failure)
    return TRY_AGAIN_LATER


class _StreamWriter:
    """Sends one person's stream to one socket in order, each sequenced event exactly once:
    duplicates (from the overlap of replay and live delivery) are skipped, gaps are filled from
    the retained stream or answered with resync."""

    def __init__(self, websocket: WebSocket, events: EventLog, listener: Listener, *, batches: bool) -> None:
        self.websocket = websocket
        self.events = events
        self.listener = listener
        self.batches = batches
        self.epoch = ""
        self.last = 0
        self.send_now: Callable[[str, bytes], bool] = _cannot_send_now

    async def start(self, client_epoch: str | None, since: int | None) -> None:
        backlog = await self.events.backlog(self.listener.account_id, client_epoch, since)
        self.epoch, self.last = backlog.epoch, backlog.head
        await self.websocket.send_json(
            {"type": "hello", "epoch": backlog.epoch, "seq": backlog.head, "resync": backlog.resync}
        )
        await self._send(self._frames(backlog.events))

    def direct(self, delivery: Delivery) -> bool:
        """Listener.direct: sends a delivery that continues the stream at once, while the
        writer is idle; anything else (a gap, another epoch, a stream check) goes to the writer."""
        if delivery.seq == 0:
            if delivery.event.get("type") == STREAM_CHECK:
                return False
        elif delivery.epoch != self.epoch or delivery.seq != self.last + 1:
            return False
        if not self.send_now(delivery.frame_head(), delivery.frame_tail()):
            return False
        if delivery.seq:
            self.last = delivery.seq
        return True

    async def forward(self) -> None:
        """Returns when the listener overflowed: this socket fell too far behind, and the
        client will reconnect and resume."""
        while True:
            delivery = await self.listener.get()
            waiting = self.listener.take_waiting(BATCH_FRAMES - 1) if self.batches else []
            frames: list[str] = []
            for item in [delivery, *waiting]:
                if item is None:
                    await self._send(frames)
                    return
                frames += await self._handle(item)
            await self._send(frames)

    async def _handle(self, delivery: Delivery) -> list[str]:
        """The frames that carry `delivery` on from where this socket is."""
        if delivery.seq == 0:
            if delivery.event.get("type") == STREAM_CHECK:
                return await self._catch_up()
            return [delivery.frame()]
        if delivery.epoch != self.epoch:
            return [await self._resync()]
        if delivery.seq == self.last + 1:
            return self._frames([delivery])
        if delivery.seq > self.last + 1:
            return await self._catch_up()
        return []

    async def _catch_up(self) -> list[str]:
        backlog = await self.events.backlog(self.listener.account_id, self.epoch, self.last)
        if backlog.resync:
            return [await self._resync()]
        return self._frames(backlog.events)

    async def _resync(self) -> str:
        backlog = await self.events.backlog(self.listener.account_id, None, None)
        self.epoch, self.last = backlog.epoch, backlog.head
        return json.dumps({"type": "resync", "epoch": backlog.epoch, "seq": backlog.head})

    def _frames(self, deliveries: list[Delivery]) -> list[str]:
        for delivery in deliveries:
            if delivery.seq:
                self.last = delivery.seq
        return [delivery.frame() for delivery in deliveries]

    async def _send(self, frames: list[str]) -> None:
        if not self.batches:
            for frame in frames:
                await self.websocket.send_text(frame)
            return
        for start in range(0, len(frames), BATCH_FRAMES):
            chunk = frames[start : start + BATCH_FRAMES]
            if len(chunk) == 1:
                await self.websocket.send_text(chunk[0])
            else:
                await self.websocket.send_text('{"type":"batch","frames":[' + ",".join(chunk) + "]}")


def _cannot_send_now(_head: str, _tail: bytes) -> bool:
    return False


async def _read_client(
    websocket: WebSocket, context: AppContext, caller: Caller, connection: _Connection
) -> None:
    """Answers pings and forwards typing until the client leaves (WebSocketDisconnect) or stays
    silent too long (TimeoutError). Frames that are not JSON objects are ignored: a confused
    client must not end its own connection, let alone anyone else's."""
    while True:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for runs the receive in a task of its
        # own, one more task per idle socket.
        async with asyncio.timeout(IDLE_TIMEOUT_SECONDS):
            frame = await websocket.receive()
        if frame["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(frame.get("code", 1000), frame.get("reason"))
        message = _parse(frame)
        if message is None:
            continue
        kind = message.get("type")
        if kind == "ping":
            async with context.socket_queries:  # never held while sending: a slow client must not keep it
                await _require_policy_acknowledged(context, caller)
                await connection.heartbeat()
            await websocket.send_json({"type": "pong"})
        elif kind == "typing" and isinstance(message.get("conversation_id"), str):
            try:
                await realtime_actions.typing(context, caller, message["conversation_id"])
            except Exception as error:  # typing is a courtesy: never worth the connection
                log.warning("typing not delivered (%s: %s)", type(error).__name__, error)


class _PolicyNotAcknowledged(Exception):
    pass


async def _require_policy_acknowledged(context: AppContext, caller: Caller) -> None:
    """Asked at each ping, from memory but every few seconds (consent.gate): a major policy
    version published where no event reaches this process (the `zhengtong privacy policy publish`
    command next to a server on the in-process bus) still ends the socket within a heartbeat."""
    async with context.db.transaction() as session:
        try:
            await require_policy_acknowledged(session, context, caller.account_id)
        except AppError as error:
            raise _PolicyNotAcknowledged from error


def _parse(frame: Mapping[str, Any]) -> dict[str, Any] | None:
    raw = frame.get("text")
    if raw is None and frame.get("bytes") is not None:
        raw = frame["bytes"]
    if raw is None:
        return None
    try:
        message = json.loads(raw)
    except ValueError:  # also UnicodeDecodeError for binary frames
        return None
    return message if isinstance(message, dict) else None
