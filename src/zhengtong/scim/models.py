"""SCIM tokens: the bearer tokens with which one organisation's provisioning client calls /scim/v2."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import NOT_PERSONAL


class ScimToken(IdMixin, CreatedAtMixin, Base):
    """A token of one organisation; only its keyed hash is stored, the token itself is shown once."""

    __tablename__ = "scim_tokens"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, info=NOT_PERSONAL)
    name: Mapped[str] = mapped_column(String(100), info=NOT_PERSONAL)  # what the client is: "人事系统"
    created_by_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
