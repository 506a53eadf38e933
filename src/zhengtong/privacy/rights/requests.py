"""Requests of the person to their organisation (the controller): access, copy, correction,
deletion, withdrawing consent, explanation. The organisation's admins (system duty, `members`
function, within their scope) answer within 15 working days; both sides see the deadline.

The person hears about every change from the organisation: an in-app notice, an event to their
clients, and an SMS through the configured provider (the text names no detail of the request).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from zhengtong.core.caller import Caller
from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.db import after_commit
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org.access import AdminScope, access_member
from zhengtong.org.models import Department, MemberDepartment, Membership, Organization
from zhengtong.platform import audit
from zhengtong.platform.eventlog import append_after_commit
from zhengtong.platform.notify import DeliveryFailed
from zhengtong.privacy.rights import errors
from zhengtong.privacy.rights.models import (
    OPEN_STATUSES,
    PrivacyRequest,
    PrivacyRequestEvent,
    RequestEventKind,
    RequestKind,
    RequestNotice,
    RequestStatus,
)
from zhengtong.privacy.rights.workdays import (
    DEADLINE_WORKING_DAYS,
    Deadline,
    WorkCalendar,
    deadline_of,
    local_date,
)

log = logging.getLogger(__name__)

# What the organisation may move a request to, from each status.
ADMIN_TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.OPEN: frozenset({RequestStatus.IN_PROGRESS, RequestStatus.DONE, RequestStatus.REFUSED}),
    RequestStatus.IN_PROGRESS: frozenset({RequestStatus.DONE, RequestStatus.REFUSED}),
}
CHANGE_SMS = "【政通】您向所在组织提交的个人信息申请有新进展，请登录政通在“隐私中心”查看。"


def calendar(context: AppContext) -> WorkCalendar:
    return WorkCalendar.from_settings(context.settings.extra)


@dataclass(frozen=True)
class RequestView:
    request: PrivacyRequest
    organization_name: str
    requester_name: str
    deadline: Deadline
    events: Sequence[PrivacyRequestEvent]


async def _views(
    session: AsyncSession, context: AppContext, requests: Sequence[PrivacyRequest]
) -> list[RequestView]:
    if not requests:
        return []
    ids = [request.id for request in requests]
    events: dict[str, list[PrivacyRequestEvent]] = {request_id: [] for request_id in ids}
    found = await session.scalars(
        select(PrivacyRequestEvent)
        .where(PrivacyRequestEvent.request_id.in_(ids))
        .order_by(PrivacyRequestEvent.created_at, PrivacyRequestEvent.id)
    )
    for event in found:
        events[event.request_id].append(event)
    names = dict(
        (
            await session.execute(
                select(Membership.id, Membership.name).where(
                    Membership.id.in_({request.membership_id for request in requests})
                )
            )
        ).all()
    )
    org_names = dict(
        (
            await session.execute(
                select(Organization.id, Organization.name).where(
                    Organization.id.in_({request.org_id for request in requests})
                )
            )
        ).all()
    )
    work = calendar(context)
    today = local_date(utcnow())
    return [
        RequestView(
            request,
            org_names.get(request.org_id, ""),
            names.get(request.membership_id, ""),
            deadline_of(work, request.due_on, today, still_open=request.status in OPEN_STATUSES),
            events[request.id],
        )
        for request in requests
    ]


def _event(
    request: PrivacyRequest,
    kind: RequestEventKind,
    *,
    author_membership_id: str | None,
    from_organization: bool,
    text: str = "",
    status: str | None = None,
) -> PrivacyRequestEvent:
    return PrivacyRequestEvent(
        org_id=request.org_id,
        request_id=request.id,
        kind=kind,
        status=status,
        from_organization=from_organization,
        author_membership_id=author_membership_id,
        text=text,
        created_at=utcnow(),
    )


async def _audit(
    session: AsyncSession,
    context: AppContext,
    request: PrivacyRequest,
    action: str,
    *,
    actor_id: str,
    ip: str,
    detail: dict[str, str] | None = None,
) -> None:
    await audit.record(
        session,
        context.keyring,
        action=action,
        org_id=request.org_id,
        actor_id=actor_id,
        object_type="privacy_request",
        object_id=request.id,
        ip=ip,
        detail={"kind": request.kind, **(detail or {})},
    )


# The person -------------------------------------------------------------------------------------
async def _own_membership(session: AsyncSession, caller: Caller, org_id: str | None) -> Membership:
    target = org_id or caller.org_id
    membership = await session.scalar(
        select(Membership).where(Membership.account_id == caller.account_id, Membership.org_id == target)
    )
    if membership is None:
        raise AppError(errors.NOT_YOUR_ORGANIZATION)
    return membership


async def file_request(
    session: AsyncSession,
    context: AppContext,
    caller: Caller,
    *,
    kind: RequestKind,
    details: str,
    org_id: str | None,
    ip: str,
) -> RequestView:
    """Files the caller's request with one of their organisations (the current one by default)."""
    membership = await _own_membership(session, caller, org_id)
    now = utcnow()
    request = PrivacyRequest(
        org_id=membership.org_id,
        membership_id=membership.id,
        kind=kind,
        details=details,
        status=RequestStatus.OPEN,
        due_on=calendar(context).add_working_days(local_date(now), DEADLINE_WORKING_DAYS),
        status_changed_at=now,
        created_at=now,
    )
    session.add(request)
    await session.flush()
    session.add(
        _event(request, RequestEventKind.FILED, author_membership_id=membership.id, from_organization=False)
    )
    await _audit(session, context, request, "privacy.request_filed", actor_id=caller.account_id, ip=ip)
    return (await _views(session, context, [request]))[0]


async def list_own_requests(session: AsyncSession, context: AppContext, caller: Caller) -> list[RequestView]:
    """The caller's requests in every organisation, newest first."""
    found = await session.scalars(
        select(PrivacyRequest)
        .join(Membership, Membership.id == PrivacyRequest.membership_id)
        .where(Membership.account_id == caller.account_id)
        .order_by(PrivacyRequest.created_at.desc(), PrivacyRequest.id.desc())
    )
    return await _views(session, context, list(found))


async def _access_own_request(session: AsyncSession, caller: Caller, request_id: str) -> PrivacyRequest:
    request = await session.get(PrivacyRequest, request_id)
    if request is not None:
        owner = await session.get(Membership, request.membership_id)
        if owner is not None and owner.account_id == caller.account_id:
            return request
    raise AppError(NOT_FOUND)


def _require_open(request: PrivacyRequest) -> None:
    if request.status not in OPEN_STATUSES:
        raise AppError(errors.REQUEST_CLOSED)


async def add_own_reply(
    session: AsyncSession, context: AppContext, caller: Caller, *, request_id: str, text: str, ip: str
) -> RequestView:
    """The person adds information to their open request."""
    request = await _access_own_request(session, caller, request_id)
    _require_open(request)
    session.add(
        _event(
            request,
            RequestEventKind.REPLY,
            author_membership_id=request.membership_id,
            from_organization=False,
            text=text,
        )
    )
    await _audit(session, context, request, "privacy.request_replied", actor_id=caller.account_id, ip=ip)
    return (await _views(session, context, [request]))[0]


async def withdraw_own_request(
    session: AsyncSession, context: AppContext, caller: Caller, *, request_id: str, ip: str
) -> RequestView:
    request = await _access_own_request(session, caller, request_id)
    _require_open(request)
    _set_status(request, RequestStatus.WITHDRAWN, handled_by=None, resolution="")
    session.add(
        _event(
            request,
            RequestEventKind.STATUS,
            author_membership_id=request.membership_id,
            from_organization=False,
            status=RequestStatus.WITHDRAWN,
        )
    )
    await _audit(session, context, request, "privacy.request_withdrawn", actor_id=caller.account_id, ip=ip)
    return (await _views(session, context, [request]))[0]


# Notices ----------------------------------------------------------------------------------------
async def list_notices(session: AsyncSession, caller: Caller, *, limit: int = 50) -> list[RequestNotice]:
    found = await session.scalars(
        select(RequestNotice)
        .join(Membership, Membership.id == RequestNotice.membership_id)
        .where(Membership.account_id == caller.account_id)
        .order_by(RequestNotice.created_at.desc(), RequestNotice.id.desc())
        .limit(limit)
    )
    return list(found)


async def mark_notices_read(session: AsyncSession, caller: Caller) -> None:
    own = select(Membership.id).where(Membership.account_id == caller.account_id)
    await session.execute(
        update(RequestNotice)
        .where(RequestNotice.membership_id.in_(own), RequestNotice.read_at.is_(None))
        .values(read_at=utcnow())
    )


async def _tell_requester(
    session: AsyncSession, context: AppContext, request: PrivacyRequest, event_kind: RequestEventKind
) -> None:
    """In-app notice, an event for the person's clients, and an SMS, all after commit."""
    session.add(
        RequestNotice(
            org_id=request.org_id,
            membership_id=request.membership_id,
            request_id=request.id,
            event_kind=event_kind,
            status=request.status,
            created_at=utcnow(),
        )
    )
    membership = await session.get(Membership, request.membership_id)
    if membership is None:
        return
    event = {"type": "privacy.request_updated", "request_id": request.id, "status": request.status}
    append_after_commit(session, context.events, [membership.account_id], event)
    account = await session.get(Account, membership.account_id)
    if account is not None:
        mobile = identity.decrypt_mobile(context.keyring, account)

        async def send_sms() -> None:
            try:
                await context.sms.send_sms(
                    mobile, "privacy_request_updated", CHANGE_SMS, {"status": request.status}
                )
            except DeliveryFailed as error:  # the tracker in the client says it too
                log.warning("request-update SMS not sent (%s)", error.reason)

        after_commit(session, send_sms)


# The organisation ---------------------------------------------------------------------------------
def in_admin_scope(scope: AdminScope, membership_id: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """Requests of members the admin manages: everyone, or those seated inside their subtrees."""
    if scope.whole_org:
        return true()
    seated = (
        select(MemberDepartment.membership_id)
        .join(Department, Department.id == MemberDepartment.department_id)
        .where(or_(false(), *(Department.path.startswith(path) for path in scope.subtree_paths)))
    )
    return membership_id.in_(seated)


async def list_org_requests(
    session: AsyncSession, context: AppContext, scope: AdminScope, *, status: RequestStatus | None = None
) -> list[RequestView]:
    """The organisation's requests within the admin's scope: open ones first, by deadline."""
    query = select(PrivacyRequest).where(
        PrivacyRequest.org_id == scope.org_id, in_admin_scope(scope, PrivacyRequest.membership_id)
    )
    if status is not None:
        query = query.where(PrivacyRequest.status == status)
    found = list(await session.scalars(query.order_by(PrivacyRequest.due_on, PrivacyRequest.created_at)))
    found.sort(key=lambda request: request.status not in OPEN_STATUSES)  # stable: open first, by deadline
    return await _views(session, context, found)


async def access_org_request(session: AsyncSession, scope: AdminScope, request_id: str) -> PrivacyRequest:
    """A request of the admin's organisation from a member inside their scope; `not_found` for
    another organisation's request, so ids cannot be probed."""
    request = await session.get(PrivacyRequest, request_id)
    if request is None or request.org_id != scope.org_id:
        raise AppError(NOT_FOUND)
    await access_member(session, scope, request.membership_id)
    return request


async def org_request_view(
    session: AsyncSession, context: AppContext, request: PrivacyRequest
) -> RequestView:
    return (await _views(session, context, [request]))[0]


def _set_status(
    request: PrivacyRequest, status: RequestStatus, *, handled_by: str | None, resolution: str
) -> None:
    now = utcnow()
    request.status = status
    request.status_changed_at = now
    if handled_by is not None:
        request.handled_by_membership_id = handled_by
    if status not in OPEN_STATUSES:
        request.closed_at = now
        request.resolution = resolution


async def change_status(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    request: PrivacyRequest,
    *,
    status: RequestStatus,
    note: str,
    actor_id: str,
    ip: str,
) -> RequestView:
    """The organisation moves the request on: in progress, done, or refused (with a reason)."""
    _require_open(request)
    if status not in ADMIN_TRANSITIONS[RequestStatus(request.status)]:
        raise AppError(errors.STATUS_NOT_ALLOWED, {"from": request.status, "to": status})
    if status is RequestStatus.REFUSED and not note:
        raise AppError(errors.REASON_REQUIRED)
    _set_status(request, status, handled_by=scope.membership_id, resolution=note)
    session.add(
        _event(
            request,
            RequestEventKind.STATUS,
            author_membership_id=scope.membership_id,
            from_organization=True,
            status=status,
            text=note,
        )
    )
    await _tell_requester(session, context, request, RequestEventKind.STATUS)
    await _audit(
        session,
        context,
        request,
        "privacy.request_status_changed",
        actor_id=actor_id,
        ip=ip,
        detail={"status": status},
    )
    return (await _views(session, context, [request]))[0]


async def add_org_reply(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    request: PrivacyRequest,
    *,
    text: str,
    actor_id: str,
    ip: str,
) -> RequestView:
    """The organisation writes to the person about their open request."""
    _require_open(request)
    request.handled_by_membership_id = scope.membership_id
    session.add(
        _event(
            request,
            RequestEventKind.REPLY,
            author_membership_id=scope.membership_id,
            from_organization=True,
            text=text,
        )
    )
    await _tell_requester(session, context, request, RequestEventKind.REPLY)
    await _audit(session, context, request, "privacy.request_answered", actor_id=actor_id, ip=ip)
    return (await _views(session, context, [request]))[0]
