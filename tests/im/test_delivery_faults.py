"""Chat delivery under faults, with real `zhengtong serve` processes (tests/im/live_server.py):

a. a server killed with SIGKILL in the middle of a burst of sends loses no acknowledged message,
   and after reconnecting (and retrying unacknowledged sends with their client_msg_id) every client
   holds every acknowledged message exactly once — with the in-process event log (the stream dies
   with the process: clients resync) and with Redis (the stream survives: clients resume);
b. two server processes sharing one database and one Redis deliver each other's messages live, and
   a client resumes against either of them;
c. Redis going away pauses cross-process delivery, which recovers by itself when Redis is back —
   with the stream intact (a network partition) or lost (Redis restarted empty: clients resync);
d. a retried send tells the members again (its first event may have died with its process), and
   sends are acknowledged while the shared rate limiter (Redis) is unreachable.

The clients are `Device`s: they follow the WebSocket protocol and keep messages by id, which is
all the protocol promises to make safe. The assertions check that the server never needs more:
one id per client_msg_id, one row per client_msg_id in the database, no stream seq twice.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from chat_world import Person as ChatPerson
from chat_world import open_direct as chat_open_direct
from chat_world import person
from live_server import (
    SHARED_REDIS_URL,
    Account,
    Device,
    Installation,
    RedisServer,
    ServerProcess,
    TcpProxy,
    delete_redis_keys,
    eventually,
    open_account,
    redis_reachable_now,
)
from sqlalchemy import select

from helpers import create_member, login
from zhengtong.app import create_app
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext, build_context
from zhengtong.im.models import Message

BURST = {"in_process": 200, "redis": 100}  # sends in the SIGKILL burst, by event log
SENDERS = 8  # concurrent HTTP sends during the burst

MakeInstallation = Callable[..., Awaitable[Installation]]


@pytest.fixture
async def installations(tmp_path: Path) -> AsyncIterator[MakeInstallation]:
    """Makes installations under tmp_path; stops their servers and drops their databases at the
    end. Their server logs are printed at teardown, which pytest shows when the test failed."""
    made: list[Installation] = []

    async def make(**options: Any) -> Installation:
        installation = await Installation.create(tmp_path / f"zt{len(made)}", **options)
        made.append(installation)
        return installation

    try:
        yield make
    finally:
        for installation in made:
            print(installation.logs())
        results = [await _close(installation) for installation in made]
        for error in results:
            if error is not None:
                raise error


async def _close(installation: Installation) -> BaseException | None:
    try:
        await installation.close()
    except BaseException as error:
        return error
    return None


@pytest.fixture
def shared_redis_url() -> str:
    """The test run's Redis (ZT_TEST_REDIS_URL, else 127.0.0.1:6379); skipped when unreachable,
    which fails the run when CI=true."""
    if not redis_reachable_now(SHARED_REDIS_URL):
        pytest.skip(f"Redis is not reachable at {SHARED_REDIS_URL}")
    return SHARED_REDIS_URL


async def open_direct(one: Account, other: Account, server: ServerProcess) -> str:
    async with one.http(server) as http:
        answer = await http.post(
            "/api/v1/im/conversations/direct", json={"membership_id": other.membership_id}
        )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


async def send(
    http: httpx.AsyncClient, conversation_id: str, client_msg_id: str, text: str | None = None
) -> dict[str, Any]:
    answer = await http.post(
        f"/api/v1/im/conversations/{conversation_id}/messages",
        json={"text": text or f"消息 {client_msg_id}", "client_msg_id": client_msg_id},
    )
    assert answer.status_code == 200, answer.text
    message: dict[str, Any] = answer.json()
    return message


async def full_history(account: Account, server: ServerProcess, conversation_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    async with account.http(server) as http:
        while True:
            after = items[-1]["seq"] if items else 0
            answer = await http.get(
                f"/api/v1/im/conversations/{conversation_id}/messages",
                params={"after_seq": after, "limit": 200},
            )
            assert answer.status_code == 200, answer.text
            page = answer.json()["items"]
            items.extend(page)
            if len(page) < 200:
                return items


async def stored_sends(installation: Installation, sender: Account) -> dict[str, list[str]]:
    """client_msg_id -> the ids of the sender's messages stored with it (straight from the database)."""
    async with installation.context.db.transaction() as session:
        mine = Message.sender_membership_id == sender.membership_id
        rows = await session.execute(select(Message.client_msg_id, Message.id).where(mine))
        stored: dict[str, list[str]] = defaultdict(list)
        for client_msg_id, message_id in rows.all():
            stored[str(client_msg_id)].append(message_id)
        return dict(stored)


class Acks:
    """What the sender learnt: for each client_msg_id, every message id a 200 answer carried."""

    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = defaultdict(list)
        self.failures: dict[str, list[str]] = defaultdict(list)

    def record(self, client_msg_id: str, message: dict[str, Any]) -> None:
        self.ids[client_msg_id].append(str(message["id"]))

    def acknowledged(self) -> set[str]:
        return set(self.ids)

    def message_ids(self) -> set[str]:
        return {ids[0] for ids in self.ids.values()}

    def assert_one_id_per_client_id(self) -> None:
        split = {cid: ids for cid, ids in self.ids.items() if len(set(ids)) > 1}
        assert not split, f"one client_msg_id answered with different message ids: {split}"


async def try_send(
    http: httpx.AsyncClient, conversation_id: str, client_msg_id: str, acks: Acks
) -> dict[str, Any] | None:
    """One attempt; an answer other than 200, or none at all, leaves the send unacknowledged."""
    try:
        answer = await http.post(
            f"/api/v1/im/conversations/{conversation_id}/messages",
            json={"text": f"消息 {client_msg_id}", "client_msg_id": client_msg_id},
        )
    except httpx.HTTPError as error:
        acks.failures[client_msg_id].append(type(error).__name__)
        return None
    if answer.status_code != 200:
        acks.failures[client_msg_id].append(f"HTTP {answer.status_code}")
        return None
    message: dict[str, Any] = answer.json()
    acks.record(client_msg_id, message)
    return message


async def retry_until_acknowledged(
    http: httpx.AsyncClient, conversation_id: str, client_msg_ids: list[str], acks: Acks, concurrency: int = 1
) -> None:
    """The sender's duty after a failure: the same send again, same client_msg_id, until a 200."""
    queue = iter(client_msg_ids)

    async def retry() -> None:
        for client_msg_id in queue:
            for _attempt in range(50):
                if await try_send(http, conversation_id, client_msg_id, acks) is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"{client_msg_id} never acknowledged: {acks.failures[client_msg_id]}")

    await asyncio.gather(*(retry() for _ in range(concurrency)))


def assert_protocol_kept(*devices: Device) -> None:
    violations = [violation for device in devices for violation in device.violations]
    assert not violations, violations


def assert_history_clean(history: list[dict[str, Any]]) -> None:
    seqs = [m["seq"] for m in history]
    assert seqs == list(range(1, len(history) + 1)), "history must be contiguous, each seq once"
    client_ids = [m["client_msg_id"] for m in history if m["client_msg_id"]]
    assert len(client_ids) == len(set(client_ids)), "a client_msg_id stored twice"


# -- a. SIGKILL in the middle of a burst ---------------------------------------------------------


@pytest.mark.parametrize("stream", ["in_process", "redis"])
async def test_sigkill_in_a_burst_loses_no_acknowledged_message(
    installations: MakeInstallation, request: pytest.FixtureRequest, stream: str
) -> None:
    redis_url = request.getfixturevalue("shared_redis_url") if stream == "redis" else None
    installation = await installations(redis_url=redis_url)
    (server,) = await installation.start_servers("server")
    sender = await open_account(installation, server, "发送人")
    reader = await open_account(installation, server, "接收人")
    conversation_id = await open_direct(sender, reader, server)
    sender_device = Device("sender", sender, server, [conversation_id])
    reader_device = Device("reader", reader, server, [conversation_id])
    devices = [sender_device, reader_device]
    for device in devices:
        device.start()
    try:
        for device in devices:
            await device.wait_connected()
        first_epoch = reader_device.epoch

        client_ids = [f"burst-{n:04d}" for n in range(BURST[stream])]
        pending = iter(client_ids)
        acks = Acks()
        in_flight: set[str] = set()
        at_kill: dict[str, Any] = {}

        async def send_burst(http: httpx.AsyncClient) -> None:
            for client_msg_id in pending:
                in_flight.add(client_msg_id)
                await try_send(http, conversation_id, client_msg_id, acks)
                in_flight.discard(client_msg_id)

        async def kill_halfway() -> None:
            # From halfway on, watch the database: the moment it holds a message whose sender
            # has no answer yet is the moment to kill (committed, not acknowledged).
            while len(acks.ids) < len(client_ids) // 2:  # noqa: ASYNC110 (polling the burst's progress)
                await asyncio.sleep(0.001)
            while len(acks.ids) < len(client_ids) * 3 // 4:
                if len(await stored_sends(installation, sender)) > len(acks.ids):
                    break
            at_kill.update(acknowledged=len(acks.ids), in_flight=set(in_flight))
            server.kill()  # SIGKILL: no shutdown, no after-commit work, no goodbye

        async with sender.http(server, timeout=5) as http:
            await asyncio.gather(kill_halfway(), *(send_burst(http) for _ in range(SENDERS)))
        assert at_kill, "the server was never killed"
        assert at_kill["in_flight"], "no send was in flight when the server died"
        # Durability: what was acknowledged before the kill is in the database, as acknowledged.
        stored_at_kill = await stored_sends(installation, sender)
        for client_msg_id, ids in acks.ids.items():
            assert stored_at_kill.get(client_msg_id) == ids, f"acknowledged {client_msg_id} not stored"
        unacknowledged = [cid for cid in client_ids if cid not in acks.ids]
        assert unacknowledged, "every send was acknowledged: the kill came too late"
        # Sends the server committed but never answered (usually one or two: the kill waits for
        # such a moment); their retries must return the stored message, not store another.
        committed_unanswered = {
            cid: stored_at_kill[cid][0] for cid in unacknowledged if cid in stored_at_kill
        }
        acknowledged_before_kill = acks.message_ids()
        assert reader_device.via_event, "the reader heard nothing live before the kill"

        await server.start()  # the same port, data and database
        async with sender.http(server) as http:
            await retry_until_acknowledged(http, conversation_id, unacknowledged, acks, SENDERS)

        acks.assert_one_id_per_client_id()
        assert acks.acknowledged() == set(client_ids)
        for client_msg_id, message_id in committed_unanswered.items():
            assert acks.ids[client_msg_id] == [message_id], "a retry stored a second message"
        expected = acks.message_ids()
        await eventually(
            lambda: all(device.holds(expected) for device in devices),
            20,
            lambda: "missing after reconnecting: " + "; ".join(d.describe() for d in devices),
        )

        # The in-process stream died with the process: both clients were told to resync and
        # refetched. The Redis stream outlived it: both resumed where they were. Either way
        # their messages are exactly the acknowledged ones, each held once.
        for device in devices:
            assert device.connections >= 2
            later = device.hellos[1:]
            if stream == "in_process":
                assert any(h["resync"] and h["epoch"] != first_epoch for h in later), later
            else:
                assert all(not h["resync"] and h["epoch"] == first_epoch for h in later), later
                # An acknowledged send's event was in the stream before its answer left: the
                # resumed stream brought every one of them, no fetch needed.
                assert acknowledged_before_kill <= set(device.via_event)
            assert set(device.messages) == expected
        assert_protocol_kept(*devices)

        history = await full_history(reader, server, conversation_id)
        assert {m["id"] for m in history} == expected
        assert_history_clean(await full_history(sender, server, conversation_id))
        stored = await stored_sends(installation, sender)
        assert {cid: len(ids) for cid, ids in stored.items()} == dict.fromkeys(client_ids, 1)
    finally:
        for device in devices:
            await device.stop()


# -- b. two processes, one Redis ----------------------------------------------------------------


def holding(device: Device, message_ids: set[str]) -> Callable[[], bool]:
    return lambda: device.holds(message_ids)


def reached(device: Device, seq: int) -> Callable[[], bool]:
    return lambda: device.seq == seq


def reached_at_least(device: Device, seq: int) -> Callable[[], bool]:
    return lambda: (device.seq or 0) >= seq


def events_after(device: Device, seq: int) -> list[tuple[str, int, dict[str, Any]]]:
    return [entry for entry in device.events if entry[1] > seq]


async def test_two_processes_deliver_each_others_messages_through_redis(
    installations: MakeInstallation, shared_redis_url: str
) -> None:
    installation = await installations(redis_url=shared_redis_url)
    one, two = await installation.start_servers("one", "two")
    alice = await open_account(installation, one, "甲")
    bob = await open_account(installation, two, "乙")
    conversation_id = await open_direct(alice, bob, one)
    alice_on_one = Device("alice@one", alice, one, [conversation_id])
    bob_on_two = Device("bob@two", bob, two, [conversation_id])
    bob_phone_on_one = Device("bob-phone@one", bob, one, [conversation_id])  # his second device
    devices = [alice_on_one, bob_on_two, bob_phone_on_one]
    for device in devices:
        device.start()
    try:
        for device in devices:
            await device.wait_connected()

        # Sent through one, heard live through two; and the other way round.
        async with alice.http(one) as http:
            first = await send(http, conversation_id, "alice-1")
        await eventually(lambda: first["id"] in bob_on_two.via_event, 10, "bob@two did not hear alice-1")
        async with bob.http(two) as http:
            reply = await send(http, conversation_id, "bob-1")
        await eventually(lambda: reply["id"] in alice_on_one.via_event, 10, "alice@one did not hear bob-1")
        await eventually(lambda: reply["id"] in bob_phone_on_one.via_event, 10, "bob's phone missed bob-1")
        # Bob's devices, on two processes, hear one stream: the same events with the same numbers.
        await eventually(lambda: bob_on_two.seq == bob_phone_on_one.seq, 10, "bob's devices disagree")
        assert bob_on_two.events == bob_phone_on_one.events
        assert bob_on_two.refetches == 1  # the initial load: nothing needed fetching since

        # Bob's device on two goes away; alice sends; it resumes against two, then against one.
        for resume_on in (two, one):
            await bob_on_two.stop()
            epoch, since = bob_on_two.epoch, bob_on_two.seq
            assert since is not None
            async with alice.http(one) as http:
                missed = {(await send(http, conversation_id, f"missed-{n}"))["id"] for n in range(5)}
            await eventually(
                holding(bob_phone_on_one, missed),
                10,
                lambda: "bob's phone missed some: " + bob_phone_on_one.describe(),
            )
            heard = bob_phone_on_one.seq
            assert heard is not None
            bob_on_two.server = resume_on
            bob_on_two.start()
            await bob_on_two.wait_connected()
            hello = bob_on_two.hellos[-1]
            # The head may have moved on since: a read.moved for Bob's own message can trail the
            # messages (Alice's sends read everything before them).
            assert (hello["epoch"], hello["resync"]) == (epoch, False) and hello["seq"] >= heard
            head = hello["seq"]
            await eventually(reached(bob_on_two, head), 10, "the replay did not reach the head")
            await eventually(reached_at_least(bob_phone_on_one, head), 10, "bob's phone fell behind")
            # Exactly what it missed, in order, each once: the same entries its phone heard live.
            assert (
                events_after(bob_on_two, since)[: head - since]
                == events_after(bob_phone_on_one, since)[: head - since]
            )
            assert bob_on_two.holds(missed)
        assert bob_on_two.refetches == 1 and not bob_on_two.resync_frames
        assert_protocol_kept(*devices)
    finally:
        for device in devices:
            await device.stop()


# -- c. Redis goes away ---------------------------------------------------------------------------


async def react(http: httpx.AsyncClient, message_id: str, emoji: str) -> httpx.Response:
    return await http.post(f"/api/v1/im/messages/{message_id}/reactions", json={"emoji": emoji})


def reacted(device: Device, message_id: str, emoji: str, membership_id: str) -> Callable[[], bool]:
    return lambda: membership_id in device.messages.get(message_id, {}).get("reactions", {}).get(emoji, [])


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    """A redis-server of this test's own (killed last: ask for it before `installations`)."""
    redis = RedisServer(tmp_path / "redis")
    await redis.start()
    yield redis
    redis.kill()


@pytest.mark.parametrize("outage", ["partition", "restarted_empty"])
async def test_redis_going_away_pauses_delivery_which_recovers_by_itself(
    private_redis: RedisServer, installations: MakeInstallation, outage: str
) -> None:
    """Two processes share a private Redis. `partition`: the servers lose it while it keeps its
    data (a proxy between them is cut); `restarted_empty`: it is killed and restarted without
    its data, so every stream starts a new epoch.

    During the outage alice, on process one, changes state: reactions (their events must wait in
    process one's queue) and message sends (acknowledged or not; unacknowledged ones are retried
    with their client_msg_id afterwards). Bob, on process two, does nothing but stay connected."""
    redis = private_redis
    proxy = TcpProxy("127.0.0.1", redis.port)
    await proxy.restore()
    devices: list[Device] = []
    try:
        url = f"redis://127.0.0.1:{proxy.port}/0" if outage == "partition" else redis.url
        installation = await installations(redis_url=url)
        one, two = await installation.start_servers("one", "two")
        alice = await open_account(installation, one, "甲")
        bob = await open_account(installation, two, "乙")
        conversation_id = await open_direct(alice, bob, one)
        alice_on_one = Device("alice@one", alice, one, [conversation_id])
        bob_on_two = Device("bob@two", bob, two, [conversation_id])
        devices = [alice_on_one, bob_on_two]
        for device in devices:
            device.start()
        for device in devices:
            await device.wait_connected()
        acks = Acks()
        async with alice.http(one) as http:
            before = await try_send(http, conversation_id, "before", acks)
        assert before is not None
        await eventually(
            holding(bob_on_two, acks.message_ids()),
            10,
            lambda: "bob did not hear 'before': " + bob_on_two.describe(),
        )
        epoch_before = bob_on_two.epoch

        if outage == "partition":
            await proxy.cut()
        else:
            redis.kill()
        during = [f"during-{n}" for n in range(3)]
        async with alice.http(one, timeout=15) as http:
            # Committed, acknowledged, its event held in process one until Redis is back.
            reaction = await react(http, before["id"], "👍")
            assert reaction.status_code == 200, reaction.text
            for client_msg_id in during:
                await try_send(http, conversation_id, client_msg_id, acks)
        acknowledged_during = {acks.ids[cid][0] for cid in during if cid in acks.ids}
        await asyncio.sleep(0.5)  # the outage lasts; nothing reaches bob meanwhile
        assert not reacted(bob_on_two, before["id"], "👍", alice.membership_id)()
        assert not acknowledged_during & bob_on_two.messages.keys()
        assert "holding events until it is back" in one.log_tail(100_000), "the pending queue was not used"

        if outage == "partition":
            await proxy.restore()
        else:
            await redis.start()  # the same port, empty
        # Bob does nothing: delivery resumes by itself (or he is told to resync, and refetches).
        await eventually(reacted(bob_on_two, before["id"], "👍", alice.membership_id), 30, "no reaction")
        await eventually(
            holding(bob_on_two, acknowledged_during),
            30,
            lambda: "acknowledged sends missing: " + bob_on_two.describe(),
        )
        async with alice.http(one) as http:
            unacknowledged = [cid for cid in during if cid not in acks.ids]
            await retry_until_acknowledged(http, conversation_id, unacknowledged, acks)
            after = {(await send(http, conversation_id, f"after-{n}"))["id"] for n in range(3)}
        acks.assert_one_id_per_client_id()
        expected = acks.message_ids() | after
        await eventually(
            holding(bob_on_two, expected), 30, lambda: "bob lacks some: " + bob_on_two.describe()
        )
        # Cross-process delivery is live again: what was sent after recovery came as events.
        assert after <= set(bob_on_two.via_event)
        assert set(bob_on_two.messages) == expected

        resync_hellos = [hello for hello in bob_on_two.hellos[1:] if hello["resync"]]
        if outage == "partition":
            # Redis kept the stream: no resync, no reconnect, every change arrived as an event.
            assert bob_on_two.connections == 1 and not bob_on_two.resync_frames and not resync_hellos
            assert bob_on_two.epoch == epoch_before and bob_on_two.refetches == 1
            assert any(m["id"] == before["id"] for m in bob_on_two.updates)
            assert acknowledged_during <= set(bob_on_two.via_event)
        else:
            # The stream was lost with Redis's data: bob was told to resync on his open socket.
            # (A server that failed to read the stream would close the socket instead, and the
            # hello of his reconnection would say resync: conformant too, but not what happens
            # here: process two checks the stream only once its subscription is back.)
            assert bob_on_two.connections == 1 and not resync_hellos
            assert [frame["epoch"] for frame in bob_on_two.resync_frames] == [bob_on_two.epoch]
            assert bob_on_two.epoch != epoch_before and bob_on_two.refetches == 2
        assert_protocol_kept(*devices)
        stored = await stored_sends(installation, alice)
        sent = ["before", *during, *(f"after-{n}" for n in range(3))]
        assert {cid: len(ids) for cid, ids in stored.items()} == dict.fromkeys(sent, 1)
    finally:
        for device in devices:
            await device.stop()
        await proxy.close()


# -- d. a retried send re-announces its message; sends go on while the shared rate limiter is away --


async def test_a_retried_send_whose_event_was_lost_reaches_the_members(
    context: AppContext, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = await person(context, make_client, "发送人")
    reader = await person(context, make_client, "接收人")
    conversation_id = await chat_open_direct(sender, reader)
    original_append = context.events.append
    lost: list[dict[str, Any]] = []

    async def append_dying_before_the_first_message(account_ids: Any, event: dict[str, Any]) -> None:
        if event["type"] == "message.new" and not lost:
            lost.append(event)  # the process died after the commit, before the event left
            return
        await original_append(account_ids, event)

    monkeypatch.setattr(context.events, "append", append_dying_before_the_first_message)
    async with context.events.listen(reader.member.account_id) as listener:
        first = await sender.send(conversation_id, "丢失了事件", client_msg_id="lost-event")
        assert lost and lost[0]["message"]["id"] == first["id"]
        retried = await sender.send(conversation_id, "丢失了事件", client_msg_id="lost-event")
        assert retried["id"] == first["id"]
        delivery = await asyncio.wait_for(listener.get(), 1)
        assert delivery is not None
        assert (delivery.event["type"], delivery.event["message"]["id"]) == ("message.new", first["id"])


async def test_a_send_is_acknowledged_while_redis_is_unreachable(
    context: AppContext, settings: Settings, shared_redis_url: str
) -> None:
    host, port = shared_redis_url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    await proxy.restore()
    behind_proxy = build_context(
        settings.with_overrides(redis_url=f"redis://127.0.0.1:{proxy.port}/0", run_jobs_in_process=False)
    )
    application = create_app(context=behind_proxy)
    try:
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(
                app=application, client=("203.0.113.7", 50000), raise_app_exceptions=False
            )
            people = []
            for name in ("甲", "乙"):
                member = await create_member(behind_proxy, name=name)
                http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
                await login(http, behind_proxy, member.mobile)
                people.append(ChatPerson(member, http))
            conversation_id = await chat_open_direct(*people)
            await proxy.cut()
            try:
                answer = await people[0].post(
                    f"/im/conversations/{conversation_id}/messages",
                    {"text": "Redis 不在", "client_msg_id": "x"},
                )
            finally:
                await proxy.restore()
                for chat_person in people:
                    await chat_person.http.aclose()
            assert answer.status_code == 200, answer.text
    finally:
        await proxy.close()
        await behind_proxy.close()
        await delete_redis_keys(shared_redis_url, settings.redis_prefix)
