"""The event bus, in process and over Redis: delivery, fan-out, publishing after commit, and a
Redis subscriber that outlives dropped connections."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from zhengtong.core.context import AppContext
from zhengtong.platform.events import EventBus, InProcessBus, publish_after_commit
from zhengtong.platform.redis_backends import RedisBus


async def next_payload(messages: AsyncIterator[dict[str, Any]], seconds: float = 5.0) -> dict[str, Any]:
    return await asyncio.wait_for(anext(messages), seconds)


@pytest.fixture(params=["in_process", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    built: EventBus
    if request.param == "in_process":
        built = InProcessBus()
    else:
        built = RedisBus(request.getfixturevalue("redis_url"), prefix=request.getfixturevalue("redis_prefix"))
    yield built
    await built.close()


async def test_subscriber_hears_its_channels_only(bus: EventBus) -> None:
    async with bus.subscribe("org:1", "account:7") as messages:
        await bus.publish("org:1", {"n": 1})
        await bus.publish("org:2", {"n": "other channel"})
        await bus.publish("account:7", {"n": 2, "text": "审批通过"})

        assert await next_payload(messages) == {"n": 1}
        assert await next_payload(messages) == {"n": 2, "text": "审批通过"}


async def test_every_subscriber_of_a_channel_hears_each_payload(bus: EventBus) -> None:
    async with bus.subscribe("org:1") as first, bus.subscribe("org:1") as second:
        await bus.publish("org:1", {"n": 1})

        assert await next_payload(first) == {"n": 1}
        assert await next_payload(second) == {"n": 1}


async def test_publishing_to_a_channel_nobody_hears_is_harmless(bus: EventBus) -> None:
    await bus.publish("nobody", {"n": 1})

    async with bus.subscribe("nobody") as messages:
        await bus.publish("nobody", {"n": 2})
        assert await next_payload(messages) == {"n": 2}


async def test_publish_after_commit_waits_for_the_commit(bus: EventBus, context: AppContext) -> None:
    async with bus.subscribe("org:1") as messages:
        async with context.db.transaction() as session:
            publish_after_commit(session, bus, "org:1", {"event": "committed"})
            await bus.publish("org:1", {"event": "sent during the transaction"})

        assert await next_payload(messages) == {"event": "sent during the transaction"}
        assert await next_payload(messages) == {"event": "committed"}


async def test_publish_after_commit_sends_nothing_when_the_transaction_fails(
    bus: EventBus, context: AppContext
) -> None:
    async with bus.subscribe("org:1") as messages:
        with pytest.raises(RuntimeError):
            async with context.db.transaction() as session:
                publish_after_commit(session, bus, "org:1", {"event": "rolled back"})
                raise RuntimeError("the work failed")
        await bus.publish("org:1", {"event": "marker"})

        assert await next_payload(messages) == {"event": "marker"}


async def test_two_redis_buses_hear_each_other(redis_url: str, redis_prefix: str) -> None:
    # Two buses, as two server processes would have.
    first, second = RedisBus(redis_url, redis_prefix), RedisBus(redis_url, redis_prefix)
    try:
        async with first.subscribe("org:1") as first_hears, second.subscribe("org:1") as second_hears:
            await first.publish("org:1", {"from": "first"})
            assert await next_payload(second_hears) == {"from": "first"}
            assert await next_payload(first_hears) == {"from": "first"}

            await second.publish("org:1", {"from": "second"})
            assert await next_payload(first_hears) == {"from": "second"}
    finally:
        await first.close()
        await second.close()


async def test_redis_buses_with_other_prefixes_do_not_hear_each_other(
    redis_url: str, redis_prefix: str
) -> None:
    ours, theirs = RedisBus(redis_url, redis_prefix), RedisBus(redis_url, redis_prefix + "other:")
    try:
        async with ours.subscribe("org:1") as messages:
            await theirs.publish("org:1", {"from": "another installation"})
            await ours.publish("org:1", {"from": "us"})
            assert await next_payload(messages) == {"from": "us"}
    finally:
        await ours.close()
        await theirs.close()


async def _publish_until_heard(bus: RedisBus, messages: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    """Publishes until the subscriber hears it: what is published while it reconnects is lost."""
    heard = asyncio.create_task(next_payload(messages, seconds=15))
    while not heard.done():
        await bus.publish("org:1", {"n": "after the drop"})
        await asyncio.sleep(0.05)
    return heard.result()


async def _kill_subscriber_connections(redis_url: str, client_name: str) -> int:
    admin = Redis.from_url(redis_url, decode_responses=True)
    try:
        clients = await admin.client_list(_type="pubsub")
        ids = [client["id"] for client in clients if client["name"] == client_name]
        for client_id in ids:
            await admin.client_kill_filter(_id=client_id)
        return len(ids)
    finally:
        await admin.aclose()


async def test_redis_subscriber_keeps_iterating_after_the_server_drops_it(
    redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    bus = RedisBus(redis_url, redis_prefix)
    try:
        async with bus.subscribe("org:1") as messages:
            await bus.publish("org:1", {"n": "before"})
            assert await next_payload(messages) == {"n": "before"}

            # CLIENT KILL TYPE pubsub, narrowed to this bus's connection so other users of the
            # shared server keep theirs.
            assert await _kill_subscriber_connections(redis_url, f"{redis_prefix}subscriber") == 1
            with caplog.at_level(logging.WARNING, logger="zhengtong.platform.redis_backends"):
                assert await _publish_until_heard(bus, messages) == {"n": "after the drop"}

        assert "lost the Redis subscription" in caplog.text
    finally:
        await bus.close()


class _TcpProxy:
    """Forwards a local port to Redis and can go away and come back, as a restarted server would."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        self._writers.clear()
        await self._server.wait_closed()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target_reader, target_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, target_writer}
        await asyncio.gather(
            self._pipe(reader, target_writer), self._pipe(target_reader, writer), return_exceptions=True
        )

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()


async def test_redis_subscriber_waits_out_an_outage(
    redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    host_and_port = redis_url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_and_port.rsplit(":", 1)
    proxy = _TcpProxy(host, int(port))
    await proxy.start()
    bus = RedisBus(f"redis://127.0.0.1:{proxy.port}/0", redis_prefix)
    try:
        async with bus.subscribe("org:1") as messages:
            await bus.publish("org:1", {"n": "before"})
            assert await next_payload(messages) == {"n": "before"}

            with caplog.at_level(logging.WARNING, logger="zhengtong.platform.redis_backends"):
                await proxy.stop()
                listening = asyncio.create_task(next_payload(messages, seconds=15))
                await asyncio.sleep(1.0)  # several reconnection attempts fail meanwhile
                assert not listening.done()
                await proxy.start()
                while not listening.done():
                    await bus.publish("org:1", {"n": "after the outage"})
                    await asyncio.sleep(0.05)
                assert listening.result() == {"n": "after the outage"}

        assert "Redis unreachable" in caplog.text
    finally:
        await bus.close()
        await proxy.stop()
