"""Logs without personal data: a canary workload at DEBUG leaves no mobile number, name, e-mail,
ID number or message text in any log record or file, IP addresses are truncated, and the
safety-net filter masks what a careless exception would carry."""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from canary_world import CanaryWorld

from helpers import csrf_headers
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext
from zhengtong.platform import jobs
from zhengtong.platform.jobs import JobRunner
from zhengtong.privacy.scan.logfiles import LoggingSetup, configure_logging, scrub
from zhengtong.privacy.scan.scanner import compact, prepare_needle

SOURCE = Path(__file__).resolve().parents[3] / "src" / "zhengtong"
CANARY_IPS = ("198.51.100.23", "2001:db8:5:6::23", "192.0.2.55")


class _RawRecords(logging.Handler):
    """Every record as the code logged it, before any handler's scrubbing."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + self._formatter.formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(log_level="debug")


@pytest.fixture
def logging_setup(settings: Settings) -> Iterator[tuple[LoggingSetup, _RawRecords]]:
    setup = configure_logging(settings, force=True)
    raw = _RawRecords()
    logging.getLogger().handlers.insert(0, raw)  # first: it sees each record before the filters
    yield setup, raw
    logging.getLogger().removeHandler(raw)
    setup.undo()


def _log_text(log_dir: Path) -> str:
    return "\n".join(path.read_text("utf-8") for path in sorted(log_dir.glob("*.log")))


def _lines_holding(needles: list[str], lines: list[str], context: AppContext) -> list[tuple[str, str]]:
    prepared = [prepare_needle(context.keyring, needle) for needle in needles]
    return [(n.text, line) for line in lines for n in prepared if n.found_in(compact(line))]


async def _errors_with_canary_values(client: httpx.AsyncClient, world: CanaryWorld) -> None:
    """Refused, invalid and failing requests that carry canary values in their bodies and queries."""
    mitsuri = world.canary("甘露寺蜜璃")
    answers = [
        await client.post("/api/v1/auth/sms/login", json={"mobile": mitsuri.mobile, "code": "000000"}),
        await client.post("/api/v1/auth/sms/login", json={"mobile": mitsuri.name, "code": mitsuri.email}),
        await client.post("/api/v1/auth/sms/send", content=f'{{"mobile": "{mitsuri.id_number}'),
        await client.get("/api/v1/directory/search", params={"q": mitsuri.name}),
        await client.get(f"/api/v1/directory/members/{mitsuri.mobile}"),
        await client.get(f"/api/v1/no/such/{mitsuri.email}"),
    ]
    assert all(answer.status_code < 500 for answer in answers), [answer.text for answer in answers]
    assert answers[0].status_code == 400 and answers[-1].status_code == 404


async def test_a_canary_workload_at_debug_leaves_no_personal_data_in_any_log(
    context: AppContext,
    make_client: Any,
    canary_world: CanaryWorld,
    logging_setup: tuple[LoggingSetup, _RawRecords],
) -> None:
    _, raw = logging_setup
    # Logging was set up after the world was built: build more of it now, as the canaries.
    shinobu = canary_world.canary("胡蝶忍")
    for org in canary_world.orgs:
        for canary in org.canaries:
            http = canary.clients[org.id]
            found = await http.get("/api/v1/directory/search", params={"q": canary.name})
            assert found.status_code == 200
            listed = await http.get("/api/v1/im/conversations")
            for conversation in listed.json()["items"][:2]:
                sent = await http.post(
                    f"/api/v1/im/conversations/{conversation['id']}/messages",
                    json={"text": f"{canary.name} {canary.mobile} {canary.email} {canary.id_number}"},
                    headers=csrf_headers(http),
                )
                assert sent.status_code == 200, sent.text
                await http.get("/api/v1/im/search", params={"q": canary.name})
    await _errors_with_canary_values(make_client("198.51.100.23"), canary_world)
    await _errors_with_canary_values(shinobu.clients[canary_world.orgs[0].id], canary_world)
    await JobRunner(context).run_until_idle()

    files = _log_text(context.settings.log_dir)
    assert "GET /api/v1/directory/search 200" in files  # the access log was written
    assert _lines_holding(canary_world.all_needles, raw.lines, context) == []
    assert _lines_holding(canary_world.all_needles, files.splitlines(), context) == []
    assert [ip for ip in CANARY_IPS if ip in files] == []


async def test_the_filter_masks_what_an_exception_or_a_library_would_carry(
    context: AppContext, logging_setup: tuple[LoggingSetup, _RawRecords]
) -> None:
    noisy = logging.getLogger("zhengtong.test.noisy")
    noisy.info("client 198.51.100.23:50001 and [2001:db8:5:6::23] connected at 12:30:45 via 1.2.3")
    try:
        raise ValueError(
            "cannot reach +86 137-6688-0001 or Mitsuri.1@canary.example.cn, ID 11010519930601103X"
        )
    except ValueError:
        noisy.exception("delivery failed")

    files = _log_text(context.settings.log_dir)
    for leaked in ("198.51.100.23", "2001:db8:5:6::23", "6688", "Mitsuri.1", "19930601"):
        assert leaked not in files, leaked
    assert "198.51.100.0/24:50001" in files and "2001:db8:5::/48" in files and "12:30:45" in files
    assert "137****0001" in files and "***@canary.example.cn" in files and "110105********103X" in files


async def test_a_failing_job_logs_its_traceback_scrubbed(
    context: AppContext, logging_setup: tuple[LoggingSetup, _RawRecords]
) -> None:
    async with context.db.transaction() as session:
        await jobs.enqueue(session, kind="privacy.test.fails", payload={}, max_attempts=1)
    await JobRunner(context).run_until_idle()

    files = _log_text(context.settings.log_dir)
    assert "job " in files and "Traceback" in files
    assert "13766880009" not in files and "137****0009" in files


@jobs.register("privacy.test.fails")
async def _fails(job: jobs.JobContext, payload: dict[str, Any]) -> None:
    raise RuntimeError("the carrier refused 13766880009")


def test_scrub_leaves_ids_times_counts_and_this_machine_alone() -> None:
    line = "job 01M8KN93TS4G1DTE8ZE3SD4Q6F took 1732876543 ms at 2025-01-01T12:30:45 for 12345 rows"
    assert scrub(line) == line
    listening = "Uvicorn running on http://127.0.0.1:8000 and [::1]:8000 and 0.0.0.0:80"
    assert scrub(listening) == listening


_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
_PERSONAL_WORDS = re.compile(r"mobile|phone|name|email|e_mail|text|content|body|id_number|address|params")


def _personal_arguments(call: ast.Call) -> list[str]:
    """Names of the values a log call passes that sound like personal data or message text."""
    found = []
    for argument in [*call.args[1:], *(keyword.value for keyword in call.keywords)]:
        for node in ast.walk(argument):
            identifier = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
            dunder = isinstance(identifier, str) and identifier.startswith("__")
            if isinstance(identifier, str) and not dunder and _PERSONAL_WORDS.search(identifier.lower()):
                found.append(identifier)
    return found


def test_no_log_call_in_the_source_passes_personal_values() -> None:
    """A static guard next to the workload test: log calls pass ids, codes and counts, never a
    value named like a mobile, a name, an e-mail, message text or a request body."""
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _LOG_METHODS
                and "log" in ast.unparse(node.func.value).lower()
            ):
                offenders += [
                    f"{path.relative_to(SOURCE)}:{node.lineno} {name}" for name in _personal_arguments(node)
                ]
    assert offenders == []
