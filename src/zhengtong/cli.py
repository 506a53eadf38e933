"""The `zhengtong` command: serve, migrate, demo, outbox, worker, audit, openapi."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING

import click

from zhengtong.core.config import Settings, load_settings

if TYPE_CHECKING:
    from zhengtong.platform.audit import VerifyReport


def _settings() -> Settings:
    return load_settings()


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Driver debug output carries SQL parameters (names, ids); it never goes to the logs.
    for noisy in ("aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


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

    settings = _settings()
    _configure_logging(settings.log_level)
    upgrade(settings)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level,
        access_log=False,  # our own access log is de-identified; uvicorn's would carry IPs
        proxy_headers=False,
        ws="websockets-sansio",
    )


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


async def _set_operator(settings: Settings, mobile: str, grant: bool) -> bool:
    from zhengtong.core.context import build_context
    from zhengtong.identity import service as identity

    context = build_context(settings)
    try:
        async with context.db.transaction() as session:
            account = await identity.get_account_by_mobile(
                session, context.keyring, identity.normalise_mobile(mobile)
            )
            if account is None:
                return False
            account.is_operator = grant
            return True
    finally:
        await context.close()


@operator.command("grant")
@click.option("--mobile", required=True)
@click.option("--revoke", is_flag=True, help="Take the operator role away instead.")
def operator_grant(mobile: str, revoke: bool) -> None:
    """Make an existing account one of the operator's staff (or stop it being one)."""
    if not asyncio.run(_set_operator(_settings(), mobile, not revoke)):
        raise click.ClickException(f"no account has the mobile number {mobile}")
    click.echo(f"{mobile} {'is no longer' if revoke else 'is now'} an operator")


@main.command()
def openapi() -> None:
    """Print the OpenAPI document (the web client's TypeScript types are generated from it)."""
    from zhengtong.app import create_app

    document = create_app(Settings()).openapi()
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
