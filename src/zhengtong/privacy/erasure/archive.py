"""The organisation's archive (组织数据归档导出): during the cooling-off period before a
deregistration, the main admin may take the organisation's data along before it is purged.

A job writes a zip of
- `directory/members.csv` (the rows of the directory export: mobile, job number, departments,
  titles, contact and custom fields) and `directory/departments.json`;
- `conversations/<conversation id>.json`: every conversation's title, kind, members by name and
  its messages in seq order (sender, time, the decrypted text, recalled ones as markers,
  attachments by name);
- `files/<conversation id>/<file id>-<name>`: the attachments' decrypted bytes;
- `manifest.json`: what is where, and the counts.

Conversations are read one at a time and their messages a page at a time, each page written into
the zip before the next is read, so an organisation with millions of messages never has them in
memory at once; only the finished (compressed) zip is held whole, because it is sealed as one
value. It is stored sealed with the organisation's data key under `org/<org id>/archives/<job id>`,
among the organisation's files, so the purge deletes it with the rest (and destroying the key
shreds any copy). The download is a link signed for the organisation's main admin that expires
like a personal export's (`privacy_export_link_hours`); an hourly job deletes expired archives,
and a member leaving the organisation withdraws them at once, since they hold the member list.
Starting and downloading are audited.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import CryptoError, FieldCipher
from zhengtong.core.db import after_commit
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.im import content as sealing
from zhengtong.im.messages import REMOVED_MEMBER, Renderer, renderer_for
from zhengtong.im.models import Conversation, ConversationMember, Message, MessageKind
from zhengtong.im.schemas import ForwardedItem, MessageRead
from zhengtong.org import exporting as directory_export
from zhengtong.org.access import AdminScope, current_membership
from zhengtong.org.importing import (
    DepartmentTree,
    get_organization,
    load_sealed,
    store_sealed,
    template_columns,
)
from zhengtong.org.models import Department, MemberRole, Membership, Organization
from zhengtong.platform import audit, job_files, jobs
from zhengtong.platform.jobs import FINISHED_STATUSES, Job, JobCancelled, JobContext, JobStatus
from zhengtong.privacy.erasure import errors
from zhengtong.privacy.erasure.deregistration import live_deregistration
from zhengtong.privacy.erasure.models import DeregistrationState
from zhengtong.privacy.rights.exporting import link_hours, safe_file_name

ARCHIVE_JOB = "privacy.org_archive"
CLEANUP_JOB = "privacy.org_archive_cleanup"
MESSAGE_PAGE = 1_000  # messages read, rendered and written per transaction
_RUNNING = (JobStatus.QUEUED, JobStatus.RUNNING)
_LINK_PURPOSE = "org-archive-link"
FORMAT_VERSION = 1


def archive_key(org_id: str, job_id: str) -> str:
    """Under the organisation's own files (platform.storage's layout): the purge deletes it."""
    return f"org/{org_id}/archives/{job_id}"


# Who may ------------------------------------------------------------------------------------------
async def _main_admin(session: AsyncSession, caller: Caller) -> Membership:
    membership = await current_membership(session, caller)
    if membership.role != MemberRole.MAIN_ADMIN:
        raise AppError(errors.ARCHIVE_MAIN_ADMIN_REQUIRED)
    return membership


async def _in_cooling_off(session: AsyncSession, org_id: str) -> bool:
    live = await live_deregistration(session, org_id)
    return live is not None and live.state == DeregistrationState.COOLING_OFF


async def _main_admin_in_cooling_off(session: AsyncSession, caller: Caller) -> Membership:
    """The archive is the organisation's way to keep its data before the purge: only its main
    admin takes it, and only while a deregistration is in its cooling-off period."""
    membership = await _main_admin(session, caller)
    if not await _in_cooling_off(session, membership.org_id):
        raise AppError(errors.ARCHIVE_NOT_COOLING_OFF)
    return membership


# Starting and the status ------------------------------------------------------------------------
async def _latest_archive(session: AsyncSession, org_id: str, *, running: bool = False) -> Job | None:
    query = select(Job).where(Job.kind == ARCHIVE_JOB, Job.org_id == org_id)
    if running:
        query = query.where(Job.status.in_(_RUNNING))
    return await session.scalar(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(1))


async def start_archive(session: AsyncSession, context: AppContext, caller: Caller, *, ip: str) -> Job:
    """Enqueues the organisation's archive; while one is queued or running, that one is it."""
    membership = await _main_admin_in_cooling_off(session, caller)
    running = await _latest_archive(session, membership.org_id, running=True)
    if running is not None:
        return running
    job = await jobs.enqueue(
        session,
        kind=ARCHIVE_JOB,
        payload={},
        org_id=membership.org_id,
        owner_account_id=caller.account_id,
        max_attempts=3,
    )
    await audit.record(
        session,
        context.keyring,
        action="privacy.org_archive_requested",
        org_id=membership.org_id,
        actor_id=caller.account_id,
        object_type="job",
        object_id=job.id,
        ip=ip,
    )
    return job


@dataclass(frozen=True)
class ArchiveView:
    job: Job | None  # the latest archive, if any
    expires_at: datetime | None
    download_url: str | None  # signed; None unless finished, not expired, and still cooling off


def _download_url(context: AppContext, job: Job) -> str | None:
    return job_files.signed_link(
        context,
        job,
        purpose=_LINK_PURPOSE,
        holder=job.org_id or "",
        path=f"/api/v1/org/deregistration/archive/{job.id}/download",
    )


async def archive_status(session: AsyncSession, context: AppContext, caller: Caller) -> ArchiveView:
    """The organisation's latest archive, for its main admin."""
    membership = await _main_admin(session, caller)
    job = await _latest_archive(session, membership.org_id)
    if job is None:
        return ArchiveView(None, None, None)
    downloadable = await _in_cooling_off(session, membership.org_id)
    return ArchiveView(job, job_files.expires_at(job), _download_url(context, job) if downloadable else None)


# Downloading ------------------------------------------------------------------------------------
async def read_archive(
    session: AsyncSession,
    context: AppContext,
    caller: Caller,
    *,
    job_id: str,
    expires: int,
    signature: str,
    ip: str,
) -> job_files.JobFile:
    """The zip, for the main admin holding a valid, unexpired link during the cooling-off period.
    Another organisation's archive: `not_found`."""
    membership = await _main_admin_in_cooling_off(session, caller)
    job = await jobs.get_job(session, job_id)
    if job is None or job.kind != ARCHIVE_JOB or job.org_id != membership.org_id:
        raise AppError(NOT_FOUND)
    if not job_files.signature_matches(
        context,
        purpose=_LINK_PURPOSE,
        job_id=job.id,
        holder=membership.org_id,
        expires=expires,
        signature=signature,
    ):
        raise AppError(errors.ARCHIVE_LINK_INVALID)
    if job.status != JobStatus.SUCCEEDED:
        raise AppError(errors.ARCHIVE_NOT_READY)
    key = archive_key(membership.org_id, job.id)
    if job_files.link_expired(job, expires) or not await context.storage.exists(key):
        raise AppError(errors.ARCHIVE_EXPIRED)
    organization = await get_organization(session, membership.org_id)
    content = await load_sealed(context, organization, key)
    await audit.record(
        session,
        context.keyring,
        action="privacy.org_archive_downloaded",
        org_id=membership.org_id,
        actor_id=caller.account_id,
        object_type="job",
        object_id=job.id,
        ip=ip,
    )
    return job_files.JobFile(content, f"org-archive-{job.created_at:%Y%m%d}.zip")


# The zip ----------------------------------------------------------------------------------------
class _ArchiveWriter:
    """A zip built in memory entry by entry; compression runs in a worker thread so the event
    loop (other jobs, the API in the same process) is not held up by a large file."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._zip = zipfile.ZipFile(self._buffer, "w", compression=zipfile.ZIP_DEFLATED)

    async def add(self, name: str, data: bytes) -> None:
        await asyncio.to_thread(self._zip.writestr, name, data)

    @asynccontextmanager
    async def json_list(self, name: str, head: Mapping[str, Any], key: str) -> AsyncIterator[_JsonList]:
        """One JSON object, `head` with `key` holding a list written item by item as they come."""
        # zip64 because the size of an entry written as a stream is not known in advance.
        stream = self._zip.open(name, "w", force_zip64=True)
        try:
            opening = orjson.dumps({**head, key: []})[: -len(b"[]}")] + b"["
            await asyncio.to_thread(stream.write, opening)
            items = _JsonList(stream)
            yield items
            await asyncio.to_thread(stream.write, b"\n]}")
        finally:
            stream.close()

    def finish(self) -> bytes:
        self._zip.close()
        return self._buffer.getvalue()


@dataclass
class _JsonList:
    stream: IO[bytes]
    written: int = 0

    async def extend(self, items: Sequence[Mapping[str, Any]]) -> None:
        if not items:
            return
        lines = [orjson.dumps(item) for item in items]
        separator = b"\n" if self.written == 0 else b",\n"
        await asyncio.to_thread(self.stream.write, separator + b",\n".join(lines))
        self.written += len(items)


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)


# The job ----------------------------------------------------------------------------------------
class _Progress:
    """Reports members and messages done; at most once per page, so an organisation of many
    small conversations does not write a progress row per conversation."""

    def __init__(self, job: JobContext, total: int) -> None:
        self.job = job
        self.total = total
        self.done = 0
        self._reported = 0

    async def advance(self, count: int) -> None:
        self.done += count
        if self.done - self._reported >= MESSAGE_PAGE or self.done >= self.total:
            await self.report()

    async def report(self) -> None:
        self._reported = self.done
        await self.job.report_progress(min(self.done, self.total), self.total)


@dataclass
class _Counts:
    members: int = 0
    departments: int = 0
    conversations: int = 0
    messages: int = 0
    files: int = 0
    missing_files: list[str] = field(default_factory=list)  # attachment ids whose bytes are gone


@dataclass(frozen=True)
class _Attachment:
    chat_file_id: str
    storage_key: str
    path: str  # inside the zip


async def _allowed_owner(session: AsyncSession, job: JobContext) -> Membership | None:
    """The job's owner while they are still the main admin and the organisation still in its
    cooling-off period; None otherwise."""
    owner = await session.scalar(
        select(Membership).where(
            Membership.org_id == job.org_id, Membership.account_id == job.owner_account_id
        )
    )
    if owner is None or owner.role != MemberRole.MAIN_ADMIN:
        return None
    return owner if await _in_cooling_off(session, owner.org_id) else None


async def _owner_or_cancel(job: JobContext) -> Membership:
    """Checked when the job runs and again once the file is stored: a deregistration cancelled
    (or a purge begun, or the owner no longer main admin) cancels the archive, since trying
    again would not change that."""
    async with job.transaction() as session:
        owner = await _allowed_owner(session, job)
        found = await jobs.get_job(session, job.job_id)
        if owner is None and found is not None:
            await jobs.cancel(session, job=found)
    if owner is None:
        raise JobCancelled(job.job_id)
    return owner


async def run_archive(job: JobContext, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The archive job (see the module docstring); safe to run again after a crash."""
    context = job.context
    owner = await _owner_or_cancel(job)
    async with job.transaction() as session:
        organization = await get_organization(session, owner.org_id)
        member_ids = await directory_export.member_ids_in_scope(
            session, AdminScope(owner.org_id, owner.id, True, (), frozenset())
        )
        conversation_ids = list(
            await session.scalars(
                select(Conversation.id)
                .where(Conversation.org_id == owner.org_id)
                .order_by(Conversation.created_at, Conversation.id)
            )
        )
        messages = await session.scalar(
            select(func.count()).select_from(Message).where(Message.org_id == owner.org_id)
        )
    progress = _Progress(job, len(member_ids) + int(messages or 0))
    writer = _ArchiveWriter()
    counts = _Counts()
    await _write_directory(job, writer, organization, member_ids, counts, progress)
    for conversation_id in conversation_ids:
        await _write_conversation(job, writer, organization, conversation_id, counts, progress)
    generated_at = utcnow()
    await writer.add("manifest.json", _json(_manifest(organization, counts, generated_at)))
    archive = await asyncio.to_thread(writer.finish)
    await _store(job, organization, archive, progress)
    expires_at = generated_at + timedelta(hours=link_hours(context))
    return {
        "members": counts.members,
        "conversations": counts.conversations,
        "messages": counts.messages,
        "files": counts.files,
        "bytes": len(archive),
        "expires_at": expires_at.isoformat(),
    }


async def _write_directory(
    job: JobContext,
    writer: _ArchiveWriter,
    organization: Organization,
    member_ids: Sequence[str],
    counts: _Counts,
    progress: _Progress,
) -> None:
    """The directory export's rows as CSV (formula-safe, UTF-8 with a BOM for Excel), and the
    department tree."""
    async with job.transaction() as session:
        columns = await template_columns(session, organization.id)
        tree = await DepartmentTree.load(session, organization.id)
        departments = await _departments(session, organization.id, tree)
    rows: list[list[str]] = []
    for start in range(0, len(member_ids), directory_export.EXPORT_BATCH):
        batch = member_ids[start : start + directory_export.EXPORT_BATCH]
        async with job.transaction() as session:
            rows.extend(await directory_export.export_rows(session, job.context, batch, columns, tree))
        await progress.advance(len(batch))
    headers = [column.header for column in columns]
    await writer.add("directory/members.csv", directory_export.csv_bytes(headers, rows))
    await writer.add("directory/departments.json", _json(departments))
    counts.members, counts.departments = len(rows), len(departments)


async def _departments(session: AsyncSession, org_id: str, tree: DepartmentTree) -> list[dict[str, Any]]:
    found = await session.scalars(
        select(Department).where(Department.org_id == org_id).order_by(Department.path, Department.sort_order)
    )
    return [
        {
            "id": department.id,
            "name": department.name,
            "parent_id": department.parent_id,
            "path": tree.display(tree.names_of(department.id)),
            "sort_order": department.sort_order,
        }
        for department in found
    ]


async def _write_conversation(
    job: JobContext,
    writer: _ArchiveWriter,
    organization: Organization,
    conversation_id: str,
    counts: _Counts,
    progress: _Progress,
) -> None:
    """The conversation's JSON, its messages a page at a time; then its attachments' bytes (a zip
    takes one entry at a time, so they follow the JSON)."""
    async with job.transaction() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            return  # deleted since the list was read
        head = await _conversation_head(session, job.context, organization, conversation)
    cipher = sealing.org_cipher(job.context, organization)
    attachments: list[_Attachment] = []
    async with writer.json_list(f"conversations/{conversation_id}.json", head, "messages") as messages:
        after_seq = 0
        while True:
            async with job.transaction() as session:
                page = await _message_page(session, conversation_id, after_seq)
                renderer = await renderer_for(
                    session, job.context, organization, page, viewer_membership_id=None
                )
            entries = [_message_entry(renderer, message, attachments) for message in page]
            await messages.extend(entries)
            await progress.advance(len(page))
            if len(page) < MESSAGE_PAGE:
                break
            after_seq = page[-1].seq
    counts.conversations += 1
    counts.messages += messages.written
    await _write_attachments(job.context, writer, cipher, attachments, counts)


async def _conversation_head(
    session: AsyncSession, context: AppContext, organization: Organization, conversation: Conversation
) -> dict[str, Any]:
    names = list(
        await session.scalars(
            select(Membership.name)
            .join(ConversationMember, ConversationMember.membership_id == Membership.id)
            .where(ConversationMember.conversation_id == conversation.id)
            .order_by(ConversationMember.created_at, ConversationMember.id)
        )
    )
    announcement = None
    if conversation.announcement_sealed:
        cipher = sealing.org_cipher(context, organization)
        sealed = conversation.announcement_sealed
        announcement = sealing.unseal_text(cipher, "im-announcement", conversation.id, sealed)
    return {
        "id": conversation.id,
        "kind": conversation.kind,
        "title": conversation.name or "、".join(names),  # a direct conversation is named by its pair
        "created_at": conversation.created_at.isoformat(),
        "disbanded_at": conversation.disbanded_at.isoformat() if conversation.disbanded_at else None,
        "announcement": announcement,
        "members": names,
    }


async def _message_page(session: AsyncSession, conversation_id: str, after_seq: int) -> list[Message]:
    found = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq)
        .limit(MESSAGE_PAGE)
    )
    return list(found)


def _sender(message: MessageRead) -> str:
    # The platform writes system lines; a message without a sender otherwise lost its author.
    if message.kind == MessageKind.SYSTEM:
        return ""
    return message.sender_name or REMOVED_MEMBER


def _message_entry(renderer: Renderer, message: Message, attachments: list[_Attachment]) -> dict[str, Any]:
    """One message as the archive gives it; a recalled one is a marker (who, when), its content
    erased. The attachment it carries is added to `attachments`."""
    rendered = renderer.render(message)
    entry: dict[str, Any] = {
        "seq": rendered.seq,
        "id": rendered.id,
        "kind": rendered.kind,
        "sender": _sender(rendered),
        "sent_at": rendered.created_at.isoformat(),
        "recalled": rendered.recalled,
    }
    if rendered.recalled:
        return entry
    entry["text"] = rendered.text
    if rendered.attachment is not None:
        chat_file = renderer.files[rendered.attachment.id]
        path = f"files/{message.conversation_id}/{chat_file.id}-{safe_file_name(rendered.attachment.name)}"
        attachments.append(_Attachment(chat_file.id, chat_file.storage_key, path))
        entry["attachment"] = {
            "name": rendered.attachment.name,
            "file": path,
            "content_type": rendered.attachment.content_type,
            "size": rendered.attachment.size,
        }
    if rendered.quote is not None:
        entry["quote"] = {
            "seq": rendered.quote.seq,
            "sender": rendered.quote.sender_name,
            "excerpt": rendered.quote.excerpt,
        }
    if rendered.items:
        entry["forwarded"] = [_forwarded(item) for item in rendered.items]
    if rendered.system is not None:
        entry["system"] = rendered.system.model_dump(mode="json")
    return entry


def _forwarded(item: ForwardedItem) -> dict[str, Any]:
    return {
        "sender": item.sender_name,
        "kind": item.kind,
        "text": item.text,
        "sent_at": item.created_at.isoformat(),
        "attachment": item.attachment.name if item.attachment else None,
    }


async def _write_attachments(
    context: AppContext,
    writer: _ArchiveWriter,
    cipher: FieldCipher,
    attachments: Iterable[_Attachment],
    counts: _Counts,
) -> None:
    """One file at a time: read, opened, written into the zip, let go."""
    for attachment in attachments:
        try:
            sealed = await context.storage.get(attachment.storage_key)
            data = cipher.decrypt(sealed, aad=attachment.storage_key.encode())
        except (FileNotFoundError, CryptoError):
            counts.missing_files.append(attachment.chat_file_id)  # listed in the manifest
            continue
        await writer.add(attachment.path, data)
        counts.files += 1


def _manifest(organization: Organization, counts: _Counts, generated_at: datetime) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "organization": {"id": organization.id, "name": organization.name},
        "generated_at": generated_at.isoformat(),
        "contents": {
            "directory/members.csv": "成员（与通讯录导出相同的列） / members, as in the directory export",
            "directory/departments.json": "部门 / departments",
            "conversations/<id>.json": "会话及其消息（按顺序） / each conversation, its messages in order",
            "files/<conversation>/<file>-<name>": "聊天附件（已解密） / chat attachments, decrypted",
        },
        "counts": {
            "members": counts.members,
            "departments": counts.departments,
            "conversations": counts.conversations,
            "messages": counts.messages,
            "files": counts.files,
        },
        "missing_files": counts.missing_files,
    }


async def _store(job: JobContext, organization: Organization, archive: bytes, progress: _Progress) -> None:
    """Stores the zip sealed with the organisation's key, unless the job was cancelled (a member
    left) or the purge began meanwhile. The checks come after the write: a purge that starts
    later deletes the file with the organisation's files; one that started earlier is seen here,
    and the file is deleted now."""
    context = job.context
    key = archive_key(organization.id, job.job_id)
    await store_sealed(context, organization, key, archive)
    try:
        await progress.report()  # raises JobCancelled when the job was cancelled meanwhile
        await _owner_or_cancel(job)
    except JobCancelled:
        await context.storage.delete(key)
        raise


# Cleaning up ------------------------------------------------------------------------------------
async def remove_expired_archives(job: JobContext, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Deletes the file of every archive whose link expired or whose job did not succeed; the
    job's result remembers it."""
    removed = 0
    now = utcnow()
    async with job.transaction() as session:
        finished = await session.scalars(
            select(Job).where(Job.kind == ARCHIVE_JOB, Job.status.in_(list(FINISHED_STATUSES)))
        )
        for archive in finished.all():
            expires_at = job_files.expires_at(archive)
            if (archive.result or {}).get("files_removed"):
                continue
            if archive.status == JobStatus.SUCCEEDED and expires_at is not None and expires_at > now:
                continue
            await job.context.storage.delete(archive_key(archive.org_id or "", archive.id))
            archive.result = {**(archive.result or {}), "files_removed": True}
            removed += 1
    return {"archives_removed": removed}


async def withdraw_archives_on_leaving(
    session: AsyncSession, context: AppContext, membership: Membership
) -> None:
    """A member leaving the organisation (the `member_leaving` hook): its archives list them, so
    they are withdrawn now, like the directory's exports; one being built is cancelled. The main
    admin can start another."""
    archives = (
        await session.scalars(select(Job).where(Job.kind == ARCHIVE_JOB, Job.org_id == membership.org_id))
    ).all()
    if not archives:
        return
    for archive in archives:
        if archive.status in _RUNNING:
            await jobs.cancel(session, job=archive)
        archive.result = {**(archive.result or {}), "files_removed": True}

    async def delete_files() -> None:
        await context.storage.delete_prefix(f"org/{membership.org_id}/archives/")

    after_commit(session, delete_files)
