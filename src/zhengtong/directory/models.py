"""The directory's search index: short tokens per member, found by prefix in both SQLite and
PostgreSQL with an ordinary B-tree index (no full-text engine needed for names)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, IdMixin
from zhengtong.core.inventory import DELETE, NOT_PERSONAL, DataClass, personal


class MemberSearchToken(IdMixin, Base):
    __tablename__ = "member_search_tokens"
    # Covering: a prefix range on the token yields rank and member without touching the table.
    __table_args__ = (
        Index("ix_member_search_tokens_org_id_token", "org_id", "token", "rank", "membership_id"),
    )

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    # Lower-case pieces of the name, its pinyin and initials, the job number and the title.
    # Binary ("C") collation on PostgreSQL, so that a prefix is a contiguous range of the index.
    token: Mapped[str] = mapped_column(
        String(100).with_variant(String(100, collation="C"), "postgresql"),
        info=personal(DataClass.IDENTITY, DELETE),
    )
    # How good a match on this token is (directory.index.RANK_*): 0 the name … 3 the job number.
    rank: Mapped[int] = mapped_column(default=2, info=NOT_PERSONAL)
