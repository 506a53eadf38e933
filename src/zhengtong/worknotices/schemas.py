"""Request and response shapes of work notices (the native API; the open API has its own)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema


class WorkNoticeCreate(InputSchema):
    user_ids: list[str] = Field(default_factory=list)  # membership ids
    department_ids: list[str] = Field(default_factory=list)  # with everyone below them
    to_all: bool = False
    msg: dict[str, Any]  # {"msgtype": "text", "text": {"content": …}}, as DingTalk's work notices


class WorkNoticeSummary(OutputSchema):
    id: str
    task_id: int
    sender_name: str  # empty: the organisation's admins
    msgtype: str
    title: str  # the message's title or first words; empty once recalled
    status: Literal["sending", "sent", "recalled"]
    total: int
    done: int
    percent: int
    read: int
    unread: int
    job_id: str | None
    created_at: datetime
    recalled_at: datetime | None


class WorkNoticeDetail(WorkNoticeSummary):
    msg: dict[str, Any] | None  # None once recalled
    invalid_user_ids: list[str]
    invalid_department_ids: list[str]


class RecipientRead(OutputSchema):
    membership_id: str
    name: str
    read_at: datetime | None


class RecipientPage(OutputSchema):
    items: list[RecipientRead]
    total: int


class ReceivedRead(OutputSchema):
    id: str
    sender_name: str
    msg: dict[str, Any] | None  # None once recalled
    recalled: bool
    created_at: datetime
    read_at: datetime | None
