"""Chat attachments: upload with type sniffing and size limits, thumbnails for images, storage
sealed with the organisation's data key, download for the conversation's members, erasure.

The type is decided by the file's first bytes, not by its name or the browser's claim: an
executable renamed to .pdf is still refused, and an "image" that is not one is refused too.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import FieldCipher
from zhengtong.core.errors import AppError
from zhengtong.core.ids import new_id
from zhengtong.directory.visibility import Actor
from zhengtong.im import content as sealing
from zhengtong.im import errors
from zhengtong.im.models import ChatFile
from zhengtong.im.seats import seat_of
from zhengtong.org.models import Organization

THUMBNAIL_SIZE = (320, 320)
MAX_IMAGE_PIXELS = 50_000_000  # decompression bombs are refused before they are decoded
FORBIDDEN_EXTENSIONS = frozenset(
    {
        "exe",
        "com",
        "bat",
        "cmd",
        "msi",
        "dll",
        "scr",
        "vbs",
        "js",
        "jse",
        "ps1",
        "sh",
        "jar",
        "apk",
        "lnk",
        "hta",
    }
)

# (prefix, offset, content type); the first match wins.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"WAVE", 8, "audio/wav"),
    (b"%PDF-", 0, "application/pdf"),
    (b"PK\x03\x04", 0, "application/zip"),  # also docx, xlsx, pptx
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "application/x-ole-storage"),  # doc, xls, ppt
    (b"#!AMR", 0, "audio/amr"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"\xff\xfb", 0, "audio/mpeg"),
    (b"ftyp", 4, "video/mp4"),
    (b"\x1a\x45\xdf\xa3", 0, "video/webm"),
    (b"MZ", 0, "application/x-msdownload"),
    (b"\x7fELF", 0, "application/x-executable"),
    (b"#!", 0, "text/x-script"),
)
_EXECUTABLE_TYPES = frozenset({"application/x-msdownload", "application/x-executable", "text/x-script"})
_KIND_PREFIXES = {"image": ("image/",), "voice": ("audio/",), "video": ("video/", "audio/webm")}


def sniff(data: bytes) -> str:
    for prefix, offset, content_type in _SIGNATURES:
        if data[offset : offset + len(prefix)] == prefix:
            return content_type
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def _check_type(kind: str, filename: str, content_type: str) -> None:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if content_type in _EXECUTABLE_TYPES or extension in FORBIDDEN_EXTENSIONS:
        raise AppError(errors.FILE_TYPE_FORBIDDEN, detail={"content_type": content_type})
    prefixes = _KIND_PREFIXES.get(kind)
    if prefixes is not None and not content_type.startswith(prefixes):
        raise AppError(errors.FILE_TYPE_FORBIDDEN, detail={"content_type": content_type, "kind": kind})


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    width: int
    height: int


def _thumbnail(data: bytes) -> Thumbnail:
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.thumbnail(THUMBNAIL_SIZE)
            output = io.BytesIO()
            image.convert("RGB").save(output, format="JPEG", quality=80)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as error:
        raise AppError(errors.FILE_TYPE_FORBIDDEN, detail={"reason": "not a readable image"}) from error
    return Thumbnail(output.getvalue(), width, height)


def _cipher(context: AppContext, organization: Organization) -> FieldCipher:
    return sealing.org_cipher(context, organization)


async def _put_sealed(context: AppContext, cipher: FieldCipher, key: str, data: bytes) -> None:
    await context.storage.put(key, cipher.encrypt(data, aad=key.encode()))


async def upload(
    session: AsyncSession,
    context: AppContext,
    viewer: Actor,
    conversation_id: str,
    *,
    kind: str,
    filename: str,
    data: bytes,
) -> ChatFile:
    await seat_of(session, viewer, conversation_id)
    if len(data) > context.settings.max_upload_bytes:
        raise AppError(errors.FILE_TOO_LARGE, detail={"max_bytes": context.settings.max_upload_bytes})
    content_type = sniff(data)
    _check_type(kind, filename, content_type)
    thumbnail = _thumbnail(data) if kind == "image" else None
    organization = await session.get(Organization, viewer.org_id)
    assert organization is not None
    cipher = _cipher(context, organization)
    file_id = new_id()
    storage_key = f"im/{viewer.org_id}/{file_id}"
    await _put_sealed(context, cipher, storage_key, data)
    thumbnail_key = None
    if thumbnail is not None:
        thumbnail_key = storage_key + ".thumb"
        await _put_sealed(context, cipher, thumbnail_key, thumbnail.data)
    chat_file = ChatFile(
        id=file_id,
        org_id=viewer.org_id,
        conversation_id=conversation_id,
        uploader_membership_id=viewer.membership_id,
        kind=kind,
        content_type=content_type,
        size=len(data),
        name_sealed=sealing.seal_text(cipher, "im-file", file_id, filename[:200] or "file"),
        storage_key=storage_key,
        thumbnail_key=thumbnail_key,
        width=thumbnail.width if thumbnail else None,
        height=thumbnail.height if thumbnail else None,
    )
    session.add(chat_file)
    return chat_file


@dataclass(frozen=True)
class Download:
    name: str
    content_type: str
    data: bytes


async def download(
    session: AsyncSession, context: AppContext, viewer: Actor, file_id: str, *, thumbnail: bool
) -> Download:
    chat_file = await session.get(ChatFile, file_id)
    if chat_file is None or chat_file.org_id != viewer.org_id or chat_file.erased_at is not None:
        raise AppError(errors.FILE_NOT_FOUND)
    await seat_of(session, viewer, chat_file.conversation_id)
    key = chat_file.thumbnail_key if thumbnail else chat_file.storage_key
    if key is None:
        raise AppError(errors.FILE_NOT_FOUND)
    organization = await session.get(Organization, viewer.org_id)
    assert organization is not None
    cipher = _cipher(context, organization)
    data = cipher.decrypt(await context.storage.get(key), aad=key.encode())
    name = sealing.unseal_text(cipher, "im-file", chat_file.id, chat_file.name_sealed)
    return Download(name, "image/jpeg" if thumbnail else chat_file.content_type, data)


async def erase_file(session: AsyncSession, context: AppContext, file_id: str) -> None:
    """Removes the stored bytes and the name; the row remains as a marker."""
    chat_file = await session.get(ChatFile, file_id)
    if chat_file is None or chat_file.erased_at is not None:
        return
    for key in (chat_file.storage_key, chat_file.thumbnail_key):
        if key is not None:
            await context.storage.delete(key)
    chat_file.name_sealed = b""
    chat_file.erased_at = utcnow()


async def copy_file(session: AsyncSession, context: AppContext, file_id: str, conversation_id: str) -> str:
    source = await session.get(ChatFile, file_id)
    if source is None or source.erased_at is not None:
        raise AppError(errors.FILE_NOT_FOUND)
    organization = await session.get(Organization, source.org_id)
    assert organization is not None
    cipher = _cipher(context, organization)
    copy_id = new_id()
    storage_key = f"im/{source.org_id}/{copy_id}"
    data = cipher.decrypt(await context.storage.get(source.storage_key), aad=source.storage_key.encode())
    await _put_sealed(context, cipher, storage_key, data)
    thumbnail_key = None
    if source.thumbnail_key is not None:
        thumbnail_key = storage_key + ".thumb"
        thumb = cipher.decrypt(
            await context.storage.get(source.thumbnail_key), aad=source.thumbnail_key.encode()
        )
        await _put_sealed(context, cipher, thumbnail_key, thumb)
    name = sealing.unseal_text(cipher, "im-file", source.id, source.name_sealed)
    session.add(
        ChatFile(
            id=copy_id,
            org_id=source.org_id,
            conversation_id=conversation_id,
            uploader_membership_id=source.uploader_membership_id,
            kind=source.kind,
            content_type=source.content_type,
            size=source.size,
            name_sealed=sealing.seal_text(cipher, "im-file", copy_id, name),
            storage_key=storage_key,
            thumbnail_key=thumbnail_key,
            width=source.width,
            height=source.height,
            attached_at=utcnow(),  # made for the forwarded message that carries it
        )
    )
    return copy_id


async def remove_unsent_uploads(context: AppContext, *, older_than: timedelta, batch: int = 500) -> int:
    """Uploads that no message carried within `older_than` (the composer was closed, the send
    failed for good): their bytes and rows go, since nothing shows them to anyone. Returns how many."""
    removed = 0
    while True:
        async with context.db.transaction() as session:
            unsent = (
                await session.scalars(
                    select(ChatFile)
                    .where(ChatFile.attached_at.is_(None), ChatFile.created_at < utcnow() - older_than)
                    .limit(batch)
                )
            ).all()
            for chat_file in unsent:
                for key in (chat_file.storage_key, chat_file.thumbnail_key):
                    if key is not None and chat_file.erased_at is None:
                        await context.storage.delete(key)
                await session.delete(chat_file)
        removed += len(unsent)
        if len(unsent) < batch:
            return removed
