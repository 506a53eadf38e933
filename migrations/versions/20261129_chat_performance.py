"""chat performance: the search index walked from the newest message; uploads know whether a
message carried them

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 16:00:51.633181
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhengtong.core.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("im_message_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_im_message_tokens_recent", ["org_id", "token_hash", "message_id"], unique=False)
    with op.batch_alter_table("im_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attached_at", zhengtong.core.db.UtcDateTime(timezone=True), nullable=True))
    # Files uploaded before: which of them a message carries is sealed inside the messages, so
    # all count as carried (the sweep of unsent uploads starts with those uploaded from now on).
    op.execute("UPDATE im_files SET attached_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("im_files", schema=None) as batch_op:
        batch_op.drop_column("attached_at")
    with op.batch_alter_table("im_message_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_im_message_tokens_recent")
