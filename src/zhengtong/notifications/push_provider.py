"""Web Push as the platform's push provider: a notice goes to every browser of the account whose
login session is still open (push.py keeps the subscriptions)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select

from zhengtong.core.db import Database
from zhengtong.notifications.models import PushSubscription
from zhengtong.notifications.push import session_open
from zhengtong.platform.channels.vapid import Subscription
from zhengtong.platform.channels.webpush import GoneSubscription, WebPushSender, push_payload
from zhengtong.platform.notify import DeliveryFailed, NoRecipient


class WebPushProvider:
    """PushProvider over Web Push: one encrypted message to each browser of the account."""

    def __init__(self, db: Database, sender: WebPushSender) -> None:
        self.db = db
        self.sender = sender

    async def send_push(
        self, account_id: str, template: str, title: str, text: str, params: dict[str, Any]
    ) -> None:
        rows = await self._subscriptions(account_id)
        if not rows:
            raise NoRecipient()
        data = push_payload(title, text, params)
        urgent = bool(params.get("urgent"))
        failures = await asyncio.gather(*(self._send_one(row, data, urgent) for row in rows))
        gone = [
            row.id
            for row, failure in zip(rows, failures, strict=True)
            if isinstance(failure, GoneSubscription)
        ]
        if gone:
            await self._forget(gone)
        if any(failure is None for failure in failures):
            return  # at least one of the person's browsers has it
        others = [f for f in failures if f is not None and not isinstance(f, GoneSubscription)]
        if not others:
            raise NoRecipient()
        raise others[0]

    async def _send_one(self, row: PushSubscription, data: bytes, urgent: bool) -> DeliveryFailed | None:
        try:
            await self.sender.send(Subscription(row.endpoint, row.p256dh, row.auth), data, urgent=urgent)
        except DeliveryFailed as failure:
            return failure
        return None

    async def _subscriptions(self, account_id: str) -> list[PushSubscription]:
        """The account's browsers whose session is open; those whose session ended are deleted."""
        async with self.db.transaction() as session:
            await session.execute(
                delete(PushSubscription)
                .where(PushSubscription.account_id == account_id, ~session_open())
                .execution_options(synchronize_session=False)
            )
            found = await session.scalars(
                select(PushSubscription).where(PushSubscription.account_id == account_id)
            )
            return list(found)

    async def _forget(self, subscription_ids: Sequence[str]) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                delete(PushSubscription)
                .where(PushSubscription.id.in_(subscription_ids))
                .execution_options(synchronize_session=False)
            )
