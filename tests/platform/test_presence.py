"""Presence: online while a connection is open and heartbeating, in process and in Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from zhengtong.platform import presence as presence_module
from zhengtong.platform.presence import InProcessPresence, Presence, RedisPresence


@pytest.fixture(params=["in_process", "redis"])
async def presence(request: pytest.FixtureRequest) -> AsyncIterator[Presence]:
    built: Presence
    if request.param == "in_process":
        built = InProcessPresence()
    else:
        built = RedisPresence(request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix"))
    yield built
    await built.close()


async def test_online_while_any_connection_is_open(presence: Presence) -> None:
    assert await presence.connected("alice", "phone") is True
    assert await presence.connected("alice", "desktop") is False
    assert await presence.online(["alice", "bob"]) == {"alice"}
    assert await presence.disconnected("alice", "phone") is False
    assert await presence.online(["alice"]) == {"alice"}
    assert await presence.disconnected("alice", "desktop") is True
    assert await presence.online(["alice"]) == set()


async def test_a_crashed_process_connections_lapse(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    presence = RedisPresence(redis_url, redis_prefix)
    now = [1000.0]
    monkeypatch.setattr(presence_module.time, "time", lambda: now[0])
    await presence.connected("carol", "crashed-process")
    assert await presence.online(["carol"]) == {"carol"}
    now[0] += presence_module.LAPSE_SECONDS + 1  # no heartbeat came
    assert await presence.online(["carol"]) == set()
    await presence.close()
