"""Chat fan-out: a group of 1,000 members, every one of them connected over the WebSocket, and one
of them posting messages over HTTP — first at fixed rates (5, 20 and 50 messages per second), then
at saturation (a window of messages in flight). Per phase: deliveries per second (frames of
message.new received by all sockets) and send→deliver latency p50/p99 over every delivery.
Goals: at saturation, at least half the deliveries per second of the raw broadcast ceiling; at
20 messages per second, p99 under 100 ms.

The raw ceiling (bench/ws_ceiling.py: a bare Starlette/uvicorn broadcast server) is measured in
the same run, with the same client process and the same phases, and printed next to Zhengtong.

Zhengtong runs as `zhengtong serve` in its own process (SQLite, or PostgreSQL with
--database-url; the in-process event log, and with --redis-url a second time on Redis); the
1,000 sockets live in one asyncio process of their own (bench/ws_ceiling.py `client`), which also
posts the messages. Members, their sessions (one browser session each, written in bulk as
identity.service.start_session leaves them) and the group are seeded into the server's database
before it starts.

    .venv/bin/python bench/fanout.py                                  # SQLite, in-process event log
    .venv/bin/python bench/fanout.py --redis-url redis://127.0.0.1:6379/0   # …and again on Redis
    .venv/bin/python bench/fanout.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

With --database-url the benchmark creates a database zt_bench_<random> next to the given one and
drops it afterwards; with --redis-url it uses keys under a prefix of its own and deletes them.
Everything shares the machine's cores: the CPU columns show who used them.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import uuid
from pathlib import Path
from typing import Any

from _chat_seed import (
    bench_context,
    new_master_key,
    open_group,
    open_organization,
    open_sessions,
)
from _db import scratch_database
from ws_ceiling import (
    CPU_NOTE,
    HEADER,
    ServerProcess,
    measure_ceiling,
    phase_commands,
    raise_open_files_limit,
    result_notes,
    result_row,
    rss_kib,
    run_phases,
    summarize_log,
)

LATENCY_GOAL_MS = 100.0
LATENCY_GOAL_RATE = 20.0


async def delete_redis_keys(url: str, prefix: str) -> int:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
        return len(keys)
    finally:
        await client.aclose()


async def bench(arguments: argparse.Namespace) -> list[str]:
    rng = random.Random(arguments.seed)
    commands = phase_commands(arguments.rates, arguments.seconds, arguments.window)
    runs: list[tuple[str, list[dict[str, Any]]]] = []
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as data_dir_name:
        data_dir = Path(data_dir_name)
        ceiling_ready, ceiling_results = await measure_ceiling(
            arguments.members,
            commands,
            arguments.compression,
            data_dir,
            f"{arguments.profile_server}.raw-ceiling.pstats" if arguments.profile_server else None,
        )
        runs.append(("raw ceiling", ceiling_results))
        async with scratch_database(arguments.database_url, data_dir, schema="migrations") as url:
            master_key = new_master_key()
            context = bench_context(data_dir, url, master_key)
            try:
                org = await open_organization(context, arguments.members, rng)
                tokens = await open_sessions(context, org, org.people)
                conversation_id = await open_group(context, org, org.people, name="千人大群")
            finally:
                await context.close()
            event_logs: list[tuple[str, dict[str, str]]] = [("zhengtong", {})]
            prefix = f"zt_bench_{uuid.uuid4().hex[:8]}:"
            if arguments.redis_url:
                event_logs.append(
                    ("zhengtong+redis", {"ZT_REDIS_URL": arguments.redis_url, "ZT_REDIS_PREFIX": prefix})
                )
            try:
                for label, env in event_logs:
                    profile = (
                        f"{arguments.profile_server}.{label}.pstats" if arguments.profile_server else None
                    )
                    server = ServerProcess.zhengtong(data_dir, url, master_key, profile=profile, **env)
                    try:
                        ready, results = await run_phases(
                            server.host,
                            server.pid,
                            tokens,
                            conversation_id,
                            commands,
                            arguments.compression,
                            data_dir,
                        )
                        memory = rss_kib(server.pid)
                    finally:
                        warnings = server.stop()
                    runs.append((label, results))
                    lines.append(
                        f"{label}: {ready['sockets']} sockets opened in {ready['seconds']:.1f} s; "
                        f"server resident memory afterwards {memory / 1024:.0f} MiB"
                    )
                    lines.extend(f"  server log: {line}" for line in summarize_log(warnings))
            finally:
                if arguments.redis_url:
                    await delete_redis_keys(arguments.redis_url, prefix)
    backend = "postgresql" if arguments.database_url else "sqlite"
    header = [
        f"fan-out to a group of {arguments.members} members ({backend}; compression {arguments.compression}; "
        f"{arguments.seconds:g} s per phase; raw ceiling: {ceiling_ready['sockets']} sockets)",
        HEADER,
    ]
    table = []
    for command_index, command in enumerate(commands):
        for label, results in runs:
            table.append(result_row(label, command, results[command_index]))
            table.extend(result_notes(label, results[command_index]))
    verdicts = []
    ceiling_saturation = next(
        (
            result
            for command, result in zip(commands, ceiling_results, strict=True)
            if command["phase"] == "saturate"
        ),
        None,
    )
    for label, results in runs[1:]:
        for command, result in zip(commands, results, strict=True):
            if command["phase"] == "saturate" and ceiling_saturation is not None:
                share = result["deliveries_per_s"] / ceiling_saturation["deliveries_per_s"]
                verdicts.append(
                    f"  {label}: deliveries/s at saturation {result['deliveries_per_s']:,.0f} = "
                    f"{100 * share:.0f}% of the ceiling's {ceiling_saturation['deliveries_per_s']:,.0f} "
                    f"(goal ≥ 50%): {'met' if share >= 0.5 else 'MISSED'}"
                )
            if command["phase"] == "rate" and command["rate"] == LATENCY_GOAL_RATE:
                p99 = result["latency_p99_ms"]
                verdicts.append(
                    f"  {label}: p99 send→deliver at {LATENCY_GOAL_RATE:g} msg/s {p99:.1f} ms "
                    f"(goal < {LATENCY_GOAL_MS:.0f} ms): {'met' if p99 < LATENCY_GOAL_MS else 'MISSED'}"
                )
    return [*header, *table, CPU_NOTE, *lines, *verdicts]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--members", type=int, default=1000, help="group members, all connected (default 1000)"
    )
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
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server to create a scratch database on"
    )
    parser.add_argument(
        "--redis-url", default=None, help="also run Zhengtong with its event log on this Redis"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
    parser.add_argument(
        "--profile-server",
        metavar="PREFIX",
        default=None,
        help="run Zhengtong under cProfile; statistics go to PREFIX.<server>.pstats, for "
        "`python -m pstats` (the profiler slows the server down several times)",
    )
    arguments = parser.parse_args()
    raise_open_files_limit()
    print("\n".join(asyncio.run(bench(arguments))))


if __name__ == "__main__":
    main()
