"""Request and response shapes of the notification centre."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema
from zhengtong.notifications.preferences import Category

_HH_MM = r"^([01]\d|2[0-3]):[0-5]\d$"


# The person's notices ----------------------------------------------------------------------
class NoticeRead(OutputSchema):
    id: str
    kind: str
    subject: dict[str, str]  # {language: text}
    body: dict[str, str]
    link: str  # a path of the web client to open, or empty
    created_at: datetime
    read_at: datetime | None


class NoticeList(OutputSchema):
    unread: int
    items: list[NoticeRead]


# The person's choice of channels and quiet hours -------------------------------------------
class CategoryChannels(OutputSchema):
    category: Category
    sms: bool
    email: bool
    push: bool


class QuietHoursRead(OutputSchema):
    enabled: bool
    start: str  # "HH:MM", local time
    end: str
    timezone: str
    in_quiet_hours: bool  # now


class NotificationPreferencesRead(OutputSchema):
    categories: list[CategoryChannels]
    # The chat's 下班勿扰 in the caller's current organisation; None outside any.
    quiet_hours: QuietHoursRead | None
    required_kinds: list[str]  # notices sent whatever the choices and quiet hours
    push_this_browser: bool  # this login session has a Web Push subscription


class CategoryChannelsIn(InputSchema):
    category: Category
    sms: bool
    email: bool
    push: bool


class QuietHoursIn(InputSchema):
    enabled: bool
    start: str = Field(pattern=_HH_MM)
    end: str = Field(pattern=_HH_MM)
    timezone: str = Field(min_length=1, max_length=64)


class NotificationPreferencesIn(InputSchema):
    categories: list[CategoryChannelsIn] = Field(default_factory=list, max_length=len(Category))
    quiet_hours: QuietHoursIn | None = None  # None: unchanged


# Web Push -----------------------------------------------------------------------------------
class VapidPublicKey(OutputSchema):
    public_key: str  # base64url: the applicationServerKey of PushManager.subscribe


class PushKeysIn(InputSchema):
    p256dh: str = Field(min_length=80, max_length=100)
    auth: str = Field(min_length=16, max_length=32)


class PushSubscriptionIn(InputSchema):
    """What a browser's PushSubscription.toJSON() gives (without expirationTime)."""

    endpoint: str = Field(min_length=12, max_length=1024)
    keys: PushKeysIn


class PushSubscriptionRead(OutputSchema):
    id: str
    created_at: datetime
