"""Address book search at scale: an organisation of 100,000 members with generated Chinese names
in 200 sections of 20 bureaus, then `directory.service.search` timed (one unit of work per query,
as a request has) for five kinds of query — a full name, one given-name character, full pinyin,
pinyin initials, a job number — as seen by an unrestricted member and by a member under an
`own_departments` rule. Goal: p95 under 20 ms.

    .venv/bin/python bench/directory_search.py                      # temporary SQLite database
    .venv/bin/python bench/directory_search.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

With --database-url the benchmark creates a database zt_bench_<random> next to the given one and
drops it afterwards. Members are inserted in bulk (accounts, memberships, seats and the search
tokens from `directory.index.member_tokens`), then the database's statistics are refreshed
(ANALYZE), as autovacuum or `PRAGMA optimize` would.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _db import scratch_database

from zhengtong.core.caller import Caller
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext, build_context
from zhengtong.core.ids import new_id
from zhengtong.directory import service
from zhengtong.directory.index import member_tokens
from zhengtong.directory.models import MemberSearchToken
from zhengtong.directory.pinyin import full_pinyin, initials
from zhengtong.directory.visibility import Viewer, viewer_for
from zhengtong.identity.models import Account
from zhengtong.org import service as org_service
from zhengtong.org.models import Department, MemberDepartment, Membership, VisibilityRule

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫")
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建国红梅飞鑫波斌宇浩凯健俊帆帅旭宁龙林"
    "欣悦晨曦雪琳瑶婷颖佳怡子涵雨萱梓轩皓然志文德思博睿嘉卓雅静怡海涛春秋冬夏天宏亮光荣彬晓东"
)
TITLES = ("科员", "一级科员", "四级主任科员", "三级主任科员", "副科长", "科长", "副处长", "处长", "办事员")
BUREAUS = 20
SECTIONS_PER_BUREAU = 10
CHUNK = 5000


def chinese_name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.02 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))


@dataclass
class Population:
    org_id: str
    names: list[str]
    job_numbers: list[str]
    open_viewer: Caller  # no rule applies
    ruled_viewer: Caller  # under an own_departments rule on their bureau


async def populate(context: AppContext, members: int, rng: random.Random) -> Population:
    """One organisation: 20 bureaus of 10 sections, `members` members spread over the sections,
    written with multi-row inserts."""
    async with context.db.transaction() as session:
        organization = await org_service.create_organization(session, context.keyring, name="压测单位")
        root = await org_service.root_department(session, organization.id)
        org_id = organization.id
        sections: list[tuple[str, str]] = []  # (section id, bureau id)
        bureau_rows, section_rows = [], []
        for b in range(BUREAUS):
            bureau_id = new_id()
            bureau_path = f"{root.path}{bureau_id}/"
            bureau_rows.append(
                {
                    "id": bureau_id,
                    "org_id": org_id,
                    "parent_id": root.id,
                    "name": f"第{b + 1}局",
                    "path": bureau_path,
                }
            )
            for s in range(SECTIONS_PER_BUREAU):
                section_id = new_id()
                section_rows.append(
                    {
                        "id": section_id,
                        "org_id": org_id,
                        "parent_id": bureau_id,
                        "name": f"第{s + 1}科",
                        "path": f"{bureau_path}{section_id}/",
                    }
                )
                sections.append((section_id, bureau_id))
        await session.execute(sa.insert(Department), bureau_rows)
        await session.execute(sa.insert(Department), section_rows)
        ruled_bureau = sections[0][1]
        await session.execute(
            sa.insert(VisibilityRule),
            [{"id": new_id(), "org_id": org_id, "department_id": ruled_bureau, "mode": "own_departments"}],
        )

    names: list[str] = []
    job_numbers: list[str] = []
    accounts: list[str] = []
    for start in range(0, members, CHUNK):
        account_rows, member_rows, seat_rows, token_rows = [], [], [], []
        for number in range(start, min(start + CHUNK, members)):
            account_id, membership_id = new_id(), new_id()
            name = chinese_name(rng)
            job_number = f"ZT{number:06d}"
            title = rng.choice(TITLES)
            section_id, _bureau = sections[number % len(sections)]
            account_rows.append({"id": account_id, "mobile_index": os.urandom(32), "mobile_encrypted": b""})
            member_rows.append(
                {
                    "id": membership_id,
                    "org_id": org_id,
                    "account_id": account_id,
                    "name": name,
                    "role": "member",
                    "status": "active",
                    "job_number": job_number,
                    "title": title,
                    "custom_fields": {},
                }
            )
            seat_rows.append(
                {
                    "id": new_id(),
                    "org_id": org_id,
                    "membership_id": membership_id,
                    "department_id": section_id,
                    "title": title,
                }
            )
            membership = Membership(
                id=membership_id, org_id=org_id, name=name, job_number=job_number, title=title
            )
            token_rows.extend(
                {
                    "id": new_id(),
                    "org_id": org_id,
                    "membership_id": membership_id,
                    "token": token,
                    "rank": rank,
                }
                for token, rank in member_tokens(membership).items()
            )
            names.append(name)
            job_numbers.append(job_number)
            accounts.append(account_id)
        async with context.db.transaction() as session:
            await session.execute(sa.insert(Account), account_rows)
            await session.execute(sa.insert(Membership), member_rows)
            await session.execute(sa.insert(MemberDepartment), seat_rows)
            await session.execute(sa.insert(MemberSearchToken), token_rows)
    async with context.db.engine.connect() as connection:
        await connection.execute(sa.text("ANALYZE"))
        await connection.commit()

    def caller(index: int) -> Caller:
        return Caller(accounts[index], "bench", org_id, "member", True, False)

    ruled_index = 0  # member 0 sits in section 0, in the ruled bureau
    open_index = SECTIONS_PER_BUREAU  # the first member of the second bureau
    return Population(org_id, names, job_numbers, caller(open_index), caller(ruled_index))


def query_kinds(population: Population, rng: random.Random) -> dict[str, Callable[[], str]]:
    names = population.names

    def given_character() -> str:
        name = rng.choice(names)
        return name[-1]

    return {
        "full name": lambda: rng.choice(names),
        "given-name character": given_character,
        "full pinyin": lambda: full_pinyin(rng.choice(names)),
        "initials": lambda: initials(rng.choice(names)),
        "job number": lambda: rng.choice(population.job_numbers),
    }


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


async def time_queries(
    context: AppContext, viewer: Viewer, make_query: Callable[[], str], count: int
) -> tuple[list[float], float]:
    """Sorted milliseconds per search (each in its own unit of work), and the mean result count."""
    timings, found = [], []
    for _ in range(count):
        query = make_query()
        started = time.perf_counter()
        async with context.db.transaction() as session:
            result = await service.search(session, viewer, query)
        timings.append((time.perf_counter() - started) * 1000)
        found.append(len(result.members))
    return sorted(timings), statistics.mean(found)


async def bench(members: int, queries: int, base_url: str | None, seed: int) -> list[str]:
    rng = random.Random(seed)
    lines = []
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as data_dir:
        async with scratch_database(base_url, Path(data_dir)) as url:
            master_key = base64.b64encode(os.urandom(32)).decode()
            context = build_context(
                Settings(data_dir=Path(data_dir), database_url=url, master_key=master_key)
            )
            try:
                started = time.perf_counter()
                population = await populate(context, members, rng)
                # What generating the data left behind is not the requests' garbage: collect it and
                # freeze what is alive now, so that the timings carry only the collections the
                # calls themselves cause (a full collection over it adds ~50 ms to one call in 20).
                gc.collect()
                gc.freeze()
                async with context.db.transaction() as session:
                    tokens = await session.scalar(sa.select(sa.func.count()).select_from(MemberSearchToken))
                    viewers = {
                        "unrestricted": await viewer_for(session, population.open_viewer),
                        "own_departments": await viewer_for(session, population.ruled_viewer),
                    }
                backend = "sqlite" if base_url is None else "postgresql"
                lines.append(
                    f"{backend}: {members} members, {tokens} search tokens, generated in "
                    f"{time.perf_counter() - started:.0f} s; {queries} queries per kind"
                )
                goal_missed = False
                for viewer_name, viewer in viewers.items():
                    for kind, make_query in query_kinds(population, rng).items():
                        await time_queries(context, viewer, make_query, 10)  # warm the caches
                        timings, mean_found = await time_queries(context, viewer, make_query, queries)
                        p95 = percentile(timings, 0.95)
                        goal_missed |= p95 >= 20
                        lines.append(
                            f"  {viewer_name:16} {kind:21} p50 {statistics.median(timings):6.2f} ms  "
                            f"p95 {p95:6.2f} ms  max {timings[-1]:6.2f} ms  (mean {mean_found:4.1f} found)"
                        )
                lines.append("  goal p95 < 20 ms: " + ("MISSED" if goal_missed else "met"))
            finally:
                await context.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=100_000, help="members to generate (default 100000)")
    parser.add_argument(
        "--queries", type=int, default=200, help="timed queries per kind and viewer (default 200)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server to create a scratch database on"
    )
    arguments = parser.parse_args()
    lines: Any = asyncio.run(
        bench(arguments.members, arguments.queries, arguments.database_url, arguments.seed)
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
