"""Server memory per idle WebSocket connection, with 10,000 connections.

For the raw ceiling server (bench/ws_ceiling.py: bare Starlette/uvicorn) and then for `zhengtong
serve`: start the server, open and close 100 sockets (so that lazily loaded code and caches are
in place), read the server's resident memory (VmRSS in /proc/<pid>/status), open N sockets from a
separate client process (bench/ws_ceiling.py `client`: one asyncio process, sockets opened 100 at
a time, the application's keep-alive ping every 30 s), let them idle, read it again. Memory per
connection = the difference / N. Goal for Zhengtong: under 40 KiB.

Zhengtong's sockets belong to N different members of one organisation, each with a browser
session of their own (written in bulk as identity.service.start_session leaves them): one
connection per account, as N people with one tab each.

    .venv/bin/python bench/chat_idle.py                          # 10,000 connections, offering deflate
    .venv/bin/python bench/chat_idle.py --compression none       # without permessage-deflate
    .venv/bin/python bench/chat_idle.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

Both processes raise their open-file limit (RLIMIT_NOFILE) to what the hard limit allows.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _chat_seed import (
    bench_context,
    new_master_key,
    open_organization,
    open_sessions,
)
from _db import scratch_database
from ws_ceiling import (
    ClientProcess,
    ServerProcess,
    raise_open_files_limit,
    rss_kib,
    start_ceiling_server,
    summarize_log,
)

GOAL_KIB = 40.0
WARM_UP_SOCKETS = 100


async def measure(
    server: ServerProcess, tokens: Sequence[str], compression: str, idle_seconds: float, work_dir: Path
) -> tuple[int, int, int, float]:
    """(RSS KiB before, with the sockets open, after they closed; seconds to open them)."""
    warm = ClientProcess(server.host, tokens[:WARM_UP_SOCKETS], "-", compression, work_dir)
    await warm.start()
    await warm.stop()
    await asyncio.sleep(2)
    before = rss_kib(server.pid)
    client = ClientProcess(server.host, tokens, "-", compression, work_dir)
    try:
        ready = await client.start()
        if ready["sockets"] != len(tokens):
            raise RuntimeError(f"only {ready['sockets']} of {len(tokens)} sockets opened")
        held = await client.phase({"phase": "hold", "seconds": idle_seconds}, server.pid)
        during = rss_kib(server.pid)
        if held["sockets"] != len(tokens):
            raise RuntimeError(f"{len(tokens) - held['sockets']} sockets closed while idling")
    finally:
        await client.stop()
    await asyncio.sleep(2)
    return before, during, rss_kib(server.pid), ready["seconds"]


def row(label: str, connections: int, figures: tuple[int, int, int, float], goal: bool) -> str:
    before, during, after, seconds = figures
    per = (during - before) / connections
    verdict = f"  goal < {GOAL_KIB:.0f} KiB: {'met' if per < GOAL_KIB else 'MISSED'}" if goal else ""
    return (
        f"  {label:12} {before / 1024:8.1f} MiB {during / 1024:10.1f} MiB {after / 1024:9.1f} MiB "
        f"{per:9.1f} KiB {seconds:8.1f} s{verdict}"
    )


async def bench(arguments: argparse.Namespace) -> list[str]:
    count, compression = arguments.connections, arguments.compression
    lines = [
        f"{count:,} idle WebSocket connections (compression {compression}, "
        f"idle {arguments.idle_seconds:g} s before measuring)",
        f"  {'server':12} {'RSS before':>12} {'RSS connected':>14} {'RSS closed':>13} {'per socket':>13} "
        f"{'opening':>10}",
    ]
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as data_dir_name:
        data_dir = Path(data_dir_name)
        ceiling = start_ceiling_server()
        try:
            figures = await measure(
                ceiling, [f"ceiling-{n}" for n in range(count)], compression, arguments.idle_seconds, data_dir
            )
        finally:
            ceiling.stop()
        lines.append(row("raw ceiling", count, figures, goal=False))
        async with scratch_database(arguments.database_url, data_dir, schema="migrations") as url:
            master_key = new_master_key()
            context = bench_context(data_dir, url, master_key)
            try:
                org = await open_organization(context, count, random.Random(arguments.seed))
                tokens = await open_sessions(context, org, org.people)
            finally:
                await context.close()
            server = ServerProcess.zhengtong(data_dir, url, master_key)
            try:
                figures = await measure(server, tokens, compression, arguments.idle_seconds, data_dir)
            finally:
                warnings = server.stop()
            lines.append(row("zhengtong", count, figures, goal=True))
            lines.extend(f"  server log: {line}" for line in summarize_log(warnings))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=10_000, help="idle sockets (default 10000)")
    parser.add_argument(
        "--idle-seconds", type=float, default=20, help="how long they idle before measuring (default 20)"
    )
    parser.add_argument(
        "--compression",
        choices=("deflate", "none"),
        default="deflate",
        help="offer permessage-deflate as browsers do (default), or not",
    )
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server to create a scratch database on"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
    arguments = parser.parse_args()
    limit = raise_open_files_limit()
    if limit < arguments.connections + 1000:
        raise SystemExit(f"the open-file limit ({limit}) is too low for {arguments.connections} sockets")
    print("\n".join(asyncio.run(bench(arguments))))


if __name__ == "__main__":
    main()
