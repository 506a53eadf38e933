"""DING (urgent messages): a DING, one row per recipient with their confirmation, and every
delivery attempt with its result.

A DING's text is the organisation's business record, sealed with the organisation's data key and
bound to the DING's id; it stays when the sender leaves (shown as a removed member) and goes with
the organisation. A recipient's row is theirs (their confirmation) and goes with them. Confirming
is an explicit row per person — the one place the platform keeps acknowledgements per person
rather than watermarks, because a DING asks each person to answer.

Mobile numbers are never stored here: they are read from the account when an SMS or a call leaves.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import DELETE, NOT_PERSONAL, ORGANISATION_RECORD, DataClass, personal


class DingChannel(StrEnum):
    IN_APP = "in_app"  # 应用内
    SMS = "sms"  # 短信, plus in-app
    CALL = "call"  # 电话, plus in-app; an unanswered call falls back to an SMS


class DingStatus(StrEnum):
    SCHEDULED = "scheduled"  # waits for scheduled_at
    SENT = "sent"
    CANCELLED = "cancelled"  # a scheduled DING called off before it left


class AttemptResult(StrEnum):
    QUEUED = "queued"  # recorded, the provider not asked yet (or asked, the answer not recorded)
    SENT = "sent"  # in-app delivered, SMS accepted, call placed (ringing)
    ANSWERED = "answered"
    UNANSWERED = "unanswered"
    FAILED = "failed"  # the provider raised, refused or did not answer in time
    HELD_QUIET_HOURS = "held_quiet_hours"  # waits until the recipient's quiet hours end


class Ding(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "dings"
    __table_args__ = (
        # The sender's list, newest first (ids sort by time).
        Index("ix_dings_sender_membership_id_id", "sender_membership_id", "id"),
        Index("ix_dings_org_id", "org_id"),
    )

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    # NULL once the sender was removed from the organisation: shown as a removed member.
    sender_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    text_sealed: Mapped[bytes] = mapped_column(
        LargeBinary, info=personal(DataClass.BUSINESS, ORGANISATION_RECORD, encrypted=True)
    )
    # The chat message this DING was made from ("DING 一下"); NULL when the message is gone.
    source_message_id: Mapped[str | None] = mapped_column(
        ForeignKey("im_messages.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    attachment_id: Mapped[str | None] = mapped_column(
        ForeignKey("ding_files.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    channel: Mapped[str] = mapped_column(String(10), info=NOT_PERSONAL)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    status: Mapped[str] = mapped_column(String(12), info=NOT_PERSONAL)
    scheduled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    recipient_count: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)
    # Delivery rounds after the first: round n + 1 reminds the unconfirmed for the nth time.
    remind_count: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class DingRecipient(IdMixin, Base):
    """One person a DING goes to, and where it stands with them."""

    __tablename__ = "ding_recipients"
    __table_args__ = (
        UniqueConstraint("ding_id", "membership_id"),
        # Counts (count(*), count(confirmed_at)) and both lists' pages are ranges of this index.
        Index("ix_ding_recipients_state", "ding_id", "confirmed_at", "id"),
        # The person's received list, newest first.
        Index("ix_ding_recipients_received", "membership_id", "ding_id"),
    )

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    ding_id: Mapped[str] = mapped_column(ForeignKey("dings.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    # The last delivery round that reached the person in the app (0: none yet).
    delivered_round: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    # Set while the delivery waits for the end of the person's quiet hours.
    held_until: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    confirmed_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, info=personal(DataClass.IDENTITY, DELETE, note="when the person confirmed")
    )


class DingAttempt(IdMixin, CreatedAtMixin, Base):
    """One try to reach one recipient through one channel in one delivery round. Recorded before
    the provider is asked, so that a provider that hangs or a worker that dies leaves the record."""

    __tablename__ = "ding_attempts"
    __table_args__ = (
        Index("ix_ding_attempts_recipient_id_id", "recipient_id", "id"),
        # What the delivery jobs look for: a DING's queued sends, its calls still ringing.
        Index("ix_ding_attempts_ding_id_result", "ding_id", "result"),
    )

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    ding_id: Mapped[str] = mapped_column(ForeignKey("dings.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    recipient_id: Mapped[str] = mapped_column(
        ForeignKey("ding_recipients.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    channel: Mapped[str] = mapped_column(String(10), info=NOT_PERSONAL)
    round_number: Mapped[int] = mapped_column(
        Integer, info=NOT_PERSONAL
    )  # 1: the first send; n: reminder n − 1
    result: Mapped[str] = mapped_column(String(20), info=NOT_PERSONAL)
    detail: Mapped[str] = mapped_column(
        String(64), default="", info=NOT_PERSONAL
    )  # an error class, never text
    provider_ref: Mapped[str | None] = mapped_column(String(64), info=NOT_PERSONAL)  # the call's id
    attempted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)  # provider asked
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)  # result known


class DingFile(IdMixin, CreatedAtMixin, Base):
    """A DING's one attachment: bytes stored sealed with the organisation's key under
    ding/<org>/<id>, the name sealed too. Uploaded before the DING is sent; an upload no DING
    took within a day is removed by the hourly sweep."""

    __tablename__ = "ding_files"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    uploader_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), index=True, info=NOT_PERSONAL
    )
    content_type: Mapped[str] = mapped_column(String(100), info=NOT_PERSONAL)
    size: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)
    name_sealed: Mapped[bytes] = mapped_column(
        LargeBinary, info=personal(DataClass.BUSINESS, ORGANISATION_RECORD, encrypted=True)
    )
    storage_key: Mapped[str] = mapped_column(String(200), info=NOT_PERSONAL)
    attached_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
