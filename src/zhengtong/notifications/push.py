"""Browsers subscribed to Web Push.

A logged-in browser subscribes with the installation's VAPID public key and hands over its
subscription (`subscribe`): it is kept for the account *and* the login session, one per session,
so that logging out, or the session ending, stops the pushes to that browser. The push provider
(push_provider.py) sends to the browsers whose session is open and deletes those it finds gone;
a daily job deletes the subscriptions of every session that ended.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.clock import utcnow
from zhengtong.core.config import Settings
from zhengtong.core.errors import AppError
from zhengtong.identity.models import AuthSession
from zhengtong.notifications import errors
from zhengtong.notifications.models import PushSubscription
from zhengtong.platform import jobs
from zhengtong.platform.channels.vapid import endpoint_refusal, keys_refusal

SWEEP_JOB = "notifications.push_subscription_sweep"


# The person's browsers ------------------------------------------------------------------------
async def subscribe(
    session: AsyncSession, settings: Settings, caller: Caller, *, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    """Keeps this browser's subscription for the caller's account and session (replacing the one
    the session had, and taking over an endpoint another login of this browser had)."""
    refusal = endpoint_refusal(settings, endpoint)
    if refusal:
        raise AppError(errors.PUSH_ENDPOINT_REFUSED, {"reason": refusal})
    bad_key = keys_refusal(p256dh, auth)
    if bad_key:
        raise AppError(errors.PUSH_SUBSCRIPTION_INVALID, {"field": bad_key})
    await session.execute(
        delete(PushSubscription)
        .where(or_(PushSubscription.session_id == caller.session_id, PushSubscription.endpoint == endpoint))
        .execution_options(synchronize_session=False)
    )
    subscription = PushSubscription(
        account_id=caller.account_id,
        session_id=caller.session_id,
        endpoint=endpoint,
        p256dh=p256dh,
        auth=auth,
    )
    session.add(subscription)
    await session.flush()
    return subscription


async def unsubscribe(session: AsyncSession, caller: Caller) -> None:
    """This browser (the caller's session) receives no more pushes."""
    await session.execute(
        delete(PushSubscription)
        .where(PushSubscription.session_id == caller.session_id)
        .execution_options(synchronize_session=False)
    )


async def is_subscribed(session: AsyncSession, caller: Caller) -> bool:
    found = await session.scalar(
        select(PushSubscription.id).where(PushSubscription.session_id == caller.session_id).limit(1)
    )
    return found is not None


def session_open() -> Any:
    """SQL: the subscription's login session is still open."""
    return (
        select(AuthSession.id)
        .where(
            AuthSession.id == PushSubscription.session_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
        .exists()
    )


@jobs.register(SWEEP_JOB)
async def sweep_subscriptions(job: jobs.JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Deletes the subscriptions of browsers whose login session ended."""
    async with job.transaction() as session:
        gone = await session.execute(
            delete(PushSubscription).where(~session_open()).execution_options(synchronize_session=False)
        )
    return {"deleted": int(getattr(gone, "rowcount", 0) or 0)}


jobs.schedule(SWEEP_JOB, kind=SWEEP_JOB, every_seconds=24 * 3600)
