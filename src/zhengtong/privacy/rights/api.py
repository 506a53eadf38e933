"""HTTP endpoints of privacy.rights: the person's own (/privacy/...) and the organisation's
request tracker and disclosure ledger (/privacy/admin/..., system duty, `members` function)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.inventory import DataClass
from zhengtong.org.access import AdminScope, admin_scope
from zhengtong.org.models import AdminDuty
from zhengtong.platform.jobs import JobStatus
from zhengtong.privacy.rights import cancellation, disclosures, exporting, holdings, requests, schemas
from zhengtong.privacy.rights.models import Disclosure, RequestStatus
from zhengtong.web.auth import CSRF_COOKIE, SESSION_COOKIE, CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession
from zhengtong.web.downloads import zip_download
from zhengtong.web.gates import Gate, open_through

router = APIRouter(tags=["privacy"])

ADMIN_FUNCTION = "members"  # the system duty's function that manages members' data


async def _admin(session: AsyncSession, caller: Caller) -> AdminScope:
    return await admin_scope(session, caller, AdminDuty.SYSTEM, ADMIN_FUNCTION)


# My data ----------------------------------------------------------------------------------------
@open_through(Gate.POLICY)
@router.get("/privacy/my-data", response_model=schemas.HoldingsSummary)
async def my_data_summary(
    caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.HoldingsSummary:
    categories, tables = await holdings.holdings_by_category(session, context, caller.account_id)
    return schemas.HoldingsSummary(
        categories=[
            schemas.CategoryCount(
                data_class=category.data_class.value, values=category.values, tables=list(category.tables)
            )
            for category in categories
        ],
        tables=[schemas.TableCount(table=table.table, rows=table.rows) for table in tables],
    )


def _export_read(view: exporting.ExportView) -> schemas.ExportRead:
    job = view.job
    result = job.result or {}
    return schemas.ExportRead(
        job_id=job.id,
        status=JobStatus(job.status),
        percent=job.progress_percent,
        created_at=job.created_at,
        finished_at=job.finished_at,
        expires_at=view.expires_at,
        bytes=result.get("bytes"),
        download_url=view.download_url,
    )


@open_through(Gate.POLICY, Gate.COLLECTION)
@router.post("/privacy/exports", response_model=schemas.ExportStarted, status_code=202)
async def start_my_data_export(
    caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.ExportStarted:
    job = await exporting.start_export(session, context, caller, ip=ip)
    return schemas.ExportStarted(job_id=job.id)


@open_through(Gate.POLICY)
@router.get("/privacy/exports", response_model=schemas.ExportList)
async def list_my_data_exports(
    caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.ExportList:
    views = await exporting.list_exports(session, context, caller)
    return schemas.ExportList(
        link_hours=exporting.link_hours(context), items=[_export_read(view) for view in views]
    )


@open_through(Gate.POLICY)
@router.get("/privacy/exports/{job_id}/download", response_class=Response)
async def download_my_data_export(
    job_id: str,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(max_length=128)],
) -> Response:
    file = await exporting.read_export(
        session, context, caller, job_id=job_id, expires=expires, signature=signature, ip=ip
    )
    return zip_download(file, "my-data.zip")


# My requests ------------------------------------------------------------------------------------
def _request_read(view: requests.RequestView) -> schemas.RequestRead:
    return schemas.RequestRead.model_validate(_request_fields(view))


def _admin_request_read(view: requests.RequestView) -> schemas.AdminRequestRead:
    fields = _request_fields(view)
    fields.update(membership_id=view.request.membership_id, requester_name=view.requester_name)
    return schemas.AdminRequestRead.model_validate(fields)


def _request_fields(view: requests.RequestView) -> dict[str, object]:
    request = view.request
    return {
        "id": request.id,
        "org_id": request.org_id,
        "organization_name": view.organization_name,
        "kind": request.kind,
        "details": request.details,
        "status": request.status,
        "created_at": request.created_at,
        "status_changed_at": request.status_changed_at,
        "closed_at": request.closed_at,
        "resolution": request.resolution,
        "deadline": schemas.DeadlineRead.model_validate(view.deadline),
        "events": [schemas.RequestEventRead.model_validate(event) for event in view.events],
    }


@router.get("/privacy/requests", response_model=list[schemas.RequestRead])
async def list_my_privacy_requests(
    caller: CurrentCaller, session: DbSession, context: Context
) -> list[schemas.RequestRead]:
    return [_request_read(view) for view in await requests.list_own_requests(session, context, caller)]


@open_through(Gate.COLLECTION)
@router.post("/privacy/requests", response_model=schemas.RequestRead, status_code=201)
async def file_privacy_request(
    body: schemas.RequestCreate, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.RequestRead:
    view = await requests.file_request(
        session, context, caller, kind=body.kind, details=body.details, org_id=body.org_id, ip=ip
    )
    return _request_read(view)


@open_through(Gate.COLLECTION)
@router.post("/privacy/requests/{request_id}/replies", response_model=schemas.RequestRead)
async def reply_to_my_privacy_request(
    request_id: str,
    body: schemas.ReplyCreate,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.RequestRead:
    view = await requests.add_own_reply(
        session, context, caller, request_id=request_id, text=body.text, ip=ip
    )
    return _request_read(view)


@open_through(Gate.COLLECTION)
@router.post("/privacy/requests/{request_id}/withdraw", response_model=schemas.RequestRead)
async def withdraw_my_privacy_request(
    request_id: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.RequestRead:
    view = await requests.withdraw_own_request(session, context, caller, request_id=request_id, ip=ip)
    return _request_read(view)


@router.get("/privacy/request-notices", response_model=list[schemas.NoticeRead])
async def list_my_request_notices(caller: CurrentCaller, session: DbSession) -> list[schemas.NoticeRead]:
    return [
        schemas.NoticeRead.model_validate(notice) for notice in await requests.list_notices(session, caller)
    ]


@open_through(Gate.COLLECTION)
@router.post("/privacy/request-notices/read", status_code=204, response_class=Response)
async def mark_my_request_notices_read(caller: CurrentCaller, session: DbSession) -> Response:
    await requests.mark_notices_read(session, caller)
    return Response(status_code=204)


# What was disclosed about me --------------------------------------------------------------------
def _disclosure_fields(disclosure: Disclosure, organization_name: str) -> dict[str, object]:
    return {
        "id": disclosure.id,
        "org_id": disclosure.org_id,
        "organization_name": organization_name,
        "recipient_kind": disclosure.recipient_kind,
        "recipient": disclosure.recipient,
        "data_categories": disclosure.data_categories,
        "legal_basis": disclosure.legal_basis,
        "reference": disclosure.reference,
        "purpose": disclosure.purpose,
        "source": disclosure.source,
        "disclosed_at": disclosure.disclosed_at,
    }


@router.get("/privacy/disclosures", response_model=list[schemas.DisclosureRead])
async def list_my_disclosures(caller: CurrentCaller, session: DbSession) -> list[schemas.DisclosureRead]:
    entries = await disclosures.list_own_disclosures(session, caller)
    return [
        schemas.DisclosureRead.model_validate(_disclosure_fields(entry.disclosure, entry.organization_name))
        for entry in entries
    ]


# Cancelling my account --------------------------------------------------------------------------
@open_through(Gate.POLICY)
@router.get("/privacy/account/cancellation", response_model=schemas.CancellationCheck)
async def check_account_cancellation(caller: CurrentCaller, session: DbSession) -> schemas.CancellationCheck:
    blocking = await cancellation.organizations_blocking(session, caller.account_id)
    return schemas.CancellationCheck(
        blocked_by=[schemas.BlockingOrganizationRead(id=found.id, name=found.name) for found in blocking]
    )


@open_through(Gate.POLICY, Gate.COLLECTION)
@router.post("/privacy/account/cancellation/code", response_model=schemas.CancellationCodeSent)
async def send_account_cancellation_code(
    caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.CancellationCodeSent:
    sent = await cancellation.send_code(session, context, caller, ip=ip)
    return schemas.CancellationCodeSent(
        cooldown_seconds=sent.cooldown_seconds, expires_in_seconds=sent.expires_in_seconds
    )


@open_through(Gate.POLICY, Gate.COLLECTION)
@router.post("/privacy/account/cancellation", status_code=204, response_class=Response)
async def cancel_my_account(
    body: schemas.CancellationConfirm,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> Response:
    await cancellation.cancel_account(session, context, caller, code=body.code, ip=ip)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


# The organisation: request tracker --------------------------------------------------------------
@router.get("/privacy/admin/requests", response_model=list[schemas.AdminRequestRead])
async def list_org_privacy_requests(
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    status: Annotated[RequestStatus | None, Query()] = None,
) -> list[schemas.AdminRequestRead]:
    scope = await _admin(session, caller)
    views = await requests.list_org_requests(session, context, scope, status=status)
    return [_admin_request_read(view) for view in views]


@router.get("/privacy/admin/requests/{request_id}", response_model=schemas.AdminRequestRead)
async def get_org_privacy_request(
    request_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.AdminRequestRead:
    scope = await _admin(session, caller)
    request = await requests.access_org_request(session, scope, request_id)
    return _admin_request_read(await requests.org_request_view(session, context, request))


@open_through(Gate.COLLECTION)
@router.post("/privacy/admin/requests/{request_id}/status", response_model=schemas.AdminRequestRead)
async def change_org_privacy_request_status(
    request_id: str,
    body: schemas.StatusChange,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.AdminRequestRead:
    scope = await _admin(session, caller)
    request = await requests.access_org_request(session, scope, request_id)
    view = await requests.change_status(
        session,
        context,
        scope,
        request,
        status=RequestStatus(body.status),
        note=body.note,
        actor_id=caller.account_id,
        ip=ip,
    )
    return _admin_request_read(view)


@open_through(Gate.COLLECTION)
@router.post("/privacy/admin/requests/{request_id}/replies", response_model=schemas.AdminRequestRead)
async def reply_to_org_privacy_request(
    request_id: str,
    body: schemas.ReplyCreate,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.AdminRequestRead:
    scope = await _admin(session, caller)
    request = await requests.access_org_request(session, scope, request_id)
    view = await requests.add_org_reply(
        session, context, scope, request, text=body.text, actor_id=caller.account_id, ip=ip
    )
    return _admin_request_read(view)


# The organisation: disclosure ledger ------------------------------------------------------------
def _admin_disclosure_read(entry: disclosures.LedgerEntry) -> schemas.AdminDisclosureRead:
    fields = _disclosure_fields(entry.disclosure, entry.organization_name)
    fields.update(
        withhold_until=entry.disclosure.withhold_until,
        created_at=entry.disclosure.created_at,
        subjects=[
            schemas.DisclosureSubjectRead(membership_id=membership_id, name=name)
            for membership_id, name in zip(entry.subject_ids, entry.subject_names, strict=True)
        ],
    )
    return schemas.AdminDisclosureRead.model_validate(fields)


@router.get("/privacy/admin/disclosures", response_model=list[schemas.AdminDisclosureRead])
async def list_org_disclosures(
    caller: CurrentCaller, session: DbSession
) -> list[schemas.AdminDisclosureRead]:
    scope = await _admin(session, caller)
    return [_admin_disclosure_read(entry) for entry in await disclosures.list_org_disclosures(session, scope)]


@router.post("/privacy/admin/disclosures", response_model=schemas.AdminDisclosureRead, status_code=201)
async def record_org_disclosure(
    body: schemas.DisclosureCreate, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.AdminDisclosureRead:
    scope = await _admin(session, caller)
    disclosure = await disclosures.record_legal_request(
        session,
        context,
        scope,
        recipient_kind=body.recipient_kind,
        recipient=body.recipient,
        data_categories=[DataClass(category) for category in body.data_categories],
        legal_basis=body.legal_basis,
        membership_ids=body.membership_ids,
        reference=body.reference,
        purpose=body.purpose,
        disclosed_at=body.disclosed_at,
        withhold_until=body.withhold_until,
        actor_id=caller.account_id,
        ip=ip,
    )
    entry = await disclosures.ledger_entry(session, scope, disclosure)
    return _admin_disclosure_read(entry)
