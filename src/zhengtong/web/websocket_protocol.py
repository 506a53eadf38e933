"""uvicorn's WebSocket protocol (websockets, sans-I/O), leaner for sockets that idle for hours.

Everything here lives as long as its socket, so it is counted per idle connection
(bench/chat_idle.py):

- **permessage-deflate.** Browsers always offer it, and its state lives as long as the socket:
  with uvicorn's settings (12-bit windows, memLevel 5, both directions keeping their context)
  about 43 KiB of zlib state per connection.
  - What we send keeps its context (later frames refer back to earlier ones: a chat event of
    ~630 bytes goes out as ~130), in a 1 KiB window with a small hash table: 8 KiB instead of
    32 KiB, measured to compress our events as small and as fast as uvicorn's settings do.
  - What the client sends (pings, typing) is tiny and rare: the client compresses each frame on
    its own (client_no_context_takeover, which a server may ask for), so the server keeps no
    decompressor between frames.
- **The inbox and the writable flag.** uvicorn keeps an asyncio.Queue and an asyncio.Event per
  connection: five deques of ~760 bytes each, for a queue that holds one frame at a time (uvicorn
  stops reading the socket until the application takes it) and a flag that is nearly always set.
  `_Inbox` and `_Flag` do the same with a list and futures made only while someone waits.
- **Sending without waiting** (the ASGI extension SEND_NOW_EXTENSION): a socket whose buffer is not
  full can take a text frame synchronously, so the event stream sends a live event in the call
  that appended it instead of waking the socket's writer task (realtime.py, Listener.direct).
- **The handshake.** uvicorn keeps the handshake's request and response (with their headers) for
  the connection's life; they are dropped once the socket is accepted. (The ASGI scope keeps its
  own copy of the request's headers, which is what the application reads.)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Request
from websockets.server import ServerProtocol

WINDOW_BITS = 10  # a window of 1 KiB holds more than one event; 9 bits (512 B) compresses 3x worse
MEMORY_LEVEL = 3
# The scope's extension holding send_text_now (a callable: text -> whether it was sent).
SEND_NOW_EXTENSION = "zhengtong.send_text_now"


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
        if self.config.ws_per_message_deflate:
            self.conn = ServerProtocol(
                extensions=[
                    ServerPerMessageDeflateFactory(
                        server_max_window_bits=WINDOW_BITS,
                        client_max_window_bits=WINDOW_BITS,
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

    def send_text_now(self, text: str) -> bool:
        """Sends a text frame in this call, as the ASGI send would once writable; False when it
        cannot without waiting (the socket is not open, or its buffer is full): the caller then
        goes through the ASGI send, which waits."""
        if not self.handshake_complete or self.close_sent or self.disconnected or not self.writable.is_set():
            return False
        try:
            self.conn.send_text(text.encode())
        except InvalidState:
            return False
        self.transport.write(b"".join(self.conn.data_to_send()))
        return True

    async def send(self, message: ASGISendEvent) -> None:
        accepting = not self.handshake_complete
        await super().send(message)
        if accepting and self.handshake_complete and hasattr(self, "response"):
            # Read only while the handshake is answered. The request's headers are emptied too:
            # websockets' parser keeps the request in a local for as long as it reads frames.
            self.request.headers.clear()
            del self.request, self.response
