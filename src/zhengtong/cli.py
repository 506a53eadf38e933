"""The `zhengtong` command: serve, migrate, demo, outbox, worker, audit, openapi."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from zhengtong.core.config import Settings, load_settings

if TYPE_CHECKING:
    from zhengtong.platform.audit import VerifyReport


def _settings() -> Settings:
    """The settings, refused (naming the setting) when an endpoint is outside the residency
    allow-list or the audit retention is below the legal minimum."""
    from zhengtong.privacy.scan.residency import StartRefused, check_at_start

    settings = load_settings()
    try:
        check_at_start(settings)
    except StartRefused as refused:
        raise click.ClickException(str(refused)) from refused
    return settings


def _configure_logging(level: str) -> None:
    # Stderr and the daily log files under the data directory, every line de-identified
    # (privacy.scan.logfiles); driver debug output with SQL parameters never reaches them.
    from zhengtong.privacy.scan.logfiles import configure_logging

    configure_logging(_settings(), level)


@click.group()
def main() -> None:
    """Zhengtong (政通): a self-hostable collaboration platform for public bodies."""


@main.command()
def migrate() -> None:
    """Apply database migrations."""
    from zhengtong.migrate import upgrade

    settings = _settings()
    _configure_logging(settings.log_level)
    upgrade(settings)
    click.echo("database is up to date")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Migrate, then serve the API, the WebSocket and the web client on one port."""
    import uvicorn

    from zhengtong.app import create_app
    from zhengtong.migrate import upgrade
    from zhengtong.web.websocket_protocol import UVICORN_OPTIONS

    settings = _settings()
    _configure_logging(settings.log_level)
    upgrade(settings)
    app = create_app(settings)
    prepare_cycle_collector()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=settings.log_level,
        access_log=False,  # our own access log is de-identified; uvicorn's would carry IPs
        log_config=None,  # uvicorn's own lines go through our de-identifying handlers too
        **UVICORN_OPTIONS,
    )


# Container objects allocated between two passes over the young generation (Python's default: 700).
# A chat message's thousand deliveries are in flight for tens of milliseconds; passes every 700
# allocations found them alive and promoted them, and the promotions set off a full pass every
# ~3 s, which walks every open connection's objects (about 125 a socket): 65–130 ms with 1,000
# sockets, the p99 of send→deliver at 20 msg/s (bench/fanout.py: 96–149 ms; 45–78 ms at 10,000,
# with two full passes in a run instead of a dozen). Young passes do the same work in all.
YOUNG_GENERATION_THRESHOLD = 10_000


def prepare_cycle_collector() -> None:
    """Before serving: everything loaded by now (modules, the schema, the routes) lives as long as
    the process, so the cycle collector need not walk it again (gc.freeze); and it passes over the
    young generation less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)


@main.command()
def demo() -> None:
    """Create the demo organisation (idempotent) and print how to log in."""
    from zhengtong.demo import seed_demo
    from zhengtong.migrate import upgrade

    settings = _settings()
    _configure_logging("warning")
    upgrade(settings)
    click.echo(asyncio.run(seed_demo(settings)))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--last", type=int, default=None, help="Only the last N messages.")
def outbox(as_json: bool, last: int | None) -> None:
    """Print what the development SMS, voice and e-mail providers recorded."""
    from zhengtong.platform.notify import read_outbox

    for message in read_outbox(_settings().outbox_path, last):
        if as_json:
            click.echo(json.dumps(asdict(message), ensure_ascii=False))
        else:
            click.echo(f"{message.sent_at}  {message.channel:<5} {message.to}  {message.text}")


async def _run_worker(settings: Settings, concurrency: int) -> None:
    import signal

    from zhengtong.core.context import build_context
    from zhengtong.platform.jobs import JobRunner

    context = build_context(settings)
    runner = JobRunner(context, concurrency=concurrency)
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop_requested.set)
    await runner.start()
    logging.getLogger("zhengtong.worker").info("worker %s running jobs", runner.worker_id)
    try:
        await stop_requested.wait()
    finally:
        await runner.stop()
        await context.close()


@main.command()
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(min=1))
def worker(concurrency: int) -> None:
    """Run background jobs in the foreground until SIGINT or SIGTERM (next to `serve`, which
    runs them in process unless ZT_RUN_JOBS_IN_PROCESS=false)."""
    settings = _settings()
    _configure_logging(settings.log_level)
    asyncio.run(_run_worker(settings, concurrency))


@main.group()
def audit() -> None:
    """The hash-chained audit log."""


async def _verify_audit(settings: Settings, scope: str | None) -> VerifyReport:
    from zhengtong.core.context import build_context
    from zhengtong.platform.audit import verify

    context = build_context(settings)
    try:
        async with context.db.transaction() as session:
            return await verify(session, context.keyring, scope=scope)
    finally:
        await context.close()


@audit.command("verify")
@click.option("--org", "org_id", default=None, help="Only this organisation's chain (or 'platform').")
def audit_verify(org_id: str | None) -> None:
    """Recompute the audit hash chains; exit code 1 when one is broken."""
    settings = _settings()
    _configure_logging("warning")
    report = asyncio.run(_verify_audit(settings, org_id))
    if report.ok:
        click.echo(f"audit log intact: {report.checked} entries checked")
        return
    click.echo(
        f"audit log BROKEN in scope {report.scope} at entry {report.first_broken_seq} "
        f"({report.checked} entries intact before it)"
    )
    sys.exit(1)


@main.group()
def org() -> None:
    """Organisations (the platform operator's commands)."""


async def _open_organization(settings: Settings, name: str, admin_mobile: str, admin_name: str) -> str:
    from zhengtong.core.context import build_context
    from zhengtong.org import service as org_service

    context = build_context(settings)
    try:
        async with context.db.transaction() as session:
            organization = await org_service.open_organization(
                session,
                context,
                name=name,
                admin_mobile=admin_mobile,
                admin_name=admin_name,
                actor_id=None,
                ip="cli",
            )
            return organization.id
    finally:
        await context.close()


@org.command("create")
@click.option("--name", required=True, help="The organisation's name.")
@click.option("--admin-mobile", required=True, help="Mobile number of its main admin.")
@click.option("--admin-name", required=True, help="The main admin's name.")
def org_create(name: str, admin_mobile: str, admin_name: str) -> None:
    """Open an organisation with its main admin (who logs in with that mobile number)."""
    from zhengtong.migrate import upgrade

    settings = _settings()
    upgrade(settings)
    org_id = asyncio.run(_open_organization(settings, name, admin_mobile, admin_name))
    click.echo(f"organisation {org_id} created; its main admin logs in with {admin_mobile}")


@main.group()
def operator() -> None:
    """The platform operator's staff accounts."""


async def _set_operator(settings: Settings, mobile: str, grant: bool, create: bool = False) -> bool:
    from zhengtong.core.context import build_context
    from zhengtong.identity import service as identity

    context = build_context(settings)
    try:
        async with context.db.transaction() as session:
            account = await identity.get_account_by_mobile(
                session, context.keyring, identity.normalise_mobile(mobile)
            )
            if account is None and create and grant:  # staff need not belong to any organisation
                account, _created = await identity.get_or_create_account(session, context.keyring, mobile)
            if account is None:
                return False
            account.is_operator = grant
            return True
    finally:
        await context.close()


@operator.command("grant")
@click.option("--mobile", required=True)
@click.option("--revoke", is_flag=True, help="Take the operator role away instead.")
@click.option("--create", is_flag=True, help="Open the account when the number has none.")
def operator_grant(mobile: str, revoke: bool, create: bool) -> None:
    """Make an account one of the operator's staff (or stop it being one)."""
    if not asyncio.run(_set_operator(_settings(), mobile, not revoke, create)):
        raise click.ClickException(f"no account has the mobile number {mobile}")
    click.echo(f"{mobile} {'is no longer' if revoke else 'is now'} an operator")


@main.command()
def openapi() -> None:
    """Print the OpenAPI document (the web client's TypeScript types are generated from it)."""
    from zhengtong.app import create_app

    document = create_app(Settings()).openapi()
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


@main.group()
def privacy() -> None:
    """Privacy: the scan that proves nothing of a person is left; the policy versions."""


@privacy.command("scan")
@click.option(
    "--needle", "needles", multiple=True, required=True, help="A mobile, name, e-mail or ID number."
)
@click.option(
    "--log-dir",
    "log_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A directory of log files (default: the data directory's logs).",
)
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON document.")
def privacy_scan(needles: tuple[str, ...], log_dirs: tuple[Path, ...], as_json: bool) -> None:
    """Search every table, stored file, search index, Redis and the logs for the needles; exit
    code 1 when anything is found."""
    from zhengtong.privacy.scan.cli import run_scan

    settings = _settings()
    _configure_logging("warning")
    sys.exit(run_scan(settings, list(needles), list(log_dirs), as_json=as_json))


@privacy.group("policy")
def privacy_policy() -> None:
    """Privacy policy versions: a major one blocks the API until each account acknowledges it."""


@privacy_policy.command("publish")
@click.option("--kind", type=click.Choice(["minor", "major"]), required=True)
@click.option("--zh", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--en", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--summary-zh", default="", help="What changed, in Chinese.")
@click.option("--summary-en", default="", help="What changed, in English.")
def privacy_policy_publish(kind: str, zh: Path, en: Path, summary_zh: str, summary_en: str) -> None:
    """Publish the next version from a Chinese and an English text file (UTF-8)."""
    from zhengtong.migrate import upgrade
    from zhengtong.privacy.consent.cli import publish_from_files

    settings = _settings()
    upgrade(settings)
    version = publish_from_files(
        settings, kind=kind, zh=zh, en=en, summary_zh=summary_zh, summary_en=summary_en
    )
    click.echo(f"privacy policy version {version} ({kind}) published")


@privacy_policy.command("list")
def privacy_policy_list() -> None:
    """The published versions, newest first."""
    from zhengtong.privacy.consent.cli import list_lines

    for line in list_lines(_settings()):
        click.echo(line)


if __name__ == "__main__":
    main()
