"""DING to many people in the app: one member DINGs 5,000 colleagues, every one of them connected
over the WebSocket, and the benchmark reports

- how long until every recipient's client has the DING (the `ding.new` event on each socket),
  from just before the POST: p50, p95 and the last one, with the POST's own time — the request
  only records the DING; the delivery job (in the server process) does the rest after commit;
- how long after that the bell's notice has been pushed to everyone (the notices' delivery job,
  through the development push provider, which records each push in the outbox);
- how long the sender's lists take to load once half the people confirmed: the first page (50)
  of 未确认 and of 已确认 with both counts, and the DING itself with its confirmed count — over
  HTTP against the running server, and as the service call in this process — p50 and p95.

Zhengtong runs as `zhengtong serve` in its own process (SQLite, or PostgreSQL with
--database-url; with --redis-url its event log is on Redis); the sockets live in a client process
of their own (`bench/ding.py client`), which also posts the DING, so that one clock times both
ends. Members and their sessions are seeded in bulk before the server starts (as bench/fanout.py
does); a hundred people confirm over HTTP, the rest of the half directly in the database.

    .venv/bin/python bench/ding.py                        # 5,000 recipients, SQLite
    .venv/bin/python bench/ding.py --recipients 200       # a smoke run
    .venv/bin/python bench/ding.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        --redis-url redis://127.0.0.1:6379/0

With --database-url the benchmark creates a database zt_bench_<random> next to the given one and
drops it afterwards; with --redis-url it uses keys under a prefix of its own and deletes them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
from _chat_seed import (
    Org,
    bench_context,
    new_master_key,
    open_organization,
    open_sessions,
    percentile,
    time_calls,
    timing_row,
)
from _db import scratch_database
from fanout import delete_redis_keys
from ws_ceiling import KEEPALIVE_SECONDS, ServerProcess, cpu_seconds, raise_open_files_limit

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.ding import service
from zhengtong.ding.models import DingRecipient
from zhengtong.ding.schemas import RecipientTab
from zhengtong.directory.visibility import Actor
from zhengtong.notifications.models import Channel, DeliveryResult, Notice, NoticeDelivery

THIS_FILE = str(Path(__file__).resolve())
NO_PUSHES_AFTER_SECONDS = 5  # no push recorded by then: every recipient had the app open
DING_TEXT = "防汛紧急通知：今晚 20:00 前全体到岗值守，收到请确认。"
QUIET_SECONDS = 30  # the client stops waiting when no DING arrived for this long
CONFIRMED_OVER_HTTP = 100
PAGE = 50


# -- the client process: every recipient's socket, and the sender's POST


class Receivers:
    """One WebSocket per recipient; records when each one hears `ding.new` for a DING."""

    def __init__(self, host: str, tokens: Sequence[str]) -> None:
        self.host = host
        self.tokens = list(tokens)
        self.sockets: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.arrivals: dict[str, list[float]] = {}
        self.progress = asyncio.Event()

    async def connect(self, concurrency: int = 100) -> None:
        from websockets.asyncio.client import connect

        gate = asyncio.Semaphore(concurrency)
        self.tasks.append(asyncio.create_task(self._keepalive()))

        async def one(token: str) -> None:
            async with gate:
                socket_ = await connect(
                    f"ws://{self.host}/api/v1/ws?token={token}",
                    max_size=None,
                    ping_interval=None,
                    open_timeout=120,
                )
                hello = orjson.loads(await socket_.recv())
                assert hello["type"] == "hello", hello
                self.sockets.append(socket_)
                self.tasks.append(asyncio.create_task(self._read(socket_)))

        await asyncio.gather(*(one(token) for token in self.tokens))

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            for socket_ in list(self.sockets):
                with contextlib.suppress(Exception):
                    await socket_.send('{"type":"ping"}')

    async def _read(self, socket_: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async for frame in socket_:
                now = time.perf_counter()
                data = orjson.loads(frame)
                event = data.get("event") or {}
                if data.get("type") == "event" and event.get("type") == "ding.new":
                    self.arrivals.setdefault(event["ding"]["id"], []).append(now)
                    self.progress.set()

    async def ding(self, sender_token: str, recipient_ids: Sequence[str]) -> dict[str, Any]:
        """Posts the DING as the sender and waits until every socket has it (or none arrives for
        QUIET_SECONDS); times are seconds from just before the POST."""
        body = orjson.dumps({"text": DING_TEXT, "recipient_ids": list(recipient_ids), "channel": "in_app"})
        headers = {"Authorization": f"Bearer {sender_token}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=f"http://{self.host}", headers=headers, timeout=300) as http:
            started = time.perf_counter()
            answer = await http.post("/api/v1/ding", content=body)
            posted = time.perf_counter() - started
        answer.raise_for_status()
        ding_id = str(answer.json()["id"])
        heard = self.arrivals.setdefault(ding_id, [])
        quiet_since = time.perf_counter()
        while len(heard) < len(self.sockets) and time.perf_counter() - quiet_since < QUIET_SECONDS:
            self.progress.clear()
            count = len(heard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.progress.wait(), 1)
            if len(heard) != count:
                quiet_since = time.perf_counter()
        arrived = sorted(moment - started for moment in heard)
        return {
            "ding_id": ding_id,
            "post_ms": posted * 1000,
            "sockets": len(self.sockets),
            "received": len(arrived),
            "p50_s": percentile(arrived, 0.5),
            "p95_s": percentile(arrived, 0.95),
            "last_s": arrived[-1] if arrived else float("nan"),
        }

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for socket_ in self.sockets:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket_.close(), 5)


async def client_main(arguments: argparse.Namespace) -> None:
    """Opens the sockets, answers {"ready"}; then reads commands (JSON lines) on stdin."""
    raise_open_files_limit()
    with open(arguments.tokens_file, "rb") as tokens_file:  # noqa: ASYNC230 (once, before any socket)
        seeded = orjson.loads(tokens_file.read())
    receivers = Receivers(arguments.host, seeded["recipient_tokens"])
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(value: dict[str, Any]) -> None:
        sys.stdout.write(orjson.dumps(value).decode() + "\n")
        sys.stdout.flush()

    started = time.perf_counter()
    await receivers.connect()
    answer({"ready": True, "sockets": len(receivers.sockets), "seconds": time.perf_counter() - started})
    try:
        while (line := await reader.readline()) and orjson.loads(line)["phase"] == "ding":
            answer(await receivers.ding(seeded["sender_token"], seeded["recipient_ids"]))
    finally:
        await receivers.close()


class ClientProcess:
    """The client as a child process of the benchmark."""

    def __init__(self, host: str, seeded: dict[str, Any], work_dir: Path) -> None:
        self.host = host
        self.tokens_file = work_dir / f"ding-tokens-{uuid.uuid4().hex[:6]}.json"
        self.tokens_file.write_bytes(orjson.dumps(seeded))
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
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        return await self._answer()

    async def _answer(self) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the DING client exited ({await self.process.wait()})")
        answer: dict[str, Any] = orjson.loads(line)
        return answer

    async def ding(self, server_pid: int) -> dict[str, Any]:
        assert self.process is not None and self.process.stdin is not None
        server_cpu = cpu_seconds(server_pid)
        self.process.stdin.write(b'{"phase": "ding"}\n')
        await self.process.stdin.drain()
        answer = await self._answer()
        answer["server_cpu_seconds"] = cpu_seconds(server_pid) - server_cpu
        return answer

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None and self.process.stdin is not None:
            self.process.stdin.write(b'{"phase": "quit"}\n')
            with contextlib.suppress(ConnectionError):
                await self.process.stdin.drain()
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self.tokens_file.unlink(missing_ok=True)


# -- the benchmark


async def confirm_half(
    context: AppContext, host: str, ding_id: str, tokens: Sequence[str], rng: random.Random
) -> int:
    """Half the recipients confirm: a hundred over HTTP (the path a tap takes), the others marked
    in the database, a second apart, so that the 已确认 list has an order to page through."""
    sample = rng.sample(list(tokens), min(CONFIRMED_OVER_HTTP, len(tokens) // 2))
    async with httpx.AsyncClient(base_url=f"http://{host}", timeout=60) as http:
        for token in sample:
            answer = await http.post(
                f"/api/v1/ding/{ding_id}/confirm", headers={"Authorization": f"Bearer {token}"}
            )
            answer.raise_for_status()
    async with context.db.transaction() as session:
        unconfirmed = await session.scalars(
            sa.select(DingRecipient.id)
            .where(DingRecipient.ding_id == ding_id, DingRecipient.confirmed_at.is_(None))
            .order_by(DingRecipient.id)
            .limit(len(tokens) // 2 - len(sample))
        )
        earlier = utcnow() - timedelta(hours=2)
        marked = [
            {"id": recipient_id, "confirmed_at": earlier + timedelta(seconds=index)}
            for index, recipient_id in enumerate(unconfirmed)
        ]
        if marked:
            await session.execute(sa.update(DingRecipient), marked)
    return len(sample) + len(marked)


async def time_lists(
    context: AppContext, host: str, org: Org, ding_id: str, sender_token: str, count: int
) -> list[str]:
    """p50/p95 of what the sender's open DING loads: each tab's first page with both counts, in
    this process through the service and over HTTP, and the DING itself."""
    sender = org.people[0]
    actor = Actor(org.id, sender.membership_id, sender.account_id, sender.name)
    tabs: tuple[RecipientTab, ...] = ("unconfirmed", "confirmed")
    lines = []
    for tab in tabs:

        async def page(tab: RecipientTab = tab) -> None:
            async with context.db.transaction() as session:
                await service.recipients_page(session, actor, ding_id, tab=tab, limit=PAGE, cursor=None)

        lines.append(timing_row(f"service: {tab}, first page + counts", await time_calls(page, count)))
    headers = {"Authorization": f"Bearer {sender_token}"}
    async with httpx.AsyncClient(base_url=f"http://{host}", headers=headers, timeout=60) as http:
        for tab in tabs:

            async def get_page(tab: RecipientTab = tab) -> None:
                answer = await http.get(
                    f"/api/v1/ding/{ding_id}/recipients", params={"tab": tab, "limit": PAGE}
                )
                answer.raise_for_status()

            lines.append(timing_row(f"HTTP: {tab}, first page + counts", await time_calls(get_page, count)))

        async def get_detail() -> None:
            (await http.get(f"/api/v1/ding/{ding_id}")).raise_for_status()

        lines.append(
            timing_row("HTTP: the DING with its confirmed count", await time_calls(get_detail, count))
        )
    return lines


async def wait_for_pushes(context: AppContext, ding_id: str, server_pid: int) -> dict[str, float]:
    """After every client had the DING in the app: how long until the notices' delivery job has
    settled every push (the development provider records each in the outbox), and the server CPU
    it took."""
    started, cpu = time.perf_counter(), cpu_seconds(server_pid)
    pushes = (
        sa.select(NoticeDelivery.result, sa.func.count())
        .join(Notice, Notice.id == NoticeDelivery.notice_id)
        .where(Notice.reference == f"ding:{ding_id}", NoticeDelivery.channel == Channel.PUSH)
        .group_by(NoticeDelivery.result)
    )
    while True:
        async with context.db.transaction() as session:
            counts = {result: count for result, count in (await session.execute(pushes)).all()}
        if counts and not counts.get(DeliveryResult.QUEUED):
            break
        if not counts and time.perf_counter() - started > NO_PUSHES_AFTER_SECONDS:
            break  # a server that does not push DINGs
        await asyncio.sleep(0.2)
    return {
        "seconds": time.perf_counter() - started,
        "server_cpu_seconds": cpu_seconds(server_pid) - cpu,
        "sent": counts.get(DeliveryResult.SENT, 0),
        "total": sum(counts.values()),
    }


async def seed(context: AppContext, recipients: int, rng: random.Random) -> tuple[Org, list[str]]:
    """The sender (the first person) and the recipients, each with a browser session."""
    org = await open_organization(context, recipients + 1, rng)
    return org, await open_sessions(context, org, org.people)


async def run(
    arguments: argparse.Namespace, data_dir: Path, url: str, event_log: dict[str, str]
) -> list[str]:
    rng = random.Random(arguments.seed)
    master_key = new_master_key()
    context = bench_context(data_dir, url, master_key)
    try:
        org, tokens = await seed(context, arguments.recipients, rng)
        seeded = {
            "sender_token": tokens[0],
            "recipient_tokens": tokens[1:],
            "recipient_ids": [person.membership_id for person in org.people[1:]],
        }
        server = ServerProcess.zhengtong(data_dir, url, master_key, **event_log)
        client = ClientProcess(server.host, seeded, data_dir)
        try:
            ready = await client.start()
            delivered = await client.ding(server.pid)
            pushed = await wait_for_pushes(context, delivered["ding_id"], server.pid)
            confirmed = await confirm_half(context, server.host, delivered["ding_id"], tokens[1:], rng)
            lists = await time_lists(
                context, server.host, org, delivered["ding_id"], tokens[0], arguments.calls
            )
        finally:
            await client.stop()
            server.stop()
    finally:
        await context.close()
    return [
        f"{ready['sockets']} sockets opened in {ready['seconds']:.1f} s",
        f"DING to {delivered['sockets']} people in the app: POST {delivered['post_ms']:.0f} ms; "
        f"{delivered['received']}/{delivered['sockets']} clients had it; p50 {delivered['p50_s']:.2f} s, "
        f"p95 {delivered['p95_s']:.2f} s, every client after {delivered['last_s']:.2f} s "
        f"(server CPU {delivered['server_cpu_seconds']:.1f} s)",
        f"pushes (the bell's notice; people with the app open get none): {pushed['sent']:.0f} of "
        f"{pushed['total']:.0f} sent {pushed['seconds']:.2f} s after the last client had the DING "
        f"(server CPU meanwhile {pushed['server_cpu_seconds']:.1f} s)",
        f"lists with {confirmed} of {arguments.recipients} confirmed ({arguments.calls} calls each):",
        *lists,
    ]


async def bench(arguments: argparse.Namespace) -> list[str]:
    raise_open_files_limit()
    backend = ("postgresql" if arguments.database_url else "sqlite") + (
        " + redis" if arguments.redis_url else ""
    )
    lines = [f"DING bench ({backend}), {arguments.recipients} recipients"]
    prefix = f"zt_bench_{uuid.uuid4().hex[:8]}:"
    event_log = (
        {"ZT_REDIS_URL": arguments.redis_url, "ZT_REDIS_PREFIX": prefix} if arguments.redis_url else {}
    )
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as data_dir_name:
        data_dir = Path(data_dir_name)
        try:
            async with scratch_database(arguments.database_url, data_dir, schema="migrations") as url:
                lines.extend(await run(arguments, data_dir, url, event_log))
        finally:
            if arguments.redis_url:
                await delete_redis_keys(arguments.redis_url, prefix)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    client = sub.add_parser("client", help="the recipients' sockets (started by the benchmark)")
    client.add_argument("--host", required=True)
    client.add_argument("--tokens-file", required=True)
    parser.add_argument("--recipients", type=int, default=5000, help="people the DING goes to (default 5000)")
    parser.add_argument("--calls", type=int, default=200, help="timed calls per list (default 200)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--redis-url", default=None, help="run the server's event log on Redis")
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    if arguments.command == "client":
        asyncio.run(client_main(arguments))
        return
    for line in asyncio.run(bench(arguments)):
        print(line)


if __name__ == "__main__":
    main()
