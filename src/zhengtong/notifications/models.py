"""Tables of the notification centre: one notice per person (shown in their client, under the
bell) and one delivery per channel it is sent through, each attempt's result and time stored.

A notice belongs to the person it was sent to (it goes with their account) and, when it concerns
one organisation, to that organisation too.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import DELETE, NOT_PERSONAL, DataClass, personal


class Channel(StrEnum):
    IN_APP = "in_app"  # the notice in the person's list in the client (every notice has it)
    SMS = "sms"
    EMAIL = "email"  # the member's organisation e-mail
    PUSH = "push"  # the person's installed clients (the outbox until issue 6 brings a gateway)
    LETTER = "letter"  # 信函: printed and posted, marked sent by the operator


# Channels that reach a person outside the client; in-app counts once the person has read it.
REACHING_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.PUSH, Channel.LETTER)
ELECTRONIC_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.PUSH)


class DeliveryResult(StrEnum):
    QUEUED = "queued"  # waiting for the delivery job (a letter: waiting to be printed and posted)
    SENT = "sent"
    FAILED = "failed"  # the provider refused or failed
    NO_ADDRESS = "no_address"  # no e-mail on file, no client installed


class Notice(IdMixin, CreatedAtMixin, Base):
    """One notice to one person, shown in their client and sent through its deliveries."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_account_id_created_at", "account_id", "created_at"),)

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    # The organisation the notice concerns (it forwards letters); NULL for platform-wide notices.
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    batch_id: Mapped[str] = mapped_column(String(26), index=True, info=NOT_PERSONAL)  # one notify_people call
    kind: Mapped[str] = mapped_column(
        String(40), info=NOT_PERSONAL
    )  # "security_incident", "service_shutdown"
    reference: Mapped[str] = mapped_column(String(64), default="", index=True, info=NOT_PERSONAL)
    # {language: text}. The same text goes to everyone of a batch, but a caller may address the
    # person in it, so it is declared as theirs.
    subject: Mapped[dict[str, str]] = mapped_column(
        JSON, info=personal(DataClass.IDENTITY, DELETE, note="notice text sent to the person")
    )
    body: Mapped[dict[str, str]] = mapped_column(
        JSON, info=personal(DataClass.IDENTITY, DELETE, note="notice text sent to the person")
    )
    # Where the client jumps when the notice is opened: a path inside the web client
    # ("/ding/<id>"), ids only; empty when the notice is all there is.
    link: Mapped[str] = mapped_column(String(300), default="", server_default="", info=NOT_PERSONAL)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class NoticeDelivery(IdMixin, CreatedAtMixin, Base):
    """One attempt to bring a notice to its person through one channel. The address is looked up
    when sending and never stored here."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (UniqueConstraint("notice_id", "channel"),)

    notice_id: Mapped[str] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    channel: Mapped[str] = mapped_column(String(12), info=NOT_PERSONAL)
    result: Mapped[str] = mapped_column(String(12), default=DeliveryResult.QUEUED, info=NOT_PERSONAL)
    detail: Mapped[str] = mapped_column(
        String(64), default="", info=NOT_PERSONAL
    )  # an error class, never text
    attempted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
