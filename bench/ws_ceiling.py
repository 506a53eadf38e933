"""The raw WebSocket broadcast ceiling, and the load client the chat benchmarks share.

The ceiling: a bare Starlette application under uvicorn (one process, the same WebSocket
implementation and settings `zhengtong serve` uses) that does the least a chat server must do —
it takes a message over HTTP (POST /api/v1/im/conversations/{id}/messages), encodes one frame
shaped and sized like Zhengtong's `message.new` event once, and writes it to every connected
socket. No database, no authentication, no per-person streams. What it delivers per second is
what the machine can do; bench/fanout.py reports Zhengtong's figures next to it.

The load client (`ws_ceiling.py client`, started by the benchmarks as a separate process): opens
one WebSocket per session token (as a browser would, offering permessage-deflate unless
`--compression none`), sends the application's keep-alive pings, and posts messages over HTTP
with one of the tokens. Its sockets are bench/_ws_client.py's, which read frames in the protocol
callback: the websockets library's asyncio client took ~60 µs of CPU a frame, so the client, not
the server, was what 20,000 frames a second measured. Each message carries its number; the time
from just before its POST to each socket's receipt of the frame is one send→deliver latency
(sender and receivers share this process's clock). Phases: `rate` posts at a fixed rate for some
seconds; `saturate` keeps a window of messages in flight (sent, not yet received by every
socket) for some seconds, so the server is never idle and never buried. After each phase the
client waits until every socket has every message (or nothing arrives for 10 s), then reports. A
short phase at 5 msg/s, not reported, warms the server up first.

    .venv/bin/python bench/ws_ceiling.py                         # 1,000 sockets, 5/20/50 msg/s and saturation
    .venv/bin/python bench/ws_ceiling.py --clients 2000 --seconds 20

Both processes (server and client) and the benchmark share the machine's cores; CPU use of the
server and of the client is printed, so a client-bound figure shows as such.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _ws_client as ws_client
import httpx
import orjson

SEND_TEXT = "请大家下午三点到三楼会议室参加预算审批会议，材料已上传云盘，收到请回复。"
THIS_FILE = str(Path(__file__).resolve())
ZHENGTONG = str(Path(sys.executable).with_name("zhengtong"))
KEEPALIVE_SECONDS = 30  # the application's idle timeout is 90 s
DRAIN_QUIET_SECONDS = 10
WARM_UP = {"phase": "rate", "rate": 5, "seconds": 2}


# -- processes and what they use


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def raise_open_files_limit(wanted: int = 65536) -> int:
    """Raises this process's open-file limit towards `wanted` (within the hard limit); children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in time")


class ServerProcess:
    """`zhengtong serve` (or any command serving /healthz) in a process of its own."""

    def __init__(self, command: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        # Its warnings go to a file: a pipe nobody reads would stall a server that logs a lot.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(command, env=env, stderr=self._log, stdout=subprocess.DEVNULL)
        try:
            wait_healthy(f"http://127.0.0.1:{port}/healthz", self.process)
        except BaseException:
            self.stop()
            raise

    @classmethod
    def zhengtong(
        cls, data_dir: Path, database_url: str, master_key: str, *, profile: str | None = None, **env: str
    ) -> ServerProcess:
        """`zhengtong serve` on a free port, its sends per minute unlimited; with `profile` under
        cProfile, which writes its statistics there when the server stops."""
        port = free_port()
        environment = {
            **os.environ,
            "ZT_DATA_DIR": str(data_dir),
            "ZT_DATABASE_URL": database_url,
            "ZT_MASTER_KEY": master_key,
            "ZT_LOG_LEVEL": "warning",
            "ZT_CHAT_SENDS_PER_MINUTE": "1000000",
            **env,
        }
        command = [ZHENGTONG, "serve", "--port", str(port)]
        if profile:
            command = [sys.executable, "-m", "cProfile", "-o", profile, *command]
        return cls(command, environment, port)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> str:
        """Stops the server; returns what it wrote to stderr (its warnings)."""
        if self.process.poll() is None:
            # SIGINT: uvicorn shuts down, then re-raises it, which lets a profiler write its report
            # (the default SIGTERM would end the process before).
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.seek(0)
        written = self._log.read().decode(errors="replace")
        self._log.close()
        return written


def machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine so far (all cores, every process): what other work
    than the benchmark's took shows as the difference."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def busy_cores(seconds: float = 1.0) -> float:
    """How many cores the machine keeps busy, over `seconds`."""
    before = machine_cpu_seconds()
    time.sleep(seconds)
    return (machine_cpu_seconds() - before) / seconds


def summarize_log(text: str, limit: int = 6) -> list[str]:
    """What a server's log says in short: how many errors and warnings, what they say (ids and
    numbers blanked, so alike lines count together) and the exceptions raised."""
    lines = text.splitlines()
    errors = sum(" ERROR " in line for line in lines)
    warnings = sum(" WARNING " in line for line in lines)
    seen: dict[str, int] = {}
    for line in lines:
        logged = " ERROR " in line or " WARNING " in line
        raised = "Error" in line.split(":")[0] or "Exception" in line.split(":")[0]
        if logged:
            line = line.split(" ", 2)[-1]  # without the date and time
        elif not line or line.startswith((" ", "Traceback")) or not raised:
            continue
        key = re.sub(r"[0-9A-Z]{26}|\b\d+(\.\d+)?\b", "…", line)[:160]
        seen[key] = seen.get(key, 0) + 1
    summary = [f"{errors} errors and {warnings} warnings logged"] if errors or warnings else []
    summary.extend(f"{count}× {line}" for line, count in sorted(seen.items(), key=lambda kv: -kv[1])[:limit])
    return summary


# -- the ceiling server


def message_frame(conversation_id: str, seq: int, text: str, client_msg_id: str | None) -> bytes:
    """A frame with the fields and size of Zhengtong's message.new event."""
    message = {
        "id": uuid.uuid4().hex[:26].upper(),
        "conversation_id": conversation_id,
        "seq": seq,
        "sender_membership_id": "01JD0000000000000000000000",
        "sender_name": "王建国",
        "kind": "text",
        "text": text,
        "attachment": None,
        "quote": None,
        "items": [],
        "system": None,
        "mentions": [],
        "mention_all": False,
        "client_msg_id": None,
        "created_at": datetime.now(UTC).isoformat(),
        "recalled": False,
        "pinned": False,
        "reactions": {},
        "unread_count": None,
    }
    event = {"type": "message.new", "conversation_id": conversation_id, "message": message}
    return orjson.dumps({"type": "event", "seq": seq, "event": event})


def ceiling_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    sockets: set[WebSocket] = set()
    counter = {"seq": 0}

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def post_message(request: Request) -> Response:
        body = orjson.loads(await request.body())
        counter["seq"] += 1
        conversation_id = request.path_params["conversation_id"]
        frame = message_frame(
            conversation_id, counter["seq"], body["text"], body.get("client_msg_id")
        ).decode()
        for websocket in list(sockets):
            with contextlib.suppress(Exception):
                await websocket.send_text(frame)
        return Response(orjson.dumps({"seq": counter["seq"]}), media_type="application/json")

    async def events_socket(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text('{"type":"hello","epoch":"ceiling","seq":0,"resync":false}')
        sockets.add(websocket)
        try:
            while True:
                message = orjson.loads(await websocket.receive_text())
                if message.get("type") == "ping":
                    await websocket.send_text('{"type":"pong"}')
        except WebSocketDisconnect:
            pass
        finally:
            sockets.discard(websocket)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/api/v1/im/conversations/{conversation_id}/messages", post_message, methods=["POST"]),
            WebSocketRoute("/api/v1/ws", events_socket),
        ]
    )


def serve_ceiling(port: int) -> None:
    import uvicorn

    raise_open_files_limit()
    # As `zhengtong serve` runs uvicorn.
    uvicorn.run(
        ceiling_app(),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        ws="websockets-sansio",
    )


def start_ceiling_server(profile: str | None = None) -> ServerProcess:
    """The ceiling server in a process of its own; with `profile` under cProfile (see ServerProcess)."""
    port = free_port()
    command = [sys.executable, THIS_FILE, "serve", "--port", str(port)]
    if profile:
        command = [sys.executable, "-m", "cProfile", "-o", profile, *command[1:]]
    return ServerProcess(command, dict(os.environ), port)


# -- the load client (runs in its own process)


@dataclass
class PhaseState:
    started: float = 0.0
    send_ended: float = 0.0
    sent_at: dict[int, float] = field(default_factory=dict)
    delivered: dict[int, int] = field(default_factory=dict)
    outstanding: set[int] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    http_ms: list[float] = field(default_factory=list)
    http_errors: int = 0
    last_delivery: float = 0.0
    stale: int = 0
    sockets_at_start: int = 0
    closed: int = 0


class LoadClient:
    def __init__(self, host: str, tokens: Sequence[str], conversation_id: str, compression: str) -> None:
        self.host = host
        self.tokens = list(tokens)
        self.conversation_id = conversation_id
        self.compression = compression
        self.sockets: list[ws_client.ClientSocket] = []
        self.keepalive: asyncio.Task[None] | None = None
        self.live = 0
        self.phase = PhaseState()
        self.number = 0
        self.run_id = uuid.uuid4().hex[:8]
        self.window: asyncio.Semaphore | None = None
        self.progress = asyncio.Event()
        self.http = httpx.AsyncClient(
            base_url=f"http://{host}",
            headers={"Authorization": f"Bearer {self.tokens[0]}", "Content-Type": "application/json"},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            timeout=120,
        )

    async def connect(self, concurrency: int = 100) -> None:
        gate = asyncio.Semaphore(concurrency)
        # The application closes a socket that says nothing for 90 s: ping from the start, since
        # opening thousands of sockets may take longer than that.
        self.keepalive = asyncio.create_task(self._keepalive())

        async def one(token: str) -> None:
            async with gate:
                for attempt in range(5):
                    try:
                        socket_ = await ws_client.connect(
                            self.host,
                            f"/api/v1/ws?token={token}&batch=1",  # as the web client
                            deflate=self.compression == "deflate",
                            on_message=self._on_message,
                            on_close=self._on_close,
                        )
                        hello = orjson.loads(await asyncio.wait_for(socket_.first_message, 120))
                        break
                    except (OSError, TimeoutError):
                        if attempt == 4:
                            raise
                        await asyncio.sleep(0.5 * (attempt + 1))
                assert hello["type"] == "hello", hello
                self.sockets.append(socket_)
                self.live += 1

        await asyncio.gather(*(one(token) for token in self.tokens))

    async def _keepalive(self) -> None:
        """Every socket pings every KEEPALIVE_SECONDS, the sockets spread over that time (100 at a
        time), as browsers that opened at different moments do."""
        while True:
            sockets = list(self.sockets)
            groups = range(0, len(sockets), 100)
            for start in groups:
                for socket_ in sockets[start : start + 100]:
                    socket_.send_text(b'{"type":"ping"}')
                await asyncio.sleep(KEEPALIVE_SECONDS / len(groups))
            if not sockets:
                await asyncio.sleep(KEEPALIVE_SECONDS)

    def _on_message(self, message: bytes) -> None:
        now = time.perf_counter()
        data = orjson.loads(message)
        for inner in data["frames"] if data.get("type") == "batch" else [data]:
            self._received(inner, now)

    def _on_close(self) -> None:
        self.live -= 1
        self.phase.closed += 1
        for number in list(self.phase.outstanding):  # fewer sockets: some messages are now complete
            if self.phase.delivered.get(number, 0) >= self.live:
                self._complete(number)

    def _received(self, data: dict[str, Any], now: float) -> None:
        if data.get("type") != "event":
            return
        event = data["event"]
        if event.get("type") != "message.new":
            return
        text = event["message"]["text"]
        number = int(text[1 : text.index(" ")])
        phase = self.phase
        sent = phase.sent_at.get(number)
        if sent is None:
            phase.stale += 1
            return
        phase.latencies.append(now - sent)
        phase.last_delivery = now
        count = phase.delivered[number] = phase.delivered.get(number, 0) + 1
        if count >= self.live:
            self._complete(number)

    def _complete(self, number: int) -> None:
        if number in self.phase.outstanding:
            self.phase.outstanding.discard(number)
            if self.window is not None:
                self.window.release()
            self.progress.set()

    async def _post(self, number: int) -> None:
        phase = self.phase
        body = orjson.dumps({"text": f"#{number} {SEND_TEXT}", "client_msg_id": f"{self.run_id}-{number}"})
        phase.outstanding.add(number)
        started = phase.sent_at[number] = time.perf_counter()
        try:
            answer = await self.http.post(
                f"/api/v1/im/conversations/{self.conversation_id}/messages", content=body
            )
            ok = answer.status_code == 200
        except httpx.HTTPError:
            ok = False
        phase.http_ms.append((time.perf_counter() - started) * 1000)
        if not ok:
            phase.http_errors += 1
            self._complete(number)

    def _next(self) -> int:
        self.number += 1
        return self.number

    def _begin(self) -> PhaseState:
        self.phase = PhaseState(started=time.perf_counter(), sockets_at_start=self.live)
        self.window = None
        return self.phase

    async def rate(self, rate: float, seconds: float) -> dict[str, Any]:
        phase = self._begin()
        posts = []
        for k in range(int(rate * seconds)):
            delay = phase.started + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            posts.append(asyncio.create_task(self._post(self._next())))
        phase.send_ended = time.perf_counter()
        await asyncio.gather(*posts)
        return await self._finish(phase)

    async def saturate(self, window: int, seconds: float) -> dict[str, Any]:
        phase = self._begin()
        self.window = asyncio.Semaphore(window)
        posts = []
        end = phase.started + seconds
        while time.perf_counter() < end:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.window.acquire(), max(0.001, end - time.perf_counter()))
                posts.append(asyncio.create_task(self._post(self._next())))
        phase.send_ended = time.perf_counter()
        await asyncio.gather(*posts)
        return await self._finish(phase)

    async def _finish(self, phase: PhaseState) -> dict[str, Any]:
        """Waits until every socket has every message, or nothing has arrived for a while."""
        quiet_since = time.perf_counter()
        delivered = -1
        while phase.outstanding and time.perf_counter() - quiet_since < DRAIN_QUIET_SECONDS:
            self.progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.progress.wait(), 0.5)
            if len(phase.latencies) != delivered:
                delivered, quiet_since = len(phase.latencies), time.perf_counter()
        sent = len(phase.sent_at) - phase.http_errors
        latencies = sorted(phase.latencies)
        http_ms = sorted(phase.http_ms)
        span = max(1e-9, (phase.last_delivery or time.perf_counter()) - phase.started)
        return {
            "sent": sent,
            "http_errors": phase.http_errors,
            "send_rate": len(phase.sent_at) / max(1e-9, phase.send_ended - phase.started),
            "http_p50_ms": percentile(http_ms, 0.5),
            "http_p99_ms": percentile(http_ms, 0.99),
            "sockets": phase.sockets_at_start,
            "deliveries": len(latencies),
            "expected": sent * phase.sockets_at_start,
            "closed": phase.closed,
            "stale": phase.stale,
            "seconds": span,
            "deliveries_per_s": len(latencies) / span,
            "latency_p50_ms": 1000 * percentile(latencies, 0.5),
            "latency_p99_ms": 1000 * percentile(latencies, 0.99),
            "latency_max_ms": 1000 * latencies[-1] if latencies else float("nan"),
        }

    async def close(self) -> None:
        if self.keepalive is not None:
            self.keepalive.cancel()
        await asyncio.gather(*(socket_.close() for socket_ in self.sockets))
        await self.http.aclose()


async def client_main(arguments: argparse.Namespace) -> None:
    """Reads commands (JSON lines) on stdin, answers (JSON lines) on stdout."""
    raise_open_files_limit()
    with open(arguments.tokens_file, "rb") as tokens_file:  # noqa: ASYNC230 (once, before any socket)
        tokens = orjson.loads(tokens_file.read())
    load = LoadClient(arguments.host, tokens, arguments.conversation, arguments.compression)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(value: dict[str, Any]) -> None:
        sys.stdout.write(orjson.dumps(value).decode() + "\n")
        sys.stdout.flush()

    started = time.perf_counter()
    await load.connect()
    answer({"ready": True, "sockets": load.live, "seconds": time.perf_counter() - started})
    try:
        while line := await reader.readline():
            command = orjson.loads(line)
            if command["phase"] == "rate":
                answer(await load.rate(command["rate"], command["seconds"]))
            elif command["phase"] == "saturate":
                answer(await load.saturate(command["window"], command["seconds"]))
            elif command["phase"] == "hold":
                await asyncio.sleep(command["seconds"])
                answer({"sockets": load.live})
            else:
                break
    finally:
        await load.close()


# -- driving the client from a benchmark


class ClientProcess:
    """The load client as a child process: `start()` opens the sockets, `phase()` runs one phase
    and returns its figures with the server's and the client's CPU use."""

    def __init__(
        self, host: str, tokens: Sequence[str], conversation_id: str, compression: str, work_dir: Path
    ):
        self.host = host
        self.tokens_file = work_dir / f"tokens-{uuid.uuid4().hex[:6]}.json"
        self.tokens_file.write_bytes(orjson.dumps(list(tokens)))
        self.conversation_id = conversation_id
        self.compression = compression
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> dict[str, Any]:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            THIS_FILE,
            "client",
            "--host",
            self.host,
            "--tokens-file",
            str(self.tokens_file),
            "--conversation",
            self.conversation_id,
            "--compression",
            self.compression,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        return await self._answer()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def _answer(self) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the load client exited ({await self.process.wait()})")
        answer: dict[str, Any] = orjson.loads(line)
        return answer

    async def phase(self, command: dict[str, Any], server_pid: int) -> dict[str, Any]:
        assert self.process is not None and self.process.stdin is not None
        server_cpu, client_cpu, machine_cpu = (
            cpu_seconds(server_pid),
            cpu_seconds(self.pid),
            machine_cpu_seconds(),
        )
        started = time.perf_counter()
        self.process.stdin.write(orjson.dumps(command) + b"\n")
        await self.process.stdin.drain()
        answer = await self._answer()
        wall = time.perf_counter() - started
        answer["server_cpu_seconds"] = cpu_seconds(server_pid) - server_cpu
        answer["server_cpu"] = 100 * answer["server_cpu_seconds"] / wall
        answer["client_cpu"] = 100 * (cpu_seconds(self.pid) - client_cpu) / wall
        answer["machine_cpu"] = 100 * (machine_cpu_seconds() - machine_cpu) / wall
        return answer

    async def stop(self) -> None:
        if self.process is None:
            return
        if self.process.returncode is None and self.process.stdin is not None:
            self.process.stdin.write(b'{"phase": "quit"}\n')
            with contextlib.suppress(ConnectionError):
                await self.process.stdin.drain()
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self.tokens_file.unlink(missing_ok=True)


def phase_commands(rates: Sequence[float], seconds: float, window: int) -> list[dict[str, Any]]:
    commands: list[dict[str, Any]] = [{"phase": "rate", "rate": rate, "seconds": seconds} for rate in rates]
    if window > 0:
        commands.append({"phase": "saturate", "window": window, "seconds": seconds})
    return commands


def phase_label(command: dict[str, Any]) -> str:
    if command["phase"] == "rate":
        return f"{command['rate']:g} msg/s"
    return f"saturation (window {command['window']})"


async def run_phases(
    host: str,
    server_pid: int,
    tokens: Sequence[str],
    conversation_id: str,
    commands: Sequence[dict[str, Any]],
    compression: str,
    work_dir: Path,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    client = ClientProcess(host, tokens, conversation_id, compression, work_dir)
    try:
        ready = await client.start()
        await client.phase(WARM_UP, server_pid)  # first sends load code and caches (jieba's dictionary)
        results = [await client.phase(command, server_pid) for command in commands]
    finally:
        await client.stop()
    return ready, results


HEADER = (
    f"  {'server':16} {'phase':22} {'sent/s':>7} {'deliveries/s':>12} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'max ms':>8} {'missing':>7} {'http p99':>8} {'server':>6} {'client':>6} {'other':>6} {'µs/dlv':>6}"
)
CPU_NOTE = (
    "  (p50/p99/max: send→deliver latency over every delivery; http p99: the POST's answer; server, "
    "client, other: CPU used by the server process, the client process and everything else on the "
    "machine, 100% = one core; µs/dlv: server CPU per delivery, which other load on the machine "
    "changes least)"
)


def result_row(server: str, command: dict[str, Any], result: dict[str, Any]) -> str:
    missing = result["expected"] - result["deliveries"]
    other = result["machine_cpu"] - result["server_cpu"] - result["client_cpu"]
    return (
        f"  {server:16} {phase_label(command):22} {result['send_rate']:7.1f} "
        f"{result['deliveries_per_s']:12,.0f} {result['latency_p50_ms']:8.1f} "
        f"{result['latency_p99_ms']:8.1f} {result['latency_max_ms']:8.1f} {missing:7d} "
        f"{result['http_p99_ms']:8.1f} {result['server_cpu']:5.0f}% {result['client_cpu']:5.0f}% "
        f"{max(0.0, other):5.0f}% {1e6 * result['server_cpu_seconds'] / max(1, result['deliveries']):6.1f}"
    )


def result_notes(server: str, result: dict[str, Any]) -> list[str]:
    notes = []
    if result["http_errors"]:
        notes.append(f"  {server}: {result['http_errors']} sends failed")
    if result["closed"]:
        notes.append(f"  {server}: {result['closed']} sockets closed during the phase")
    return notes


async def measure_ceiling(
    clients: int,
    commands: Sequence[dict[str, Any]],
    compression: str,
    work_dir: Path,
    profile: str | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    server = start_ceiling_server(profile)
    try:
        tokens = [f"ceiling-{n}" for n in range(clients)]
        return await run_phases(server.host, server.pid, tokens, "ceiling", commands, compression, work_dir)
    finally:
        server.stop()


async def bench(arguments: argparse.Namespace) -> list[str]:
    import tempfile

    commands = phase_commands(arguments.rates, arguments.seconds, arguments.window)
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as work_dir:
        ready, results = await measure_ceiling(
            arguments.clients, commands, arguments.compression, Path(work_dir)
        )
    lines = [
        f"raw broadcast ceiling: {ready['sockets']} sockets (opened in {ready['seconds']:.1f} s, "
        f"compression {arguments.compression}), {arguments.seconds:g} s per phase",
        HEADER,
    ]
    for command, result in zip(commands, results, strict=True):
        lines.append(result_row("ceiling", command, result))
        lines.extend(result_notes("ceiling", result))
    lines.append(CPU_NOTE)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the ceiling server (used by the benchmarks)")
    serve.add_argument("--port", type=int, required=True)
    client = sub.add_parser("client", help="run the load client (used by the benchmarks)")
    client.add_argument("--host", required=True)
    client.add_argument("--tokens-file", required=True)
    client.add_argument("--conversation", required=True)
    client.add_argument("--compression", choices=("deflate", "none"), default="deflate")
    parser.add_argument("--clients", type=int, default=1000, help="sockets (default 1000)")
    parser.add_argument(
        "--rates",
        type=float,
        nargs="*",
        default=[5, 20, 50],
        help="fixed send rates, msg/s (default 5 20 50)",
    )
    parser.add_argument("--seconds", type=float, default=10, help="seconds per phase (default 10)")
    parser.add_argument(
        "--window", type=int, default=8, help="messages in flight at saturation; 0 skips it (default 8)"
    )
    parser.add_argument(
        "--compression",
        choices=("deflate", "none"),
        default="deflate",
        help="offer permessage-deflate as browsers do (default), or not",
    )
    arguments = parser.parse_args()
    if arguments.command == "serve":
        serve_ceiling(arguments.port)
    elif arguments.command == "client":
        import uvloop

        uvloop.run(client_main(arguments))
    else:
        raise_open_files_limit()
        print("\n".join(asyncio.run(bench(arguments))))


if __name__ == "__main__":
    main()
