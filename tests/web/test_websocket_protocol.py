"""The server's WebSocket protocol keeps little per idle socket (web/websocket_protocol.py), and the
events socket is answered ahead of the middleware and routing (app.ZhengtongAPI)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

from helpers import create_member, events_socket_url, uvicorn_in_process
from zhengtong import realtime
from zhengtong.core.context import SOCKET_QUERIES_AT_ONCE, AppContext
from zhengtong.web.websocket_protocol import LeanWebSocketProtocol, _Flag, _Inbox


async def test_the_inbox_hands_out_in_order_to_whoever_waits() -> None:
    inbox = _Inbox()
    inbox.put_nowait({"type": "websocket.connect"})
    assert not inbox.empty()
    assert await inbox.get() == {"type": "websocket.connect"}
    assert inbox.empty()

    waiting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    inbox.put_nowait({"type": "websocket.receive", "text": "1"})
    inbox.put_nowait({"type": "websocket.receive", "text": "2"})
    assert await waiting == {"type": "websocket.receive", "text": "1"}
    assert await inbox.get() == {"type": "websocket.receive", "text": "2"}


async def test_a_cancelled_reader_of_the_inbox_loses_nothing_and_disturbs_no_other() -> None:
    inbox = _Inbox()
    cancelled = asyncio.create_task(inbox.get())
    other = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    assert cancelled.cancelled() and not other.done()
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    assert await asyncio.wait_for(other, 1) == {"type": "websocket.disconnect", "code": 1000}
    assert inbox.empty()


async def test_the_writable_flag_holds_writers_while_cleared() -> None:
    flag = _Flag()
    await asyncio.wait_for(flag.wait(), 1)  # set from the start: writing is allowed
    flag.clear()
    writers = [asyncio.create_task(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    writers[0].cancel()
    await asyncio.sleep(0)
    assert not any(writer.done() for writer in writers[1:])
    flag.set()
    await asyncio.wait_for(asyncio.gather(*writers[1:]), 1)
    assert flag.is_set()


def _awaited_chain(task: asyncio.Task[Any]) -> list[str]:
    """The qualified names of the coroutines a task is suspended in, outermost first."""
    names: list[str] = []
    awaitable: Any = task.get_coro()
    while awaitable is not None and hasattr(awaitable, "cr_code"):
        names.append(awaitable.cr_code.co_qualname)
        awaitable = awaitable.cr_await
    return names


async def test_an_idle_events_socket_holds_no_handshake_and_no_middleware(
    app: Any, context: AppContext
) -> None:
    member = await create_member(context)
    async with uvicorn_in_process(app) as server:
        url = await events_socket_url(server, context, member)
        async with websockets.connect(url, compression="deflate") as socket_:
            assert json.loads(await socket_.recv())["type"] == "hello"
            await socket_.send(json.dumps({"type": "ping"}))
            assert json.loads(await socket_.recv()) == {"type": "pong"}

            (connection,) = server.server_state.connections
            assert isinstance(connection, LeanWebSocketProtocol)
            assert not hasattr(connection, "request") and not hasattr(connection, "response")
            (endpoint_task,) = (task for task in server.server_state.tasks if not task.done())
            # uvicorn calls the application, which calls the endpoint: nothing in between.
            chain = _awaited_chain(endpoint_task)
            assert chain[:5] == [
                "WebSocketsSansIOProtocol.run_asgi",
                "ZhengtongAPI.__call__",
                "events_socket",
                "_serve",
                "_read_client",
            ]
        for _ in range(100):  # the server notices the client left, and lets go of the connection
            if not server.server_state.connections:
                break
            await asyncio.sleep(0.01)
        assert not server.server_state.connections


@pytest.mark.parametrize("path", ["/api/v1/ws/", "/api/v1/wss"])
async def test_other_socket_paths_are_routed_and_refused(app: Any, path: str) -> None:
    async with uvicorn_in_process(app) as server:
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with websockets.connect(f"ws://127.0.0.1:{server.config.port}{path}"):
                pass


async def test_live_events_go_out_in_the_appenders_call_and_in_order(
    app: Any, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the protocol's send_text_now, live events that continue the stream are sent while
    they are appended, without waking the socket's writer; the client sees each once, in order."""
    woken: list[int] = []
    send = realtime._StreamWriter._send

    async def counting_send(self: realtime._StreamWriter, frames: list[str]) -> None:
        woken.append(len(frames))
        await send(self, frames)

    monkeypatch.setattr(realtime._StreamWriter, "_send", counting_send)
    member = await create_member(context)
    async with uvicorn_in_process(app) as server:
        url = await events_socket_url(server, context, member)
        async with websockets.connect(f"{url}&batch=1") as socket_:
            hello = json.loads(await socket_.recv())
            await socket_.send(json.dumps({"type": "ping"}))  # once answered, the socket's writer is idle
            assert json.loads(await socket_.recv()) == {"type": "pong"}
            woken.clear()  # the hello and its (empty) replay
            for n in range(1, 4):
                await context.events.append([member.account_id], {"type": "note", "n": n})
            frames = [json.loads(await asyncio.wait_for(socket_.recv(), 5)) for _ in range(3)]
            assert [frame["seq"] for frame in frames] == [hello["seq"] + n for n in (1, 2, 3)]
            assert [frame["event"]["n"] for frame in frames] == [1, 2, 3]
            assert woken == []


def _count_concurrent_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Makes realtime's coroutine `name` slow (a slow database) and counts how many run at once;
    the returned list holds the most seen."""
    original = getattr(realtime, name)
    busy, most = 0, [0]

    async def counting(*arguments: Any) -> Any:
        nonlocal busy
        busy += 1
        most[0] = max(most[0], busy)
        try:
            await asyncio.sleep(0.01)
            return await original(*arguments)
        finally:
            busy -= 1

    monkeypatch.setattr(realtime, name, counting)
    return most


async def test_a_storm_of_connections_is_set_up_a_few_at_a_time(
    app: Any, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sockets that connect at once (clients reconnecting after a restart) are authenticated at
    most SOCKET_QUERIES_AT_ONCE at a time, and every one of them is served."""
    most = _count_concurrent_calls(monkeypatch, "_authenticate")
    member = await create_member(context)
    async with uvicorn_in_process(app) as server:
        url = await events_socket_url(server, context, member)

        async def hello() -> str:
            async with websockets.connect(url) as socket_:
                return str(json.loads(await socket_.recv())["type"])

        answers = await asyncio.gather(*(hello() for _ in range(SOCKET_QUERIES_AT_ONCE * 3)))
    assert answers == ["hello"] * (SOCKET_QUERIES_AT_ONCE * 3)
    assert 1 < most[0] <= SOCKET_QUERIES_AT_ONCE


async def test_heartbeats_in_the_same_moment_query_a_few_at_a_time(
    app: Any, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thousands of clients pinging in the same second must not hold every database connection:
    the heartbeat's checks take turns (SOCKET_QUERIES_AT_ONCE), and every ping is answered."""
    most = _count_concurrent_calls(monkeypatch, "_require_policy_acknowledged")
    member = await create_member(context)
    async with uvicorn_in_process(app) as server:
        url = await events_socket_url(server, context, member)
        sockets = [await websockets.connect(url) for _ in range(SOCKET_QUERIES_AT_ONCE * 3)]
        try:
            for socket_ in sockets:
                assert json.loads(await socket_.recv())["type"] == "hello"
            await asyncio.gather(*(socket_.send(json.dumps({"type": "ping"})) for socket_ in sockets))
            answers = [json.loads(await asyncio.wait_for(socket_.recv(), 10)) for socket_ in sockets]
        finally:
            await asyncio.gather(*(socket_.close() for socket_ in sockets))
    assert answers == [{"type": "pong"}] * len(sockets)
    assert 1 < most[0] <= SOCKET_QUERIES_AT_ONCE
