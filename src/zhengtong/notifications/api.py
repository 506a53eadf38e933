"""HTTP endpoints of the notification centre: the person's own notices (the bell)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from zhengtong.notifications import notices, schemas
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import DbSession

router = APIRouter(tags=["notifications"])


# The person's notices -------------------------------------------------------------------------
@router.get("/notices", response_model=schemas.NoticeList)
async def list_my_notices(
    caller: CurrentCaller,
    session: DbSession,
    unread_only: bool = Query(default=False),
    limit: int = Query(default=50, ge=1, le=200),
) -> schemas.NoticeList:
    found, unread = await notices.list_notices(
        session, account_id=caller.account_id, limit=limit, unread_only=unread_only
    )
    return schemas.NoticeList(unread=unread, items=[schemas.NoticeRead.model_validate(n) for n in found])


@router.post("/notices/{notice_id}/read", response_model=schemas.NoticeRead)
async def mark_my_notice_read(
    notice_id: str, caller: CurrentCaller, session: DbSession
) -> schemas.NoticeRead:
    notice = await notices.mark_read(session, account_id=caller.account_id, notice_id=notice_id)
    return schemas.NoticeRead.model_validate(notice)


@router.post("/notices/read-all", status_code=204)
async def mark_all_my_notices_read(caller: CurrentCaller, session: DbSession) -> Response:
    await notices.mark_all_read(session, account_id=caller.account_id)
    return Response(status_code=204)
