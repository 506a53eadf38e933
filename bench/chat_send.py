"""What one chat message costs the server to accept, apart from delivering it: the whole
POST /api/v1/im/conversations/{id}/messages (authentication, handler, ~15 statements, JSON)
through the application in this process, into a group of 10 and of 1,000 members with no socket
connected, so no delivery is made (bench/fanout.py measures those). Prints wall time and CPU time
(this process: the event loop and the database connections' threads) per message.

At 20 messages a second this cost is paid 20 times a second on the core that also delivers
20,000 frames, which is why bench/fanout.py reports it.

    .venv/bin/python bench/chat_send.py                     # temporary SQLite database
    .venv/bin/python bench/chat_send.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

from _chat_seed import api_client, bench_context, open_group, open_organization, open_sessions
from _db import scratch_database

SEND_TEXT = "请大家下午三点到三楼会议室参加预算审批会议，材料已上传云盘，收到请回复。"
WARM_UP = 20


async def cost_of_sends(base_url: str | None, members: int, sends: int, seed: int) -> str:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as data_dir:
        async with scratch_database(base_url, Path(data_dir), schema="migrations") as url:
            context = bench_context(Path(data_dir), url)
            try:
                org = await open_organization(context, members, rng)
                (token,) = await open_sessions(context, org, org.people[:1])
                conversation_id = await open_group(context, org, org.people, name="预算会议")
                async with api_client(context, token) as client:

                    async def send(number: int) -> None:
                        answer = await client.post(
                            f"/api/v1/im/conversations/{conversation_id}/messages",
                            json={"text": f"#{number} {SEND_TEXT}", "client_msg_id": f"bench-{number}"},
                        )
                        answer.raise_for_status()

                    for number in range(WARM_UP):
                        await send(number)
                    wall, cpu = time.perf_counter(), time.process_time()
                    for number in range(WARM_UP, WARM_UP + sends):
                        await send(number)
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            finally:
                await context.close()
    wall_ms, cpu_ms = 1000 * wall / sends, 1000 * cpu / sends
    return f"  group of {members:5,}: {wall_ms:6.1f} ms wall, {cpu_ms:6.1f} ms CPU per message"


async def bench(arguments: argparse.Namespace) -> list[str]:
    backend = "postgresql" if arguments.database_url else "sqlite"
    lines = [f"one message accepted over HTTP in process ({backend}; {arguments.sends} sends, no sockets)"]
    for members in arguments.members:
        lines.append(await cost_of_sends(arguments.database_url, members, arguments.sends, arguments.seed))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--members", type=int, nargs="*", default=[10, 1000], help="group sizes (default 10 1000)"
    )
    parser.add_argument("--sends", type=int, default=100, help="timed sends per group (default 100)")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server to create a scratch database on"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
    arguments = parser.parse_args()
    os.environ.setdefault("ZT_CHAT_SENDS_PER_MINUTE", "1000000")  # the per-user flood limit
    print("\n".join(asyncio.run(bench(arguments))))


if __name__ == "__main__":
    main()
