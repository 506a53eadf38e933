"""The scan tests run with Redis (it holds event streams and rate-limit keys the scan must see)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from zhengtong.core.config import Settings

REDIS_URL = os.environ.get("ZT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(redis_url=REDIS_URL)


@pytest.fixture(autouse=True)
async def _forget_redis_keys(settings: Settings) -> AsyncIterator[None]:
    yield
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(match=settings.redis_prefix + "*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
