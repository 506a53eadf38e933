"""Tables of privacy.erasure: an organisation's deregistration, from the request through the
cooling-off period to the purge, and afterwards the tombstone that says when it was purged."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import NOT_PERSONAL


class DeregistrationState(StrEnum):
    COOLING_OFF = "cooling_off"  # requested; the admin may still cancel
    CANCELLED = "cancelled"
    PURGING = "purging"  # the purge has started: the data key is gone, rows and files are going
    PURGED = "purged"  # only this row is left: the organisation id and the dates


LIVE_STATES = (DeregistrationState.COOLING_OFF, DeregistrationState.PURGING)


class Deregistration(IdMixin, CreatedAtMixin, Base):
    """One request to deregister an organisation. `org_id` has no foreign key on purpose: the row
    outlives the organisation as its tombstone (id and dates, no name)."""

    __tablename__ = "privacy_deregistrations"
    __table_args__ = (Index("ix_privacy_deregistrations_org_id_state", "org_id", "state"),)

    org_id: Mapped[str] = mapped_column(String(26), info=NOT_PERSONAL)
    state: Mapped[str] = mapped_column(String(12), default=DeregistrationState.COOLING_OFF, info=NOT_PERSONAL)
    requested_by_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    purge_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    purge_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    job_id: Mapped[str | None] = mapped_column(String(26), info=NOT_PERSONAL)  # the scheduled purge
    # The members' accounts, noted when the purge starts: those left without an organisation are
    # deleted at its end, even when a rerun finds the memberships already gone. Emptied then.
    account_ids: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)
