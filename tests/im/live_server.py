"""Real server processes for fault-tolerance tests, and a chat client that follows the WebSocket
protocol (src/zhengtong/realtime.py) the way a real client must.

- `Installation`: a data directory, a database (a SQLite file, or a PostgreSQL database of its own
  when ZT_TEST_DATABASE_URL is set), optionally a Redis URL with a key prefix of its own, and a
  master key shared by the server processes and the test (which opens members in the database).
- `ServerProcess`: one `zhengtong serve` in a process group of its own; started, waited on until
  /healthz answers, killed (SIGKILL) or stopped, restarted on the same port; its output is kept
  in a log file whose tail failing assertions show.
- `RedisServer`: a private `redis-server` without persistence that can be killed and restarted
  on the same port (it comes back empty, as a Redis that lost its data).
- `TcpProxy`: a port that forwards to Redis and can be cut and restored (a network partition:
  Redis keeps its data).
- `Device`: one connected client of a person: it resumes with (epoch, since) after every
  disconnect, refetches conversations over REST when told to resync, keeps messages by id, fills
  gaps in a conversation's seq from history, and records everything it saw so tests can check
  the protocol's promises (each stream seq at most once and in order within an epoch).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa
import websockets
from sqlalchemy.ext.asyncio import create_async_engine

from helpers import Member, create_member, free_port, last_code
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext, build_context
from zhengtong.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
ZHENGTONG = str(VENV_BIN / "zhengtong") if (VENV_BIN / "zhengtong").exists() else "zhengtong"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
TEST_DATABASE_URL = os.environ.get("ZT_TEST_DATABASE_URL", "")
# The shared Redis of the test run; CI runs Redis tests in both passes (a skip fails CI).
SHARED_REDIS_URL = os.environ.get("ZT_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"


_spawned: list[subprocess.Popen[bytes]] = []


@atexit.register
def _kill_leftovers() -> None:
    """Servers run in sessions of their own, so they would outlive a test run that crashed or
    was interrupted before its teardown: whatever is still running goes with the run."""
    for process in _spawned:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def _spawn(command: list[str], log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    _spawned.append(process)
    return process


PATIENCE = 3


async def eventually(
    check: Callable[[], bool], within: float, what: str | Callable[[], str], step: float = 0.02
) -> None:
    """Waits until `check()` holds; fails with `what` (a callable is called for the message).
    The wait is stretched by PATIENCE: a machine busy with other work (benchmarks, browser tests)
    is slow, not wrong, and passing tests do not wait any longer for it."""
    deadline = time.monotonic() + within * PATIENCE
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(what() if callable(what) else what)
        await asyncio.sleep(step)


# -- databases ----------------------------------------------------------------------------------


async def _postgres(statement: str) -> None:
    admin = create_async_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await admin.dispose()


async def redis_reachable(url: str) -> bool:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    probe = Redis.from_url(url, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    try:
        await probe.ping()
    except Exception:
        return False
    finally:
        await probe.aclose()
    return True


def redis_reachable_now(url: str) -> bool:
    """The same, for synchronous fixtures."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    probe = redis.Redis.from_url(url, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    try:
        probe.ping()
    except Exception:
        return False
    finally:
        probe.close()
    return True


async def delete_redis_keys(url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


# -- server processes ---------------------------------------------------------------------------


class ServerProcess:
    """One `zhengtong serve`. Its process group is its own, so a kill reaches everything it started."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.name = name
        self.env = env
        self.log_path = log_path
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self, within: float = 60) -> None:
        self._spawn()
        await self._wait_ready(within)

    def _spawn(self) -> None:
        assert self.process is None or self.process.poll() is not None, f"{self.name} is running"
        with self.log_path.open("ab") as log:
            log.write(f"\n==== {self.name}: zhengtong serve --port {self.port}\n".encode())
        command = [ZHENGTONG, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = _spawn(command, self.log_path, self.env)

    async def _wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    code = self.process.returncode
                    raise AssertionError(f"{self.name} exited with {code}\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    answer = await http.get(f"{self.url}/healthz")
                    if answer.status_code == 200 and answer.json() == {"status": "ok"}:
                        return
                await asyncio.sleep(0.05)
        raise AssertionError(f"{self.name} not ready after {within}s\n{self.log_tail()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Sends `sig` to the server's process group and waits for the server to be gone."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM (a graceful shutdown), SIGKILL after ten seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, chars: int = 4000) -> str:
        if not self.log_path.exists():
            return f"({self.name}: no log)"
        text = self.log_path.read_text(errors="replace")[-chars:]
        return f"---- {self.log_path.name} (last {chars} chars)\n{text}"


NO_PERSISTENCE = ("--bind", "127.0.0.1", "--save", "", "--appendonly", "no")


class RedisServer:
    """A private redis-server without persistence: killing it loses everything it held."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._spawn()
        assert self.process is not None
        deadline = time.monotonic() + 10
        while not await redis_reachable(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not start:\n{self.log_path.read_text()[-2000:]}")
            await asyncio.sleep(0.05)

    def _spawn(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [REDIS_SERVER, "--port", str(self.port), *NO_PERSISTENCE, "--dir", str(self.workdir)]
        self.process = _spawn(command, self.log_path)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class TcpProxy:
    """Forwards a local port to a target; `cut()` drops every connection and refuses new ones
    (a network partition), `restore()` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = free_port()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        await self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            try:
                target_reader, target_writer = await asyncio.open_connection(*self._target)
            except OSError:
                writer.transport.abort()
                return
            self._writers |= {writer, target_writer}
            await asyncio.gather(
                self._pipe(reader, target_writer), self._pipe(target_reader, writer), return_exceptions=True
            )
        finally:
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()


def _make_dirs(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


@dataclass
class Installation:
    """Everything server processes share: data directory, database, Redis, master key."""

    root: Path
    database_url: str
    redis_url: str | None
    redis_prefix: str
    master_key: str = field(default_factory=lambda: base64.b64encode(secrets.token_bytes(32)).decode())
    extra_env: dict[str, str] = field(default_factory=dict)
    servers: list[ServerProcess] = field(default_factory=list)
    _context: AppContext | None = None
    _postgres_name: str | None = None

    @classmethod
    async def create(cls, root: Path, *, redis_url: str | None = None, **extra_env: str) -> Installation:
        _make_dirs(root / "var")
        postgres_name = None
        if TEST_DATABASE_URL:
            postgres_name = f"zt_live_{uuid.uuid4().hex[:10]}"
            await _postgres(f'CREATE DATABASE "{postgres_name}"')
            database_url = TEST_DATABASE_URL.rsplit("/", 1)[0] + f"/{postgres_name}"
        else:
            database_url = f"sqlite+aiosqlite:///{root / 'var' / 'zhengtong.db'}"
        # Migrated here, once, so that server processes can start together (each one's own
        # migration step then finds nothing to do).
        settings = Settings(data_dir=root / "var", database_url=database_url)
        try:
            await asyncio.to_thread(upgrade, settings)
        except BaseException:
            if postgres_name:
                await _postgres(f'DROP DATABASE IF EXISTS "{postgres_name}" WITH (FORCE)')
            raise
        return cls(
            root=root,
            database_url=database_url,
            redis_url=redis_url,
            redis_prefix=f"zt_live_{uuid.uuid4().hex[:10]}:",
            extra_env=dict(extra_env),
            _postgres_name=postgres_name,
        )

    @property
    def data_dir(self) -> Path:
        return self.root / "var"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZT_")}
        env.update(
            {
                "ZT_DATA_DIR": str(self.data_dir),
                "ZT_DATABASE_URL": self.database_url,
                "ZT_MASTER_KEY": self.master_key,
                "ZT_ENVIRONMENT": "development",
                "ZT_LOG_LEVEL": "warning",
                "ZT_CHAT_SENDS_PER_MINUTE": "100000",
                "ZT_RUN_JOBS_IN_PROCESS": "false",
                **self.extra_env,
            }
        )
        if self.redis_url:
            env.update({"ZT_REDIS_URL": self.redis_url, "ZT_REDIS_PREFIX": self.redis_prefix})
        return env

    def server(self, name: str) -> ServerProcess:
        process = ServerProcess(name, self.env(), self.root / f"{name}.log")
        self.servers.append(process)
        return process

    async def start_servers(self, *names: str) -> list[ServerProcess]:
        processes = [self.server(name) for name in names]
        await asyncio.gather(*(process.start() for process in processes))
        return processes

    @property
    def context(self) -> AppContext:
        """The test's own view of the database (no Redis: it only opens members and reads)."""
        if self._context is None:
            self._context = build_context(
                Settings(data_dir=self.data_dir, database_url=self.database_url, master_key=self.master_key)
            )
        return self._context

    def logs(self) -> str:
        return "\n".join(server.log_tail() for server in self.servers)

    async def close(self) -> None:
        try:
            for server in self.servers:
                server.stop()
            if self._context is not None:
                await self._context.close()
        finally:
            if self._postgres_name:
                await _postgres(f'DROP DATABASE IF EXISTS "{self._postgres_name}" WITH (FORCE)')
            if self.redis_url and await redis_reachable(self.redis_url):
                await delete_redis_keys(self.redis_url, self.redis_prefix)


# -- people and their devices -------------------------------------------------------------------


@dataclass
class Account:
    """A person logged in over HTTP; `token` is their session, used as a bearer token."""

    member: Member
    token: str

    @property
    def membership_id(self) -> str:
        return self.member.membership_id

    def http(self, server: ServerProcess, timeout: float = 10) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=timeout
        )


async def open_account(installation: Installation, server: ServerProcess, name: str) -> Account:
    context = installation.context
    member = await create_member(context, name=name)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        sent = await http.post("/api/v1/auth/sms/send", json={"mobile": member.mobile})
        assert sent.status_code == 200, sent.text
        answer = await http.post(
            "/api/v1/auth/sms/login",
            json={"mobile": member.mobile, "code": last_code(context, member.mobile)},
        )
        assert answer.status_code == 200 and answer.json()["status"] == "ok", answer.text
        token = http.cookies.get("zt_session")
    assert token
    return Account(member, token)


class Device:
    """One client of a person, connected to one server, following the protocol:

    - connects with ?epoch=E&since=N once it has seen a hello; the hello's `resync` (or a later
      resync frame) makes it refetch its conversations over REST, and only a completed refetch
      counts: until then it keeps asking;
    - takes each sequenced event once, in order (recording any violation of that promise);
    - keeps messages by id, as the latest message.new / message.updated / fetch showed them;
    - a message whose conversation seq skips ahead of what it holds makes it fetch the gap:
      events of one conversation may arrive in another order than their seq, and a send whose
      process died between commit and event is found only this way (see test_delivery_faults);
    - reconnects after every disconnect, waiting a little between attempts.
    """

    def __init__(
        self, name: str, account: Account, server: ServerProcess, conversation_ids: list[str]
    ) -> None:
        self.name = name
        self.account = account
        self.server = server
        self.conversation_ids = list(conversation_ids)
        self.epoch: str | None = None
        self.seq: int | None = None
        self.needs_refetch = True  # a fresh client loads its state itself
        self.messages: dict[str, dict[str, Any]] = {}  # by id
        self.by_conversation_seq: dict[str, dict[int, str]] = {}  # conversation -> seq -> message id
        self.via_event: list[str] = []  # message ids, in the order their message.new events came
        self.via_fetch: set[str] = set()
        self.updates: list[dict[str, Any]] = []  # messages as message.updated events brought them
        self.hellos: list[dict[str, Any]] = []
        self.resync_frames: list[dict[str, Any]] = []
        self.events: list[tuple[str, int, dict[str, Any]]] = []  # (epoch, seq, event) as received
        self.transient: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.connections = 0
        self.refetches = 0
        self.connected = asyncio.Event()
        self._delivered: set[tuple[str, int]] = set()
        self._socket: Any = None
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"device {self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.connected.clear()

    async def wait_connected(self, within: float = 15) -> None:
        await asyncio.wait_for(self.connected.wait(), within)

    async def drop_connection(self) -> None:
        """Closes the socket from the client side; the device reconnects and resumes."""
        if self._socket is not None:
            await self._socket.close()

    async def send_frame(self, frame: dict[str, Any] | str) -> None:
        assert self._socket is not None, f"{self.name} is not connected"
        await self._socket.send(frame if isinstance(frame, str) else json.dumps(frame))

    def url(self) -> str:
        params = {"token": self.account.token}
        if self.epoch is not None and self.seq is not None:
            params.update(epoch=self.epoch, since=str(self.seq))
        return f"ws://{self.server.host}/api/v1/ws?{urlencode(params)}"

    async def _run(self) -> None:
        while True:
            try:
                async with websockets.connect(self.url(), open_timeout=5, close_timeout=1) as ws:
                    self._socket = ws
                    self.connections += 1
                    async for raw in ws:
                        await self._handle(json.loads(raw))
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException, httpx.HTTPError):
                pass  # the server went away, or refused us for now: try again
            except Exception as error:  # a bug in the test or a frame it cannot read: make it visible
                self.violations.append(f"{self.name}: {type(error).__name__}: {error}")
            finally:
                self._socket = None
                self.connected.clear()
            await asyncio.sleep(0.1)

    # -- frames

    async def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "hello":
            self.hellos.append(frame)
            if frame["resync"]:
                self.needs_refetch = True
            resumed = not frame["resync"] and self.seq is not None and self.epoch == frame["epoch"]
            if not resumed:  # fresh, or resync: carry on from the head
                self.epoch, self.seq = frame["epoch"], frame["seq"]
            # else the events after `since` follow, up to the hello's seq (the stream's head)
            if self.needs_refetch or self._has_gaps():
                await self.refetch()
            self.connected.set()
        elif kind == "resync":
            self.resync_frames.append(frame)
            self.epoch, self.seq = frame["epoch"], frame["seq"]
            self.needs_refetch = True
            await self.refetch()
        elif kind == "event":
            await self._event(frame)

    async def _event(self, frame: dict[str, Any]) -> None:
        seq, event = int(frame["seq"]), frame["event"]
        if seq == 0:
            self.transient.append(event)
            return
        key = (self.epoch or "", seq)
        if key in self._delivered:
            self.violations.append(f"{self.name}: stream seq {seq} of epoch {self.epoch} delivered twice")
        elif self.seq is not None and seq != self.seq + 1:
            self.violations.append(f"{self.name}: stream seq {seq} after {self.seq} (out of order or a gap)")
        self._delivered.add(key)
        self.events.append((self.epoch or "", seq, event))
        self.seq = seq
        if event.get("type") == "message.new":
            message = event["message"]
            self.via_event.append(message["id"])
            self._keep(message)
            conversation_id = message["conversation_id"]
            if message["seq"] > self.watermark(conversation_id) + 1:
                await self._fetch(conversation_id, self.watermark(conversation_id))
        elif event.get("type") == "message.updated":
            self.updates.append(event["message"])
            self._keep(event["message"])

    def _keep(self, message: dict[str, Any]) -> None:
        known = self.by_conversation_seq.setdefault(message["conversation_id"], {})
        holder = known.get(message["seq"])
        if holder is not None and holder != message["id"]:
            self.violations.append(
                f"{self.name}: two messages ({holder}, {message['id']}) with seq {message['seq']}"
            )
        known[message["seq"]] = message["id"]
        self.messages[message["id"]] = message

    def _has_gaps(self) -> bool:
        return any(
            known and max(known) > self.watermark(conversation_id)
            for conversation_id, known in self.by_conversation_seq.items()
        )

    def watermark(self, conversation_id: str) -> int:
        """The highest seq up to which this device holds every message of the conversation."""
        known = self.by_conversation_seq.get(conversation_id, {})
        seq = 0
        while seq + 1 in known:
            seq += 1
        return seq

    # -- REST

    async def refetch(self) -> None:
        """What a resync asks for: the state again, from the start (messages may have changed,
        not only been added)."""
        for conversation_id in self.conversation_ids:
            await self._fetch(conversation_id, 0)
        self.refetches += 1
        self.needs_refetch = False

    async def _fetch(self, conversation_id: str, after_seq: int) -> None:
        async with self.account.http(self.server) as http:
            while True:
                answer = await http.get(
                    f"/api/v1/im/conversations/{conversation_id}/messages",
                    params={"after_seq": after_seq, "limit": 200},
                )
                answer.raise_for_status()
                items = answer.json()["items"]
                for message in items:
                    self.via_fetch.add(message["id"])
                    self._keep(message)
                if len(items) < 200:
                    return
                after_seq = items[-1]["seq"]

    def describe(self) -> str:
        return (
            f"{self.name}: {self.connections} connection(s), epoch {self.epoch} seq {self.seq}, "
            f"{len(self.messages)} messages, {len(self.resync_frames)} resync frame(s), "
            f"{self.refetches} refetch(es), violations {self.violations}"
        )

    def holds(self, message_ids: set[str]) -> bool:
        return message_ids <= self.messages.keys()

    def missing(self, message_ids: set[str]) -> set[str]:
        return message_ids - self.messages.keys()
