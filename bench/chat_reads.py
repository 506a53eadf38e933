"""Read receipts in a big group: a group of 2,000 members holding 2,000 messages, every fifth one
sent by the member whose view is timed, and each member's read watermark somewhere in the
conversation (uniformly), so every message has readers and non-readers. Timed, each call in its
own unit of work:

- the read list of one of the member's messages, as the client opens it: the first page of 50 of
  the 未读 tab with both counts (`im.messages.read_list()`), and a later page (the middle of the
  未读 list, by its cursor); each also as the whole GET /api/v1/im/messages/{id}/reads request in
  process;
- the latest 50 messages with "N人未读" under each of the member's own (`im.messages.history()`,
  which counts the unread from the group's 2,000 watermarks), and GET …/messages?limit=50.

Both under the organisation's default policy (read receipts on) and under "opt_out" with one
member in ten hiding their reading. Goal: read list p95 under 20 ms.

    .venv/bin/python bench/chat_reads.py                      # temporary SQLite database
    .venv/bin/python bench/chat_reads.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

With --database-url the benchmark creates a database zt_bench_<random> next to the given one and
drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from _chat_seed import (
    MessageLoader,
    bench_context,
    open_group,
    open_organization,
    open_sessions,
    percentile,
    set_policy,
    settle_garbage,
    time_calls,
    timing_row,
)
from _chat_seed import api_client as make_api_client
from _chat_seed import viewer_of as make_viewer
from _db import scratch_database

from zhengtong.core.context import AppContext
from zhengtong.core.ids import new_id
from zhengtong.directory.visibility import Viewer
from zhengtong.im import messages
from zhengtong.im.models import ChatPreference, Message

GOAL_MS = 20.0
PAGE = 50  # what the web client asks for


async def middle_cursors(
    context: AppContext, viewer: Viewer, message_ids: list[str]
) -> list[tuple[str, str]]:
    """For each message, the cursor of the page in the middle of its 未读 list, found by walking
    the pages as a scrolling client does."""
    found = []
    for message_id in message_ids:
        cursor = None
        async with context.db.transaction() as session:
            first = await messages.read_list(session, context, viewer, message_id, limit=PAGE)
            cursor = first.next_cursor
            for _ in range(first.unread_count // PAGE // 2 - 1):
                assert cursor is not None
                page = await messages.read_list(
                    session, context, viewer, message_id, limit=PAGE, cursor=cursor
                )
                cursor = page.next_cursor
        if cursor is not None:
            found.append((message_id, cursor))
    assert found, "no message has more than one page of unread members"
    return found


async def time_policy(
    context: AppContext,
    viewer: Viewer,
    token: str,
    conversation_id: str,
    mine: list[str],
    members: int,
    queries: int,
    rng: random.Random,
) -> tuple[list[str], bool]:
    """The timing rows under the policy in force, and whether a read-list row missed the goal."""
    later = await middle_cursors(context, viewer, rng.sample(mine, min(20, len(mine))))

    async def first_page() -> None:
        async with context.db.transaction() as session:
            found = await messages.read_list(session, context, viewer, rng.choice(mine), limit=PAGE)
        assert found.read_count + found.unread_count + found.hidden_count == members - 1
        assert len(found.items) == min(PAGE, found.unread_count)

    async def later_page() -> None:
        message_id, cursor = rng.choice(later)
        async with context.db.transaction() as session:
            found = await messages.read_list(session, context, viewer, message_id, limit=PAGE, cursor=cursor)
        assert found.items

    async def latest() -> None:
        async with context.db.transaction() as session:
            page = await messages.history(
                session, context, viewer, conversation_id, before_seq=None, after_seq=None, limit=50
            )
        assert any(item.unread_count for item in page.items)

    rows: list[str] = []

    async def measure(label: str, call: Callable[[], Awaitable[None]], goal: float | None = GOAL_MS) -> bool:
        """Times `call` into a row; True when its p95 missed the goal."""
        timings = await time_calls(call, queries)
        rows.append(timing_row(label, timings, goal))
        return goal is not None and percentile(timings, 0.95) >= goal

    missed = await measure("  read_list(): first page (未读, 50)", first_page)
    missed |= await measure("  read_list(): a later page (mid 未读)", later_page)
    await measure("  history(): latest 50 with unread counts", latest, None)
    async with make_api_client(context, token) as http:

        async def get(path: str, **params: str | int) -> None:
            answer = await http.get(path, params=params)
            assert answer.status_code == 200, answer.text

        async def first_page_http() -> None:
            await get(f"/api/v1/im/messages/{rng.choice(mine)}/reads", limit=PAGE)

        async def later_page_http() -> None:
            message_id, cursor = rng.choice(later)
            await get(f"/api/v1/im/messages/{message_id}/reads", limit=PAGE, cursor=cursor)

        async def latest_http() -> None:
            await get(f"/api/v1/im/conversations/{conversation_id}/messages", limit=50)

        missed |= await measure("  GET …/reads, first page (in process)", first_page_http)
        missed |= await measure("  GET …/reads?cursor=…, later (in process)", later_page_http)
        await measure("  GET …/messages?limit=50 (in process)", latest_http, None)
    return rows, missed


async def bench(members: int, message_count: int, queries: int, base_url: str | None, seed: int) -> list[str]:
    rng = random.Random(seed)
    lines = []
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as data_dir:
        async with scratch_database(base_url, Path(data_dir)) as url:
            context = bench_context(Path(data_dir), url)
            try:
                org = await open_organization(context, members, rng)
                me = org.people[0]
                read_seqs = [rng.randint(0, message_count) for _ in org.people]
                read_seqs[0] = message_count
                conversation_id = await open_group(context, org, org.people, read_seqs=read_seqs)
                token = (await open_sessions(context, org, [me]))[0]
                loader = MessageLoader(context, org, index=False)
                others = org.people[1:]
                await loader.add(
                    conversation_id,
                    message_count,
                    org.people,
                    lambda: "请各位查收通知，收到请回复。",
                    first_at=datetime.now(UTC) - timedelta(days=1),
                    spacing=timedelta(seconds=10),
                    sender_of=lambda seq: me if seq % 5 == 0 else others[seq % len(others)],
                )
                await loader.finish()
                async with context.db.transaction() as session:
                    mine = list(
                        (
                            await session.execute(
                                sa.select(Message.id).where(
                                    Message.conversation_id == conversation_id,
                                    Message.sender_membership_id == me.membership_id,
                                )
                            )
                        ).scalars()
                    )
                viewer = await make_viewer(context, org, me)
                backend = "sqlite" if base_url is None else "postgresql"
                lines.append(
                    f"{backend}: a group of {members:,} members, {message_count:,} messages "
                    f"({len(mine)} of them the viewer's); {queries} timed calls each"
                )
                settle_garbage()
                missed = False
                for policy in ("on", "opt_out"):
                    if policy == "opt_out":
                        await set_policy(context, org, {"read_receipts": "opt_out"})
                        hiding = org.people[1 : members // 10 + 1]
                        async with context.db.transaction() as session:
                            await session.execute(
                                sa.insert(ChatPreference),
                                [
                                    {
                                        "id": new_id(),
                                        "org_id": org.id,
                                        "membership_id": person.membership_id,
                                        "hide_read_status": True,
                                    }
                                    for person in hiding
                                ],
                            )
                    lines.append(f"  read receipts {policy}:")
                    rows, policy_missed = await time_policy(
                        context, viewer, token, conversation_id, mine, members, queries, rng
                    )
                    lines += rows
                    missed |= policy_missed
                lines.append(f"  goal: read list p95 < {GOAL_MS:.0f} ms: " + ("MISSED" if missed else "met"))
            finally:
                await context.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=2000, help="group members (default 2000)")
    parser.add_argument("--messages", type=int, default=2000, help="messages in the group (default 2000)")
    parser.add_argument("--queries", type=int, default=300, help="timed calls per measurement (default 300)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server to create a scratch database on"
    )
    arguments = parser.parse_args()
    lines = asyncio.run(
        bench(
            arguments.members, arguments.messages, arguments.queries, arguments.database_url, arguments.seed
        )
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
