"""HTTP endpoints of privacy.operator: the operator's console (organisations and usage, security
incidents, letters, service shutdown).

Every /operator route first checks that the caller is one of the operator's staff; none of them
returns business content or a person's contact data (tests/privacy/operator sweep every route)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.errors import AppError
from zhengtong.notifications import notices
from zhengtong.org import errors as org_errors
from zhengtong.org.access import admin_scope
from zhengtong.org.models import AdminDuty
from zhengtong.privacy.operator import incidents, schemas, shutdown
from zhengtong.privacy.operator.console import organization_usage, require_operator
from zhengtong.privacy.operator.models import SecurityIncident, ServiceShutdown
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession
from zhengtong.web.gates import Gate, open_through

router = APIRouter(tags=["privacy"])


# Organisations and usage ------------------------------------------------------------------------
@router.get("/operator/usage", response_model=list[schemas.OrganizationUsageRead])
async def operator_usage(caller: CurrentCaller, session: DbSession) -> list[schemas.OrganizationUsageRead]:
    await require_operator(session, caller)
    return [schemas.OrganizationUsageRead.model_validate(row) for row in await organization_usage(session)]


# Security incidents ---------------------------------------------------------------------------
async def _incident_read(session: AsyncSession, incident: SecurityIncident) -> schemas.IncidentRead:
    progress = await incidents.incident_progress(session, incident)
    return schemas.IncidentRead(
        id=incident.id,
        title=incident.title,
        status=incident.status,
        discovered_at=incident.discovered_at,
        created_at=incident.created_at,
        closed_at=incident.closed_at,
        data_categories=incident.data_categories,
        texts=incident.texts,
        progress=schemas.IncidentProgressRead.model_validate(progress),
    )


async def _incident_detail(session: AsyncSession, incident: SecurityIncident) -> schemas.IncidentDetail:
    summary = await _incident_read(session, incident)
    subject, body = incidents.notice_texts(incident)
    organizations = await incidents.affected_organizations(session, incident)
    return schemas.IncidentDetail(
        **summary.model_dump(),
        organizations=[schemas.AffectedOrganizationRead(id=i, name=n, people=p) for i, n, p in organizations],
        notice_subject=subject,
        notice_body=body,
    )


@router.get("/operator/incidents", response_model=list[schemas.IncidentRead])
async def operator_list_incidents(caller: CurrentCaller, session: DbSession) -> list[schemas.IncidentRead]:
    await require_operator(session, caller)
    return [await _incident_read(session, incident) for incident in await incidents.list_incidents(session)]


@open_through(Gate.COLLECTION)
@router.post("/operator/incidents", response_model=schemas.IncidentDetail, status_code=201)
async def operator_record_incident(
    body: schemas.IncidentCreate, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.IncidentDetail:
    await require_operator(session, caller)
    texts = {"zh-CN": body.texts.zh_cn.model_dump()}
    if body.texts.en is not None:
        texts["en"] = body.texts.en.model_dump()
    incident = await incidents.record_incident(
        session,
        context,
        discovered_at=body.discovered_at,
        data_categories=body.data_categories,
        texts=texts,
        org_ids=body.org_ids,
        account_ids=body.account_ids,
        actor_id=caller.account_id,
        ip=ip,
    )
    return await _incident_detail(session, incident)


@router.get("/operator/incidents/{incident_id}", response_model=schemas.IncidentDetail)
async def operator_get_incident(
    incident_id: str, caller: CurrentCaller, session: DbSession
) -> schemas.IncidentDetail:
    await require_operator(session, caller)
    return await _incident_detail(session, await incidents.get_incident(session, incident_id))


@open_through(Gate.COLLECTION)
@router.post("/operator/incidents/{incident_id}/affected", response_model=schemas.AffectedOut)
async def operator_add_affected(
    incident_id: str,
    body: schemas.AffectedIn,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.AffectedOut:
    await require_operator(session, caller)
    incident = await incidents.get_incident(session, incident_id)
    added = await incidents.add_affected(
        session,
        context,
        incident,
        org_ids=body.org_ids,
        account_ids=body.account_ids,
        actor_id=caller.account_id,
        ip=ip,
    )
    return schemas.AffectedOut(added=added)


@open_through(Gate.COLLECTION)
@router.post("/operator/incidents/{incident_id}/notify", response_model=schemas.NotifyOut)
async def operator_notify_incident(
    incident_id: str,
    body: schemas.NotifyIn,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.NotifyOut:
    await require_operator(session, caller)
    incident = await incidents.get_incident(session, incident_id)
    people = await incidents.notify_affected(
        session, context, incident, channels=body.channels, actor_id=caller.account_id, ip=ip
    )
    return schemas.NotifyOut(people=people)


@open_through(Gate.COLLECTION)
@router.post("/operator/incidents/{incident_id}/close", response_model=schemas.IncidentDetail)
async def operator_close_incident(
    incident_id: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.IncidentDetail:
    await require_operator(session, caller)
    incident = await incidents.get_incident(session, incident_id)
    await incidents.close_incident(session, context, incident, actor_id=caller.account_id, ip=ip)
    return await _incident_detail(session, incident)


# Letters (信函) ------------------------------------------------------------------------------------
@router.get("/operator/letters", response_model=list[schemas.LetterRead])
async def operator_list_letters(
    caller: CurrentCaller, session: DbSession, reference: str | None = Query(default=None, max_length=64)
) -> list[schemas.LetterRead]:
    await require_operator(session, caller)
    letters = await notices.queued_letters(session, reference=reference)
    return [schemas.LetterRead.model_validate(letter) for letter in letters]


@router.get("/operator/letters/print", response_class=HTMLResponse)
async def operator_print_letters(
    caller: CurrentCaller, session: DbSession, reference: str | None = Query(default=None, max_length=64)
) -> HTMLResponse:
    """The operator's printable copy: each letter addressed to the organisation that hands it on,
    with its number; the organisation's admins print the copy with names (/org/letters/print)."""
    await require_operator(session, caller)
    letters = await notices.queued_letters(session, reference=reference)
    blocks = {letter.id: notices.operator_address_block(letter) for letter in letters}
    return HTMLResponse(notices.letters_html(letters, blocks, title="信函 Letters"))


@open_through(Gate.COLLECTION)
@router.post("/operator/letters/posted", response_model=schemas.LettersPostedOut)
async def operator_letters_posted(
    body: schemas.LettersPostedIn, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.LettersPostedOut:
    await require_operator(session, caller)
    posted = await notices.mark_letters_posted(
        session, context, letter_ids=body.letter_ids, actor_id=caller.account_id, ip=ip
    )
    return schemas.LettersPostedOut(posted=posted)


@router.get("/org/letters/print", response_class=HTMLResponse)
async def org_print_letters(caller: CurrentCaller, session: DbSession) -> HTMLResponse:
    """The organisation's copy of the letters to its members, with the names and work places it
    keeps (the organisation is the controller of those); for admins over the whole organisation."""
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, "members")
    if not scope.whole_org:
        raise AppError(org_errors.OUT_OF_SCOPE)
    letters = await notices.queued_letters(session, org_id=scope.org_id)
    blocks = await notices.member_address_blocks(session, letters, scope.org_id)
    return HTMLResponse(notices.letters_html(letters, blocks, title="信函 Letters"))


# Service shutdown ---------------------------------------------------------------------------------
async def _shutdown_read(session: AsyncSession, row: ServiceShutdown) -> schemas.ShutdownRead:
    counts = await notices.delivery_counts(session, reference=shutdown.reference_of(row.id))
    return schemas.ShutdownRead(
        id=row.id,
        status=row.status,
        collection_stops_at=row.collection_stops_at,
        channels=row.channels,
        message=row.message,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
        purge_started_at=row.purge_started_at,
        completed_at=row.completed_at,
        outcome=row.outcome,
        announce_job_id=row.announce_job_id,
        purge_job_id=row.purge_job_id,
        collection_stopped=shutdown.has_stopped(row),
        notices=counts,
    )


@router.get("/operator/shutdown", response_model=schemas.ShutdownState)
async def operator_shutdown_state(caller: CurrentCaller, session: DbSession) -> schemas.ShutdownState:
    await require_operator(session, caller)
    current = await shutdown.current_shutdown(session)
    history = await shutdown.list_shutdowns(session)
    return schemas.ShutdownState(
        current=await _shutdown_read(session, current) if current else None,
        earliest=shutdown.earliest_date(),
        history=[await _shutdown_read(session, row) for row in history],
    )


@open_through(Gate.COLLECTION)
@router.post("/operator/shutdown", response_model=schemas.ShutdownRead, status_code=201)
async def operator_schedule_shutdown(
    body: schemas.ShutdownCreate, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.ShutdownRead:
    await require_operator(session, caller)
    scheduled = await shutdown.schedule_shutdown(
        session,
        context,
        collection_stops_at=body.collection_stops_at,
        message={"zh-CN": body.message_zh, "en": body.message_en},
        channels=body.channels,
        actor_id=caller.account_id,
        ip=ip,
    )
    return await _shutdown_read(session, scheduled)


@open_through(Gate.COLLECTION)
@router.post("/operator/shutdown/cancel", response_model=schemas.ShutdownRead)
async def operator_cancel_shutdown(
    caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.ShutdownRead:
    await require_operator(session, caller)
    cancelled = await shutdown.cancel_shutdown(session, context, actor_id=caller.account_id, ip=ip)
    return await _shutdown_read(session, cancelled)
