"""A robot's server for the outgoing-robot tests: a real HTTP server on this machine that records
what it is sent and answers as it is told (a message body, a redirect, an error, or too late),
and may first answer on the session webhook it was handed, as a DingTalk robot does."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from helpers import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Peer:
    port: int
    received: list[Received] = field(default_factory=list)
    answer: dict[str, Any] | None = None  # the body it answers the call with
    session_reply: dict[str, Any] | None = None  # posted to the sessionWebhook before answering
    session_result: dict[str, Any] | None = None  # what the session webhook answered
    status: int = 200
    redirect_to: str = ""
    delay_seconds: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/robot"

    def reply_on_session(self, webhook: str) -> None:
        request = urllib.request.Request(
            webhook,
            data=json.dumps(self.session_reply).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            self.session_result = json.loads(response.read())


def _handler(peer: Peer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            peer.received.append(Received(self.path, dict(self.headers.items()), body))
            time.sleep(peer.delay_seconds)
            if peer.session_reply is not None:
                peer.reply_on_session(body["sessionWebhook"])
            self.send_response(peer.status)
            if peer.redirect_to:
                self.send_header("Location", peer.redirect_to)
            payload = json.dumps(peer.answer or {}).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            return

    return Handler


@contextlib.contextmanager
def running_peer() -> Iterator[Peer]:
    peer = Peer(free_port())
    server = ThreadingHTTPServer(("127.0.0.1", peer.port), _handler(peer))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()
