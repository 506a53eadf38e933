"""Issue 6: notification channels (preferences, push subscriptions, retries), DING, apps and
work notices, group robots; notices link to their source.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 19:54:39.579414
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zhengtong.core.db


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('apps',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('agent_id', sa.BigInteger(), nullable=False),
    sa.Column('app_key', sa.String(length=40), nullable=False),
    sa.Column('secret_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_by_account_id', sa.String(length=26), nullable=True),
    sa.Column('disabled_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_account_id'], ['accounts.id'], name=op.f('fk_apps_created_by_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_apps_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apps')),
    sa.UniqueConstraint('app_key', name=op.f('uq_apps_app_key')),
    sa.UniqueConstraint('org_id', 'agent_id', name=op.f('uq_apps_org_id_agent_id'))
    )
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apps_org_id'), ['org_id'], unique=False)

    op.create_table('notification_preferences',
    sa.Column('account_id', sa.String(length=26), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_notification_preferences_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
    sa.UniqueConstraint('account_id', name=op.f('uq_notification_preferences_account_id'))
    )
    op.create_table('app_access_tokens',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('app_id', sa.String(length=26), nullable=False),
    sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('expires_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_app_access_tokens_app_id_apps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_app_access_tokens_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_access_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_app_access_tokens_token_hash'))
    )
    with op.batch_alter_table('app_access_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_access_tokens_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_app_access_tokens_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_app_access_tokens_org_id'), ['org_id'], unique=False)

    op.create_table('ding_files',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('uploader_membership_id', sa.String(length=26), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('name_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('attached_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_ding_files_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploader_membership_id'], ['memberships.id'], name=op.f('fk_ding_files_uploader_membership_id_memberships'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ding_files'))
    )
    with op.batch_alter_table('ding_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ding_files_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ding_files_uploader_membership_id'), ['uploader_membership_id'], unique=False)

    op.create_table('push_subscriptions',
    sa.Column('account_id', sa.String(length=26), nullable=False),
    sa.Column('session_id', sa.String(length=26), nullable=False),
    sa.Column('endpoint', sa.String(length=1024), nullable=False),
    sa.Column('p256dh', sa.String(length=100), nullable=False),
    sa.Column('auth', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_push_subscriptions_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['auth_sessions.id'], name=op.f('fk_push_subscriptions_session_id_auth_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscriptions_endpoint'))
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscriptions_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_subscriptions_session_id'), ['session_id'], unique=False)

    op.create_table('work_notices',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('task_id', sa.BigInteger(), nullable=False),
    sa.Column('app_id', sa.String(length=26), nullable=True),
    sa.Column('sender_membership_id', sa.String(length=26), nullable=True),
    sa.Column('sender_name', sa.String(length=60), nullable=False),
    sa.Column('msgtype', sa.String(length=20), nullable=False),
    sa.Column('content_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('invalid_user_ids', sa.JSON(), nullable=False),
    sa.Column('invalid_department_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=26), nullable=True),
    sa.Column('recalled_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['apps.id'], name=op.f('fk_work_notices_app_id_apps'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_work_notices_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_membership_id'], ['memberships.id'], name=op.f('fk_work_notices_sender_membership_id_memberships'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_notices')),
    sa.UniqueConstraint('task_id', name=op.f('uq_work_notices_task_id'))
    )
    with op.batch_alter_table('work_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_notices_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_notices_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_notices_sender_membership_id'), ['sender_membership_id'], unique=False)

    op.create_table('robots',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('conversation_id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('avatar', sa.String(length=20), nullable=False),
    sa.Column('created_by_membership_id', sa.String(length=26), nullable=True),
    sa.Column('token_index', sa.LargeBinary(length=32), nullable=False),
    sa.Column('token_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('secret_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('ip_allowlist', sa.JSON(), nullable=False),
    sa.Column('rate_limit_per_minute', sa.Integer(), nullable=False),
    sa.Column('outgoing_enabled', sa.Boolean(), nullable=False),
    sa.Column('outgoing_url', sa.String(length=2000), nullable=False),
    sa.Column('outgoing_token_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('base_url', sa.String(length=300), nullable=False),
    sa.Column('disabled_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['im_conversations.id'], name=op.f('fk_robots_conversation_id_im_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_membership_id'], ['memberships.id'], name=op.f('fk_robots_created_by_membership_id_memberships'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_robots_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_robots')),
    sa.UniqueConstraint('conversation_id', 'name', name=op.f('uq_robots_conversation_id_name')),
    sa.UniqueConstraint('token_index', name=op.f('uq_robots_token_index'))
    )
    with op.batch_alter_table('robots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_robots_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_robots_org_id'), ['org_id'], unique=False)

    op.create_table('work_notice_recipients',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('notice_id', sa.String(length=26), nullable=False),
    sa.Column('membership_id', sa.String(length=26), nullable=False),
    sa.Column('sent_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('read_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_work_notice_recipients_membership_id_memberships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notice_id'], ['work_notices.id'], name=op.f('fk_work_notice_recipients_notice_id_work_notices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_work_notice_recipients_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_notice_recipients')),
    sa.UniqueConstraint('notice_id', 'membership_id', name=op.f('uq_work_notice_recipients_notice_id_membership_id'))
    )
    with op.batch_alter_table('work_notice_recipients', schema=None) as batch_op:
        batch_op.create_index('ix_work_notice_recipients_membership_id', ['membership_id'], unique=False)

    op.create_table('dings',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('sender_membership_id', sa.String(length=26), nullable=True),
    sa.Column('text_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('source_message_id', sa.String(length=26), nullable=True),
    sa.Column('attachment_id', sa.String(length=26), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('emergency', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('scheduled_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('remind_count', sa.Integer(), nullable=False),
    sa.Column('last_reminded_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['ding_files.id'], name=op.f('fk_dings_attachment_id_ding_files'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_dings_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_membership_id'], ['memberships.id'], name=op.f('fk_dings_sender_membership_id_memberships'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_message_id'], ['im_messages.id'], name=op.f('fk_dings_source_message_id_im_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dings'))
    )
    with op.batch_alter_table('dings', schema=None) as batch_op:
        batch_op.create_index('ix_dings_org_id', ['org_id'], unique=False)
        batch_op.create_index('ix_dings_sender_membership_id_id', ['sender_membership_id', 'id'], unique=False)

    op.create_table('robot_deliveries',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('robot_id', sa.String(length=26), nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('replied', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['im_messages.id'], name=op.f('fk_robot_deliveries_message_id_im_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_robot_deliveries_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['robot_id'], ['robots.id'], name=op.f('fk_robot_deliveries_robot_id_robots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_robot_deliveries'))
    )
    with op.batch_alter_table('robot_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_robot_deliveries_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_robot_deliveries_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_robot_deliveries_robot_id_created_at', ['robot_id', 'created_at'], unique=False)

    op.create_table('ding_recipients',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('ding_id', sa.String(length=26), nullable=False),
    sa.Column('membership_id', sa.String(length=26), nullable=False),
    sa.Column('account_id', sa.String(length=26), nullable=False),
    sa.Column('delivered_round', sa.Integer(), nullable=False),
    sa.Column('delivered_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('held_until', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_reminded_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_ding_recipients_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ding_id'], ['dings.id'], name=op.f('fk_ding_recipients_ding_id_dings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_ding_recipients_membership_id_memberships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_ding_recipients_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ding_recipients')),
    sa.UniqueConstraint('ding_id', 'membership_id', name=op.f('uq_ding_recipients_ding_id_membership_id'))
    )
    with op.batch_alter_table('ding_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ding_recipients_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ding_recipients_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_ding_recipients_received', ['membership_id', 'ding_id'], unique=False)
        batch_op.create_index('ix_ding_recipients_state', ['ding_id', 'confirmed_at', 'id'], unique=False)

    op.create_table('ding_attempts',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('ding_id', sa.String(length=26), nullable=False),
    sa.Column('recipient_id', sa.String(length=26), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('round_number', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.String(length=64), nullable=False),
    sa.Column('provider_ref', sa.String(length=64), nullable=True),
    sa.Column('attempted_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', zhengtong.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ding_id'], ['dings.id'], name=op.f('fk_ding_attempts_ding_id_dings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_ding_attempts_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['ding_recipients.id'], name=op.f('fk_ding_attempts_recipient_id_ding_recipients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ding_attempts'))
    )
    with op.batch_alter_table('ding_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_ding_attempts_ding_id_result', ['ding_id', 'result'], unique=False)
        batch_op.create_index(batch_op.f('ix_ding_attempts_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_ding_attempts_recipient_id_id', ['recipient_id', 'id'], unique=False)

    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('not_before', zhengtong.core.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fallback_from', sa.String(length=12), server_default='', nullable=False))

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_column('urgent')
        batch_op.drop_column('link')

    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.drop_column('fallback_from')
        batch_op.drop_column('not_before')
        batch_op.drop_column('attempts')

    with op.batch_alter_table('ding_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_ding_attempts_recipient_id_id')
        batch_op.drop_index(batch_op.f('ix_ding_attempts_org_id'))
        batch_op.drop_index('ix_ding_attempts_ding_id_result')

    op.drop_table('ding_attempts')
    with op.batch_alter_table('ding_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_ding_recipients_state')
        batch_op.drop_index('ix_ding_recipients_received')
        batch_op.drop_index(batch_op.f('ix_ding_recipients_org_id'))
        batch_op.drop_index(batch_op.f('ix_ding_recipients_account_id'))

    op.drop_table('ding_recipients')
    with op.batch_alter_table('robot_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_robot_deliveries_robot_id_created_at')
        batch_op.drop_index(batch_op.f('ix_robot_deliveries_org_id'))
        batch_op.drop_index(batch_op.f('ix_robot_deliveries_message_id'))

    op.drop_table('robot_deliveries')
    with op.batch_alter_table('dings', schema=None) as batch_op:
        batch_op.drop_index('ix_dings_sender_membership_id_id')
        batch_op.drop_index('ix_dings_org_id')

    op.drop_table('dings')
    with op.batch_alter_table('work_notice_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_work_notice_recipients_membership_id')

    op.drop_table('work_notice_recipients')
    with op.batch_alter_table('robots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_robots_org_id'))
        batch_op.drop_index(batch_op.f('ix_robots_conversation_id'))

    op.drop_table('robots')
    with op.batch_alter_table('work_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_notices_sender_membership_id'))
        batch_op.drop_index(batch_op.f('ix_work_notices_org_id'))
        batch_op.drop_index(batch_op.f('ix_work_notices_app_id'))

    op.drop_table('work_notices')
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_session_id'))
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_account_id'))

    op.drop_table('push_subscriptions')
    with op.batch_alter_table('ding_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ding_files_uploader_membership_id'))
        batch_op.drop_index(batch_op.f('ix_ding_files_org_id'))

    op.drop_table('ding_files')
    with op.batch_alter_table('app_access_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_access_tokens_org_id'))
        batch_op.drop_index(batch_op.f('ix_app_access_tokens_expires_at'))
        batch_op.drop_index(batch_op.f('ix_app_access_tokens_app_id'))

    op.drop_table('app_access_tokens')
    op.drop_table('notification_preferences')
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apps_org_id'))

    op.drop_table('apps')
