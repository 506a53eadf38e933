"""uvicorn's WebSocket protocol (websockets, sans-I/O) with a leaner permessage-deflate.

Browsers always offer permessage-deflate, and its state lives as long as the socket: with
uvicorn's settings (12-bit windows, memLevel 5, both directions keeping their context) about
43 KiB of zlib state per connection, more than everything else an idle socket holds.

- What we send keeps its context (later frames refer back to earlier ones: a chat event of
  ~630 bytes goes out as ~130), in a 1 KiB window with a small hash table: 8 KiB instead of
  32 KiB, measured to compress our events as small and as fast as uvicorn's settings do.
- What the client sends (pings, typing) is tiny and rare: the client compresses each frame on
  its own (client_no_context_takeover, which a server may ask for), so the server keeps no
  decompressor between frames.
"""

from __future__ import annotations

import logging
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.server import ServerProtocol

WINDOW_BITS = 10  # a window of 1 KiB holds more than one event; 9 bits (512 B) compresses 3x worse
MEMORY_LEVEL = 3


class LeanDeflateProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
