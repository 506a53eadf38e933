"""Each person's choice of channels per category of notice, and their quiet hours.

Categories: system (the platform's and the organisation's notices), DING, work notices and
mentions; a notice's `kind` decides its category (`category_of`). A person turns SMS, e-mail or
push off per category; in-app is always on. No row means every channel.

Quiet hours are one setting per person and organisation: the chat's 下班勿扰 (`im_preferences`),
edited in the chat's preferences or under 设置 → 通知设置. A notice concerning an organisation
follows the person's quiet hours there; a platform-wide notice follows those of their first
organisation. During quiet hours SMS, e-mail and push wait until the hours end, unless the notice
is urgent.

Some notices must reach the person whatever they chose (`REQUIRED_KINDS`): they ignore both the
channel choices and the quiet hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.errors import AppError
from zhengtong.directory.visibility import actor_for
from zhengtong.im import preferences as chat_preferences
from zhengtong.im.models import ChatPreference
from zhengtong.notifications import errors
from zhengtong.notifications.models import Channel, NotificationPreference
from zhengtong.org.models import Membership


class Category(StrEnum):
    SYSTEM = "system"  # the platform's and the organisation's notices
    DING = "ding"
    WORK_NOTICE = "work_notice"
    MENTION = "mention"


_CATEGORY_OF_KIND = {
    "ding": Category.DING,
    "work_notice": Category.WORK_NOTICE,
    "mention": Category.MENTION,
}
# Notices the person must receive whatever they chose: a security incident (《个人信息保护法》
# 第五十七条) and the service shutdown (停止运营: each person is told, GB/T 35273), which the law
# requires, and an organisation's deregistration (their data there is about to be deleted: they
# must learn in time to export it).
REQUIRED_KINDS = frozenset({"security_incident", "service_shutdown", "org_deregistration"})
CHOOSABLE_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.PUSH)

ChannelChoices = dict[Category, frozenset[Channel]]


def category_of(kind: str) -> Category:
    return _CATEGORY_OF_KIND.get(kind, Category.SYSTEM)


def every_channel() -> ChannelChoices:
    return {category: frozenset(CHOOSABLE_CHANNELS) for category in Category}


def _choices_of(stored: Mapping[str, Iterable[str]] | None) -> ChannelChoices:
    choices = every_channel()
    for category in Category:
        if stored and category.value in stored:
            choices[category] = frozenset(Channel(name) for name in stored[category.value])
    return choices


def accepts(choices: ChannelChoices, kind: str, channel: str) -> bool:
    """Whether a notice of `kind` may go through `channel` to a person with these choices."""
    if kind in REQUIRED_KINDS or channel not in CHOOSABLE_CHANNELS:
        return True
    return Channel(channel) in choices[category_of(kind)]


async def channel_choices(session: AsyncSession, account_ids: Iterable[str]) -> dict[str, ChannelChoices]:
    """account id → their choices (every channel for those who never chose)."""
    wanted = set(account_ids)
    rows = await session.execute(
        select(NotificationPreference.account_id, NotificationPreference.channels).where(
            NotificationPreference.account_id.in_(wanted)
        )
    )
    stored = dict(rows.all())
    return {account_id: _choices_of(stored.get(account_id)) for account_id in wanted}


async def set_channel_choices(session: AsyncSession, account_id: str, choices: ChannelChoices) -> None:
    row = await session.scalar(
        select(NotificationPreference).where(NotificationPreference.account_id == account_id)
    )
    stored = {category.value: sorted(channel.value for channel in choices[category]) for category in Category}
    if row is None:
        session.add(NotificationPreference(account_id=account_id, channels=stored))
    else:
        row.channels = stored
    await session.flush()


# Quiet hours ----------------------------------------------------------------------------------
def waits_until(preference: ChatPreference | None, now: datetime) -> datetime | None:
    """When a delivery held back by these quiet hours may go (the first moment their local end
    comes), or None when it may go now."""
    if preference is None or not chat_preferences.in_quiet_hours(preference, now):
        return None
    return chat_preferences.quiet_hours_end(preference, now)


async def quiet_hours_of(
    session: AsyncSession, people: Iterable[tuple[str, str | None]]
) -> dict[tuple[str, str | None], ChatPreference | None]:
    """(account id, organisation of the notice or None) → the chat preferences whose quiet hours
    apply (see the module docstring); None when the person never set any."""
    wanted = set(people)
    rows = await session.execute(
        select(Membership.account_id, Membership.org_id, ChatPreference)
        .join(ChatPreference, ChatPreference.membership_id == Membership.id)
        .where(Membership.account_id.in_({account_id for account_id, _ in wanted}))
        .order_by(Membership.created_at, Membership.id)
    )
    by_account: dict[str, list[tuple[str, ChatPreference]]] = {}
    for account_id, org_id, preference in rows.all():
        by_account.setdefault(account_id, []).append((org_id, preference))
    found: dict[tuple[str, str | None], ChatPreference | None] = {}
    for person, notice_org in wanted:
        held = by_account.get(person, [])
        if notice_org is None:
            found[(person, notice_org)] = held[0][1] if held else None
        else:
            found[(person, notice_org)] = next((p for org, p in held if org == notice_org), None)
    return found


# The person's own settings (API) --------------------------------------------------------------
_QUIET_COLUMNS = ("quiet_hours_enabled", "quiet_start", "quiet_end", "timezone")


async def own_quiet_hours(session: AsyncSession, caller: Caller) -> ChatPreference | None:
    """The caller's quiet hours in their current organisation (the chat's defaults while they
    never set any: reading stores nothing, so that it never races the chat's own first write);
    None outside any organisation."""
    if caller.org_id is None:
        return None
    actor = await actor_for(session, caller)
    found = await session.scalar(
        select(ChatPreference).where(ChatPreference.membership_id == actor.membership_id)
    )
    if found is not None:
        return found
    columns = ChatPreference.__table__.c
    defaults = {name: getattr(columns[name].default, "arg", None) for name in _QUIET_COLUMNS}
    return ChatPreference(org_id=actor.org_id, membership_id=actor.membership_id, **defaults)


async def set_own_quiet_hours(
    session: AsyncSession, caller: Caller, *, enabled: bool, start: str, end: str, timezone: str
) -> ChatPreference:
    """Changes the caller's quiet hours in their current organisation (the chat's 下班勿扰)."""
    if caller.org_id is None:
        raise AppError(errors.QUIET_HOURS_NEED_ORGANISATION)
    changes = {"quiet_hours_enabled": enabled, "quiet_start": start, "quiet_end": end, "timezone": timezone}
    return await chat_preferences.update_preferences(session, await actor_for(session, caller), changes)
