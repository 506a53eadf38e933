"""The WebSocket: authenticated, same-origin for browsers, forwards the account's events."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from helpers import create_member, live_session_token
from zhengtong.core.context import AppContext


async def _session_cookie(context: AppContext, live_url: str) -> tuple[str, str]:
    member = await create_member(context)
    return member.account_id, await live_session_token(context, live_url, member)


async def test_socket_forwards_events_of_the_account(context: AppContext, live_url: str) -> None:
    account_id, token = await _session_cookie(context, live_url)
    headers = {"Cookie": f"zt_session={token}", "Origin": f"http://{live_url}"}
    async with websockets.connect(f"ws://{live_url}/api/v1/ws", additional_headers=headers) as socket_:
        hello = json.loads(await socket_.recv())
        assert hello["type"] == "hello" and hello["resync"] is False
        await socket_.send(json.dumps({"type": "ping"}))
        assert json.loads(await socket_.recv()) == {"type": "pong"}
        await context.events.transient([account_id], {"type": "job.progress", "done": 1})
        await context.events.transient(["someone-else"], {"type": "job.progress", "done": 9})
        await context.events.append([account_id], {"type": "note", "n": 1})
        frames = [json.loads(await asyncio.wait_for(socket_.recv(), 5)) for _ in range(2)]
        assert frames == [
            {"type": "event", "seq": 0, "event": {"type": "job.progress", "done": 1}},
            {"type": "event", "seq": hello["seq"] + 1, "event": {"type": "note", "n": 1}},
        ]


async def test_socket_accepts_a_bearer_token_in_the_query(context: AppContext, live_url: str) -> None:
    _account_id, token = await _session_cookie(context, live_url)
    async with websockets.connect(f"ws://{live_url}/api/v1/ws?token={token}") as socket_:
        assert json.loads(await socket_.recv())["type"] == "hello"
        await socket_.send(json.dumps({"type": "ping"}))
        assert json.loads(await socket_.recv()) == {"type": "pong"}


@pytest.mark.parametrize("case", ["anonymous", "cross_origin", "bad_token"])
async def test_socket_refuses(context: AppContext, live_url: str, case: str) -> None:
    _account_id, token = await _session_cookie(context, live_url)
    headers = {
        "anonymous": {},
        "cross_origin": {"Cookie": f"zt_session={token}", "Origin": "https://evil.example"},
        "bad_token": {"Cookie": "zt_session=zt_forged"},
    }[case]
    with pytest.raises(websockets.exceptions.WebSocketException):
        async with websockets.connect(f"ws://{live_url}/api/v1/ws", additional_headers=headers) as socket_:
            await socket_.recv()


async def test_deflate_keeps_no_context_in_either_direction(context: AppContext, live_url: str) -> None:
    _account_id, token = await _session_cookie(context, live_url)
    url = f"ws://{live_url}/api/v1/ws?token={token}"
    async with websockets.connect(url, compression="deflate") as socket_:
        assert json.loads(await socket_.recv())["type"] == "hello"
        assert socket_.response is not None
        agreed = socket_.response.headers["Sec-WebSocket-Extensions"]
        assert agreed.startswith("permessage-deflate") and "client_no_context_takeover" in agreed
        assert "server_no_context_takeover" in agreed
        await socket_.send(json.dumps({"type": "ping"}))
        assert json.loads(await socket_.recv()) == {"type": "pong"}
