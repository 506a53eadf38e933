"""An organisation is the tenant and the controller of its members' data; a membership ties an
account to it and carries the profile the organisation controls."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import DELETE, NOT_PERSONAL, DataClass, personal


class OrgStatus(StrEnum):
    ACTIVE = "active"
    DEREGISTERING = "deregistering"  # cooling-off before the purge


class MemberRole(StrEnum):
    MEMBER = "member"
    MAIN_ADMIN = "main_admin"
    ADMIN = "admin"  # sub-admin; scopes come with the organisation issue


ADMIN_ROLES = frozenset({MemberRole.MAIN_ADMIN, MemberRole.ADMIN})


class MemberStatus(StrEnum):
    NOT_ACTIVATED = "not_activated"  # opened by an admin, not logged in yet
    ACTIVE = "active"


class Organization(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200), info=NOT_PERSONAL)
    status: Mapped[str] = mapped_column(String(20), default=OrgStatus.ACTIVE, info=NOT_PERSONAL)
    # The organisation's data key, wrapped by the master key; NULL once destroyed (crypto-shredding).
    data_key_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, info=NOT_PERSONAL)


class Membership(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("org_id", "account_id"),)

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    name: Mapped[str] = mapped_column(String(100), info=personal(DataClass.IDENTITY, DELETE))
    role: Mapped[str] = mapped_column(String(20), default=MemberRole.MEMBER, info=NOT_PERSONAL)
    status: Mapped[str] = mapped_column(String(20), default=MemberStatus.NOT_ACTIVATED, info=NOT_PERSONAL)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
