"""Tables of privacy.operator: notices to people and their deliveries, security incidents and the
people they affect, the service shutdown.

Incidents and the shutdown are the platform's own records (global, like accounts). A notice
belongs to the person it was sent to (it goes with their account) and, when it concerns one
organisation, to that organisation too.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

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


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SecurityIncident(IdMixin, CreatedAtMixin, Base):
    """A personal-data security incident as 《个人信息保护法》第五十七条 requires it to be told:
    what happened, which data, the possible impact, the measures taken, what the person can do,
    and whom to contact. The texts describe the incident; they name nobody."""

    __tablename__ = "security_incidents"

    title: Mapped[str] = mapped_column(String(200), info=NOT_PERSONAL)
    discovered_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    data_categories: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)
    # {language: {what_happened, data_concerned, possible_impact, measures_taken, person_can_do, contact}}
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, info=NOT_PERSONAL)
    status: Mapped[str] = mapped_column(String(12), default=IncidentStatus.OPEN, info=NOT_PERSONAL)
    recorded_by: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class IncidentOrganization(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "security_incident_organizations"
    __table_args__ = (UniqueConstraint("incident_id", "org_id"),)

    incident_id: Mapped[str] = mapped_column(
        ForeignKey("security_incidents.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )


class IncidentPerson(IdMixin, CreatedAtMixin, Base):
    """A person the incident affects, through one of their organisations (which forwards letters)."""

    __tablename__ = "security_incident_people"
    __table_args__ = (UniqueConstraint("incident_id", "account_id"),)

    incident_id: Mapped[str] = mapped_column(
        ForeignKey("security_incidents.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )


class ShutdownStatus(StrEnum):
    SCHEDULED = "scheduled"  # announced; collection stops at `collection_stops_at`
    CANCELLED = "cancelled"
    PURGING = "purging"  # the final job is deleting everything
    COMPLETED = "completed"


class ServiceShutdown(IdMixin, CreatedAtMixin, Base):
    """The operator's decision to stop the service: announced at least 30 days ahead; from the
    date on nothing new is collected, then a final job deletes everything."""

    __tablename__ = "service_shutdowns"

    collection_stops_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    status: Mapped[str] = mapped_column(String(12), default=ShutdownStatus.SCHEDULED, info=NOT_PERSONAL)
    message: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, info=NOT_PERSONAL)  # {language: text}
    channels: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)
    scheduled_by: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    announce_job_id: Mapped[str | None] = mapped_column(String(26), info=NOT_PERSONAL)
    purge_job_id: Mapped[str | None] = mapped_column(String(26), info=NOT_PERSONAL)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    purge_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    # Counts only: organisations purged, accounts deleted.
    outcome: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, info=NOT_PERSONAL)
