"""Export of "my data": a job builds a zip of everything the platform holds about the person (one
JSON file per table, the files they uploaded, a manifest and a README in Chinese and English),
stores it encrypted, and hands out a signed link that only the owner can use until it expires;
a scheduled job deletes expired exports.

What goes in is decided by `holdings` from the schema and the inventory, not by a list here.
"""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import CryptoError
from zhengtong.core.db import after_commit
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.core.inventory import declaration_of
from zhengtong.im import content as sealing
from zhengtong.im.models import ChatFile
from zhengtong.org.models import Membership, Organization
from zhengtong.platform import audit, job_files, jobs
from zhengtong.platform.jobs import Job, JobContext, JobStatus
from zhengtong.platform.storage import account_prefix
from zhengtong.privacy.rights import errors
from zhengtong.privacy.rights.holdings import (
    Opener,
    Person,
    PersonTable,
    is_organisation_record,
    load_person,
    person_tables,
    read_rows,
    render_row,
    treatment_of,
)

EXPORT_JOB = "privacy.my_data_export"
CLEANUP_JOB = "privacy.my_data_export_cleanup"
DEFAULT_LINK_HOURS = 24
STORAGE_AREA = "privacy"
FORMAT_VERSION = 1
_LINK_PURPOSE = "privacy-export-link"


def link_hours(context: AppContext) -> int:
    """How long a finished export can be downloaded: `privacy_export_link_hours` under [extra]
    in the settings file, 24 by default."""
    return int(context.settings.extra.get("privacy_export_link_hours", DEFAULT_LINK_HOURS))


def storage_key(account_id: str, job_id: str) -> str:
    """Among the account's own files (platform.storage's layout), so that erasing the account
    erases its exports too."""
    return f"{account_prefix(STORAGE_AREA, account_id)}exports/{job_id}"


# Starting and listing ---------------------------------------------------------------------------
async def start_export(session: AsyncSession, context: AppContext, caller: Caller, *, ip: str) -> Job:
    """Enqueues an export of the caller's data; while one is queued or running, that one is it."""
    running = await session.scalar(
        select(Job)
        .where(
            Job.kind == EXPORT_JOB,
            Job.owner_account_id == caller.account_id,
            Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        )
        .limit(1)
    )
    if running is not None:
        return running
    job = await jobs.enqueue(
        session, kind=EXPORT_JOB, payload={}, owner_account_id=caller.account_id, max_attempts=3
    )
    await audit.record(
        session,
        context.keyring,
        action="privacy.export_requested",
        actor_id=caller.account_id,
        object_type="job",
        object_id=job.id,
        ip=ip,
    )
    return job


@dataclass(frozen=True)
class ExportView:
    job: Job
    expires_at: datetime | None
    download_url: str | None  # signed; None unless finished and not expired


def download_url(context: AppContext, job: Job) -> str | None:
    """The signed link of a finished export that has not expired."""
    return job_files.signed_link(
        context,
        job,
        purpose=_LINK_PURPOSE,
        holder=job.owner_account_id or "",
        path=f"/api/v1/privacy/exports/{job.id}/download",
    )


async def list_exports(
    session: AsyncSession, context: AppContext, caller: Caller, *, limit: int = 5
) -> list[ExportView]:
    """The caller's latest exports, newest first."""
    found = await session.scalars(
        select(Job)
        .where(Job.kind == EXPORT_JOB, Job.owner_account_id == caller.account_id)
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(limit)
    )
    return [ExportView(job, job_files.expires_at(job), download_url(context, job)) for job in found]


# Downloading ------------------------------------------------------------------------------------
async def read_export(
    session: AsyncSession,
    context: AppContext,
    caller: Caller,
    *,
    job_id: str,
    expires: int,
    signature: str,
    ip: str,
) -> job_files.JobFile:
    """The zip, for its owner holding a valid, unexpired link. Anyone else: `not_found`."""
    job = await jobs.access_own_job(session, job_id=job_id, account_id=caller.account_id)
    if job.kind != EXPORT_JOB:
        raise AppError(NOT_FOUND)
    if not job_files.signature_matches(
        context,
        purpose=_LINK_PURPOSE,
        job_id=job.id,
        holder=caller.account_id,
        expires=expires,
        signature=signature,
    ):
        raise AppError(errors.EXPORT_LINK_INVALID)
    if job.status != JobStatus.SUCCEEDED:
        raise AppError(errors.EXPORT_NOT_READY)
    if job_files.link_expired(job, expires):
        raise AppError(errors.EXPORT_EXPIRED)
    key = storage_key(caller.account_id, job.id)
    if not await context.storage.exists(key):
        raise AppError(errors.EXPORT_EXPIRED)
    content = context.keyring.platform.decrypt(await context.storage.get(key), aad=key.encode())
    await audit.record(
        session,
        context.keyring,
        action="privacy.export_downloaded",
        actor_id=caller.account_id,
        object_type="job",
        object_id=job.id,
        ip=ip,
    )
    return job_files.JobFile(content, f"my-data-{job.created_at:%Y%m%d}.zip")


# The job ----------------------------------------------------------------------------------------
README_ZH = """政通 —— 我的数据导出

本压缩包包含政通平台保存的与您有关的全部个人信息，按照平台的个人信息清单（每个数据库字段都声明了
数据类别和保存期限）自动生成，没有遗漏任何与您的账号或成员身份相关联的数据表。

目录说明：
- manifest.json：清单。列出每个数据表的文件、行数、每个字段的数据类别、保存期限以及导出方式
  （明文、已解密、单向散列无法还原、不导出的登录凭据）。
- data/<表名>.json：每个数据表一个文件，每行一条记录。
- files/：您在聊天中上传的文件（已解密）。

关于您发送的消息：消息内容属于您所在组织的业务记录，由组织管理；因为它们是您本人写下的内容，
所以一并提供给您，清单中标记为 "organisation_record": true。

对于其他人员的数据（例如您管理的成员、您撤回的他人消息），本导出只包含编号，不包含其个人信息。

如需更正或删除个人信息，请在“隐私中心 → 我的申请”中向您所在的组织提出申请。
本文件包含您的个人信息，请妥善保管。
"""

README_EN = """Zhengtong: export of my data

This archive holds every piece of personal data the Zhengtong platform keeps about you. It was
built from the platform's personal-data inventory (every database column declares its kind of
data and how long it is kept), so no table linked to your account or memberships is left out.

Contents:
- manifest.json: the list of every table's file, its row count and, for each column, its kind of
  data, its lifecycle and how it is given (clear, decrypted, one-way hash that cannot be reversed,
  or a login credential that is never exported).
- data/<table>.json: one file per table, one object per row.
- files/: the files you uploaded in chats, decrypted.

About your messages: message content is your organisation's business record, managed by the
organisation; since the words are yours, you get them too. The manifest marks them with
"organisation_record": true.

Other people's data (members you manage, messages of others that you recalled) appears only as
ids, never with their personal data.

To have personal data corrected or deleted, send a request to your organisation in
Privacy centre → My requests. Keep this file safe: it holds your personal data.
"""

_NOTES = {
    "organisation_record": (
        "组织的业务记录：这些内容由您写下，属于组织的业务数据，因为是您的话语而提供给您。",
        "Your organisation's business record: your words, given to you because you wrote them.",
    ),
}


def _column_manifest(person_table: PersonTable) -> list[dict[str, Any]]:
    described = []
    for column in person_table.table.columns:
        declared = declaration_of(column)
        described.append(
            {
                "column": column.name,
                "data_class": declared.data_class.value if declared else None,
                "lifecycle": declared.lifecycle.action.value if declared else None,
                "retention_days": declared.lifecycle.days if declared and declared.lifecycle.days else None,
                "legal_basis": declared.lifecycle.legal_basis if declared else "",
                "encrypted_at_rest": bool(declared and declared.encrypted),
                "exported_as": treatment_of(person_table.table, column).value,
                "note": declared.note if declared else "",
            }
        )
    return described


def _table_manifest(person_table: PersonTable, rows: int) -> dict[str, Any]:
    organisation_record = any(
        is_organisation_record(declaration_of(column)) for column in person_table.table.columns
    )
    entry: dict[str, Any] = {
        "table": person_table.name,
        "file": f"data/{person_table.name}.json",
        "rows": rows,
        "linked_by": person_table.linked_by,
        "organisation_record": organisation_record,
        "columns": _column_manifest(person_table),
    }
    if organisation_record:
        entry["note_zh"], entry["note_en"] = _NOTES["organisation_record"]
    return entry


async def _export_table(
    job: JobContext, person_table: PersonTable, person: Person, opener: Opener
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after_id: str | None = None
    while True:
        async with job.transaction() as session:
            batch = await read_rows(session, person_table, person, after_id=after_id)
        rows.extend(render_row(person_table, row, owned=owned, opener=opener) for row, owned in batch)
        if "id" not in person_table.table.c or not batch:
            return rows
        after_id = str(batch[-1][0]["id"])


_UNSAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def safe_file_name(name: str) -> str:
    """A file name that is safe as one segment of a path inside a zip (no separators, no "..")."""
    cleaned = _UNSAFE_NAME.sub("_", name).strip("._")
    return cleaned[:100] or "file"


@dataclass(frozen=True)
class _ChatUpload:
    path: str
    data: bytes
    entry: dict[str, Any]


async def _chat_uploads(job: JobContext, person: Person) -> list[ChatFile]:
    """The chat attachments the person uploaded that were not erased (by a recall)."""
    async with job.transaction() as session:
        found = await session.scalars(
            select(ChatFile)
            .where(ChatFile.uploader_membership_id.in_(person.membership_ids), ChatFile.erased_at.is_(None))
            .order_by(ChatFile.created_at, ChatFile.id)
        )
        return list(found)


async def _read_upload(context: AppContext, opener: Opener, chat_file: ChatFile) -> _ChatUpload | None:
    """A file the person uploaded, decrypted; None when it can no longer be read."""
    try:
        cipher = opener.org_cipher(chat_file.org_id)
        name = sealing.unseal_text(cipher, "im-file", chat_file.id, chat_file.name_sealed)
        sealed = await context.storage.get(chat_file.storage_key)
        data = cipher.decrypt(sealed, aad=chat_file.storage_key.encode())
    except (CryptoError, FileNotFoundError, ValueError):
        return None
    path = f"files/{chat_file.id}_{safe_file_name(name)}"
    entry = {
        "file": path,
        "id": chat_file.id,
        "name": name,
        "conversation_id": chat_file.conversation_id,
        "content_type": chat_file.content_type,
        "size": chat_file.size,
        "uploaded_at": chat_file.created_at.isoformat(),
    }
    return _ChatUpload(path, data, entry)


def _zip(members: Sequence[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)


async def run_export(job: JobContext, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The export job (see the module docstring); safe to run again after a crash."""
    from zhengtong.models import metadata  # every domain's tables

    context = job.context
    account_id = job.owner_account_id
    if account_id is None:
        raise ValueError("an export belongs to an account")
    async with job.transaction() as session:
        person = await load_person(session, context, account_id)
        organizations = await session.scalars(
            select(Organization).where(Organization.id.in_(set(person.memberships.values())))
        )
        opener = Opener(context, person, {organization.id: organization for organization in organizations})
    tables = person_tables(metadata)
    uploads = await _chat_uploads(job, person)
    total = len(tables) + len(uploads) + 1
    done = 0
    members: list[tuple[str, bytes]] = []
    table_entries = []
    for person_table in tables:
        rows = await _export_table(job, person_table, person, opener)
        members.append((f"data/{person_table.name}.json", _json(rows)))
        table_entries.append(_table_manifest(person_table, len(rows)))
        done += 1
        await job.report_progress(done, total)
    file_entries = []
    for chat_file in uploads:
        upload = await _read_upload(context, opener, chat_file)
        if upload is not None:
            members.append((upload.path, upload.data))
            file_entries.append(upload.entry)
        done += 1
        await job.report_progress(done, total)
    generated_at = utcnow()
    manifest = {
        "format_version": FORMAT_VERSION,
        "generated_at": generated_at.isoformat(),
        "account_id": person.account_id,
        "membership_ids": person.membership_ids,
        "tables": table_entries,
        "files": file_entries,
    }
    members[:0] = [
        ("manifest.json", _json(manifest)),
        ("README.zh.txt", README_ZH.encode()),
        ("README.en.txt", README_EN.encode()),
    ]
    archive = await asyncio.to_thread(_zip, members)
    key = storage_key(account_id, job.job_id)
    await context.storage.put(key, context.keyring.platform.encrypt(archive, aad=key.encode()))
    await job.report_progress(total, total)
    expires_at = generated_at + timedelta(hours=link_hours(context))
    return {
        "tables": len(table_entries),
        "rows": sum(entry["rows"] for entry in table_entries),
        "files": len(file_entries),
        "bytes": len(archive),
        "expires_at": expires_at.isoformat(),
    }


async def remove_expired_exports(job: JobContext, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Deletes every stored export whose link expired, whose job did not succeed, or whose job is
    gone (the account was deleted). Exports still being built are left alone."""
    context = job.context
    removed = 0
    now = utcnow()
    keys = [key for key in context.storage.keys(f"{STORAGE_AREA}/accounts/") if "/exports/" in key]
    async with job.transaction() as session:
        for key in keys:
            owner_job = await session.get(Job, key.rsplit("/", 1)[-1])
            if owner_job is not None and owner_job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
                continue
            expires_at = job_files.expires_at(owner_job) if owner_job is not None else None
            succeeded = owner_job is not None and owner_job.status == JobStatus.SUCCEEDED
            if succeeded and expires_at is not None and expires_at > now:
                continue
            await context.storage.delete(key)
            if owner_job is not None:
                owner_job.result = {**(owner_job.result or {}), "files_removed": True}
            removed += 1
    return {"exports_removed": removed}


async def delete_exports_of(session: AsyncSession, context: AppContext, account_id: str) -> None:
    """Deletes the account's stored exports once the transaction commits (the account is being
    cancelled)."""

    async def delete_files() -> None:
        await context.storage.delete_prefix(account_prefix(STORAGE_AREA, account_id))

    after_commit(session, delete_files)


async def forget_exports_on_leaving(
    session: AsyncSession, context: AppContext, membership: Membership
) -> None:
    """A member leaving an organisation (removed, or cancelling): their exports are snapshots
    holding that organisation's data about them, so they go now rather than when the link expires."""
    exports = await session.scalars(
        select(Job).where(Job.kind == EXPORT_JOB, Job.owner_account_id == membership.account_id)
    )
    for export in exports:
        export.result = {**(export.result or {}), "files_removed": True}
    await delete_exports_of(session, context, membership.account_id)
