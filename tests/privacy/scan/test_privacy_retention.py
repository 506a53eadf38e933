"""Retention: log files per type and the audit log (at least 180 days, its chains verifiable
after pruning), driven by the daily retention job and the test clock."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from zhengtong.app import create_app
from zhengtong.core.clock import clock, utcnow
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext
from zhengtong.platform import audit
from zhengtong.platform.audit import AuditCheckpoint, AuditEntry
from zhengtong.platform.jobs import Job, JobRunner
from zhengtong.privacy.scan import jobs as _retention_jobs  # noqa: F401  (registers the job)
from zhengtong.privacy.scan.logfiles import DailyFileHandler, log_file_name
from zhengtong.privacy.scan.residency import StartRefused, check_at_start

DAY = 24 * 3600


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The test runs the jobs (run_until_idle) as the clock moves, not the app's runner.
    return settings.with_overrides(run_jobs_in_process=False)


async def _record(context: AppContext, count: int, org_id: str | None = None) -> None:
    async with context.db.transaction() as session:
        for number in range(count):
            await audit.record(
                session, context.keyring, action="test.done", org_id=org_id, detail={"n": number}
            )


async def _seqs(context: AppContext, scope: str) -> list[int]:
    async with context.db.transaction() as session:
        return list(
            await session.scalars(
                select(AuditEntry.seq).where(AuditEntry.scope == scope).order_by(AuditEntry.seq)
            )
        )


async def _verify(context: AppContext) -> audit.VerifyReport:
    async with context.db.transaction() as session:
        return await audit.verify(session, context.keyring)


async def _run_retention(context: AppContext) -> dict[str, int]:
    await JobRunner(context).run_until_idle()
    async with context.db.transaction() as session:
        job = (
            await session.scalars(
                select(Job)
                .where(Job.kind == "privacy.scan.retention")
                .order_by(Job.finished_at.desc())
                .limit(1)
            )
        ).one()
        assert job.status == "succeeded", job.error
        return dict(job.result or {})


def _write_log_line(context: AppContext, kind: str, text: str) -> None:
    handler = DailyFileHandler(context.settings.log_dir, kind, keep_days=10_000)
    handler.emit(logging.LogRecord("zhengtong.test", logging.INFO, __file__, 1, text, None, None))
    handler.close()


async def test_log_files_are_deleted_after_their_type_s_retention(context: AppContext) -> None:
    log_dir = context.settings.log_dir
    first_day = utcnow().date()
    _write_log_line(context, "access", "GET /api/v1/healthz 200")
    _write_log_line(context, "app", "started")
    (log_dir / "notes.txt").write_text("not a log file of ours")
    assert (await _run_retention(context))["log_files_deleted"] == 0

    clock.advance(31 * DAY)  # the access log (30 days) is past retention, the app log (90) is not
    _write_log_line(context, "access", "GET /api/v1/healthz 200")
    assert (await _run_retention(context))["log_files_deleted"] == 1
    names = sorted(path.name for path in log_dir.iterdir())
    today = utcnow().date()
    assert names == [log_file_name("access", today), log_file_name("app", first_day), "notes.txt"]

    clock.advance(60 * DAY)
    await _run_retention(context)
    assert sorted(path.name for path in log_dir.iterdir()) == ["notes.txt"]


async def test_a_handler_moving_to_a_new_day_deletes_its_own_expired_files(context: AppContext) -> None:
    log_dir = context.settings.log_dir
    old = log_file_name("access", utcnow().date() - timedelta(days=40))
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / old).write_text("old\n")
    (log_dir / log_file_name("app", utcnow().date() - timedelta(days=40))).write_text("old\n")
    handler = DailyFileHandler(log_dir, "access", keep_days=30)

    handler.emit(logging.LogRecord("zhengtong.access", logging.INFO, __file__, 1, "GET / 200", None, None))
    handler.close()

    names = sorted(path.name for path in log_dir.iterdir())
    assert old not in names and log_file_name("access", utcnow().date()) in names
    assert log_file_name("app", utcnow().date() - timedelta(days=40)) in names  # not its kind


async def test_audit_entries_past_retention_are_pruned_and_the_chains_still_verify(
    context: AppContext,
) -> None:
    await _record(context, 3, org_id="org-a")
    await _record(context, 2)
    clock.advance(100 * DAY)
    await _record(context, 2, org_id="org-a")
    clock.advance(90 * DAY)  # the first entries are 190 days old, the later ones 90

    result = await _run_retention(context)

    assert result["audit_entries_pruned"] == 3 + 1  # the platform chain keeps its head
    assert await _seqs(context, "org-a") == [4, 5]
    assert (await _seqs(context, audit.PLATFORM_SCOPE))[:1] == [2]
    report = await _verify(context)
    assert report.ok, report
    await _record(context, 1, org_id="org-a")  # the chain goes on from where it was
    assert (await _verify(context)).ok
    async with context.db.transaction() as session:
        pruned = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.pruned"))).one()
    assert pruned.detail == {"entries": 4, "scopes": 2, "retention_days": 186}


async def test_a_forged_or_removed_checkpoint_breaks_the_chain(context: AppContext) -> None:
    await _record(context, 3, org_id="org-a")
    clock.advance(200 * DAY)
    await _record(context, 1, org_id="org-a")
    await _run_retention(context)
    assert await _seqs(context, "org-a") == [4]

    async with context.db.transaction() as session:
        await session.execute(update(AuditCheckpoint).where(AuditCheckpoint.scope == "org-a").values(seq=2))
    broken = await _verify(context)
    assert (broken.ok, broken.scope, broken.first_broken_seq) == (False, "org-a", 3)

    async with context.db.transaction() as session:
        await session.execute(delete(AuditCheckpoint))
    broken = await _verify(context)
    assert (broken.ok, broken.scope, broken.first_broken_seq) == (False, "org-a", 1)


async def test_a_chain_that_does_not_verify_is_not_pruned(context: AppContext) -> None:
    await _record(context, 3, org_id="org-a")
    async with context.db.transaction() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(detail={"n": 99}))
    clock.advance(200 * DAY)
    await _record(context, 1, org_id="org-a")

    await _run_retention(context)

    assert await _seqs(context, "org-a") == [1, 2, 3, 4]
    async with context.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0


async def test_the_retention_honours_a_longer_setting(context: AppContext, settings: Settings) -> None:
    context.settings = settings.with_overrides(audit_log_days=365)
    await _record(context, 2, org_id="org-a")
    clock.advance(200 * DAY)
    await _record(context, 1, org_id="org-a")
    await _run_retention(context)
    assert await _seqs(context, "org-a") == [1, 2, 3]


def test_an_audit_retention_below_180_days_refuses_to_start(settings: Settings) -> None:
    with pytest.raises(StartRefused, match="audit_log_days"):
        check_at_start(settings.with_overrides(audit_log_days=179))
    check_at_start(settings.with_overrides(audit_log_days=180))
    with pytest.raises(StartRefused, match="access_log_days"):
        check_at_start(settings.with_overrides(access_log_days=0))


async def test_the_app_does_not_start_with_a_short_audit_retention(context: AppContext) -> None:
    context.settings = context.settings.with_overrides(audit_log_days=30)
    application = create_app(context=context)
    with pytest.raises(StartRefused, match="ZT_AUDIT_LOG_DAYS"):
        async with application.router.lifespan_context(application):
            pass
