"""chat performance: the search index walked from the newest message

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 16:00:51.633181
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("im_message_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_im_message_tokens_recent", ["org_id", "token_hash", "message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("im_message_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_im_message_tokens_recent")
