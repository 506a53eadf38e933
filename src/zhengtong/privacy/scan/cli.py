"""What `zhengtong privacy scan` runs: the scan over a fresh context, and its report as text or JSON."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import click

from zhengtong.core.config import Settings
from zhengtong.core.errors import AppError
from zhengtong.privacy.scan.scanner import ScanReport, scan


async def _scan(settings: Settings, needles: list[str], log_dirs: list[Path]) -> ScanReport:
    from zhengtong.core.context import build_context

    context = build_context(settings)
    try:
        return await scan(context, needles, log_dirs=log_dirs)
    finally:
        await context.close()


def render(report: ScanReport) -> str:
    """The report for a person at a terminal: each hit, then what was looked at."""
    lines = [f"FOUND  {hit.needle}  [{hit.place}]  {hit.location}" for hit in report.hits]
    lines += [f"UNOPENED  {location}" for location in report.unopened]
    looked = ", ".join(f"{count} {place}" for place, count in report.looked_at.items())
    per_needle = Counter(hit.needle for hit in report.hits)
    summary = ", ".join(f"{needle}: {per_needle.get(needle, 0)}" for needle in report.needles)
    verdict = "nothing found" if report.clean else f"{len(report.hits)} hits"
    lines += [f"looked at: {looked}", f"hits per needle: {summary}", verdict]
    return "\n".join(lines)


def run_scan(settings: Settings, needles: list[str], log_dirs: list[Path], *, as_json: bool) -> int:
    """Runs the scan and prints its report; the exit code is 1 when anything was found."""
    try:
        report = asyncio.run(_scan(settings, needles, log_dirs))
    except AppError as error:
        raise click.ClickException(error.error.message("en")) from error
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render(report))
    return 0 if report.clean else 1
