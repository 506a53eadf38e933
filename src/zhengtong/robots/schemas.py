"""Request and response shapes of the group robots' management API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema
from zhengtong.robots.models import DEFAULT_RATE_LIMIT_PER_MINUTE

Avatar = Literal["robot", "alert", "chart", "bell", "code"]  # pictures the web client ships
Keyword = Annotated[str, Field(min_length=1, max_length=20)]
IpRange = Annotated[str, Field(min_length=1, max_length=50)]
RateLimit = Annotated[int, Field(ge=1, le=600)]


class RobotCreate(InputSchema):
    name: str = Field(min_length=1, max_length=40)
    avatar: Avatar = "robot"
    # Security (at least one, as DingTalk asks): sign requests with a secret, carry a keyword,
    # come from an allowed IP range.
    signature: bool = True
    keywords: list[Keyword] = Field(default_factory=list, max_length=10)
    ip_allowlist: list[IpRange] = Field(default_factory=list, max_length=10)
    rate_limit_per_minute: RateLimit = DEFAULT_RATE_LIMIT_PER_MINUTE
    outgoing_enabled: bool = False  # POST the group's messages that @mention it to outgoing_url
    outgoing_url: str = Field(default="", max_length=2000)


class RobotUpdate(InputSchema):
    """Only the fields given change."""

    name: str | None = Field(default=None, min_length=1, max_length=40)
    avatar: Avatar | None = None
    signature: bool | None = None
    keywords: list[Keyword] | None = Field(default=None, max_length=10)
    ip_allowlist: list[IpRange] | None = Field(default=None, max_length=10)
    rate_limit_per_minute: RateLimit | None = None
    outgoing_enabled: bool | None = None
    outgoing_url: str | None = Field(default=None, max_length=2000)
    disabled: bool | None = None


class RobotReset(InputSchema):
    """Which credentials to replace; the old ones stop working at once."""

    token: bool = False  # the webhook's access_token, so its URL changes
    secret: bool = False  # the signing secret (SEC…)
    outgoing_token: bool = False  # the token outgoing calls are signed with


class RobotRead(OutputSchema):
    """A robot as its group's managers see it, credentials included."""

    id: str
    conversation_id: str
    name: str
    avatar: str
    webhook_url: str  # {base}/robot/send?access_token=…
    signature: bool
    secret: str | None  # SEC…, when signature is on
    keywords: list[str]
    ip_allowlist: list[str]
    rate_limit_per_minute: int
    outgoing_enabled: bool
    outgoing_url: str
    outgoing_token: str | None
    disabled: bool
    created_at: datetime


class RobotDeliveryRead(OutputSchema):
    """One call to an outgoing robot: delivered, failed (tried again) or refused (never tried)."""

    id: str
    message_id: str
    attempt: int
    outcome: str
    http_status: int | None
    detail: str
    replied: bool  # the robot answered with a message, which was posted
    created_at: datetime
