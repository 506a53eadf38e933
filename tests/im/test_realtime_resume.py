"""The WebSocket's promises (src/zhengtong/realtime.py), over a real uvicorn in this process:
resume with (epoch, since) gets exactly what was missed, a lost resume point gets resync, a fresh
client gets no replay, every device hears every event once and in order (whatever the overlap of
replay and live delivery, or a live delivery that went missing), typing reaches the others only,
heartbeats, and a client that sends garbage or falls behind does not hurt the server.

The event log is the in-process one, or Redis when ZT_TEST_REDIS_URL is set (the `context`
fixture). The tests at the end drive RedisEventLog directly, as two server processes would, and
run whenever a Redis is reachable (ZT_TEST_REDIS_URL, else 127.0.0.1:6379; a skip fails CI).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import websockets
from chat_world import open_direct, person
from live_server import SHARED_REDIS_URL, TcpProxy, redis_reachable_now
from redis.asyncio import Redis

from helpers import Member, create_member, live_session_token
from zhengtong import realtime
from zhengtong.core.context import AppContext
from zhengtong.platform import eventlog, redis_backends
from zhengtong.platform.eventlog import Delivery, Listener
from zhengtong.platform.redis_backends import RedisEventLog

Socket = websockets.ClientConnection


async def connect(
    live_url: str,
    token: str,
    epoch: str | None = None,
    since: int | str | None = None,
    *,
    batch: bool = False,
) -> Socket:
    params = {"token": token}
    if batch:
        params["batch"] = "1"
    if epoch is not None:
        params["epoch"] = epoch
    if since is not None:
        params["since"] = str(since)
    return await websockets.connect(f"ws://{live_url}/api/v1/ws?{urlencode(params)}")


async def frame(socket: Socket, within: float = 5) -> dict[str, Any]:
    """The next frame, passing over presence notices (people coming online as tests connect them;
    tested on their own)."""
    while True:
        received: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), within))
        if received.get("event", {}).get("type") != "presence":
            return received


async def frames(socket: Socket, count: int) -> list[dict[str, Any]]:
    return [await frame(socket) for _ in range(count)]


async def quiet(socket: Socket, seconds: float = 0.2) -> bool:
    """True when nothing arrives for `seconds`."""
    try:
        extra = await frame(socket, seconds)
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected frame: {extra!r}")


async def notes(context: AppContext, account_id: str, numbers: range) -> None:
    for n in numbers:
        await context.events.append([account_id], {"type": "note", "n": n})


def sequenced(received: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(f["seq"], f["event"]["n"]) for f in received]


@pytest.fixture
async def someone(context: AppContext, live_url: str) -> tuple[Member, str]:
    member = await create_member(context)
    return member, await live_session_token(context, live_url, member)


# -- resume ---------------------------------------------------------------------------------------


async def test_resume_receives_exactly_the_missed_events_in_order(
    context: AppContext, live_url: str, someone: tuple[Member, str]
) -> None:
    member, token = someone
    async with await connect(live_url, token) as socket:
        hello = await frame(socket)
        epoch, head = hello["epoch"], hello["seq"]
        await notes(context, member.account_id, range(3))
        assert sequenced(await frames(socket, 3)) == [(head + 1, 0), (head + 2, 1), (head + 3, 2)]
    last = head + 3

    await notes(context, member.account_id, range(3, 7))  # while nobody is connected
    async with await connect(live_url, token, epoch, last) as socket:
        assert await frame(socket) == {"type": "hello", "epoch": epoch, "seq": last + 4, "resync": False}
        assert sequenced(await frames(socket, 4)) == [
            (last + 1, 3),
            (last + 2, 4),
            (last + 3, 5),
            (last + 4, 6),
        ]
        assert await quiet(socket)
        await notes(context, member.account_id, range(7, 8))  # and live again afterwards
        assert sequenced([await frame(socket)]) == [(last + 5, 7)]

    # Resuming from the head replays nothing and loses nothing.
    async with await connect(live_url, token, epoch, last + 5) as socket:
        assert await frame(socket) == {"type": "hello", "epoch": epoch, "seq": last + 5, "resync": False}
        assert await quiet(socket)


async def test_a_batching_client_gets_a_replay_in_batches_of_bounded_size(
    context: AppContext, live_url: str, someone: tuple[Member, str]
) -> None:
    member, token = someone
    async with await connect(live_url, token, batch=True) as socket:
        hello = await frame(socket)
    epoch, head = hello["epoch"], hello["seq"]
    missed = realtime.BATCH_FRAMES + 6
    await notes(context, member.account_id, range(missed))
    async with await connect(live_url, token, epoch, head, batch=True) as socket:
        assert (await frame(socket))["seq"] == head + missed
        first, second = await frames(socket, 2)
        assert first["type"] == second["type"] == "batch"
        assert len(first["frames"]) == realtime.BATCH_FRAMES and len(second["frames"]) == 6
        replayed = sequenced(first["frames"] + second["frames"])
        assert replayed == [(head + 1 + n, n) for n in range(missed)]
        assert await quiet(socket)
        await notes(context, member.account_id, range(missed, missed + 1))  # alone: a plain frame
        assert sequenced([await frame(socket)]) == [(head + missed + 1, missed)]


async def test_events_waiting_together_leave_in_one_batch_in_order(
    context: AppContext, live_url: str, someone: tuple[Member, str]
) -> None:
    member, token = someone
    async with await connect(live_url, token, batch=True) as socket:
        head = (await frame(socket))["seq"]
        await notes(context, member.account_id, range(5))  # appended before the writer wakes
        received: list[dict[str, Any]] = []
        while len(received) < 5:
            arrived = await frame(socket)
            received += arrived["frames"] if arrived["type"] == "batch" else [arrived]
        assert sequenced(received) == [(head + 1 + n, n) for n in range(5)]
        if context.settings.redis_url is None:  # the in-process log delivers within this step
            assert len(received) == 5 and arrived["type"] == "batch"


@pytest.fixture
def few_retained(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """Streams keep 10 events (Redis trims approximately: at least 10, whole nodes of 100)."""
    monkeypatch.setattr(eventlog, "RETAINED_EVENTS", 10)
    monkeypatch.setattr(redis_backends, "RETAINED_EVENTS", 10)
    yield 10


async def test_a_resume_point_no_longer_retained_gets_resync(
    context: AppContext, live_url: str, someone: tuple[Member, str], few_retained: int
) -> None:
    member, token = someone
    async with await connect(live_url, token) as socket:
        epoch = (await frame(socket))["epoch"]
    await notes(context, member.account_id, range(250))
    head = 250
    async with await connect(live_url, token, epoch, 1) as socket:
        assert await frame(socket) == {"type": "hello", "epoch": epoch, "seq": head, "resync": True}
        assert await quiet(socket)  # no partial replay: the client refetches its state
        await notes(context, member.account_id, range(250, 251))
        assert sequenced([await frame(socket)]) == [(head + 1, 250)]  # and hears what follows
    async with await connect(live_url, token, epoch, head + 1 - few_retained) as socket:
        assert (await frame(socket))["resync"] is False  # a recent point is still served
        assert [f["seq"] for f in await frames(socket, few_retained)] == list(
            range(head + 2 - few_retained, head + 2)
        )


async def test_a_resume_point_of_another_stream_gets_resync(
    context: AppContext, live_url: str, someone: tuple[Member, str]
) -> None:
    member, token = someone
    async with await connect(live_url, token) as socket:
        epoch = (await frame(socket))["epoch"]
    await notes(context, member.account_id, range(2))
    other_epoch, no_epoch, ahead_of_the_stream = ("0123456789abcdef", 1), (None, 1), (epoch, 99)
    for epoch_sent, since in (other_epoch, no_epoch, ahead_of_the_stream):
        async with await connect(live_url, token, epoch_sent, since) as socket:
            assert await frame(socket) == {"type": "hello", "epoch": epoch, "seq": 2, "resync": True}
            assert await quiet(socket, 0.1)


async def test_a_fresh_connection_gets_no_replay(
    context: AppContext, live_url: str, someone: tuple[Member, str]
) -> None:
    member, token = someone
    await notes(context, member.account_id, range(5))
    async with await connect(live_url, token) as socket:
        hello = await frame(socket)
        assert (hello["seq"], hello["resync"]) == (5, False)
        assert await quiet(socket)
        await notes(context, member.account_id, range(5, 6))
        assert sequenced([await frame(socket)]) == [(6, 5)]
    # A `since` that is not a number counts as absent.
    async with await connect(live_url, token, hello["epoch"], "-1") as socket:
        assert (await frame(socket))["resync"] is False
        assert await quiet(socket)


# -- several devices, overlaps and gaps ------------------------------------------------------------


async def test_every_device_of_a_person_hears_every_event_once(
    context: AppContext, make_client: Any, live_url: str
) -> None:
    zhang = await person(context, make_client, "张三")
    li = await person(context, make_client, "李四")
    conversation_id = await open_direct(zhang, li)
    # 李四 on a phone and a computer (two sessions), 张三 on one device.
    phone = await live_session_token(context, live_url, li.member)
    computer = await live_session_token(context, live_url, li.member)
    assert phone != computer
    mine = await live_session_token(context, live_url, zhang.member)
    async with (
        await connect(live_url, phone) as on_phone,
        await connect(live_url, computer) as on_computer,
        await connect(live_url, mine) as on_mine,
    ):
        hellos = [await frame(s) for s in (on_phone, on_computer, on_mine)]
        sent = [await zhang.send(conversation_id, f"第{n}条") for n in range(3)]
        for socket, hello in zip((on_phone, on_computer), hellos[:2], strict=True):
            received = await frames(socket, 3)
            assert [f["seq"] for f in received] == [hello["seq"] + 1, hello["seq"] + 2, hello["seq"] + 3]
            assert [f["event"]["message"]["id"] for f in received] == [m["id"] for m in sent]
            assert await quiet(socket, 0.2)
        # The sender's own devices hear their messages too.
        own = [f["event"] for f in await frames(on_mine, 3)]
        assert [(e["type"], e["message"]["id"]) for e in own] == [("message.new", m["id"]) for m in sent]


async def test_the_overlap_of_replay_and_live_delivery_is_not_delivered_twice(
    context: AppContext, live_url: str, someone: tuple[Member, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events that arrive between the listener's registration and the backlog's read are both
    replayed and queued live; the socket sends each once."""
    member, token = someone
    async with await connect(live_url, token) as socket:
        epoch = (await frame(socket))["epoch"]
    await notes(context, member.account_id, range(3))
    original = context.events.backlog
    racing = {"done": False}

    async def backlog_with_a_race(account_id: str, client_epoch: str | None, since: int | None) -> Any:
        if not racing["done"]:
            racing["done"] = True
            await notes(context, member.account_id, range(3, 6))  # reach the listener live too
            await asyncio.sleep(0.1)  # with Redis, let the live copies arrive first
        return await original(account_id, client_epoch, since)

    monkeypatch.setattr(context.events, "backlog", backlog_with_a_race)
    async with await connect(live_url, token, epoch, 1) as socket:
        assert (await frame(socket))["resync"] is False
        assert sequenced(await frames(socket, 5)) == [(2, 1), (3, 2), (4, 3), (5, 4), (6, 5)]
        await notes(context, member.account_id, range(6, 7))
        assert sequenced([await frame(socket)]) == [(7, 6)]  # not a copy of 4, 5 or 6


async def test_a_lost_live_delivery_is_filled_from_the_stream(
    context: AppContext, live_url: str, someone: tuple[Member, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pub/sub message can be lost (Redis delivers at most once); the next event shows the gap
    and the socket fills it from the retained stream, in order."""
    member, token = someone
    original_put = Listener.put
    lost: list[int] = []

    def lossy_put(listener: Listener, delivery: Delivery) -> None:
        if delivery.event.get("n") == 2 and not lost:
            lost.append(delivery.seq)
            return
        original_put(listener, delivery)

    monkeypatch.setattr(Listener, "put", lossy_put)
    async with await connect(live_url, token) as socket:
        await frame(socket)
        await notes(context, member.account_id, range(5))
        assert sequenced(await frames(socket, 5)) == [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]
        assert lost == [3]
        assert await quiet(socket)


# -- typing, heartbeats, bad clients --------------------------------------------------------------


async def test_typing_reaches_the_other_members_only(
    context: AppContext, make_client: Any, live_url: str
) -> None:
    zhang = await person(context, make_client, "张三")
    li = await person(context, make_client, "李四")
    outsider = await person(context, make_client, "王五")
    conversation_id = await open_direct(zhang, li)
    tokens = [await live_session_token(context, live_url, p.member) for p in (zhang, li, outsider)]
    async with (
        await connect(live_url, tokens[0]) as typing_one,
        await connect(live_url, tokens[1]) as other,
        await connect(live_url, tokens[2]) as stranger,
    ):
        for socket in (typing_one, other, stranger):
            await frame(socket)
        await typing_one.send(json.dumps({"type": "typing", "conversation_id": conversation_id}))
        assert await frame(other) == {
            "type": "event",
            "seq": 0,
            "event": {
                "type": "typing",
                "conversation_id": conversation_id,
                "membership_id": zhang.id,
                "name": "张三",
            },
        }
        # Someone outside the conversation cannot make its members see them typing.
        await stranger.send(json.dumps({"type": "typing", "conversation_id": conversation_id}))
        await stranger.send(json.dumps({"type": "typing", "conversation_id": 42}))
        await stranger.send(json.dumps({"type": "ping"}))  # frames are handled in order:
        assert await frame(stranger) == {"type": "pong"}  # both typing frames are done with
        # Ordered behind any typing frame they might have had: a sequenced marker to each.
        for person_, socket in ((zhang, typing_one), (li, other), (outsider, stranger)):
            await context.events.append([person_.member.account_id], {"type": "marker"})
            assert (await frame(socket))["event"] == {"type": "marker"}


async def test_ping_gets_pong_and_a_silent_client_is_disconnected(
    context: AppContext, live_url: str, someone: tuple[Member, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _member, token = someone
    monkeypatch.setattr(realtime, "IDLE_TIMEOUT_SECONDS", 0.5)
    async with await connect(live_url, token) as socket:
        await frame(socket)
        for _ in range(4):  # 1.2 s in all, longer than the idle timeout: pings keep it open
            await asyncio.sleep(0.3)
            await socket.send(json.dumps({"type": "ping"}))
            assert await frame(socket) == {"type": "pong"}
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            await asyncio.wait_for(socket.recv(), 3)  # silent now: the server hangs up
        assert socket.close_code == 1000


GARBAGE = ["not json at all", "{broken", "[1, 2, 3]", '"a string"', "null", b"\x00\xffbinary", b'{"type":']


async def test_garbage_from_a_client_is_ignored(
    context: AppContext, live_url: str, someone: tuple[Member, str]
) -> None:
    member, token = someone
    async with await connect(live_url, token) as socket:
        await frame(socket)
        for n, garbage in enumerate(GARBAGE):
            await socket.send(garbage)
            await socket.send(json.dumps({"type": "no-such-frame"}))
            await socket.send(json.dumps({"type": "ping"}))
            assert await frame(socket) == {"type": "pong"}, garbage
            await notes(context, member.account_id, range(n, n + 1))
            assert sequenced([await frame(socket)]) == [(n + 1, n)], garbage


async def test_a_socket_that_falls_behind_is_closed_and_its_client_resumes(
    context: AppContext, live_url: str, someone: tuple[Member, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    member, token = someone
    monkeypatch.setattr(eventlog, "LISTENER_QUEUE_LIMIT", 3)
    original_send = realtime._StreamWriter._send
    stall = asyncio.Event()

    async def stalled_send(writer: Any, frames: list[str]) -> None:
        if any('"seq":1,' in frame for frame in frames):
            await stall.wait()  # the socket stops draining while events pile up
        await original_send(writer, frames)

    monkeypatch.setattr(realtime._StreamWriter, "_send", stalled_send)
    async with await connect(live_url, token) as socket:
        epoch = (await frame(socket))["epoch"]
        await notes(context, member.account_id, range(10))
        await asyncio.sleep(0.3)  # with Redis, let the deliveries overflow the queue
        stall.set()
        received = []
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            while True:
                received.append(await frame(socket))
        assert socket.close_code == realtime.TRY_AGAIN_LATER
    last = received[-1]["seq"] if received else 0
    assert last < 10
    async with await connect(live_url, token, epoch, last) as socket:
        assert (await frame(socket))["resync"] is False
        assert [f["seq"] for f in await frames(socket, 10 - last)] == list(range(last + 1, 11))


async def test_a_stream_that_fails_closes_the_socket_so_the_client_resumes(
    context: AppContext, live_url: str, someone: tuple[Member, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the stream cannot be read (Redis unreachable during a catch-up), the socket must not
    stay open and silent: the server closes it with 1013 and the client resumes later."""
    member, token = someone
    original_put = Listener.put

    def gap_put(listener: Listener, delivery: Delivery) -> None:
        if delivery.event.get("n") != 0:  # lose the first: the second shows a gap
            original_put(listener, delivery)

    async with await connect(live_url, token) as socket:
        epoch = (await frame(socket))["epoch"]

        async def failing_backlog(*args: Any) -> Any:
            raise ConnectionError("the stream is unreachable")

        monkeypatch.setattr(Listener, "put", gap_put)
        monkeypatch.setattr(context.events, "backlog", failing_backlog)
        await notes(context, member.account_id, range(2))
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            await frame(socket)
        assert socket.close_code == realtime.TRY_AGAIN_LATER
    monkeypatch.undo()
    async with await connect(live_url, token, epoch, 0) as socket:
        assert (await frame(socket))["resync"] is False
        assert sequenced(await frames(socket, 2)) == [(1, 0), (2, 1)]


# -- RedisEventLog, as two server processes use it ------------------------------------------------


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    if not redis_reachable_now(SHARED_REDIS_URL):
        pytest.skip(f"Redis is not reachable at {SHARED_REDIS_URL}")  # a failure when CI=true
    prefix = f"zt_test_{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = Redis.from_url(SHARED_REDIS_URL)
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def next_delivery(listener: Listener, within: float = 5) -> Delivery:
    delivery = await asyncio.wait_for(listener.get(), within)
    assert delivery is not None, "the listener overflowed"
    return delivery


async def test_redis_logs_of_two_processes_share_one_stream_per_person(redis_prefix: str) -> None:
    one, two = RedisEventLog(SHARED_REDIS_URL, redis_prefix), RedisEventLog(SHARED_REDIS_URL, redis_prefix)
    try:
        async with one.listen("alice") as on_one, two.listen("alice") as on_two:
            await one.append(["alice", "bob"], {"type": "note", "n": 1})
            await two.append(["alice"], {"type": "note", "n": 2})
            for listener in (on_one, on_two):
                first, second = await next_delivery(listener), await next_delivery(listener)
                assert (first.seq, first.event["n"], second.seq, second.event["n"]) == (1, 1, 2, 2)
                assert first.epoch == second.epoch != ""
        from_one = await one.backlog("alice", first.epoch, 0)
        from_two = await two.backlog("alice", first.epoch, 0)
        assert from_one == from_two and [d.seq for d in from_one.events] == [1, 2]
        assert (await two.backlog("bob", first.epoch, 0)).head == 1
    finally:
        await one.close()
        await two.close()


async def _kill_fanout_connections(prefix: str) -> int:
    admin = Redis.from_url(SHARED_REDIS_URL, decode_responses=True)
    try:
        clients = await admin.client_list(_type="pubsub")
        ids = [c["id"] for c in clients if c["name"] == f"{prefix}eventlog-fanout"]
        for client_id in ids:
            await admin.client_kill_filter(_id=client_id)
        return len(ids)
    finally:
        await admin.aclose()


async def test_redis_fanout_that_reconnects_wakes_listeners_to_check_their_stream(redis_prefix: str) -> None:
    log = RedisEventLog(SHARED_REDIS_URL, redis_prefix)
    publisher = RedisEventLog(SHARED_REDIS_URL, redis_prefix)  # another process, never subscribed
    try:
        async with log.listen("alice") as listener:
            await publisher.append(["alice"], {"type": "note", "n": 1})
            assert (await next_delivery(listener)).seq == 1
            assert await _kill_fanout_connections(redis_prefix) == 1
            await publisher.append(["alice"], {"type": "note", "n": 2})  # may be lost to it
            check = await next_delivery(listener, 10)
            while check.seq != 0:  # it may have heard n=2 before the drop was noticed
                check = await next_delivery(listener, 10)
            assert check.event == {"type": realtime.STREAM_CHECK}
            backlog = await log.backlog(
                "alice", check.epoch or (await log.backlog("alice", None, None)).epoch, 1
            )
            assert [d.event["n"] for d in backlog.events] == [2]
    finally:
        await log.close()
        await publisher.close()


async def test_redis_events_wait_out_an_outage_and_leave_in_order(redis_prefix: str) -> None:
    host, port = SHARED_REDIS_URL.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    await proxy.restore()
    cut_off = RedisEventLog(f"redis://127.0.0.1:{proxy.port}/0", redis_prefix)
    observer = RedisEventLog(SHARED_REDIS_URL, redis_prefix)
    try:
        async with observer.listen("alice") as listener:
            await cut_off.append(["alice"], {"type": "note", "n": 0})
            assert (await next_delivery(listener)).event["n"] == 0
            await proxy.cut()
            for n in range(1, 4):
                await cut_off.append(["alice"], {"type": "note", "n": n})  # returns: queued in process
            await asyncio.sleep(0.3)
            assert listener.waiting() == 0
            await proxy.restore()
            received = [await next_delivery(listener, 15) for _ in range(3)]
            assert [(d.seq, d.event["n"]) for d in received] == [(2, 1), (3, 2), (4, 3)]
    finally:
        await proxy.close()
        await cut_off.close()
        await observer.close()


async def test_redis_that_lost_its_data_starts_a_new_epoch(redis_prefix: str) -> None:
    log = RedisEventLog(SHARED_REDIS_URL, redis_prefix)
    try:
        await log.append(["alice"], {"type": "note", "n": 1})
        before = await log.backlog("alice", None, None)
        admin = Redis.from_url(SHARED_REDIS_URL)
        keys = [key async for key in admin.scan_iter(match=redis_prefix + "*")]
        await admin.delete(*keys)  # as a restarted Redis without persistence
        await admin.aclose()
        await log.append(["alice"], {"type": "note", "n": 2})
        after = await log.backlog("alice", before.epoch, before.head)
        assert after.epoch != before.epoch and after.resync is True and after.head == 1
    finally:
        await log.close()


async def test_redis_events_beyond_the_pending_limit_are_dropped_for_a_new_epoch(
    redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long outage must not grow a process without bound: past the limit the held events are
    dropped and, once Redis is back, the epoch is replaced and every connection woken, so that
    clients resync from the database instead of missing what was dropped."""
    monkeypatch.setattr(redis_backends, "PENDING_LIMIT", 3)
    host, port = SHARED_REDIS_URL.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    await proxy.restore()
    cut_off = RedisEventLog(f"redis://127.0.0.1:{proxy.port}/0", redis_prefix)
    observer = RedisEventLog(SHARED_REDIS_URL, redis_prefix)
    try:
        async with observer.listen("alice") as listener:
            await cut_off.append(["alice"], {"type": "note", "n": 0})
            first = await next_delivery(listener)
            await proxy.cut()
            for n in range(1, 6):  # 1-3 fill the queue, 4 overflows it (1-3 dropped), 5 waits
                await cut_off.append(["alice"], {"type": "note", "n": n})
            await proxy.restore()
            woken = await next_delivery(listener, 15)
            assert (woken.seq, woken.event) == (0, {"type": realtime.STREAM_CHECK})
            kept = [await next_delivery(listener) for _ in range(2)]
            assert [(d.seq, d.event["n"]) for d in kept] == [(2, 4), (3, 5)]
            assert kept[0].epoch == kept[1].epoch != first.epoch
            assert (await observer.backlog("alice", first.epoch, first.seq)).resync is True
    finally:
        await proxy.close()
        await cut_off.close()
        await observer.close()


async def test_redis_fanout_survives_a_message_it_cannot_read(redis_prefix: str) -> None:
    log = RedisEventLog(SHARED_REDIS_URL, redis_prefix)
    admin = Redis.from_url(SHARED_REDIS_URL)
    try:
        async with log.listen("alice") as listener:
            for garbage in (b"not json", b'{"targets": 5}', b'{"targets": {"alice": "x"}}', b"[]"):
                await admin.publish(f"{redis_prefix}ev:fanout", garbage)
            await log.append(["alice"], {"type": "note", "n": 1})
            delivery = await next_delivery(listener)
            assert (delivery.seq, delivery.event) == (1, {"type": "note", "n": 1})
    finally:
        await admin.aclose()
        await log.close()


async def test_redis_fanout_that_fails_ends_its_connections_and_the_next_one_subscribes_again(
    redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = RedisEventLog(SHARED_REDIS_URL, redis_prefix)
    original_next = redis_backends._RedisSubscription.__anext__
    failures = ["unexpected"]

    async def failing_next(subscription: Any) -> dict[str, Any]:
        if failures:
            raise RuntimeError(failures.pop())
        return await original_next(subscription)

    try:
        monkeypatch.setattr(redis_backends._RedisSubscription, "__anext__", failing_next)
        async with log.listen("alice") as listener:
            assert await asyncio.wait_for(listener.get(), 5) is None  # its socket closes
        async with log.listen("alice") as listener:  # its client comes back
            await log.append(["alice"], {"type": "note", "n": 2})
            assert (await next_delivery(listener)).event == {"type": "note", "n": 2}
    finally:
        await log.close()


async def test_presence_follows_open_sockets_and_reaches_direct_peers(
    context: AppContext, make_client: Any, live_url: str
) -> None:
    zhang = await person(context, make_client, "张三")
    li = await person(context, make_client, "李四")
    await open_direct(zhang, li)
    tokens = [await live_session_token(context, live_url, p.member) for p in (zhang, li)]

    async def online() -> list[str]:
        answer = await li.post("/im/presence", {"membership_ids": [zhang.id]})
        return list(answer.json()["online"])

    async def presence_notice(socket: Socket) -> dict[str, Any]:
        while True:
            received = json.loads(await asyncio.wait_for(socket.recv(), 5))
            if received.get("event", {}).get("type") == "presence":
                return dict(received["event"])

    async with await connect(live_url, tokens[1]) as watcher:
        await frame(watcher)
        assert await online() == []
        phone = await connect(live_url, tokens[0])
        assert await presence_notice(watcher) == {
            "type": "presence",
            "membership_id": zhang.id,
            "online": True,
        }
        async with await connect(live_url, tokens[0]) as desktop:
            await frame(desktop)
            await phone.close()
            assert await online() == [zhang.id]  # still on the desktop
        assert await presence_notice(watcher) == {
            "type": "presence",
            "membership_id": zhang.id,
            "online": False,
        }
        assert await online() == []
