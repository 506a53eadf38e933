"""DING endpoints. Creating picks people, so it resolves the caller as a `Viewer` (directory
visibility); everything else as an `Actor`. The services check the caller's place in the DING."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Response, UploadFile

from zhengtong.core.context import AppContext
from zhengtong.ding import files, schemas, service
from zhengtong.ding.models import DingChannel
from zhengtong.directory.visibility import actor_for, viewer_for
from zhengtong.platform.ratelimit import enforce
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession

router = APIRouter(tags=["ding"])

CREATES_PER_MINUTE = 20  # each DING may cost an SMS or a call per person


async def _limit_creates(context: AppContext, account_id: str) -> None:
    await enforce(
        context.limiter, f"ding-create:{account_id}", CREATES_PER_MINUTE, 60, open_when_unavailable=True
    )


@router.post("/ding", response_model=schemas.DingRead, status_code=201)
async def create_ding(
    body: schemas.DingIn, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.DingRead:
    """Sends now, or at `scheduled_at` (to the minute); from a chat message with `source_message_id`."""
    await _limit_creates(context, caller.account_id)
    viewer = await viewer_for(session, caller)
    draft = service.DingDraft(
        text=body.text,
        recipient_ids=body.recipient_ids,
        channel=DingChannel(body.channel),
        scheduled_at=body.scheduled_at,
        emergency=body.emergency,
        attachment_id=body.attachment_id,
        source_message_id=body.source_message_id,
    )
    ding = await service.create(session, context, viewer, draft, ip=ip)
    return await service.read_one(session, context, service.Access(ding, None))


@router.get("/ding/sent", response_model=schemas.DingPage)
async def list_sent(
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    limit: int = Query(default=20, ge=1, le=100),
    cursor: str | None = Query(default=None, max_length=26),
) -> schemas.DingPage:
    actor = await actor_for(session, caller)
    return await service.list_sent(session, context, actor, limit=limit, cursor=cursor)


@router.get("/ding/received", response_model=schemas.DingPage)
async def list_received(
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    limit: int = Query(default=20, ge=1, le=100),
    cursor: str | None = Query(default=None, max_length=26),
    unconfirmed: bool = False,
) -> schemas.DingPage:
    """DINGs that reached the caller; `unconfirmed=true`: only those still to confirm."""
    actor = await actor_for(session, caller)
    return await service.list_received(
        session, context, actor, limit=limit, cursor=cursor, unconfirmed_only=unconfirmed
    )


@router.post("/ding/files/upload", response_model=schemas.DingFileRead, status_code=201)
async def upload_attachment(
    file: UploadFile, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.DingFileRead:
    actor = await actor_for(session, caller)
    name = file.filename or "file"
    stored = await files.store(session, context, actor, filename=name, data=await file.read())
    return schemas.DingFileRead(
        id=stored.id, name=name[:200], content_type=stored.content_type, size=stored.size
    )


@router.get("/ding/{ding_id}", response_model=schemas.DingRead)
async def get_ding(
    ding_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.DingRead:
    actor = await actor_for(session, caller)
    return await service.read_one(session, context, await service.access(session, actor, ding_id))


@router.get("/ding/{ding_id}/recipients", response_model=schemas.RecipientPage)
async def list_recipients(
    ding_id: str,
    caller: CurrentCaller,
    session: DbSession,
    tab: schemas.RecipientTab = "unconfirmed",
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=80),
) -> schemas.RecipientPage:
    """One page of 未确认 or 已确认 with both counts (the sender only); `next_cursor` continues the tab."""
    actor = await actor_for(session, caller)
    return await service.recipients_page(session, actor, ding_id, tab=tab, limit=limit, cursor=cursor)


@router.get("/ding/{ding_id}/recipients/{membership_id}/attempts", response_model=schemas.RecipientAttempts)
async def recipient_attempts(
    ding_id: str, membership_id: str, caller: CurrentCaller, session: DbSession
) -> schemas.RecipientAttempts:
    """Every delivery attempt to one recipient and its result (the sender only)."""
    actor = await actor_for(session, caller)
    return await service.attempts_of(session, actor, ding_id, membership_id)


@router.post("/ding/{ding_id}/confirm", response_model=schemas.DingRead)
async def confirm(
    ding_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.DingRead:
    """确认收到: a recipient's one tap; confirming again changes nothing."""
    actor = await actor_for(session, caller)
    return await service.read_one(session, context, await service.confirm(session, context, actor, ding_id))


@router.post("/ding/{ding_id}/remind", response_model=schemas.DingRead)
async def remind(
    ding_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.DingRead:
    """再次提醒 everyone unconfirmed (the sender, at most once per five minutes)."""
    actor = await actor_for(session, caller)
    ding = await service.remind(session, actor, ding_id)
    return await service.read_one(session, context, service.Access(ding, None))


@router.post("/ding/{ding_id}/cancel", response_model=schemas.DingRead)
async def cancel(
    ding_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.DingRead:
    """Calls off a scheduled DING before it leaves (the sender)."""
    actor = await actor_for(session, caller)
    ding = await service.cancel(session, actor, ding_id)
    return await service.read_one(session, context, service.Access(ding, None))


@router.get("/ding/{ding_id}/attachment")
async def download_attachment(
    ding_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> Response:
    actor = await actor_for(session, caller)
    found = await service.attachment_of(session, context, actor, ding_id)
    disposition = "inline" if found.content_type.startswith(("image/", "audio/", "video/")) else "attachment"
    return Response(
        content=found.data,
        media_type=found.content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(found.name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )
