"""A big group's event is compressed once for all its sockets (web/websocket_protocol.py,
text_frame): each socket sends its own head in a stored deflate block, then the shared tail
compressed on its own; what a standard inflater reads back is the head and the tail."""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest
import websockets

from helpers import create_member, events_socket_url, uvicorn_in_process
from zhengtong.core.context import AppContext
from zhengtong.web import websocket_protocol
from zhengtong.web.websocket_protocol import text_frame

SYNC_FLUSH_TAIL = b"\x00\x00\xff\xff"


def _read_frame(frame: bytes) -> tuple[int, bytes]:
    """The first byte and the payload of one unmasked frame."""
    length, start = frame[1] & 0x7F, 2
    if length == 126:
        length, start = int.from_bytes(frame[2:4], "big"), 4
    elif length == 127:
        length, start = int.from_bytes(frame[2:10], "big"), 10
    assert frame[1] & 0x80 == 0 and len(frame) == start + length
    return frame[0], frame[start:]


@pytest.mark.parametrize("tail_size", [10, 200, 70_000])  # the three encodings of a frame's length
def test_a_compressed_frame_inflates_to_the_head_and_the_tail(tail_size: int) -> None:
    head = b'{"type":"event","seq":42,"event":'
    tail = json.dumps({"text": "审批" * (tail_size // 6), "n": tail_size}).encode() + b"}"

    first_byte, payload = _read_frame(text_frame(head, tail, 15))

    assert first_byte == 0x81 | 0x40  # FIN, text, compressed (RSV1)
    assert zlib.decompressobj(-15).decompress(payload + SYNC_FLUSH_TAIL) == head + tail


def test_consecutive_messages_inflate_through_one_inflater_and_plain_frames_stay_plain() -> None:
    inflater = zlib.decompressobj(-10)  # a client that keeps its window: no reference may reach back
    tail = b'{"type":"note"}}'
    for seq in (1, 2, 3):
        head = f'{{"type":"event","seq":{seq},"event":'.encode()
        _, payload = _read_frame(text_frame(head, tail, 10))
        assert inflater.decompress(payload + SYNC_FLUSH_TAIL) == head + tail

    first_byte, payload = _read_frame(text_frame(b"head:", tail, None))
    assert (first_byte, payload) == (0x81, b"head:" + tail)


def test_a_tail_going_to_many_sockets_is_compressed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    compressors: list[Any] = []
    compressobj = zlib.compressobj

    def counting(*arguments: Any) -> Any:
        compressors.append(arguments)
        return compressobj(*arguments)

    monkeypatch.setattr(websocket_protocol.zlib, "compressobj", counting)
    tail, other = b'{"n":1}}', b'{"n":2}}'
    for seq in range(1000):
        text_frame(f"{seq}:".encode(), tail, 15)
    text_frame(b"x", other, 15)
    text_frame(b"x", other, 12)  # a socket that negotiated a smaller window

    assert len(compressors) == 3


@pytest.mark.parametrize("compression", ["deflate", None])
async def test_sockets_with_and_without_compression_read_the_same_events(
    app: Any, context: AppContext, compression: str | None
) -> None:
    member = await create_member(context)
    async with uvicorn_in_process(app) as server:
        url = await events_socket_url(server, context, member)
        async with websockets.connect(url, compression=compression) as socket_:
            hello = json.loads(await socket_.recv())
            extensions = socket_.response.headers.get("Sec-WebSocket-Extensions", "")
            (connection,) = server.server_state.connections
            await socket_.send(json.dumps({"type": "ping"}))
            assert json.loads(await socket_.recv()) == {"type": "pong"}
            for n in (1, 2):
                await context.events.append([member.account_id], {"type": "note", "n": n, "text": "你好" * n})
            frames = [json.loads(await socket_.recv()) for _ in range(2)]

    assert [(f["seq"], f["event"]["n"]) for f in frames] == [(hello["seq"] + 1, 1), (hello["seq"] + 2, 2)]
    if compression:
        # Neither side keeps context, so a socket holds no zlib state between messages.
        assert "server_no_context_takeover" in extensions and "client_no_context_takeover" in extensions
        assert connection._window_bits == 15
    else:
        assert extensions == "" and connection._window_bits is None
