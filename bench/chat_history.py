"""Chat history at scale: one group conversation holding 1,000,000 messages (100 members sending
at random, content sealed with the organisation's key), then the latest 50 messages as one of
its members sees them — `im.messages.history()` in its own unit of work, and the whole
GET /api/v1/im/conversations/{id}/messages?limit=50 request (authentication, viewer, handler,
JSON) through the application in process. The member sent some of those 50, so the page also
counts who has not read each of them ("N人未读"). A page further back (`before_seq`, scrolling
up) is timed too. Goal: p95 under 20 ms.

    .venv/bin/python bench/chat_history.py                     # temporary SQLite database
    .venv/bin/python bench/chat_history.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

With --database-url the benchmark creates a database zt_bench_<random> next to the given one and
drops it afterwards. Messages are written in bulk (executemany on SQLite, COPY on PostgreSQL,
foreign keys not checked row by row), then statistics are refreshed (ANALYZE; VACUUM ANALYZE on
PostgreSQL, as autovacuum would after such a load). The search index is not written here
(bench/chat_search.py does), since history never reads it. Seeding time is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from _chat_seed import (
    ChatText,
    MessageLoader,
    bench_context,
    open_group,
    open_organization,
    open_sessions,
    settle_garbage,
    time_calls,
    timing_row,
    viewer_of,
)
from _chat_seed import api_client as make_api_client
from _db import scratch_database

from zhengtong.im import messages
from zhengtong.im.models import Message

GOAL_MS = 20.0


async def bench(message_count: int, members: int, queries: int, base_url: str | None, seed: int) -> list[str]:
    rng = random.Random(seed)
    lines = []
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as data_dir:
        async with scratch_database(base_url, Path(data_dir)) as url:
            context = bench_context(Path(data_dir), url)
            try:
                started = time.perf_counter()
                org = await open_organization(context, members, rng)
                viewer_person = org.people[0]
                # Everyone has read nearly everything; the latest messages are still unread by some.
                read_seqs = [max(0, message_count - rng.randint(0, 120)) for _ in org.people]
                conversation_id = await open_group(context, org, org.people, read_seqs=read_seqs)
                token = (await open_sessions(context, org, [viewer_person]))[0]
                loader = MessageLoader(context, org, index=False)
                text = ChatText(rng)
                first_at = datetime.now(UTC) - timedelta(seconds=30 * message_count)
                await loader.add(
                    conversation_id,
                    message_count,
                    org.people,
                    text.sentence,
                    first_at=first_at,
                    spacing=timedelta(seconds=30),
                )
                await loader.finish()
                seeding = time.perf_counter() - started
                viewer = await viewer_of(context, org, viewer_person)
                async with context.db.transaction() as session:
                    stored = await session.scalar(sa.select(sa.func.count()).select_from(Message))
                    own_latest = await session.scalar(
                        sa.select(sa.func.count())
                        .select_from(Message)
                        .where(
                            Message.conversation_id == conversation_id,
                            Message.seq > message_count - 50,
                            Message.sender_membership_id == viewer_person.membership_id,
                        )
                    )
                backend = "sqlite" if base_url is None else "postgresql"
                lines.append(
                    f"{backend}: one conversation of {stored:,} messages, {members} members; seeded in "
                    f"{seeding:.0f} s ({loader.stats.messages / loader.stats.seconds:,.0f} messages/s); "
                    f"the member sent {own_latest} of the latest 50; {queries} timed calls each"
                )
                settle_garbage()

                async def latest() -> None:
                    async with context.db.transaction() as session:
                        page = await messages.history(
                            session,
                            context,
                            viewer,
                            conversation_id,
                            before_seq=None,
                            after_seq=None,
                            limit=50,
                        )
                    assert (
                        len(page.items) == 50 and page.items[-1].seq == message_count and page.items[0].text
                    )

                async def older() -> None:
                    before = rng.randint(51, message_count)
                    async with context.db.transaction() as session:
                        page = await messages.history(
                            session,
                            context,
                            viewer,
                            conversation_id,
                            before_seq=before,
                            after_seq=None,
                            limit=50,
                        )
                    assert len(page.items) == 50

                missed = False
                timings = await time_calls(latest, queries)
                missed |= timings[int(0.95 * len(timings))] >= GOAL_MS
                lines.append(timing_row("history(): latest 50", timings, GOAL_MS))
                timings = await time_calls(older, queries)
                lines.append(timing_row("history(): 50 before a random seq", timings))
                async with make_api_client(context, token) as http:
                    path = f"/api/v1/im/conversations/{conversation_id}/messages"

                    async def latest_http() -> None:
                        answer = await http.get(path, params={"limit": 50})
                        assert answer.status_code == 200, answer.text
                        assert len(answer.json()["items"]) == 50

                    timings = await time_calls(latest_http, queries)
                    missed |= timings[int(0.95 * len(timings))] >= GOAL_MS
                    lines.append(timing_row("GET …/messages?limit=50 (in process)", timings, GOAL_MS))
                lines.append(f"  goal p95 < {GOAL_MS:.0f} ms: " + ("MISSED" if missed else "met"))
            finally:
                await context.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--messages", type=int, default=1_000_000, help="messages in the conversation (default 1000000)"
    )
    parser.add_argument("--members", type=int, default=100, help="members of the conversation (default 100)")
    parser.add_argument("--queries", type=int, default=300, help="timed calls per measurement (default 300)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server to create a scratch database on"
    )
    arguments = parser.parse_args()
    lines = asyncio.run(
        bench(
            arguments.messages, arguments.members, arguments.queries, arguments.database_url, arguments.seed
        )
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
