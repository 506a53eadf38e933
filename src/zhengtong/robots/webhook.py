"""/robot: DingTalk's custom-robot webhook, so that an alerting integration or a robot library
written for DingTalk posts into a group when only its URL changes.

`POST /robot/send?access_token=T[&timestamp=MS&sign=S]` posts through a robot's webhook;
`POST /robot/sendBySession?session=…` answers an outgoing call. No browser session reaches them
and they stay out of the OpenAPI document. Every answer is HTTP 200 in DingTalk's envelope,
`{"errcode": 0, "errmsg": "ok"}` or one of ERRCODES; each call owns its transaction, so a
refused call posts nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext
from zhengtong.im.models import Message
from zhengtong.robots import incoming
from zhengtong.robots.incoming import Refusal
from zhengtong.web.deps import ClientIp

# Refusal reason → (errcode, errmsg) as DingTalk answers them; `{}` takes the refusal's detail.
ERRCODES: dict[str, tuple[int, str]] = {
    "token_unknown": (300001, "token is not exist"),
    "robot_disabled": (400102, "robot is disabled"),
    "group_disbanded": (400013, "group is disbanded"),
    "ip_not_allowed": (310000, "ip {} not in whitelist"),
    "timestamp_invalid": (310000, "invalid timestamp"),
    "sign_mismatch": (310000, "sign not match"),
    "keywords_missing": (310000, "keywords not in content"),
    "too_fast": (130101, "send too fast, exceed {} times per minute"),
    "too_large": (460101, f"message too long, exceed {incoming.MAX_BODY_BYTES} bytes"),
    "body_invalid": (40035, "缺少参数 {}"),
}

router = APIRouter(prefix="/robot", include_in_schema=False)

Receive = Callable[[AsyncSession, AppContext, bytes], Awaitable[Message]]


def _refused(refusal: Refusal) -> JSONResponse:
    errcode, errmsg = ERRCODES[refusal.reason]
    return JSONResponse({"errcode": errcode, "errmsg": errmsg.replace("{}", refusal.detail)})


async def _answer(request: Request, receive: Receive) -> JSONResponse:
    context: AppContext = request.app.state.context
    raw = await request.body()
    try:
        async with context.db.transaction() as session:
            await receive(session, context, raw)
    except Refusal as refusal:
        return _refused(refusal)
    return JSONResponse({"errcode": 0, "errmsg": "ok"})


@router.post("/send")
async def send(
    request: Request, ip: ClientIp, access_token: str = "", timestamp: str = "", sign: str = ""
) -> JSONResponse:
    async def receive(session: AsyncSession, context: AppContext, raw: bytes) -> Message:
        return await incoming.receive(
            session, context, token=access_token, timestamp=timestamp, sign=sign, ip=ip, raw=raw
        )

    return await _answer(request, receive)


@router.post("/sendBySession")
async def send_by_session(request: Request, session: str = "") -> JSONResponse:
    async def receive(db: AsyncSession, context: AppContext, raw: bytes) -> Message:
        return await incoming.receive_on_session(db, context, token=session, raw=raw)

    return await _answer(request, receive)
