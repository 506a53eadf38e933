"""Instant messaging: conversations, their members, messages and the search index over them.

Each conversation numbers its messages 1, 2, 3 … (`seq`). A member's read state is one number,
the read watermark: the highest seq they have read. Unread counts, "N人未读" and the read list of
a message all follow from the watermarks, so reading never writes a row per message.

Message content is the organisation's business record, sealed with the organisation's data key;
the search index holds keyed hashes of words, also derived from that key.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import DELETE, NOT_PERSONAL, ORGANISATION_RECORD, DataClass, personal


class ConversationKind(StrEnum):
    DIRECT = "direct"  # 单聊
    GROUP = "group"  # 群聊
    DEPARTMENT = "department"  # 部门群: membership follows the department subtree
    ALL_STAFF = "all_staff"  # 全员群: membership follows the organisation


class MemberRank(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class MessageKind(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    IMAGE = "image"
    FILE = "file"
    VOICE = "voice"
    VIDEO = "video"
    FORWARD = "forward"  # merged forward (合并转发): several messages in one
    SYSTEM = "system"  # joins, leaves, renames: written by the platform
    ROBOT = "robot"  # posted by a group robot (robots/): a card of DingTalk's robot formats


class Conversation(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "im_conversations"
    __table_args__ = (
        UniqueConstraint("org_id", "direct_key"),
        UniqueConstraint("org_id", "department_id"),
        Index("ix_im_conversations_org_id_kind", "org_id", "kind"),
    )

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    kind: Mapped[str] = mapped_column(String(20), info=NOT_PERSONAL)
    name: Mapped[str] = mapped_column(
        String(100), default="", info=personal(DataClass.BUSINESS, ORGANISATION_RECORD)
    )
    owner_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    # A direct conversation's two membership ids, sorted and joined: one conversation per pair.
    direct_key: Mapped[str | None] = mapped_column(String(60), info=NOT_PERSONAL)
    department_id: Mapped[str | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    # Settings (group kinds only).
    only_owner_manages: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    join_approval: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    searchable: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    # What a new member sees of the past: NULL everything, 0 nothing, N the last N messages.
    history_visible_count: Mapped[int | None] = mapped_column(Integer, info=NOT_PERSONAL)
    forbid_private_chat: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    mute_all: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    mention_all_admins_only: Mapped[bool] = mapped_column(Boolean, default=True, info=NOT_PERSONAL)
    max_members: Mapped[int] = mapped_column(Integer, default=1000, info=NOT_PERSONAL)
    announcement_sealed: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=personal(DataClass.BUSINESS, ORGANISATION_RECORD, encrypted=True)
    )
    announcement_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    # State.
    last_seq: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)
    last_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    member_count: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)
    disbanded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class ConversationMember(IdMixin, CreatedAtMixin, Base):
    """A member's place in a conversation: rank, what they may see, how far they have read."""

    __tablename__ = "im_conversation_members"
    __table_args__ = (
        UniqueConstraint("conversation_id", "membership_id"),
        # The read list and the unread counts of a message are range queries on the watermark.
        Index("ix_im_conversation_members_read", "conversation_id", "read_seq"),
    )

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("im_conversations.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    rank: Mapped[str] = mapped_column(String(10), default=MemberRank.MEMBER, info=NOT_PERSONAL)
    # Messages with seq above this are visible to the member (history visibility on joining).
    visible_after_seq: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)
    joined_seq: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)  # last_seq when joining
    read_seq: Mapped[int] = mapped_column(Integer, default=0, info=personal(DataClass.IDENTITY, DELETE))
    muted_until: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    do_not_disturb: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)  # 置顶


class Message(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "im_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        # A client retrying a send with the same id gets the message it already sent.
        UniqueConstraint("sender_membership_id", "client_msg_id"),
        # Deregistration purges an organisation's messages in batches by org_id.
        Index("ix_im_messages_org_id", "org_id"),
    )

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("im_conversations.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    seq: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)
    # NULL once the author was removed from the organisation: shown as a removed member.
    sender_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), index=True, info=NOT_PERSONAL
    )
    kind: Mapped[str] = mapped_column(String(20), info=NOT_PERSONAL)
    # JSON of the content ({"text", "attachment", "quote", "items"…}) sealed with the organisation's
    # data key; NULL once recalled: the content is erased, the row stays as a marker.
    content_sealed: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=personal(DataClass.BUSINESS, ORGANISATION_RECORD, encrypted=True)
    )
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list, info=NOT_PERSONAL)  # membership ids
    mention_all: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    reply_to_id: Mapped[str | None] = mapped_column(
        ForeignKey("im_messages.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    client_msg_id: Mapped[str | None] = mapped_column(String(64), info=NOT_PERSONAL)
    recalled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    recalled_by_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    pinned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    reactions: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, info=NOT_PERSONAL
    )  # emoji → [membership ids]


class MessageSearchToken(Base):
    """One word of one message, as a keyed hash: the index can answer "which messages contain
    审批" without holding the word. The key derives from the organisation's data key."""

    __tablename__ = "im_message_tokens"
    __table_args__ = (
        # A word's messages in one conversation, by seq; and across conversations from the
        # newest (message ids sort by time), where a search walks back and stops after a page.
        Index("ix_im_message_tokens_lookup", "org_id", "token_hash", "conversation_id", "seq"),
        Index("ix_im_message_tokens_recent", "org_id", "token_hash", "message_id"),
    )

    message_id: Mapped[str] = mapped_column(
        ForeignKey("im_messages.id", ondelete="CASCADE"), primary_key=True, info=NOT_PERSONAL
    )
    token_hash: Mapped[bytes] = mapped_column(
        LargeBinary(16),
        primary_key=True,
        info=personal(DataClass.BUSINESS, ORGANISATION_RECORD, encrypted=True, note="keyed word hash"),
    )
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("im_conversations.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    seq: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)


class ChatPreference(IdMixin, Base):
    """A member's own chat settings: read-receipt opt-out (where the organisation allows it) and
    quiet hours (下班勿扰), which silence notifications, never delivery."""

    __tablename__ = "im_preferences"
    __table_args__ = (UniqueConstraint("membership_id"),)

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    hide_read_status: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    quiet_hours_enabled: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    quiet_start: Mapped[str] = mapped_column(String(5), default="22:00", info=NOT_PERSONAL)  # "HH:MM"
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00", info=NOT_PERSONAL)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai", info=NOT_PERSONAL)


class ChatFile(IdMixin, CreatedAtMixin, Base):
    """An uploaded attachment: stored sealed with the organisation's data key, as is its
    thumbnail. Referenced by the message that carries it."""

    __tablename__ = "im_files"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("im_conversations.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    uploader_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    kind: Mapped[str] = mapped_column(String(20), info=NOT_PERSONAL)  # image, file, voice, video
    content_type: Mapped[str] = mapped_column(String(100), info=NOT_PERSONAL)
    size: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)
    name_sealed: Mapped[bytes] = mapped_column(
        LargeBinary, info=personal(DataClass.BUSINESS, ORGANISATION_RECORD, encrypted=True)
    )
    storage_key: Mapped[str] = mapped_column(String(200), info=NOT_PERSONAL)
    thumbnail_key: Mapped[str | None] = mapped_column(String(200), info=NOT_PERSONAL)
    width: Mapped[int | None] = mapped_column(Integer, info=NOT_PERSONAL)
    height: Mapped[int | None] = mapped_column(Integer, info=NOT_PERSONAL)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    # When a message first carried it; an upload never sent is removed by the sweep (im.jobs).
    attached_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class JoinRequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class GroupJoinRequest(IdMixin, CreatedAtMixin, Base):
    """Someone asking to join a group that needs approval, by themself (a searchable group) or
    invited by a member who does not manage it; the group's managers decide."""

    __tablename__ = "im_join_requests"
    __table_args__ = (Index("ix_im_join_requests_conversation_state", "conversation_id", "state"),)

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), info=NOT_PERSONAL)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("im_conversations.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    membership_id: Mapped[str] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    invited_by_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    state: Mapped[str] = mapped_column(String(10), default=JoinRequestState.PENDING, info=NOT_PERSONAL)
    decided_by_membership_id: Mapped[str | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
