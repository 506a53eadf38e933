"""The running platform's shared parts, built once at start-up and handed to services."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from zhengtong.core import crypto
from zhengtong.core.config import Settings
from zhengtong.core.db import Database
from zhengtong.core.keystore import FileKeyStore
from zhengtong.platform.eventlog import EventLog, InProcessEventLog
from zhengtong.platform.events import EventBus, InProcessBus
from zhengtong.platform.notify import EmailProvider, OutboxProvider, PushProvider, SmsProvider, VoiceProvider
from zhengtong.platform.presence import InProcessPresence, Presence, RedisPresence
from zhengtong.platform.ratelimit import InProcessRateLimiter, RateLimiter
from zhengtong.platform.storage import LocalStorage, Storage

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    settings: Settings
    db: Database
    keyring: crypto.Keyring
    bus: EventBus
    events: EventLog  # per-user sequenced streams for clients (see platform.eventlog)
    presence: Presence
    limiter: RateLimiter
    storage: Storage
    sms: SmsProvider
    voice: VoiceProvider
    email: EmailProvider
    push: PushProvider
    extras: dict[str, Any] = field(default_factory=dict)

    async def close(self) -> None:
        await self.bus.close()
        await self.events.close()
        await self.presence.close()
        await self.limiter.close()
        await self.db.dispose()


def _redis_parts(settings: Settings) -> tuple[EventBus, EventLog, Presence, RateLimiter]:
    if not settings.redis_url:
        return InProcessBus(), InProcessEventLog(), InProcessPresence(), InProcessRateLimiter()
    from zhengtong.platform.redis_backends import RedisBus, RedisEventLog, RedisRateLimiter

    url, prefix = settings.redis_url, settings.redis_prefix
    return (
        RedisBus(url, prefix),
        RedisEventLog(url, prefix),
        RedisPresence(url, prefix),
        RedisRateLimiter(url, prefix),
    )


def build_context(settings: Settings) -> AppContext:
    """Wires the configured implementations together; runs the crypto self-test first."""
    crypto.self_test()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    master_key = crypto.load_master_key(settings.master_key, settings.data_dir)
    if settings.environment == "production" and settings.sms_provider == "outbox":
        raise RuntimeError("the outbox SMS provider is for development; configure a carrier in production")
    bus, events, presence, limiter = _redis_parts(settings)
    return AppContext(
        settings=settings,
        db=Database(settings.resolved_database_url),
        keyring=crypto.Keyring(
            master_key, key_store=FileKeyStore(settings.keys_dir), national=settings.national_crypto
        ),
        bus=bus,
        events=events,
        presence=presence,
        limiter=limiter,
        storage=LocalStorage(settings.files_dir),
        sms=OutboxProvider(settings.outbox_path),
        voice=OutboxProvider(settings.outbox_path),
        email=OutboxProvider(settings.outbox_path),  # SMTP comes with issue 6
        push=OutboxProvider(settings.outbox_path),  # a push gateway comes with issue 6
    )
