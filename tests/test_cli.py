"""The `zhengtong` command: migrate, demo (idempotent), outbox, openapi, the collector `serve` sets."""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from zhengtong.cli import YOUNG_GENERATION_THRESHOLD, main, prepare_cycle_collector
from zhengtong.core.config import Settings
from zhengtong.core.context import build_context
from zhengtong.org.models import Membership


def _run(args: list[str], env: dict[str, str]) -> str:
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


async def _members(settings: Settings) -> int:
    context = build_context(settings)
    async with context.db.transaction() as session:
        count = (await session.execute(select(func.count()).select_from(Membership))).scalar_one()
    await context.close()
    return int(count)


async def test_demo_is_idempotent_and_says_how_to_log_in(tmp_path: Path, empty_database_url: str) -> None:
    env = {"ZT_DATA_DIR": str(tmp_path / "var"), "ZT_DATABASE_URL": empty_database_url}
    first = await asyncio.to_thread(_run, ["demo"], env)
    await asyncio.to_thread(_run, ["demo"], env)
    assert "13800000002" in first and "zhengtong outbox" in first
    settings = Settings(data_dir=tmp_path / "var", database_url=empty_database_url)
    assert 180 <= await _members(settings) <= 220
    assert (tmp_path / "var" / "master.key").stat().st_mode & 0o777 == 0o600


def test_outbox_prints_recorded_messages(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    lines = [
        {
            "channel": "sms",
            "to": "+8613800000002",
            "template": "login_code",
            "text": f"code {n}",
            "params": {"code": f"{n:06d}"},
            "sent_at": "2026-11-29T00:00:00+00:00",
        }
        for n in range(3)
    ]
    outbox.write_text("".join(json.dumps(line) + "\n" for line in lines))
    env = {"ZT_DATA_DIR": str(tmp_path)}
    assert "code 2" in _run(["outbox", "--last", "1"], env) and "code 1" not in _run(
        ["outbox", "--last", "1"], env
    )
    parsed = [json.loads(line) for line in _run(["outbox", "--json"], env).splitlines()]
    assert [item["params"]["code"] for item in parsed] == ["000000", "000001", "000002"]


def test_openapi_document(tmp_path: Path) -> None:
    document = json.loads(_run(["openapi"], {"ZT_DATA_DIR": str(tmp_path)}))
    assert document["info"]["title"] == "Zhengtong API"
    assert "/api/v1/me" in document["paths"]


async def test_operator_opens_an_organisation_and_grants_the_operator_role(
    tmp_path: Path, empty_database_url: str
) -> None:
    env = {"ZT_DATA_DIR": str(tmp_path / "var"), "ZT_DATABASE_URL": empty_database_url}
    created = await asyncio.to_thread(
        _run,
        ["org", "create", "--name", "某某局", "--admin-mobile", "13700000001", "--admin-name", "局长"],
        env,
    )
    assert "created" in created
    granted = await asyncio.to_thread(_run, ["operator", "grant", "--mobile", "13700000001"], env)
    assert "is now an operator" in granted
    refused = await asyncio.to_thread(
        CliRunner().invoke, main, ["operator", "grant", "--mobile", "13700000009"], env=env
    )
    assert refused.exit_code != 0 and "no account" in refused.output
    settings = Settings(data_dir=tmp_path / "var", database_url=empty_database_url)
    assert await _members(settings) == 1


def test_serve_freezes_what_startup_loaded_and_collects_the_young_generation_less_often() -> None:
    threshold = gc.get_threshold()
    try:
        prepare_cycle_collector()
        assert gc.get_freeze_count() > 1000  # the modules, at least
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
