"""Directory import and export endpoints: the template, the upload (answered with a job to
poll at GET /api/v1/jobs/{id}), the import's error report, and the export's download.

Each needs the system duty's import_export function; a job's files are its owner's alone."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response, UploadFile

from zhengtong.core.schemas import OutputSchema
from zhengtong.org import exporting, importing
from zhengtong.org.access import admin_scope
from zhengtong.org.exporting import FileDownload, FileFormat
from zhengtong.org.importing import ImportMode, ImportOptions
from zhengtong.org.models import AdminDuty
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession
from zhengtong.web.errors import request_language
from zhengtong.web.gates import Gate, open_through

router = APIRouter(tags=["org"])

FormatQuery = Annotated[FileFormat, Query(alias="format")]


class TransferStarted(OutputSchema):
    job_id: str  # follow it at GET /api/v1/jobs/{job_id}


def _download(file: FileDownload) -> Response:
    # RFC 6266: an ASCII fallback name, and the real (Chinese) one percent-encoded.
    disposition = f"attachment; filename=\"download\"; filename*=UTF-8''{quote(file.filename)}"
    return Response(file.content, media_type=file.media_type, headers={"Content-Disposition": disposition})


@router.get("/org/import/template", response_class=Response)
async def download_import_template(
    caller: CurrentCaller, session: DbSession, file_format: FormatQuery = "xlsx"
) -> Response:
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, importing.TRANSFER_FUNCTION)
    return _download(await exporting.import_template(session, scope, file_format))


@router.post("/org/import/upload", response_model=TransferStarted, status_code=202)
async def upload_import(
    file: UploadFile,
    request: Request,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
    mode: Annotated[ImportMode, Form()] = ImportMode.ALL_OR_NOTHING,
    create_departments: Annotated[bool, Form()] = True,
) -> TransferStarted:
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, importing.TRANSFER_FUNCTION)
    job = await importing.start_import(
        session,
        context,
        scope,
        data=await file.read(),
        options=ImportOptions(mode, create_departments),
        actor_id=caller.account_id,
        ip=ip,
        language=request_language(request),
    )
    return TransferStarted(job_id=job.id)


@router.get("/org/import/{job_id}/errors", response_class=Response)
async def download_import_errors(
    job_id: str,
    request: Request,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    file_format: FormatQuery = "xlsx",
) -> Response:
    report = await exporting.error_report_file(
        session, context, caller, job_id=job_id, file_format=file_format, language=request_language(request)
    )
    return _download(report)


@open_through(Gate.COLLECTION)
@router.post("/org/export", response_model=TransferStarted, status_code=202)
async def start_export(caller: CurrentCaller, session: DbSession, ip: ClientIp) -> TransferStarted:
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, importing.TRANSFER_FUNCTION)
    job = await exporting.start_export(session, scope, actor_id=caller.account_id, ip=ip)
    return TransferStarted(job_id=job.id)


@router.get("/org/export/{job_id}/download", response_class=Response)
async def download_export(
    job_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> Response:
    return _download(await exporting.export_file(session, context, caller, job_id=job_id))
