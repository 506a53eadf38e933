"""Tables of privacy.operator: security incidents and the people they affect, the service
shutdown. Both are the platform's own records (global, like accounts); the notices they send are
notifications.models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import NOT_PERSONAL


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
