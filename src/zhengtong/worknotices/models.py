"""Tables of work notices: the notice (its content sealed with the organisation's data key) and
one row per person it went to, with whether and when they read it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import NOT_PERSONAL, ORGANISATION_RECORD, DataClass, personal


class NoticeStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    RECALLED = "recalled"


class WorkNotice(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "work_notices"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    task_id: Mapped[int] = mapped_column(BigInteger, unique=True, info=NOT_PERSONAL)  # the open API's name
    # Who sent it: an app, or an admin in the console (then NULL once they are removed).
    app_id: Mapped[str | None] = mapped_column(
        ForeignKey("apps.id", ondelete="SET NULL"), index=True, info=NOT_PERSONAL
    )
    sender_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), index=True, info=NOT_PERSONAL
    )
    # The app's name; empty when the organisation's admins sent it (shown as 管理员, never a person).
    sender_name: Mapped[str] = mapped_column(String(60), default="", info=NOT_PERSONAL)
    msgtype: Mapped[str] = mapped_column(String(20), info=NOT_PERSONAL)
    # The message ({"msgtype", "text": {...}} …) sealed with the organisation's data key; NULL once
    # recalled: the content is erased, the row stays as a marker.
    content_sealed: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=personal(DataClass.BUSINESS, ORGANISATION_RECORD, encrypted=True)
    )
    # What was asked ({"user_ids", "department_ids", "to_all"}): ids only. Ids that named nobody
    # of the organisation are kept apart, for the sender's results.
    targets: Mapped[dict[str, Any]] = mapped_column(JSON, info=NOT_PERSONAL)
    invalid_user_ids: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)
    invalid_department_ids: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)
    status: Mapped[str] = mapped_column(String(12), default=NoticeStatus.SENDING, info=NOT_PERSONAL)
    total: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)  # people, once counted
    done: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)
    job_id: Mapped[str | None] = mapped_column(String(26), info=NOT_PERSONAL)
    recalled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class WorkNoticeRecipient(IdMixin, Base):
    __tablename__ = "work_notice_recipients"
    __table_args__ = (
        UniqueConstraint("notice_id", "membership_id"),
        Index("ix_work_notice_recipients_membership_id", "membership_id"),
    )

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    notice_id: Mapped[str] = mapped_column(
        ForeignKey("work_notices.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
