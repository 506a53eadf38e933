"""Tables of apps: an organisation's applications and their short-lived access tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import NOT_PERSONAL


class App(IdMixin, CreatedAtMixin, Base):
    """An application of one organisation. Its secret is stored only as a keyed hash and shown
    once, when made or rotated; `agent_id` is the number DingTalk-style calls name it by."""

    __tablename__ = "apps"
    __table_args__ = (UniqueConstraint("org_id", "agent_id"),)

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    name: Mapped[str] = mapped_column(String(60), info=NOT_PERSONAL)  # "督办系统": an app, not a person
    description: Mapped[str] = mapped_column(String(300), default="", info=NOT_PERSONAL)
    agent_id: Mapped[int] = mapped_column(BigInteger, info=NOT_PERSONAL)
    app_key: Mapped[str] = mapped_column(String(40), unique=True, info=NOT_PERSONAL)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32), info=NOT_PERSONAL)
    created_by_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class AppAccessToken(IdMixin, CreatedAtMixin, Base):
    """A token from `gettoken`, valid two hours; only its keyed hash is kept."""

    __tablename__ = "app_access_tokens"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    app_id: Mapped[str] = mapped_column(
        ForeignKey("apps.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, info=NOT_PERSONAL)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True, info=NOT_PERSONAL)
