"""A DING's one attachment: uploaded before the DING is sent (so the client shows progress),
sniffed like chat uploads, stored sealed with the organisation's key under ding/<org>/<id>, and
downloaded only by the sender and the people the DING reached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import FieldCipher
from zhengtong.core.errors import AppError
from zhengtong.core.ids import new_id
from zhengtong.ding import errors
from zhengtong.ding.models import DingFile
from zhengtong.directory.visibility import Actor
from zhengtong.im import content as sealing
from zhengtong.im import files as chat_files
from zhengtong.org.models import Organization

NAME_PURPOSE = "ding-file"  # AAD "ding-file:<id>" binds a sealed name to its row
# What chat refuses by its first bytes, whatever the name says.
_EXECUTABLE_TYPES = frozenset({"application/x-msdownload", "application/x-executable", "text/x-script"})


async def org_cipher(session: AsyncSession, context: AppContext, org_id: str) -> FieldCipher:
    organization = await session.get(Organization, org_id)
    assert organization is not None
    return sealing.org_cipher(context, organization)


def _check_type(filename: str, content_type: str) -> None:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if content_type in _EXECUTABLE_TYPES or extension in chat_files.FORBIDDEN_EXTENSIONS:
        raise AppError(errors.FILE_TYPE_FORBIDDEN, detail={"content_type": content_type})


async def store(
    session: AsyncSession, context: AppContext, actor: Actor, *, filename: str, data: bytes
) -> DingFile:
    """Checks and stores an upload; a DING takes it with `take`."""
    if len(data) > context.settings.max_upload_bytes:
        raise AppError(errors.FILE_TOO_LARGE, detail={"max_bytes": context.settings.max_upload_bytes})
    content_type = chat_files.sniff(data)
    _check_type(filename, content_type)
    cipher = await org_cipher(session, context, actor.org_id)
    file_id = new_id()
    storage_key = f"ding/{actor.org_id}/{file_id}"
    await context.storage.put(storage_key, cipher.encrypt(data, aad=storage_key.encode()))
    stored = DingFile(
        id=file_id,
        org_id=actor.org_id,
        uploader_membership_id=actor.membership_id,
        content_type=content_type,
        size=len(data),
        name_sealed=sealing.seal_text(cipher, NAME_PURPOSE, file_id, filename[:200] or "file"),
        storage_key=storage_key,
    )
    session.add(stored)
    await session.flush()
    return stored


async def take(session: AsyncSession, actor: Actor, file_id: str) -> DingFile:
    """The caller's own upload, not taken by another DING yet, marked as taken."""
    found = await session.get(DingFile, file_id)
    if (
        found is None
        or found.org_id != actor.org_id
        or found.uploader_membership_id != actor.membership_id
        or found.attached_at is not None
    ):
        raise AppError(errors.ATTACHMENT_NOT_FOUND)
    found.attached_at = utcnow()
    return found


def name_of(cipher: FieldCipher, stored: DingFile) -> str:
    return sealing.unseal_text(cipher, NAME_PURPOSE, stored.id, stored.name_sealed)


@dataclass(frozen=True)
class Download:
    name: str
    content_type: str
    data: bytes


async def read(session: AsyncSession, context: AppContext, stored: DingFile) -> Download:
    """The file's bytes and name; the caller has checked who may read it."""
    cipher = await org_cipher(session, context, stored.org_id)
    data = cipher.decrypt(await context.storage.get(stored.storage_key), aad=stored.storage_key.encode())
    return Download(name_of(cipher, stored), stored.content_type, data)


async def remove_unsent_uploads(context: AppContext, *, older_than: timedelta, batch: int = 500) -> int:
    """Uploads no DING took within `older_than` (the form was closed): bytes and rows go."""
    removed = 0
    while True:
        async with context.db.transaction() as session:
            unsent = (
                await session.scalars(
                    select(DingFile)
                    .where(DingFile.attached_at.is_(None), DingFile.created_at < utcnow() - older_than)
                    .limit(batch)
                )
            ).all()
            for stored in unsent:
                await context.storage.delete(stored.storage_key)
                await session.delete(stored)
        removed += len(unsent)
        if len(unsent) < batch:
            return removed
