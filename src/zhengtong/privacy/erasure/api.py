"""HTTP endpoints of privacy.erasure: deregistering the caller's current organisation, and the
archive of its data that the main admin may take during the cooling-off period.

Removing a member is `DELETE /api/v1/org/members/{id}` (org.api), which erases through
privacy.erasure.service.erase_member."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.context import AppContext
from zhengtong.platform.jobs import JobStatus
from zhengtong.privacy.erasure import archive, deregistration
from zhengtong.privacy.erasure.schemas import (
    DeregistrationCodeSent,
    DeregistrationRead,
    DeregistrationRequest,
    OrgArchiveRead,
    OrgArchiveStatus,
)
from zhengtong.privacy.rights.exporting import link_hours
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession
from zhengtong.web.downloads import zip_download
from zhengtong.web.gates import Gate, open_through

router = APIRouter(tags=["privacy"])


async def _read(session: AsyncSession, context: AppContext, caller: Caller) -> DeregistrationRead:
    status = await deregistration.get_status(session, context, caller)
    return DeregistrationRead.model_validate(status)


@router.get("/org/deregistration", response_model=DeregistrationRead)
async def get_deregistration(
    caller: CurrentCaller, session: DbSession, context: Context
) -> DeregistrationRead:
    """Whether the organisation is being deregistered and when its data will be purged."""
    return await _read(session, context, caller)


@open_through(Gate.COLLECTION)
@router.post("/org/deregistration/code", response_model=DeregistrationCodeSent)
async def send_deregistration_code(
    caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> DeregistrationCodeSent:
    """Sends the main admin the SMS code that confirms a deregistration."""
    sent, masked = await deregistration.send_code(session, context, caller, ip=ip)
    return DeregistrationCodeSent(
        cooldown_seconds=sent.cooldown_seconds,
        expires_in_seconds=sent.expires_in_seconds,
        mobile_masked=masked,
    )


@open_through(Gate.COLLECTION)
@router.post("/org/deregistration", response_model=DeregistrationRead, status_code=201)
async def request_deregistration(
    body: DeregistrationRequest, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> DeregistrationRead:
    """The main admin asks to deregister the organisation (its name typed, the SMS code given);
    the purge follows the cooling-off period."""
    await deregistration.request_deregistration(
        session, context, caller, org_name=body.org_name, code=body.code, ip=ip
    )
    return await _read(session, context, caller)


@router.delete("/org/deregistration", response_model=DeregistrationRead)
async def cancel_deregistration(
    caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> DeregistrationRead:
    """The main admin cancels during the cooling-off period."""
    await deregistration.cancel_deregistration(session, context, caller, ip=ip)
    return await _read(session, context, caller)


def _archive_status(context: AppContext, view: archive.ArchiveView) -> OrgArchiveStatus:
    job = view.job
    if job is None:
        return OrgArchiveStatus(link_hours=link_hours(context), archive=None)
    read = OrgArchiveRead(
        job_id=job.id,
        status=JobStatus(job.status),
        percent=job.progress_percent,
        done=job.progress_done,
        total=job.progress_total,
        created_at=job.created_at,
        finished_at=job.finished_at,
        expires_at=view.expires_at,
        bytes=(job.result or {}).get("bytes"),
        download_url=view.download_url,
    )
    return OrgArchiveStatus(link_hours=link_hours(context), archive=read)


@open_through(Gate.COLLECTION)
@router.post("/org/deregistration/archive", response_model=OrgArchiveStatus, status_code=202)
async def start_org_archive(
    caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> OrgArchiveStatus:
    """The main admin starts the archive of the organisation's data (directory, conversations,
    files) during the cooling-off period; one already running is returned instead."""
    await archive.start_archive(session, context, caller, ip=ip)
    return _archive_status(context, await archive.archive_status(session, context, caller))


@router.get("/org/deregistration/archive", response_model=OrgArchiveStatus)
async def get_org_archive(caller: CurrentCaller, session: DbSession, context: Context) -> OrgArchiveStatus:
    """The organisation's latest archive with its progress, and its download link once done."""
    return _archive_status(context, await archive.archive_status(session, context, caller))


@router.get("/org/deregistration/archive/{job_id}/download", response_class=Response)
async def download_org_archive(
    job_id: str,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(max_length=128)],
) -> Response:
    """The archive's zip, for the main admin with the signed link, until it expires."""
    file = await archive.read_archive(
        session, context, caller, job_id=job_id, expires=expires, signature=signature, ip=ip
    )
    return zip_download(file, "org-archive.zip")
