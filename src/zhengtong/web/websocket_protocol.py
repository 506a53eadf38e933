"""uvicorn's WebSocket protocol (websockets, sans-I/O), leaner for sockets that idle for hours.

Everything here lives as long as its socket, so it is counted per idle connection
(bench/chat_idle.py):

- **permessage-deflate.** Browsers always offer it, and its state lives as long as the socket:
  with uvicorn's settings (12-bit windows, memLevel 5, both directions keeping their context)
  about 43 KiB of zlib state per connection. Here neither direction keeps context
  (server_no_context_takeover and client_no_context_takeover, which a server may ask for), so an
  idle socket holds no zlib state at all, and a message is compressed on its own.
  - That is what makes a big group cheap: the part of an event frame that all recipients share
    (the event, Delivery.shared_tail) is compressed once, and each socket sends it behind its own
    small head (its sequence number) in a stored, uncompressed deflate block (`text_frame`).
    Compressing per socket, each with its own context, cost more than the sending: ~13 µs a
    socket with the compressor's state cold in the cache, against ~1 µs for a head.
  - The price is size: an event of ~640 bytes goes out as ~410 instead of the ~60–130 that a
    context shared with earlier frames gives.
- **The inbox and the writable flag.** uvicorn keeps an asyncio.Queue and an asyncio.Event per
  connection: five deques of ~760 bytes each, for a queue that holds one frame at a time (uvicorn
  stops reading the socket until the application takes it) and a flag that is nearly always set.
  `_Inbox` and `_Flag` do the same with a list and futures made only while someone waits.
- **Sending without waiting** (the ASGI extension SEND_NOW_EXTENSION): a socket whose buffer is not
  full can take a text message (a head and a shared tail) synchronously, so the event stream
  sends a live event in the call that appended it instead of waking the socket's writer task
  (realtime.py, Listener.direct).
- **The handshake.** uvicorn keeps the handshake's request and response (with their headers) for
  the connection's life; they are dropped once the socket is accepted. (The ASGI scope keeps its
  own copy of the request's headers, which is what the application reads.)
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from typing import Any

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import PerMessageDeflate, ServerPerMessageDeflateFactory
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

MEMORY_LEVEL = 3  # zlib's hash table for one message at a time: 2 KiB, compressing events as well as 8
# The scope's extension holding send_text_now (a callable: head, shared tail -> whether it was sent).
SEND_NOW_EXTENSION = "zhengtong.send_text_now"
_FIN_TEXT = 0x81
_COMPRESSED = 0x40  # RSV1: the message is compressed (RFC 7692)
# What a sync flush ends with, and the sender strips (RFC 7692 7.2.1).
_SYNC_FLUSH_TAIL = b"\x00\x00\xff\xff"


def _frame_header(first_byte: int, length: int) -> bytes:
    """An unmasked frame's header (a server's frames are never masked)."""
    if length < 126:
        return bytes((first_byte, length))
    if length < 1 << 16:
        return bytes((first_byte, 126)) + length.to_bytes(2, "big")
    return bytes((first_byte, 127)) + length.to_bytes(8, "big")


def _stored_block(data: bytes) -> bytes:
    """`data` as a non-final, uncompressed deflate block (RFC 1951 3.2.4); it ends on a byte
    boundary, so a separately compressed stream may follow it."""
    length = len(data)
    return b"\x00" + length.to_bytes(2, "little") + (length ^ 0xFFFF).to_bytes(2, "little") + data


class _SharedCompression:
    """The compressed form of the last shared tail sent: a fan-out sends one tail to every
    socket in turn, so one entry serves it, and any other tail just compresses again. Keyed by
    identity (the entry holds the tail, so its id is not reused)."""

    __slots__ = ("_compressed", "_tail", "_window_bits")

    def __init__(self) -> None:
        self._tail: bytes | None = None
        self._window_bits = 0
        self._compressed = b""

    def of(self, tail: bytes, window_bits: int) -> bytes:
        if tail is not self._tail or window_bits != self._window_bits:
            compressor = zlib.compressobj(
                zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -window_bits, MEMORY_LEVEL
            )
            compressed = compressor.compress(tail) + compressor.flush(zlib.Z_SYNC_FLUSH)
            self._compressed = compressed[: -len(_SYNC_FLUSH_TAIL)]
            self._tail, self._window_bits = tail, window_bits
        return self._compressed


_shared_compression = _SharedCompression()


def text_frame(head: bytes, tail: bytes, window_bits: int | None) -> bytes:
    """A whole text message, `head` then `tail`: compressed when `window_bits` (the compressor's
    window negotiated without context takeover), where the tail is compressed once for every
    socket it goes to and the head follows as it is; else plain."""
    if window_bits is None:
        return _frame_header(_FIN_TEXT, len(head) + len(tail)) + head + tail
    payload = _stored_block(head) + _shared_compression.of(tail, window_bits)
    return _frame_header(_FIN_TEXT | _COMPRESSED, len(payload)) + payload


class _Waiters:
    """Futures of the tasks waiting on something, made only while they wait; one task's
    cancellation never disturbs the others'."""

    __slots__ = ("_futures",)

    def __init__(self) -> None:
        self._futures: list[asyncio.Future[None]] | None = None

    async def wait(self) -> None:
        future = asyncio.get_running_loop().create_future()
        if self._futures is None:
            self._futures = []
        self._futures.append(future)
        try:
            await future
        finally:
            if self._futures is not None and future in self._futures:
                self._futures.remove(future)
            if not self._futures:
                self._futures = None

    def wake_all(self) -> None:
        futures, self._futures = self._futures, None
        for future in futures or ():
            if not future.done():
                future.set_result(None)


class _Inbox:
    """The part of asyncio.Queue uvicorn uses (put_nowait, get, empty): unbounded, in order."""

    __slots__ = ("_items", "_waiters")

    def __init__(self) -> None:
        self._items: list[ASGIReceiveEvent] = []
        self._waiters = _Waiters()

    def put_nowait(self, item: ASGIReceiveEvent) -> None:
        self._items.append(item)
        self._waiters.wake_all()

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> ASGIReceiveEvent:
        while not self._items:
            await self._waiters.wait()
        return self._items.pop(0)


class _Flag:
    """The part of asyncio.Event uvicorn uses (set, clear, wait)."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters = _Waiters()

    def set(self) -> None:
        self._set = True
        self._waiters.wake_all()

    def clear(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set

    async def wait(self) -> None:
        while not self._set:
            await self._waiters.wait()


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]  # what uvicorn calls on it, see _Inbox
        self.writable = _Flag()  # type: ignore[assignment]
        # The compressor's window for text_frame (None: messages go out uncompressed); known once
        # the handshake is answered.
        self._window_bits: int | None = None
        if self.config.ws_per_message_deflate:
            self.conn = ServerProtocol(
                extensions=[
                    ServerPerMessageDeflateFactory(
                        server_no_context_takeover=True,
                        client_no_context_takeover=True,
                        compress_settings={"memLevel": MEMORY_LEVEL},
                    )
                ],
                max_size=self.config.ws_max_size,
                logger=logging.getLogger("uvicorn.error"),
            )

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # none when the handshake was refused
        if scope is not None:
            scope.setdefault("extensions", {})[SEND_NOW_EXTENSION] = self.send_text_now

    def send_text_now(self, head: str, tail: bytes) -> bool:
        """Sends the text message `head` + `tail` in this call, as the ASGI send would once
        writable; False when it cannot without waiting (the socket is not open, or its buffer is
        full): the caller then goes through the ASGI send, which waits. `tail` is the part many
        sockets send alike (see text_frame)."""
        if self.conn.state is not State.OPEN or self.disconnected or not self.writable.is_set():
            return False
        self.transport.write(text_frame(head.encode(), tail, self._window_bits))
        return True

    async def send(self, message: ASGISendEvent) -> None:
        accepting = not self.handshake_complete
        await super().send(message)
        if accepting and self.handshake_complete and hasattr(self, "response"):
            self._window_bits = _window_bits(self.conn)
            # Read only while the handshake is answered. The request's headers are emptied too:
            # websockets' parser keeps the request in a local for as long as it reads frames.
            self.request.headers.clear()
            del self.request, self.response


def _window_bits(conn: ServerProtocol) -> int | None:
    """The window our messages are compressed with, if they are and each on its own."""
    for extension in conn.extensions:
        if isinstance(extension, PerMessageDeflate) and extension.local_no_context_takeover:
            return extension.local_max_window_bits
    return None


UVICORN_OPTIONS: dict[str, Any] = {
    "ws": LeanWebSocketProtocol,
    # No protocol pings: the application's own heartbeat (realtime.py: the client pings, a
    # silent socket is closed) already finds dead peers. uvicorn's, every 20 s for every socket,
    # each with a timer, took about a fifth of the server's time with 1,000 sockets open.
    "ws_ping_interval": None,
    "ws_ping_timeout": None,
    "proxy_headers": False,  # a client's address is its peer's: X-Forwarded-For is not trusted
}
