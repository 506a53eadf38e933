"""Service shutdown (停止运营): announced at least 30 days ahead through at least two channels; from
the date on nothing new is collected (gate.py refuses it); then a final job deletes every
organisation's data (the erasure purge, which also destroys each organisation's key) and every
remaining account.

The audit log stays: the law keeps it for its retention period, and it holds ids only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.db import AfterCommit, after_commit
from zhengtong.core.errors import AppError
from zhengtong.identity.models import Account
from zhengtong.notifications import notices
from zhengtong.notifications.models import Channel, Notice
from zhengtong.org.models import Organization
from zhengtong.platform import audit, jobs
from zhengtong.privacy.erasure.service import erase_account, purge_organization
from zhengtong.privacy.operator import errors
from zhengtong.privacy.operator.models import ServiceShutdown, ShutdownStatus

MINIMUM_NOTICE = timedelta(days=30)
ANNOUNCE_JOB = "privacy.shutdown.announce"
PURGE_JOB = "privacy.shutdown.purge"
NOTICE_KIND = "service_shutdown"
_PAGE = 500
_SHOWN_IN = ZoneInfo("Asia/Shanghai")  # dates in notices are read in China's time
ACTIVE_STATUSES = (ShutdownStatus.SCHEDULED, ShutdownStatus.PURGING, ShutdownStatus.COMPLETED)
_CACHE_KEY = "privacy.operator.collection_stops_at"
_CACHE_SECONDS = 5.0


def reference_of(shutdown_id: str) -> str:
    return f"shutdown:{shutdown_id}"


def earliest_date() -> datetime:
    """The earliest moment a shutdown scheduled now may take effect."""
    return utcnow() + MINIMUM_NOTICE


def has_stopped(shutdown: ServiceShutdown) -> bool:
    """Collection has stopped under this shutdown."""
    return shutdown.status != ShutdownStatus.CANCELLED and utcnow() >= shutdown.collection_stops_at


async def current_shutdown(session: AsyncSession) -> ServiceShutdown | None:
    """The shutdown that is scheduled, running or done; None when there is none."""
    rows = await session.scalars(
        select(ServiceShutdown)
        .where(ServiceShutdown.status.in_(ACTIVE_STATUSES))
        .order_by(ServiceShutdown.created_at.desc())
        .limit(1)
    )
    return rows.first()


async def list_shutdowns(session: AsyncSession) -> list[ServiceShutdown]:
    rows = await session.scalars(select(ServiceShutdown).order_by(ServiceShutdown.created_at.desc()))
    return list(rows)


def _check_channels(channels: Sequence[str]) -> list[str]:
    """In-app always, and at least one of SMS and e-mail: two channels at the least."""
    chosen = list(dict.fromkeys(channels))
    if not {Channel.SMS, Channel.EMAIL} & set(chosen):
        raise AppError(errors.SHUTDOWN_NEEDS_TWO_CHANNELS)
    return [Channel.IN_APP, *(c for c in chosen if c != Channel.IN_APP)]


def _forget_cached_stop(context: AppContext) -> None:
    context.extras.pop(_CACHE_KEY, None)


async def schedule_shutdown(
    session: AsyncSession,
    context: AppContext,
    *,
    collection_stops_at: datetime,
    message: dict[str, str],
    channels: Sequence[str],
    actor_id: str,
    ip: str,
) -> ServiceShutdown:
    """Schedules the shutdown for `collection_stops_at` (at least 30 days from now), announces it
    to every account and queues the final purge for that moment."""
    if await current_shutdown(session) is not None:
        raise AppError(errors.SHUTDOWN_ALREADY_SCHEDULED)
    if collection_stops_at < earliest_date():
        raise AppError(errors.SHUTDOWN_TOO_SOON, {"earliest": earliest_date().isoformat(timespec="minutes")})
    shutdown = ServiceShutdown(
        collection_stops_at=collection_stops_at,
        message={language: text for language, text in message.items() if text.strip()},
        channels=_check_channels(channels),
        scheduled_by=actor_id,
    )
    session.add(shutdown)
    await session.flush()
    announce = await jobs.enqueue(
        session,
        kind=ANNOUNCE_JOB,
        payload={"shutdown_id": shutdown.id},
        owner_account_id=actor_id,
        max_attempts=10,
    )
    purge = await jobs.enqueue(
        session,
        kind=PURGE_JOB,
        payload={"shutdown_id": shutdown.id},
        run_at=collection_stops_at,
        max_attempts=10,
    )
    shutdown.announce_job_id, shutdown.purge_job_id = announce.id, purge.id
    await audit.record(
        session,
        context.keyring,
        action="privacy.shutdown.scheduled",
        actor_id=actor_id,
        object_type="service_shutdown",
        object_id=shutdown.id,
        ip=ip,
        detail={"collection_stops_at": collection_stops_at.isoformat(), "channels": shutdown.channels},
    )
    after_commit(session, _forgetter(context))
    return shutdown


def _forgetter(context: AppContext) -> AfterCommit:
    """After commit: this process re-reads the shutdown at its next gate check."""

    async def forget() -> None:
        _forget_cached_stop(context)

    return forget


async def cancel_shutdown(
    session: AsyncSession, context: AppContext, *, actor_id: str, ip: str
) -> ServiceShutdown:
    """Calls the shutdown off while collection still runs, and tells everyone through the same
    channels."""
    shutdown = await current_shutdown(session)
    if (
        shutdown is None
        or shutdown.status != ShutdownStatus.SCHEDULED
        or utcnow() >= shutdown.collection_stops_at
    ):
        raise AppError(errors.SHUTDOWN_NOT_CANCELLABLE)
    shutdown.status = ShutdownStatus.CANCELLED
    shutdown.cancelled_at = utcnow()
    for job_id in (shutdown.purge_job_id, shutdown.announce_job_id):
        job = await jobs.get_job(session, job_id) if job_id else None
        if job is not None and job.status not in jobs.FINISHED_STATUSES:
            await jobs.cancel(session, job=job)
    announce = await jobs.enqueue(
        session,
        kind=ANNOUNCE_JOB,
        payload={"shutdown_id": shutdown.id, "cancelled": True},
        owner_account_id=actor_id,
        max_attempts=10,
    )
    shutdown.announce_job_id = announce.id
    await audit.record(
        session,
        context.keyring,
        action="privacy.shutdown.cancelled",
        actor_id=actor_id,
        object_type="service_shutdown",
        object_id=shutdown.id,
        ip=ip,
    )
    after_commit(session, _forgetter(context))
    return shutdown


# Notices -------------------------------------------------------------------------------------
def _date_shown(moment: datetime) -> str:
    return moment.astimezone(_SHOWN_IN).strftime("%Y-%m-%d %H:%M")


def notice_texts(shutdown: ServiceShutdown, *, cancelled: bool) -> tuple[dict[str, str], dict[str, str]]:
    when = _date_shown(shutdown.collection_stops_at)
    if cancelled:
        subject = {"zh-CN": "政通取消停止运营", "en": "Zhengtong will keep operating"}
        body = {
            "zh-CN": f"原定于 {when}（北京时间）停止运营的安排已取消，服务照常运行。",
            "en": f"The shutdown announced for {when} (Beijing time) is cancelled; the service continues.",
        }
        return subject, body
    subject = {"zh-CN": f"政通将于 {when} 停止运营", "en": f"Zhengtong stops operating on {when}"}
    body = {
        "zh-CN": (
            f"政通将于 {when}（北京时间）停止运营。自该时刻起，我们停止收集任何新的个人信息："
            "不再开通账号、添加成员、发送消息或上传文件。随后，我们将删除或匿名化处理所持有的全部个人信息，"
            "并销毁各组织的数据密钥。请在此之前通过“隐私中心-我的数据”导出您需要保留的数据。"
        ),
        "en": (
            f"Zhengtong stops operating on {when} (Beijing time). From then on we collect no new personal "
            "data: no new accounts, members, messages or uploads. Afterwards we delete or anonymise all "
            "personal data we hold and destroy every organisation's data key. Before then, export what you "
            'want to keep under "Privacy centre - My data".'
        ),
    }
    for language, text in shutdown.message.items():
        body[language] = f"{body[language]}\n{text}"
    return subject, body


@jobs.register(ANNOUNCE_JOB)
async def announce_to_everyone(job: jobs.JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Sends the shutdown notice (or its cancellation) to every account, a page at a time; a rerun
    skips the people who already have it."""
    cancelled = bool(payload.get("cancelled"))
    async with job.transaction() as session:
        shutdown = await session.get(ServiceShutdown, str(payload["shutdown_id"]))
        if shutdown is None or (shutdown.status == ShutdownStatus.CANCELLED) != cancelled:
            return {"skipped": True}
        subject, body = notice_texts(shutdown, cancelled=cancelled)
        channels, shutdown_id = list(shutdown.channels), shutdown.id
        total = int(await session.scalar(select(func.count()).select_from(Account)) or 0)
    reference = reference_of(shutdown_id) + (":cancelled" if cancelled else "")
    done, cursor = 0, ""
    while True:
        async with job.transaction() as session:
            page = list(
                await session.scalars(
                    select(Account.id).where(Account.id > cursor).order_by(Account.id).limit(_PAGE)
                )
            )
            if not page:
                break
            told = set(
                await session.scalars(
                    select(Notice.account_id).where(
                        Notice.reference == reference, Notice.account_id.in_(page)
                    )
                )
            )
            await notices.notify_people(
                session,
                job.context,
                [account_id for account_id in page if account_id not in told],
                kind=NOTICE_KIND,
                subject=subject,
                body=body,
                channels=channels,
                reference=reference,
            )
        cursor, done = page[-1], done + len(page)
        await job.report_progress(done, max(total, done))
    return {"people": done}


# The final purge -----------------------------------------------------------------------------
@jobs.register(PURGE_JOB)
async def purge_everything(job: jobs.JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """At the date: purges every organisation (its rows, files, index and key) through the
    erasure machinery, then deletes every account that is left."""
    async with job.transaction() as session:
        shutdown = await session.get(ServiceShutdown, str(payload["shutdown_id"]))
        if shutdown is None or shutdown.status in (ShutdownStatus.CANCELLED, ShutdownStatus.COMPLETED):
            return {"skipped": True}
        if utcnow() < shutdown.collection_stops_at:  # claimed early (clocks differ): come back then
            await jobs.enqueue(
                session,
                kind=PURGE_JOB,
                payload=dict(payload),
                run_at=shutdown.collection_stops_at,
                max_attempts=10,
            )
            return {"postponed": True}
        if shutdown.status == ShutdownStatus.SCHEDULED:
            shutdown.status = ShutdownStatus.PURGING
            shutdown.purge_started_at = utcnow()
            await audit.record(
                session,
                job.context.keyring,
                action="privacy.shutdown.purge_started",
                object_type="service_shutdown",
                object_id=shutdown.id,
            )
        org_ids = list(await session.scalars(select(Organization.id).order_by(Organization.id)))
    for done, org_id in enumerate(org_ids, start=1):
        await purge_organization(job.context, org_id)
        await job.report_progress(done, len(org_ids) + 1)
    accounts = await _erase_remaining_accounts(job)
    async with job.transaction() as session:
        shutdown = await session.get(ServiceShutdown, str(payload["shutdown_id"]))
        assert shutdown is not None
        shutdown.status = ShutdownStatus.COMPLETED
        shutdown.completed_at = utcnow()
        shutdown.outcome = {"organizations": len(org_ids), "accounts": accounts}
        outcome = dict(shutdown.outcome)
        await audit.record(
            session,
            job.context.keyring,
            action="privacy.shutdown.completed",
            object_type="service_shutdown",
            object_id=shutdown.id,
            detail=outcome,
        )
    await job.report_progress(len(org_ids) + 1, len(org_ids) + 1)
    return outcome


async def _erase_remaining_accounts(job: jobs.JobContext) -> int:
    """Every account left once the organisations are gone, the operator's staff included (the
    service has ended), each with everything that is the account's. One transaction each."""
    async with job.transaction() as session:
        account_ids = list(await session.scalars(select(Account.id)))
    for account_id in account_ids:
        async with job.transaction() as session:
            account = await session.get(Account, account_id)
            if account is None:
                continue
            account.is_operator = False  # erase_account keeps staff accounts; at the end none stay
            await session.flush()
            await erase_account(session, job.context, account_id)
    return len(account_ids)


# Whether collection has stopped (read by gate.py on every unsafe request) --------------------
async def collection_stops_at(context: AppContext) -> datetime | None:
    """The moment collection stops, cached for a few seconds per process."""
    cached = context.extras.get(_CACHE_KEY)
    if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
        return cached[1]  # type: ignore[no-any-return]
    async with context.db.transaction() as session:
        shutdown = await current_shutdown(session)
    stops_at = shutdown.collection_stops_at if shutdown is not None else None
    context.extras[_CACHE_KEY] = (time.monotonic(), stops_at)
    return stops_at


async def collection_stopped(context: AppContext) -> bool:
    """Whether nothing new may be collected any more (the shutdown date has come)."""
    stops_at = await collection_stops_at(context)
    return stops_at is not None and utcnow() >= stops_at
