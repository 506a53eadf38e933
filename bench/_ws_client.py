"""A lean WebSocket client (RFC 6455, with permessage-deflate, RFC 7692) for the load client.

The load client holds a thousand sockets in one process, on a core it shares with the server it
measures. The websockets library's asyncio client spends about 60 µs of CPU on each frame it
receives (a task woken per frame, its frame parser, its inflate), so at 20 messages a second to
1,000 sockets the client alone needed more than its core, and the benchmark measured the
client. This one reads frames in the protocol's data_received: about a quarter of that.

It does what the benchmarks need: the opening handshake, unmasked frames from the server (text,
binary, continuation, ping, close), compressed or not, and masked text frames to the server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import zlib
from collections.abc import Callable

_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# The empty stored block that ends every compressed message, which the sender strips (RFC 7692).
_DEFLATE_TAIL = b"\x00\x00\xff\xff"
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_FIN, _RSV1 = 0x80, 0x40
_DEFLATE_OFFER = b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
CLOSE_TIMEOUT_SECONDS = 5


class HandshakeRefused(ConnectionError):
    pass


class ClientSocket(asyncio.Protocol):
    """One connection. `first_message` resolves with the first message (the server's hello);
    every later one goes to `on_message`; `on_close` is called once when the connection ends."""

    def __init__(
        self,
        host: str,
        path: str,
        *,
        deflate: bool,
        on_message: Callable[[bytes], None],
        on_close: Callable[[], None],
    ) -> None:
        self._key = base64.b64encode(os.urandom(16))
        offer = _DEFLATE_OFFER if deflate else b""
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n".encode()
            + b"Sec-WebSocket-Key: "
            + self._key
            + b"\r\nSec-WebSocket-Version: 13\r\n"
            + offer
            + b"\r\n"
        )
        self._on_message = on_message
        self._on_close = on_close
        loop = asyncio.get_running_loop()
        self.first_message: asyncio.Future[bytes] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._transport: asyncio.Transport | None = None
        self._handshaking = True
        self._rest = b""
        # One decompressor for the connection: a window of 15 bits reads what any window wrote,
        # and a server that resets its context per message never refers back past the message.
        self._inflater: zlib._Decompress | None = None
        self._parts: list[bytes] = []
        self._compressed = False

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's TCPTransport is not a subclass
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        if self._rest:
            data = self._rest + data
            self._rest = b""
        if self._handshaking:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self._rest = data
                return
            if not self._accept(data[:end].decode("latin-1")):
                return
            data = data[end + 4 :]
        self._read_frames(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.first_message.done():
            self.first_message.set_exception(exc or ConnectionError("closed before the first message"))
        if not self.closed.done():
            self.closed.set_result(None)
            self._on_close()

    # -- sending

    def send_text(self, text: bytes) -> None:
        self._send(_TEXT, text)

    async def close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._send(_CLOSE, (1000).to_bytes(2, "big"))
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), CLOSE_TIMEOUT_SECONDS)
        except TimeoutError:
            if self._transport is not None:
                self._transport.abort()

    def _send(self, opcode: int, payload: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        length = len(payload)
        if length < 126:
            header = bytes((_FIN | opcode, 0x80 | length))
        elif length < 1 << 16:
            header = bytes((_FIN | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
        else:
            header = bytes((_FIN | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
        mask = os.urandom(4)
        keystream = (mask * (length // 4 + 1))[:length]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(keystream, "big")).to_bytes(length, "big")
        self._transport.write(header + mask + masked)

    # -- receiving

    def _accept(self, head: str) -> bool:
        status, *header_lines = head.split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(hashlib.sha1(self._key + _ACCEPT_GUID).digest()).decode()
        if not status.startswith("HTTP/1.1 101") or headers.get("sec-websocket-accept") != expected:
            assert self._transport is not None
            self.first_message.set_exception(HandshakeRefused(status))
            self._transport.close()
            return False
        self._handshaking = False
        if headers.get("sec-websocket-extensions", "").startswith("permessage-deflate"):
            self._inflater = zlib.decompressobj(-15)
        return True

    def _read_frames(self, data: bytes) -> None:
        offset, size = 0, len(data)
        while size - offset >= 2:
            first, length = data[offset], data[offset + 1] & 0x7F
            start = offset + 2
            if length == 126:
                start += 2
                length = int.from_bytes(data[offset + 2 : start], "big")
            elif length == 127:
                start += 8
                length = int.from_bytes(data[offset + 2 : start], "big")
            end = start + length
            if end > size:
                break
            self._frame(first, data[start:end])
            offset = end
        if offset < size:
            self._rest = data[offset:]

    def _frame(self, first: int, payload: bytes) -> None:
        opcode = first & 0x0F
        if opcode in (_TEXT, _BINARY):
            self._compressed = bool(first & _RSV1)
            self._parts = [payload]
        elif opcode == _CONTINUATION:
            self._parts.append(payload)
        elif opcode == _PING:
            self._send(_PONG, payload)
            return
        elif opcode == _CLOSE:
            self._send(_CLOSE, payload[:2])
            assert self._transport is not None
            self._transport.close()
            return
        else:
            return  # a pong
        if first & _FIN:
            self._message(self._parts[0] if len(self._parts) == 1 else b"".join(self._parts))
            self._parts = []

    def _message(self, message: bytes) -> None:
        if self._compressed:
            assert self._inflater is not None
            message = self._inflater.decompress(message + _DEFLATE_TAIL)
        if self.first_message.done():
            self._on_message(message)
        else:
            self.first_message.set_result(message)


async def connect(
    host: str, path: str, *, deflate: bool, on_message: Callable[[bytes], None], on_close: Callable[[], None]
) -> ClientSocket:
    """Opens a socket to ws://host/path and waits for the handshake's answer; the caller awaits
    `first_message` for the server's first frame."""
    hostname, port = host.rsplit(":", 1)
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        lambda: ClientSocket(host, path, deflate=deflate, on_message=on_message, on_close=on_close),
        hostname,
        int(port),
    )
    return protocol
