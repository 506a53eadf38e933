"""A person's chat preferences and the organisation's chat policy.

Quiet hours (下班勿扰) and per-conversation do-not-disturb decide whether a message *notifies*
(desktop notification, later push and SMS channels); delivery over the event stream never waits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.errors import REQUEST_INVALID, AppError
from zhengtong.directory.visibility import Actor
from zhengtong.im.models import ChatPreference, ConversationMember
from zhengtong.im.policy import ChatPolicy
from zhengtong.org.models import Organization


async def preferences_of(session: AsyncSession, viewer: Actor) -> ChatPreference:
    found = (
        await session.execute(
            select(ChatPreference).where(ChatPreference.membership_id == viewer.membership_id)
        )
    ).scalar_one_or_none()
    if found is None:
        found = ChatPreference(org_id=viewer.org_id, membership_id=viewer.membership_id)
        session.add(found)
        await session.flush()
    return found


async def update_preferences(session: AsyncSession, viewer: Actor, changes: dict[str, Any]) -> ChatPreference:
    if "timezone" in changes:
        try:
            ZoneInfo(changes["timezone"])
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise AppError(REQUEST_INVALID, detail={"field": "timezone"}) from error
    preferences = await preferences_of(session, viewer)
    for name, value in changes.items():
        setattr(preferences, name, value)
    return preferences


def in_quiet_hours(preferences: ChatPreference, now: datetime | None = None) -> bool:
    """Whether `now` falls in the person's quiet hours, which may cross midnight (22:00–08:00)."""
    if not preferences.quiet_hours_enabled:
        return False
    local = (now or utcnow()).astimezone(ZoneInfo(preferences.timezone)).time()
    start, end = time.fromisoformat(preferences.quiet_start), time.fromisoformat(preferences.quiet_end)
    if start <= end:
        return start <= local < end
    return local >= start or local < end


async def quiet_hours_ends(
    session: AsyncSession, membership_ids: Sequence[str], now: datetime
) -> dict[str, datetime]:
    """For each of these members who is in their quiet hours at `now`, when those hours end (UTC):
    what a DING that respects quiet hours waits for."""
    rows = await session.scalars(
        select(ChatPreference).where(
            ChatPreference.membership_id.in_(list(membership_ids)),
            ChatPreference.quiet_hours_enabled.is_(True),
        )
    )
    ends = {}
    for preferences in rows:
        if in_quiet_hours(preferences, now):
            ends[preferences.membership_id] = quiet_hours_end(preferences, now)
    return ends


def quiet_hours_end(preferences: ChatPreference, now: datetime) -> datetime:
    """The end of the quiet hours `now` falls in: today's end, or tomorrow's when it has passed
    (hours that cross midnight, seen before midnight)."""
    zone = ZoneInfo(preferences.timezone)
    local = now.astimezone(zone)
    end = time.fromisoformat(preferences.quiet_end)
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)


def should_notify(preferences: ChatPreference, seat: ConversationMember, *, mentioned: bool) -> bool:
    """Notify unless the conversation is on do-not-disturb (a mention still notifies) or the
    person is in quiet hours."""
    if in_quiet_hours(preferences):
        return False
    return mentioned or not seat.do_not_disturb


async def update_policy(
    session: AsyncSession, organization: Organization, changes: dict[str, Any]
) -> ChatPolicy:
    current = ChatPolicy.of(organization).as_settings()
    merged = {**current, **changes}
    organization.settings = {**(organization.settings or {}), "im": merged}
    return ChatPolicy.of(organization)
