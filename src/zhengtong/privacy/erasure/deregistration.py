"""Deregistering an organisation (注销组织): the main admin asks, confirming with the
organisation's name and an SMS code; the members are told (in the client and by SMS) and may
export their data during a cooling-off period (`ZT_DEREGISTRATION_COOLING_DAYS`, 30 days by
default) in which the admin can cancel; then a job purges the organisation
(privacy.erasure.service.purge_organization).

The purge runs as a job enqueued for the end of the cooling-off period; an hourly sweep enqueues
it again for a deregistration whose job failed for good, so a purge is never forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org.access import current_membership
from zhengtong.org.models import MemberRole, Membership, Organization, OrgStatus
from zhengtong.platform import audit, jobs
from zhengtong.platform.jobs import Job, JobStatus
from zhengtong.privacy.erasure import errors
from zhengtong.privacy.erasure.models import LIVE_STATES, Deregistration, DeregistrationState

PURGE_JOB = "privacy.org_purge"
SWEEP_JOB = "privacy.deregistration_sweep"
PURGE_MAX_ATTEMPTS = 20  # with the backoff capped at ten minutes: hours of retries, then the sweep
CODE_PURPOSE = "deregister"
CODE_TEXT = "【政通】您的验证码是 {code}，5 分钟内有效，用于确认注销组织。请勿告诉他人。"
NOTICE_KIND = "org_deregistration"
_LOCAL_TIME = ZoneInfo("Asia/Shanghai")  # dates in notices are the members' calendar dates


@dataclass(frozen=True)
class DeregistrationStatus:
    state: str  # "active", "cooling_off" or "purging"
    org_name: str
    cooling_off_days: int
    requested_at: datetime | None
    purge_at: datetime | None
    can_manage: bool
    member_count: int


async def live_deregistration(session: AsyncSession, org_id: str) -> Deregistration | None:
    """The organisation's deregistration in its cooling-off period or being purged, if any."""
    return await session.scalar(
        select(Deregistration)
        .where(Deregistration.org_id == org_id, Deregistration.state.in_(LIVE_STATES))
        .order_by(Deregistration.created_at.desc())
        .limit(1)
    )


async def _organization(session: AsyncSession, org_id: str) -> Organization:
    organization = await session.get(Organization, org_id)
    assert organization is not None  # the caller's membership in it was just checked
    return organization


async def _main_admin(session: AsyncSession, caller: Caller) -> Membership:
    membership = await current_membership(session, caller)
    if membership.role != MemberRole.MAIN_ADMIN:
        raise AppError(errors.MAIN_ADMIN_REQUIRED)
    return membership


async def get_status(session: AsyncSession, context: AppContext, caller: Caller) -> DeregistrationStatus:
    """Any member of the organisation may see whether it is being deregistered, and when."""
    membership = await current_membership(session, caller)
    organization = await _organization(session, membership.org_id)
    live = await live_deregistration(session, organization.id)
    members = await session.scalar(
        select(func.count()).select_from(Membership).where(Membership.org_id == organization.id)
    )
    return DeregistrationStatus(
        state=live.state if live is not None else "active",
        org_name=organization.name,
        cooling_off_days=context.settings.deregistration_cooling_days,
        requested_at=live.created_at if live is not None else None,
        purge_at=live.purge_at if live is not None else None,
        can_manage=membership.role == MemberRole.MAIN_ADMIN,
        member_count=int(members or 0),
    )


async def _admin_mobile(session: AsyncSession, context: AppContext, membership: Membership) -> str:
    account = await session.get(Account, membership.account_id)
    assert account is not None
    return identity.decrypt_mobile(context.keyring, account)


async def send_code(
    session: AsyncSession, context: AppContext, caller: Caller, *, ip: str
) -> tuple[identity.CodeSent, str]:
    """Sends the main admin an SMS code that confirms the request; returns it with the masked
    number it went to."""
    membership = await _main_admin(session, caller)
    mobile = await _admin_mobile(session, context, membership)
    sent = await identity.send_verification_code(
        session, context, mobile=mobile, purpose=CODE_PURPOSE, ip=ip, text=CODE_TEXT
    )
    return sent, identity.mask_mobile(mobile)


async def request_deregistration(
    session: AsyncSession, context: AppContext, caller: Caller, *, org_name: str, code: str, ip: str
) -> Deregistration:
    """The main admin asks to deregister the organisation, typing its name and the SMS code.
    The purge is scheduled for the end of the cooling-off period; the members are told."""
    membership = await _main_admin(session, caller)
    organization = await _organization(session, membership.org_id)
    if await live_deregistration(session, organization.id) is not None:
        raise AppError(errors.ALREADY_REQUESTED)
    if org_name.strip() != organization.name:
        raise AppError(errors.NAME_MISMATCH)
    mobile = await _admin_mobile(session, context, membership)
    await identity.verify_code(session, context, mobile=mobile, code=code, purpose=CODE_PURPOSE, ip=ip)
    purge_at = utcnow() + timedelta(days=context.settings.deregistration_cooling_days)
    deregistration = Deregistration(
        org_id=organization.id,
        state=DeregistrationState.COOLING_OFF,
        requested_by_membership_id=membership.id,
        purge_at=purge_at,
        account_ids=[],
    )
    session.add(deregistration)
    await session.flush()
    deregistration.job_id = (await _schedule_purge(session, deregistration)).id
    organization.status = OrgStatus.DEREGISTERING
    await _audit(session, context, "privacy.deregistration_requested", deregistration, caller, ip)
    await _tell_members(session, context, organization, deregistration, requested=True)
    return deregistration


async def cancel_deregistration(
    session: AsyncSession, context: AppContext, caller: Caller, *, ip: str
) -> Deregistration:
    """The main admin cancels during the cooling-off period; the scheduled purge is cancelled
    and the members are told."""
    membership = await _main_admin(session, caller)
    organization = await _organization(session, membership.org_id)
    deregistration = await live_deregistration(session, organization.id)
    if deregistration is None:
        raise AppError(errors.NOT_REQUESTED)
    if deregistration.state != DeregistrationState.COOLING_OFF:
        raise AppError(errors.PURGE_STARTED)
    deregistration.state = DeregistrationState.CANCELLED
    deregistration.cancelled_at = utcnow()
    organization.status = OrgStatus.ACTIVE
    job = await jobs.get_job(session, deregistration.job_id) if deregistration.job_id else None
    if job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        await jobs.cancel(session, job=job)
    await _audit(session, context, "privacy.deregistration_cancelled", deregistration, caller, ip)
    await _tell_members(session, context, organization, deregistration, requested=False)
    return deregistration


async def _schedule_purge(session: AsyncSession, deregistration: Deregistration) -> Job:
    # A platform job (no org_id): the purge deletes the organisation's own jobs, not itself.
    return await jobs.enqueue(
        session,
        kind=PURGE_JOB,
        payload={"deregistration_id": deregistration.id, "org_id": deregistration.org_id},
        run_at=deregistration.purge_at,
        max_attempts=PURGE_MAX_ATTEMPTS,
    )


async def reschedule_forgotten_purges(session: AsyncSession) -> int:
    """Enqueues the purge again for each due deregistration whose job is neither queued nor
    running (it failed for good, or was lost); returns how many."""
    due = await session.scalars(
        select(Deregistration).where(
            Deregistration.state.in_(LIVE_STATES), Deregistration.purge_at <= utcnow()
        )
    )
    enqueued = 0
    for deregistration in due.all():
        job = await jobs.get_job(session, deregistration.job_id) if deregistration.job_id else None
        if job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            continue
        deregistration.job_id = (await _schedule_purge(session, deregistration)).id
        enqueued += 1
    return enqueued


async def _audit(
    session: AsyncSession,
    context: AppContext,
    action: str,
    deregistration: Deregistration,
    caller: Caller,
    ip: str,
) -> None:
    await audit.record(
        session,
        context.keyring,
        action=action,
        org_id=deregistration.org_id,
        actor_id=caller.account_id,
        object_type="deregistration",
        object_id=deregistration.id,
        ip=ip,
        detail={"purge_at": deregistration.purge_at.isoformat()},
    )


async def _tell_members(
    session: AsyncSession,
    context: AppContext,
    organization: Organization,
    deregistration: Deregistration,
    *,
    requested: bool,
) -> None:
    """An in-app notice and an SMS to every member (privacy.operator.notices)."""
    from zhengtong.notifications.notices import notify_people

    members = await session.scalars(select(Membership.account_id).where(Membership.org_id == organization.id))
    day = deregistration.purge_at.astimezone(_LOCAL_TIME)
    if requested:
        subject = {
            "zh-CN": f"「{organization.name}」将注销",
            "en": f"{organization.name} is being deregistered",
        }
        body = {
            "zh-CN": (
                f"「{organization.name}」已申请注销。{day:%Y年%m月%d日}起，该组织的全部数据"
                "（通讯录、聊天记录、文件）将被删除，无法恢复。如需保留个人数据，请在此之前"
                "在“隐私中心”导出。"
            ),
            "en": (
                f"{organization.name} has asked to be deregistered. From {day:%Y-%m-%d} all of its data "
                "(address book, chats, files) will be deleted for good. To keep a copy of your own data, "
                "export it in the privacy centre before then."
            ),
        }
    else:
        subject = {"zh-CN": f"「{organization.name}」已撤销注销", "en": f"{organization.name} stays"}
        body = {
            "zh-CN": f"「{organization.name}」已撤销注销申请，组织和您的数据将继续保留。",
            "en": f"{organization.name} has cancelled its deregistration; it and your data stay.",
        }
    await notify_people(
        session,
        context,
        list(members.all()),
        kind=NOTICE_KIND,
        subject=subject,
        body=body,
        channels=["sms"],
        org_id=organization.id,
        reference=f"deregistration:{deregistration.id}",
    )
