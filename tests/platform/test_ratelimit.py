"""Rate limits, counted in process and in Redis: the same fixed-window behaviour from both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from zhengtong.core.errors import RATE_LIMITED, AppError
from zhengtong.platform.ratelimit import InProcessRateLimiter, RateLimiter, enforce
from zhengtong.platform.redis_backends import RedisRateLimiter


@pytest.fixture(params=["in_process", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    built: RateLimiter
    if request.param == "in_process":
        built = InProcessRateLimiter()
    else:
        built = RedisRateLimiter(
            request.getfixturevalue("redis_url"), prefix=request.getfixturevalue("redis_prefix")
        )
    yield built
    await built.close()


async def test_hits_up_to_the_limit_are_allowed_then_refused(limiter: RateLimiter) -> None:
    verdicts = [await limiter.hit("login:ip", limit=3, window_seconds=60) for _ in range(4)]

    assert [verdict.allowed for verdict in verdicts] == [True, True, True, False]
    assert 58 <= verdicts[-1].retry_after <= 60


async def test_keys_are_counted_apart(limiter: RateLimiter) -> None:
    await limiter.hit("sms:a", limit=1, window_seconds=60)

    assert not (await limiter.hit("sms:a", limit=1, window_seconds=60)).allowed
    assert (await limiter.hit("sms:b", limit=1, window_seconds=60)).allowed


async def test_reset_starts_the_count_again(limiter: RateLimiter) -> None:
    await limiter.hit("sms:a", limit=1, window_seconds=60)
    await limiter.reset("sms:a")

    assert (await limiter.hit("sms:a", limit=1, window_seconds=60)).allowed


async def test_a_new_window_starts_after_the_old_one_ends(limiter: RateLimiter) -> None:
    await limiter.hit("sms:a", limit=1, window_seconds=1)
    assert not (await limiter.hit("sms:a", limit=1, window_seconds=1)).allowed

    await asyncio.sleep(1.1)

    assert (await limiter.hit("sms:a", limit=1, window_seconds=1)).allowed


async def test_enforce_raises_rate_limited_with_retry_after(limiter: RateLimiter) -> None:
    await enforce(limiter, "login:ip", limit=1, window_seconds=30)

    with pytest.raises(AppError) as raised:
        await enforce(limiter, "login:ip", limit=1, window_seconds=30)

    assert raised.value.error is RATE_LIMITED
    assert raised.value.error.status == 429
    retry_after = int(raised.value.headers["Retry-After"])
    assert 1 <= retry_after <= 30
    assert raised.value.detail == {"retry_after": retry_after}


async def test_redis_limiters_share_their_counts(redis_url: str, redis_prefix: str) -> None:
    # Two limiters, as two server processes would have.
    first, second = RedisRateLimiter(redis_url, redis_prefix), RedisRateLimiter(redis_url, redis_prefix)
    try:
        await first.hit("login:ip", limit=2, window_seconds=60)
        await second.hit("login:ip", limit=2, window_seconds=60)

        assert not (await first.hit("login:ip", limit=2, window_seconds=60)).allowed
    finally:
        await first.close()
        await second.close()


async def test_redis_counter_always_expires(redis_url: str, redis_prefix: str) -> None:
    limiter = RedisRateLimiter(redis_url, redis_prefix)
    admin = Redis.from_url(redis_url)
    try:
        await limiter.hit("login:ip", limit=5, window_seconds=60)
        assert 0 < await admin.ttl(f"{redis_prefix}ratelimit:login:ip") <= 60

        # A counter left without an expiry (by hand, or an older version) gets one on the next hit.
        await admin.set(f"{redis_prefix}ratelimit:stuck", 7)
        verdict = await limiter.hit("stuck", limit=5, window_seconds=60)
        assert not verdict.allowed
        assert verdict.retry_after == 60
        assert 0 < await admin.ttl(f"{redis_prefix}ratelimit:stuck") <= 60
    finally:
        await limiter.close()
        await admin.aclose()
