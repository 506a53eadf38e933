"""The running platform's shared parts, built once at start-up and handed to services."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from zhengtong.core import crypto
from zhengtong.core.config import Settings
from zhengtong.core.db import Database
from zhengtong.core.keystore import FileKeyStore
from zhengtong.platform.channels.vapid import VapidKey, load_vapid_key
from zhengtong.platform.eventlog import EventLog, InProcessEventLog
from zhengtong.platform.events import EventBus, InProcessBus
from zhengtong.platform.notify import EmailProvider, OutboxProvider, PushProvider, SmsProvider, VoiceProvider
from zhengtong.platform.presence import InProcessPresence, Presence, RedisPresence
from zhengtong.platform.ratelimit import InProcessRateLimiter, RateLimiter
from zhengtong.platform.storage import LocalStorage, Storage

log = logging.getLogger(__name__)


# Fewer than the SQLite pool's connections (5 + 10 overflow): a reconnect storm after a restart
# (thousands of clients at once), or thousands of heartbeats in the same second, queue here, each
# quick, instead of holding the pool's connections and failing past its timeout.
SOCKET_QUERIES_AT_ONCE = 12


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
    vapid: VapidKey  # the installation's Web Push key pair; browsers subscribe with its public half
    extras: dict[str, Any] = field(default_factory=dict)
    # Sockets using the database at once (set up: authenticated, announced online; or answering a
    # heartbeat); see realtime.events_socket.
    socket_queries: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(SOCKET_QUERIES_AT_ONCE)
    )

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


_PROVIDERS = {
    "sms_provider": ("outbox", "gateway"),
    "voice_provider": ("outbox", "gateway"),
    "email_provider": ("outbox", "smtp"),
    "push_provider": ("outbox", "webpush"),
}


def _check_providers(settings: Settings) -> None:
    """Refuses an unknown provider, and the outbox in production: it sends nothing and keeps
    the messages, addresses included, in a file nobody reads."""
    for name, known in _PROVIDERS.items():
        chosen = getattr(settings, name)
        if chosen not in known:
            raise RuntimeError(f"ZT_{name.upper()} must be one of {', '.join(known)}, not {chosen!r}")
        if settings.environment == "production" and chosen == "outbox":
            raise RuntimeError(
                f"the outbox is for development; set ZT_{name.upper()} to {known[1]} in production"
            )


def _sms_and_voice(settings: Settings) -> tuple[SmsProvider, VoiceProvider]:
    outbox = OutboxProvider(settings.outbox_path)
    if "gateway" not in (settings.sms_provider, settings.voice_provider):
        return outbox, outbox
    from zhengtong.platform.channels.gateway import GatewayProvider

    gateway = GatewayProvider(settings)
    return (
        gateway if settings.sms_provider == "gateway" else outbox,
        gateway if settings.voice_provider == "gateway" else outbox,
    )


def _email(settings: Settings) -> EmailProvider:
    if settings.email_provider != "smtp":
        return OutboxProvider(settings.outbox_path)
    from zhengtong.platform.channels.smtp import SmtpProvider

    return SmtpProvider(settings)


def _push(settings: Settings, db: Database, vapid: VapidKey) -> PushProvider:
    if settings.push_provider != "webpush":
        return OutboxProvider(settings.outbox_path)
    # The provider reads the notification centre's subscriptions table.
    from zhengtong.notifications.push_provider import WebPushProvider
    from zhengtong.platform.channels.webpush import WebPushSender

    return WebPushProvider(db, WebPushSender(settings, vapid))


def build_context(settings: Settings) -> AppContext:
    """Wires the configured implementations together; runs the crypto self-test first."""
    crypto.self_test()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    master_key = crypto.load_master_key(settings.master_key, settings.data_dir)
    _check_providers(settings)
    bus, events, presence, limiter = _redis_parts(settings)
    db = Database(settings.resolved_database_url)
    vapid = load_vapid_key(settings.vapid_private_key, settings.vapid_key_path)
    sms, voice = _sms_and_voice(settings)
    return AppContext(
        settings=settings,
        db=db,
        keyring=crypto.Keyring(
            master_key, key_store=FileKeyStore(settings.keys_dir), national=settings.national_crypto
        ),
        bus=bus,
        events=events,
        presence=presence,
        limiter=limiter,
        storage=LocalStorage(settings.files_dir),
        sms=sms,
        voice=voice,
        email=_email(settings),
        push=_push(settings, db, vapid),
        vapid=vapid,
    )
