"""Directory import at scale: a generated 100,000-row XLSX (openpyxl write-only) and CSV, each
imported through the import job into a fresh organisation, then imported again (every row
unchanged). Each import runs in a process of its own, so that its peak memory is its own.

    .venv/bin/python bench/directory_import.py                      # temporary SQLite database
    .venv/bin/python bench/directory_import.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

With --database-url the benchmark creates a database zt_bench_<random> next to the given one and
drops it afterwards. --tracemalloc also reports the peak of Python allocations (slower). CPU
seconds (all threads of the importing process) tell how much of the wall time was the import's
own work when other processes share the two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import create_async_engine

from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext, build_context
from zhengtong.identity import service as identity
from zhengtong.models import metadata
from zhengtong.org import importing
from zhengtong.org import jobs as _org_jobs  # noqa: F401  (registers the import job)
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import MemberRole
from zhengtong.platform import jobs
from zhengtong.platform.jobs import JobRunner

HEADERS = [column.header for column in importing.FIXED_COLUMNS]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅文斌浩宇晨欣怡子涵"
OFFICES = ["办公室", "政策法规处", "人事处", "财务处", "信息化处", "行政审批处", "督查室", "后勤服务中心"]
SECTIONS = ["综合科", "一科", "二科", "三科", "四科"]
TITLES = ["科员", "副科长", "科长", "副处长", "处长", "主任科员"]


# Data -----------------------------------------------------------------------------------------
def generated_rows(count: int, seed: int = 7) -> Iterator[list[str]]:
    """Rows in the template's columns: distinct mobiles and job numbers, 40 departments."""
    generator = random.Random(seed)
    for number in range(count):
        office = OFFICES[number % len(OFFICES)]
        section = SECTIONS[number % len(SECTIONS)]
        yield [
            generator.choice(SURNAMES) + "".join(generator.choices(GIVEN, k=generator.choice((1, 2)))),
            str(13_000_000_000 + number * 7),
            f"ZT{number:07d}",
            f"{office}/{section}",
            generator.choice(TITLES),
            "是" if number % 50 == 0 else "否",
            f"010-6{number % 10_000_000:07d}",
            f"user{number}@example.gov.cn",
            f"{1 + number % 12}号楼",
            f"{2000 + number % 24}-{1 + number % 12:02d}-{1 + number % 28:02d}",
            "否",
        ]


def write_xlsx(path: Path, count: int) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("通讯录")
    sheet.append(HEADERS)
    for row in generated_rows(count):
        sheet.append(row)
    workbook.save(path)


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(generated_rows(count))


# Database -------------------------------------------------------------------------------------
async def _execute_autocommit(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(sa.text(statement))
    await engine.dispose()


@asynccontextmanager
async def scratch_database(base_url: str | None, data_dir: Path) -> AsyncIterator[str]:
    """A fresh database with the schema: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if base_url is None:
        url = f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
    else:
        url = base_url.rsplit("/", 1)[0] + f"/zt_bench_{uuid.uuid4().hex[:10]}"
        await _execute_autocommit(base_url, f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    try:
        yield url
    finally:
        if base_url is not None:
            name = url.rsplit("/", 1)[1]
            await _execute_autocommit(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# One measured import (in a child process) -----------------------------------------------------
async def _organization_with_admin(context: AppContext) -> AdminScope:
    async with context.db.transaction() as session:
        organization = await org_service.create_organization(session, context.keyring, name="压测单位")
        account, _ = await identity.get_or_create_account(session, context.keyring, "13800000001")
        admin = await org_service.add_membership(
            session, org_id=organization.id, account_id=account.id, name="管理员", role=MemberRole.MAIN_ADMIN
        )
        return AdminScope(organization.id, admin.id, True, (), frozenset())


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process: SQLite's too
    return usage.ru_utime + usage.ru_stime


async def _import_once(
    context: AppContext, scope: AdminScope, data: bytes
) -> tuple[float, float, dict[str, Any]]:
    """Wall and CPU seconds from the upload being stored to the job's end, and the job's result."""
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    async with context.db.transaction() as session:
        admin_account = await session.scalar(
            sa.text("SELECT account_id FROM memberships WHERE id = :id"), {"id": scope.membership_id}
        )
        job = await importing.start_import(
            session,
            context,
            scope,
            data=data,
            options=importing.ImportOptions(),
            actor_id=str(admin_account),
            ip="127.0.0.1",
            language="zh",
        )
    await JobRunner(context).run_until_idle()
    seconds, cpu_seconds = time.perf_counter() - started, _cpu_seconds() - cpu_started
    async with context.db.transaction() as session:
        finished = await jobs.get_job(session, job.id)
    assert finished is not None and finished.result is not None, finished and finished.error
    return seconds, cpu_seconds, finished.result


async def measure(name: str, data: bytes, base_url: str | None, trace: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as data_dir:
        async with scratch_database(base_url, Path(data_dir)) as url:
            master_key = base64.b64encode(os.urandom(32)).decode()
            context = build_context(
                Settings(data_dir=Path(data_dir), database_url=url, master_key=master_key)
            )
            try:
                scope = await _organization_with_admin(context)
                if trace:
                    tracemalloc.start()
                first_seconds, first_cpu, first = await _import_once(context, scope, data)
                traced_peak = tracemalloc.get_traced_memory()[1] if trace else None
                again_seconds, again_cpu, again = await _import_once(context, scope, data)
            finally:
                await context.close()
    return {
        "file": name,
        "bytes": len(data),
        "first_seconds": first_seconds,
        "first_cpu": first_cpu,
        "first": first,
        "again_seconds": again_seconds,
        "again_cpu": again_cpu,
        "again": again,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "traced_peak_mib": traced_peak / 2**20 if traced_peak is not None else None,
    }


# Driver ---------------------------------------------------------------------------------------
def _summary(measured: dict[str, Any], backend: str) -> str:
    first, again = measured["first"], measured["again"]
    line = (
        f"{backend} {measured['file']} ({measured['bytes'] / 2**20:.1f} MiB): "
        f"import {measured['first_seconds']:.1f} s, CPU {measured['first_cpu']:.1f} s "
        f"(created {first['created']}, departments {first['departments_created']}, "
        f"failed {first['failed']}); "
        f"re-import {measured['again_seconds']:.1f} s, CPU {measured['again_cpu']:.1f} s "
        f"(unchanged {again['unchanged']}); "
        f"peak RSS {measured['max_rss_mib']:.0f} MiB"
    )
    if measured["traced_peak_mib"] is not None:
        line += f", traced peak {measured['traced_peak_mib']:.0f} MiB"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000, help="rows per file (default 100000)")
    parser.add_argument("--format", choices=["xlsx", "csv", "both"], default="both")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server to create a scratch database on"
    )
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process's job
    arguments = parser.parse_args()
    if arguments.measure is not None:
        path: Path = arguments.measure
        measured = measure(path.name, path.read_bytes(), arguments.database_url, arguments.tracemalloc)
        print(json.dumps(asyncio.run(measured)))
        return
    backend = "postgresql" if arguments.database_url else "sqlite"
    formats = ["xlsx", "csv"] if arguments.format == "both" else [arguments.format]
    with tempfile.TemporaryDirectory(prefix="zt-bench-files-") as directory:
        for file_format in formats:
            path = Path(directory) / f"directory_{arguments.rows}.{file_format}"
            started = time.perf_counter()
            (write_xlsx if file_format == "xlsx" else write_csv)(path, arguments.rows)
            print(f"generated {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
            command = [sys.executable, __file__, "--measure", str(path)]
            if arguments.database_url:
                command += ["--database-url", arguments.database_url]
            if arguments.tracemalloc:
                command.append("--tracemalloc")
            child = subprocess.run(command, check=True, capture_output=True, text=True)
            print(_summary(json.loads(child.stdout.strip().splitlines()[-1]), backend), flush=True)


if __name__ == "__main__":
    main()
