"""Redis for the platform tests: the server at ZT_TEST_REDIS_URL, a key prefix per test, cleaned up
afterwards. Tests that need it are skipped when Redis is unreachable (a failure when CI=true)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

REDIS_URL = os.environ.get("ZT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> str:
    probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    try:
        probe.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    finally:
        probe.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key and channel prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"zt_test_{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        leftovers = list(client.scan_iter(match=f"{prefix}*"))
        if leftovers:
            client.delete(*leftovers)
    finally:
        client.close()
