"""Address book browsing at scale: a tree of 2,000 departments four levels deep, ten members in
each department below the root and one department of 5,000; then `directory.service` timed (one
unit of work per call, as a request has): `department_tree()` for an unrestricted member, for a
member under an `own_departments` rule and with a hidden department in the tree, and
`department_members()` of the big department (offset 0, limit 100 and limit 500).

    .venv/bin/python bench/directory_tree.py                      # temporary SQLite database
    .venv/bin/python bench/directory_tree.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

With --database-url the benchmark creates a database zt_bench_<random> next to the given one and
drops it afterwards. Rows are inserted in bulk, then the database's statistics are refreshed
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _db import scratch_database
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext, build_context
from zhengtong.core.ids import new_id
from zhengtong.directory import service
from zhengtong.directory.visibility import Viewer, viewer_for
from zhengtong.identity.models import Account
from zhengtong.org import service as org_service
from zhengtong.org.models import Department, MemberDepartment, Membership, VisibilityRule

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建国红梅飞鑫波斌宇浩凯健俊帆帅旭宁龙林"
FANOUT = (10, 10, 9)  # children per department on levels 1-3; level 4 fills up to the total
CHUNK = 5000


@dataclass
class Org:
    id: str
    departments: int
    members: int
    big_department_id: str
    open_viewer: Caller  # no rule applies (one department of the tree is hidden from them)
    ruled_viewer: Caller  # under an own_departments rule on their level-1 department


def department_rows(org_id: str, root_id: str, root_path: str, total: int) -> list[dict[str, Any]]:
    """`total - 1` departments below the root, breadth first: 10, 100, 900, and the rest on level 4,
    spread over the level-3 departments."""
    rows: list[dict[str, Any]] = []
    level = [(root_id, root_path)]
    for depth, fanout in enumerate((*FANOUT, 0)):
        wanted = len(level) * fanout if fanout else total - 1 - len(rows)
        wanted = min(wanted, total - 1 - len(rows))
        next_level = []
        for number in range(wanted):
            parent_id, parent_path = level[number % len(level)]
            department_id = new_id()
            path = f"{parent_path}{department_id}/"
            rows.append(
                {
                    "id": department_id,
                    "org_id": org_id,
                    "parent_id": parent_id,
                    "name": f"{depth + 1}级部门{number + 1}",
                    "path": path,
                    "sort_order": number // len(level),
                }
            )
            next_level.append((department_id, path))
        level = next_level
    return rows


async def populate(context: AppContext, total: int, per_department: int, big: int, rng: random.Random) -> Org:
    async with context.db.transaction() as session:
        organization = await org_service.create_organization(session, context.keyring, name="压测单位")
        root = await org_service.root_department(session, organization.id)
        org_id = organization.id
        departments = department_rows(org_id, root.id, root.path, total)
        await session.execute(sa.insert(Department), departments)
        level_one = [d for d in departments if d["parent_id"] == root.id]
        leaves = [d for d in departments if d["path"].count("/") == 6]  # /root/1/2/3/4/
        big_department = leaves[len(leaves) // 2]
        await session.execute(
            sa.insert(VisibilityRule),
            [
                {
                    "id": new_id(),
                    "org_id": org_id,
                    "department_id": level_one[0]["id"],
                    "mode": "own_departments",
                }
            ],
        )
        # A hidden department (level 2) that the viewers are not whitelisted for.
        hidden = next(d for d in departments if d["parent_id"] == level_one[1]["id"])
        await session.execute(sa.update(Department).where(Department.id == hidden["id"]).values(hidden=True))

    seats = [d["id"] for d in departments for _ in range(per_department)] + [big_department["id"]] * big
    accounts: list[str] = []
    for start in range(0, len(seats), CHUNK):
        account_rows, member_rows, seat_rows = [], [], []
        for number, department_id in enumerate(seats[start : start + CHUNK], start):
            account_id, membership_id = new_id(), new_id()
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
            account_rows.append({"id": account_id, "mobile_index": os.urandom(32), "mobile_encrypted": b""})
            member_rows.append(
                {
                    "id": membership_id,
                    "org_id": org_id,
                    "account_id": account_id,
                    "name": name,
                    "role": "member",
                    "status": "active",
                    "job_number": f"ZT{number:06d}",
                    "title": "科员",
                    "custom_fields": {},
                }
            )
            seat_rows.append(
                {
                    "id": new_id(),
                    "org_id": org_id,
                    "membership_id": membership_id,
                    "department_id": department_id,
                    "title": "科员",
                    "is_head": number % 997 == 0,
                }
            )
            accounts.append(account_id)
        async with context.db.transaction() as session:
            await session.execute(sa.insert(Account), account_rows)
            await session.execute(sa.insert(Membership), member_rows)
            await session.execute(sa.insert(MemberDepartment), seat_rows)
    async with context.db.engine.connect() as connection:
        await connection.execute(sa.text("ANALYZE"))
        await connection.commit()

    def caller(index: int) -> Caller:
        return Caller(accounts[index], "bench", org_id, "member", True, False)

    # Seats are laid out department by department, breadth first: the first member sits in the
    # first level-1 department (under the rule), the eleventh in the second one.
    return Org(org_id, total, len(seats), big_department["id"], caller(per_department), caller(0))


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


async def timed(
    context: AppContext, call: Callable[[AsyncSession], Awaitable[Any]], runs: int
) -> tuple[list[float], Any]:
    """Sorted milliseconds per call (each in its own unit of work), and the last result."""
    result: Any = None
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        async with context.db.transaction() as session:
            result = await call(session)
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings), result


async def bench(total: int, per_department: int, big: int, runs: int, base_url: str | None) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as data_dir:
        async with scratch_database(base_url, Path(data_dir)) as url:
            master_key = base64.b64encode(os.urandom(32)).decode()
            context = build_context(
                Settings(data_dir=Path(data_dir), database_url=url, master_key=master_key)
            )
            try:
                started = time.perf_counter()
                org = await populate(context, total, per_department, big, random.Random(2026))
                # What generating the data left behind is not the requests' garbage: collect it and
                # freeze what is alive now, so that the timings carry only the collections the
                # calls themselves cause (a full collection over it adds ~50 ms to one call in 20).
                gc.collect()
                gc.freeze()
                backend = "sqlite" if base_url is None else "postgresql"
                lines.append(
                    f"{backend}: {org.departments} departments, {org.members} members "
                    f"({big} in one department), generated in {time.perf_counter() - started:.0f} s; "
                    f"{runs} runs each"
                )
                async with context.db.transaction() as session:
                    viewers: dict[str, Viewer] = {
                        "no rule": await viewer_for(session, org.open_viewer),
                        "own_departments": await viewer_for(session, org.ruled_viewer),
                    }

                def tree(viewer: Viewer) -> Callable[[AsyncSession], Awaitable[Any]]:
                    return lambda session: service.department_tree(session, viewer)

                def members(viewer: Viewer, limit: int) -> Callable[[AsyncSession], Awaitable[Any]]:
                    return lambda session: service.department_members(
                        session, viewer, org.big_department_id, offset=0, limit=limit
                    )

                cases: list[tuple[str, Callable[[AsyncSession], Awaitable[Any]], Callable[[Any], str]]] = []
                for name, viewer in viewers.items():
                    cases.append(
                        (f"department_tree ({name})", tree(viewer), lambda r: f"{len(r)} departments")
                    )
                for limit in (100, 500):
                    cases.append(
                        (
                            f"department_members limit {limit}",
                            members(viewers["no rule"], limit),
                            lambda r: f"{len(r[0])} of {r[1]}",
                        )
                    )
                for label, call, describe in cases:
                    await timed(context, call, 5)  # warm the caches
                    timings, result = await timed(context, call, runs)
                    lines.append(
                        f"  {label:36} p50 {statistics.median(timings):7.2f} ms  "
                        f"p95 {percentile(timings, 0.95):7.2f} ms  max {timings[-1]:7.2f} ms  "
                        f"({describe(result)})"
                    )
            finally:
                await context.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--departments", type=int, default=2000, help="departments with the root (default 2000)"
    )
    parser.add_argument(
        "--members-per-department", type=int, default=10, help="members in each department (default 10)"
    )
    parser.add_argument(
        "--big", type=int, default=5000, help="members of the one big department (default 5000)"
    )
    parser.add_argument("--runs", type=int, default=100, help="timed calls per case (default 100)")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server to create a scratch database on"
    )
    arguments = parser.parse_args()
    lines = asyncio.run(
        bench(
            arguments.departments,
            arguments.members_per_department,
            arguments.big,
            arguments.runs,
            arguments.database_url,
        )
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
