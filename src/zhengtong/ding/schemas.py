"""DING API shapes. `DingRead` is also what a `ding.new` event carries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema

Channel = Literal["in_app", "sms", "call"]
Status = Literal["scheduled", "sent", "cancelled"]
Result = Literal["queued", "sent", "answered", "unanswered", "failed", "held_quiet_hours"]
RecipientTab = Literal["unconfirmed", "confirmed"]


class DingIn(InputSchema):
    # The service enforces the real limits (2,000 characters, 5,000 people) with codes of its own.
    text: str = Field(default="", max_length=20000)
    recipient_ids: list[str] = Field(default_factory=list, max_length=20000)
    channel: Channel = "in_app"
    scheduled_at: datetime | None = None  # None: now; else to the minute, within 30 days
    emergency: bool = False  # ignore the recipients' quiet hours (recorded in the audit log)
    attachment_id: str | None = Field(default=None, max_length=26)
    source_message_id: str | None = Field(default=None, max_length=26)  # "DING 一下" from chat


class DingFileRead(OutputSchema):
    id: str
    name: str
    content_type: str
    size: int


class DingRead(OutputSchema):
    id: str
    role: Literal["sender", "recipient"]  # how the caller stands to this DING
    text: str
    sender_membership_id: str | None
    sender_name: str
    channel: Channel
    emergency: bool
    status: Status
    created_at: datetime
    scheduled_at: datetime | None
    sent_at: datetime | None
    source_message_id: str | None
    attachment: DingFileRead | None
    recipient_count: int
    # The sender's view: counts from one aggregate query, the time of the last reminder and how
    # long until the next one is allowed (seconds, so that the client's clock does not matter).
    confirmed_count: int | None = None
    last_reminded_at: datetime | None = None
    remind_wait_seconds: int | None = None
    # The recipient's view: their own state.
    my_confirmed_at: datetime | None = None


class DingPage(OutputSchema):
    items: list[DingRead]
    next_cursor: str | None


class RecipientRead(OutputSchema):
    membership_id: str
    name: str
    delivered_at: datetime | None
    held_until: datetime | None  # waiting for the end of their quiet hours
    confirmed_at: datetime | None
    last_reminded_at: datetime | None


class RecipientPage(OutputSchema):
    """One page of one tab (未确认 by the sender's order, 已确认 newest first), with both counts."""

    tab: RecipientTab
    confirmed_count: int
    unconfirmed_count: int
    items: list[RecipientRead]
    next_cursor: str | None


class AttemptRead(OutputSchema):
    channel: Channel
    round_number: int
    result: Result
    detail: str
    created_at: datetime
    attempted_at: datetime | None
    finished_at: datetime | None


class RecipientAttempts(OutputSchema):
    membership_id: str
    name: str
    held_until: datetime | None
    items: list[AttemptRead]  # oldest first
