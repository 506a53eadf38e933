"""Outgoing messages to people (SMS, voice, e-mail, push) through provider interfaces.

The development provider writes every message into the outbox (a JSON-lines file in the data
directory) so that a developer or a test reads the login code there; `zhengtong outbox` prints it.
Real carriers plug in behind the same interface (`platform/channels/`: SMTP e-mail, an HTTP
gateway for SMS and voice, Web Push); `core.context.build_context` picks them from the settings.
A provider that cannot deliver raises `DeliveryFailed` with a short reason that is stored with the
attempt, so the reason must never hold an address or the message.

A voice call (DING by phone) is placed and its outcome learnt later: `place_call` returns the
call's id at once, `call_status` tells whether it was answered. A recorded call is never answered
unless `answer_recorded_call` says so (a developer, or a test, picking up).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar

from zhengtong.core.clock import utcnow
from zhengtong.core.ids import new_id

T = TypeVar("T")
R = TypeVar("R")


class CallStatus(StrEnum):
    RINGING = "ringing"  # placed, no outcome yet
    ANSWERED = "answered"
    UNANSWERED = "unanswered"  # rang out, busy or rejected
    FAILED = "failed"  # the gateway could not place it


class DeliveryFailed(Exception):
    """The channel did not take the message. `reason` is a short code kept with the attempt
    ("Timeout", "http 503", "smtp 550"): never an address or any of the text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:64]


class NoRecipient(DeliveryFailed):
    """The person has nothing to deliver to on this channel (no browser subscribed to pushes)."""

    def __init__(self) -> None:
        super().__init__("NoRecipient")


@dataclass(frozen=True)
class OutboxMessage:
    channel: str  # sms | voice | voice_answer | email | push
    to: str  # mobile (E.164), e-mail address, or the account id a push goes to
    template: str
    text: str
    params: dict[str, Any]
    sent_at: str
    subject: str = ""  # e-mail subject, push title


class SmsProvider(Protocol):
    async def send_sms(self, mobile: str, template: str, text: str, params: dict[str, Any]) -> None: ...


class VoiceProvider(Protocol):
    async def place_call(self, mobile: str, template: str, text: str, params: dict[str, Any]) -> str:
        """Places a call that reads `text` out; returns the call's id."""
        ...

    async def call_status(self, call_id: str) -> CallStatus: ...


class EmailProvider(Protocol):
    async def send_email(
        self, address: str, template: str, subject: str, text: str, params: dict[str, Any]
    ) -> None: ...


class PushProvider(Protocol):
    """Push to the person's installed clients, addressed by account id. `params` may carry the
    client path to open ("link") and whether the notice is urgent ("urgent")."""

    async def send_push(
        self, account_id: str, template: str, title: str, text: str, params: dict[str, Any]
    ) -> None: ...


class OutboxProvider:
    """Records messages instead of sending them. Refused when ZT_ENVIRONMENT=production."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _append(self, message: OutboxMessage) -> None:
        # In the caller, not on a thread: appending a line takes microseconds, less than the trip
        # to a thread and back, and a DING to thousands of people records thousands of pushes.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(message), ensure_ascii=False) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # several server processes may append at once
            handle.write(line)

    async def send_sms(self, mobile: str, template: str, text: str, params: dict[str, Any]) -> None:
        message = OutboxMessage("sms", mobile, template, text, params, utcnow().isoformat())
        self._append(message)

    async def place_call(self, mobile: str, template: str, text: str, params: dict[str, Any]) -> str:
        call_id = new_id()
        message = OutboxMessage(
            "voice", mobile, template, text, {**params, "call_id": call_id}, utcnow().isoformat()
        )
        self._append(message)
        return call_id

    async def call_status(self, call_id: str) -> CallStatus:
        for message in reversed(await asyncio.to_thread(read_outbox, self.path)):
            if message.channel == "voice_answer" and message.to == call_id:
                return CallStatus.ANSWERED
            if message.channel == "voice" and message.params.get("call_id") == call_id:
                return CallStatus.UNANSWERED  # nobody picks up a recorded call
        return CallStatus.FAILED

    async def send_email(
        self, address: str, template: str, subject: str, text: str, params: dict[str, Any]
    ) -> None:
        message = OutboxMessage("email", address, template, text, params, utcnow().isoformat(), subject)
        self._append(message)

    async def send_push(
        self, account_id: str, template: str, title: str, text: str, params: dict[str, Any]
    ) -> None:
        message = OutboxMessage("push", account_id, template, text, params, utcnow().isoformat(), title)
        self._append(message)


def answer_recorded_call(path: Path, call_id: str) -> None:
    """Marks a call the outbox recorded as answered (a developer or a test picking up)."""
    OutboxProvider(path)._append(OutboxMessage("voice_answer", call_id, "", "", {}, utcnow().isoformat()))


def read_outbox(path: Path, last: int | None = None) -> list[OutboxMessage]:
    if not path.exists():
        return []
    messages = [OutboxMessage(**json.loads(line)) for line in path.read_text("utf-8").splitlines() if line]
    return messages[-last:] if last else messages


async def send_each(items: Sequence[T], send: Callable[[T], Awaitable[R]], *, at_once: int) -> list[R]:
    """`send` for every item, at most `at_once` at a time (a carrier is not flooded, a slow one
    does not hold up the rest), the results in the items' order."""
    gate = asyncio.Semaphore(at_once)

    async def bounded(item: T) -> R:
        async with gate:
            return await send(item)

    return list(await asyncio.gather(*(bounded(item) for item in items)))
