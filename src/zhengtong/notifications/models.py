"""Tables of the notification centre: one notice per person (shown in their client, under the
bell) and one delivery per channel it is sent through, each attempt's result and time stored;
each person's choice of channels; the browsers subscribed to Web Push.

A notice belongs to the person it was sent to (it goes with their account) and, when it concerns
one organisation, to that organisation too. Preferences and push subscriptions belong to the
account and go with it; a subscription also goes with the login session that made it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import DELETE, NOT_PERSONAL, DataClass, personal


class Channel(StrEnum):
    IN_APP = "in_app"  # the notice in the person's list in the client (every notice has it)
    SMS = "sms"
    EMAIL = "email"  # the member's organisation e-mail
    PUSH = "push"  # the person's browsers (Web Push) and installed clients
    LETTER = "letter"  # 信函: printed and posted, marked sent by the operator


# Channels that reach a person outside the client; in-app counts once the person has read it.
REACHING_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.PUSH, Channel.LETTER)
ELECTRONIC_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.PUSH)


class DeliveryResult(StrEnum):
    QUEUED = "queued"  # waiting for the delivery job (a letter: waiting to be printed and posted)
    SENT = "sent"
    FAILED = "failed"  # the provider refused or failed
    NO_ADDRESS = "no_address"  # no e-mail on file, no client installed
    DECLINED = "declined"  # the person turned this channel off for this kind of notice
    IN_APP = "in_app"  # a push not sent: the person had the app open, where the notice reached them


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
    # Urgent notices go out during the person's quiet hours too.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), info=NOT_PERSONAL)


class NoticeDelivery(IdMixin, CreatedAtMixin, Base):
    """Bringing a notice to its person through one channel: the outcome of the latest attempt,
    how many were made and when the next may go. The address is looked up when sending and never
    stored here."""

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
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0", info=NOT_PERSONAL)
    # A queued delivery waits until then: its next retry, or the end of the person's quiet hours.
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    # The channel whose failure queued this delivery instead (see notifications.delivery), or "".
    fallback_from: Mapped[str] = mapped_column(String(12), default="", server_default="", info=NOT_PERSONAL)


class NotificationPreference(IdMixin, Base):
    """Which channels a person accepts for each category of notice (notifications.preferences);
    no row means every channel. Quiet hours are their chat's 下班勿扰 (im_preferences)."""

    __tablename__ = "notification_preferences"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True, info=NOT_PERSONAL
    )
    # {category: [accepted channels]}; a category left out accepts every channel.
    channels: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict, info=NOT_PERSONAL)


class PushSubscription(IdMixin, CreatedAtMixin, Base):
    """A browser that receives Web Push for an account, made while logged in: it goes with the
    account and with that login session (logging out, or the session ending, stops the pushes)."""

    __tablename__ = "push_subscriptions"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    session_id: Mapped[str] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    endpoint: Mapped[str] = mapped_column(
        String(1024),
        unique=True,
        info=personal(DataClass.IDENTITY, DELETE, note="the browser's address at its push service"),
    )
    p256dh: Mapped[str] = mapped_column(
        String(100), info=personal(DataClass.IDENTITY, DELETE, note="the browser's push encryption key")
    )
    auth: Mapped[str] = mapped_column(
        String(32), info=personal(DataClass.IDENTITY, DELETE, note="the browser's push auth secret")
    )
