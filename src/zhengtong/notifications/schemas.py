"""Response shapes of the notification centre."""

from __future__ import annotations

from datetime import datetime

from zhengtong.core.schemas import OutputSchema


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
