"""Work notices over the native API: an admin sends and follows them in the console
(/api/v1/org/work-notices); a person reads what they received (/api/v1/work-notices).
Apps send through the open API (zhengtong.compat)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext
from zhengtong.org.access import admin_scope, current_membership
from zhengtong.org.models import AdminDuty, Organization
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession
from zhengtong.worknotices import messages, schemas, service
from zhengtong.worknotices.models import WorkNotice

router = APIRouter(tags=["worknotices"])
_DUTY, _FUNCTION = AdminDuty.SYSTEM, "work_notices"


async def _summary(
    session: AsyncSession, context: AppContext, notice: WorkNotice, counts: tuple[int, int] | None = None
) -> tuple[schemas.WorkNoticeSummary, dict[str, object] | None]:
    organization = await session.get(Organization, notice.org_id)
    assert organization is not None
    content = service.content_of(context, organization, notice)
    read, unread = counts if counts is not None else await service.counts_of(session, notice.id)
    progress = service.progress_of(notice)
    summary = schemas.WorkNoticeSummary(
        id=notice.id,
        task_id=notice.task_id,
        sender_name=notice.sender_name,
        msgtype=notice.msgtype,
        title=messages.summary(content) if content else "",
        status=notice.status,
        total=notice.total,
        done=notice.done,
        percent=progress.percent,
        read=read,
        unread=unread,
        job_id=notice.job_id,
        created_at=notice.created_at,
        recalled_at=notice.recalled_at,
    )
    return summary, content


@router.post("/org/work-notices", response_model=schemas.WorkNoticeSummary, status_code=201)
async def send_work_notice(
    body: schemas.WorkNoticeCreate, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.WorkNoticeSummary:
    scope = await admin_scope(session, caller, _DUTY, _FUNCTION)
    sender = service.Sender(
        org_id=scope.org_id, name="", membership_id=scope.membership_id, account_id=caller.account_id
    )
    targets = service.Targets(body.user_ids, body.department_ids, body.to_all)
    notice = await service.send(session, context, sender, targets, body.msg, scope=scope, ip=ip)
    return (await _summary(session, context, notice))[0]


@router.get("/org/work-notices", response_model=list[schemas.WorkNoticeSummary])
async def list_work_notices(
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    limit: int = Query(default=50, ge=1, le=200),
    before: str | None = Query(default=None, max_length=26, description="the last id of the page before"),
) -> list[schemas.WorkNoticeSummary]:
    """The newest first; a page shorter than `limit` is the last."""
    scope = await admin_scope(session, caller, _DUTY, _FUNCTION)
    found = await service.list_for_admin(session, scope, limit=limit, before=before)
    counts = await service.counts_of_each(session, [notice.id for notice in found])
    return [(await _summary(session, context, notice, counts.get(notice.id, (0, 0))))[0] for notice in found]


@router.get("/org/work-notices/{work_notice_id}", response_model=schemas.WorkNoticeDetail)
async def work_notice_detail(
    work_notice_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.WorkNoticeDetail:
    scope = await admin_scope(session, caller, _DUTY, _FUNCTION)
    notice = await service.of_organization(session, scope, work_notice_id)
    summary, content = await _summary(session, context, notice)
    return schemas.WorkNoticeDetail(
        **summary.model_dump(),
        msg=content,
        invalid_user_ids=notice.invalid_user_ids,
        invalid_department_ids=notice.invalid_department_ids,
    )


@router.get("/org/work-notices/{work_notice_id}/recipients", response_model=schemas.RecipientPage)
async def work_notice_recipients(
    work_notice_id: str,
    caller: CurrentCaller,
    session: DbSession,
    read: bool = Query(default=False),
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=50, ge=1, le=200),
) -> schemas.RecipientPage:
    scope = await admin_scope(session, caller, _DUTY, _FUNCTION)
    notice = await service.of_organization(session, scope, work_notice_id)
    rows, total = await service.recipients_page(session, notice.id, read=read, offset=offset, limit=limit)
    items = [schemas.RecipientRead(membership_id=m, name=n, read_at=r) for m, n, r in rows]
    return schemas.RecipientPage(items=items, total=total)


@router.post("/org/work-notices/{work_notice_id}/recall", response_model=schemas.WorkNoticeSummary)
async def recall_work_notice(
    work_notice_id: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.WorkNoticeSummary:
    scope = await admin_scope(session, caller, _DUTY, _FUNCTION)
    notice = await service.of_organization(session, scope, work_notice_id)
    await service.recall(session, context, notice, actor_id=caller.account_id, ip=ip)
    return (await _summary(session, context, notice))[0]


# What the person received -------------------------------------------------------------------------
def _received(received: service.Received) -> schemas.ReceivedRead:
    return schemas.ReceivedRead(
        id=received.notice.id,
        sender_name=received.notice.sender_name,
        msg=received.content,
        recalled=received.notice.recalled_at is not None,
        created_at=received.notice.created_at,
        read_at=received.read_at,
    )


@router.get("/work-notices", response_model=list[schemas.ReceivedRead])
async def my_work_notices(
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    limit: int = Query(default=20, ge=1, le=100),
    before: str | None = Query(default=None, max_length=26, description="the last id of the page before"),
) -> list[schemas.ReceivedRead]:
    """The newest first; a page shorter than `limit` is the last."""
    membership = await current_membership(session, caller)
    found = await service.list_received(
        session, context, membership_id=membership.id, org_id=membership.org_id, limit=limit, before=before
    )
    return [_received(received) for received in found]


@router.get("/work-notices/{work_notice_id}", response_model=schemas.ReceivedRead)
async def open_work_notice(
    work_notice_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.ReceivedRead:
    membership = await current_membership(session, caller)
    received = await service.received(session, context, membership_id=membership.id, notice_id=work_notice_id)
    return _received(received)


@router.post("/work-notices/{work_notice_id}/read", response_model=schemas.ReceivedRead)
async def read_work_notice(
    work_notice_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.ReceivedRead:
    """Marks it read, here and under the bell (the client calls this when it shows the notice)."""
    membership = await current_membership(session, caller)
    received = await service.mark_read(
        session, context, membership_id=membership.id, account_id=caller.account_id, notice_id=work_notice_id
    )
    return _received(received)
