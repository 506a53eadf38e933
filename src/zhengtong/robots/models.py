"""Tables of group robots: the robots of a group chat, and each call an outgoing robot was sent.

A robot's webhook token, signing secret and outgoing token are sealed with the organisation's
data key, so that the group's managers can see its webhook URL again and the platform can check
signatures; the token is found by a keyed hash of it (`token_index`), never by its value."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import NOT_PERSONAL

DEFAULT_RATE_LIMIT_PER_MINUTE = 60


class Robot(IdMixin, CreatedAtMixin, Base):
    """A custom robot (自定义机器人) of one group: posts through its webhook and, when outgoing is
    on, hears the group's messages that @mention it. At least one security mode is set: the
    signing secret, keywords or the IP allow-list."""

    __tablename__ = "robots"
    # Its name is how members @mention it: one robot of a name per group.
    __table_args__ = (UniqueConstraint("conversation_id", "name"),)

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("im_conversations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    name: Mapped[str] = mapped_column(String(40), info=NOT_PERSONAL)  # "告警机器人": a program, not a person
    avatar: Mapped[str] = mapped_column(String(20), default="robot", info=NOT_PERSONAL)  # a built-in picture
    created_by_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    token_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, info=NOT_PERSONAL)
    token_sealed: Mapped[bytes] = mapped_column(LargeBinary, info=NOT_PERSONAL)
    secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, info=NOT_PERSONAL)  # signature mode
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)
    ip_allowlist: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)  # CIDRs
    rate_limit_per_minute: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_RATE_LIMIT_PER_MINUTE, info=NOT_PERSONAL
    )
    outgoing_enabled: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    outgoing_url: Mapped[str] = mapped_column(String(2000), default="", info=NOT_PERSONAL)
    outgoing_token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, info=NOT_PERSONAL)
    # Where the installation is reached, for the session webhooks a job hands out when the
    # operator set no ZT_PUBLIC_URL: the address its managers used when they last saved it.
    base_url: Mapped[str] = mapped_column(String(300), default="", info=NOT_PERSONAL)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class RobotDelivery(IdMixin, CreatedAtMixin, Base):
    """One attempt to call an outgoing robot with a message that @mentioned it, and how it went;
    the group's managers see the latest. Kept a week."""

    __tablename__ = "robot_deliveries"
    __table_args__ = (Index("ix_robot_deliveries_robot_id_created_at", "robot_id", "created_at"),)

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    robot_id: Mapped[str] = mapped_column(ForeignKey("robots.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("im_messages.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    attempt: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)
    outcome: Mapped[str] = mapped_column(String(12), info=NOT_PERSONAL)  # delivered | failed | refused
    http_status: Mapped[int | None] = mapped_column(Integer, info=NOT_PERSONAL)
    # What went wrong, in the platform's words ("timeout", "address 10.0.0.5 refused"): never the
    # robot's answer, which could hold anything.
    detail: Mapped[str] = mapped_column(String(300), default="", info=NOT_PERSONAL)
    replied: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
