"""WebSocket endpoint: each connected client hears the events published for its account
(job progress now; messages, read receipts and presence arrive with the IM issue, which adds
per-user sequence numbers and resume)."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from zhengtong.core.context import AppContext
from zhengtong.identity import service as identity
from zhengtong.web.auth import SESSION_COOKIE

router = APIRouter(tags=["realtime"])

POLICY_VIOLATION = 1008


def account_channel(account_id: str) -> str:
    return f"account:{account_id}"


def _same_origin(websocket: WebSocket) -> bool:
    """Browsers send cookies with cross-site WebSocket handshakes, so a cookie-authenticated
    socket must come from a page of ours."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


async def _authenticate(websocket: WebSocket, context: AppContext) -> str | None:
    token = websocket.query_params.get("token")
    via_cookie = token is None
    token = token or websocket.cookies.get(SESSION_COOKIE)
    if not token or (via_cookie and not _same_origin(websocket)):
        return None
    async with context.db.transaction() as session:
        caller = await identity.authenticate(session, context, token, via_cookie=via_cookie)
    if caller is None or not caller.second_factor_done:
        return None
    return caller.account_id


@router.websocket("/ws")
async def events_socket(websocket: WebSocket) -> None:
    context: AppContext = websocket.app.state.context
    account_id = await _authenticate(websocket, context)
    if account_id is None:
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    async with context.bus.subscribe(account_channel(account_id)) as events:
        forward = asyncio.create_task(_forward(websocket, events))
        try:
            await _answer_pings(websocket)
        except WebSocketDisconnect:
            pass
        finally:
            forward.cancel()
            with suppress(asyncio.CancelledError):
                await forward


async def _forward(websocket: WebSocket, events: Any) -> None:
    async for event in events:
        await websocket.send_json(event)


async def _answer_pings(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive_json()
        if isinstance(message, dict) and message.get("type") == "ping":
            await websocket.send_json({"type": "pong"})
