"""Who is online: an account is online while at least one of its connections is open and
heartbeating. In one process a counter per account; with Redis, a hash per account whose fields
are connection ids valued by when they lapse, so a crashed process's connections lapse on their
own within `LAPSE_SECONDS`."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from zhengtong.platform.redis_backends import command_client

LAPSE_SECONDS = 90  # a connection not heard from for this long no longer counts


class Presence(Protocol):
    async def connected(self, account_id: str, connection_id: str) -> bool:
        """Records a connection; True when the account was offline before."""
        ...

    async def heartbeat(self, account_id: str, connection_id: str) -> None: ...

    async def disconnected(self, account_id: str, connection_id: str) -> bool:
        """Forgets a connection; True when the account is now offline."""
        ...

    async def online(self, account_ids: Sequence[str]) -> set[str]: ...

    async def close(self) -> None: ...


class InProcessPresence:
    def __init__(self) -> None:
        self._connections: Counter[str] = Counter()

    async def connected(self, account_id: str, connection_id: str) -> bool:
        self._connections[account_id] += 1
        return self._connections[account_id] == 1

    async def heartbeat(self, account_id: str, connection_id: str) -> None:
        return None

    async def disconnected(self, account_id: str, connection_id: str) -> bool:
        self._connections[account_id] -= 1
        if self._connections[account_id] <= 0:
            del self._connections[account_id]
            return True
        return False

    async def online(self, account_ids: Sequence[str]) -> set[str]:
        return {account_id for account_id in account_ids if self._connections.get(account_id)}

    async def close(self) -> None:
        self._connections.clear()


class RedisPresence:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = command_client(url, f"{prefix}presence")
        self._prefix = prefix

    def _key(self, account_id: str) -> str:
        return f"{self._prefix}presence:{account_id}"

    async def _live_fields(self, account_id: str) -> int:
        now = time.time()
        values = await self._redis.hvals(self._key(account_id))
        return sum(1 for value in values if float(value) > now)

    async def connected(self, account_id: str, connection_id: str) -> bool:
        was_online = await self._live_fields(account_id) > 0
        await self.heartbeat(account_id, connection_id)
        return not was_online

    async def heartbeat(self, account_id: str, connection_id: str) -> None:
        key = self._key(account_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, connection_id, str(time.time() + LAPSE_SECONDS))
            pipe.expire(key, LAPSE_SECONDS)
            await pipe.execute()

    async def disconnected(self, account_id: str, connection_id: str) -> bool:
        await self._redis.hdel(self._key(account_id), connection_id)
        return await self._live_fields(account_id) == 0

    async def online(self, account_ids: Sequence[str]) -> set[str]:
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            for account_id in account_ids:
                pipe.hvals(self._key(account_id))
            answers = await pipe.execute()
        return {
            account_id
            for account_id, values in zip(account_ids, answers, strict=True)
            if any(float(value) > now for value in values)
        }

    async def close(self) -> None:
        await self._redis.aclose()
