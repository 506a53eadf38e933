"""Chat API shapes. `MessageRead` is also what a `message.new` event carries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema

SendableKind = Literal["text", "markdown", "image", "file", "voice", "video"]


class DirectIn(InputSchema):
    membership_id: str = Field(min_length=1, max_length=26)
    via_group_id: str | None = Field(default=None, max_length=26)


class GroupIn(InputSchema):
    name: str = Field(default="", max_length=100)
    member_ids: list[str] = Field(default_factory=list, max_length=1000)


class SyncedGroupIn(InputSchema):
    department_id: str | None = Field(default=None, max_length=26)  # None: the all-staff group


class SyncedGroupRead(OutputSchema):
    id: str
    kind: str
    name: str
    department_id: str | None
    member_count: int


class MembersIn(InputSchema):
    member_ids: list[str] = Field(min_length=1, max_length=1000)


class RankIn(InputSchema):
    rank: Literal["owner", "admin", "member"]


class MuteIn(InputSchema):
    minutes: int = Field(ge=0, le=30 * 24 * 60)


class GroupSettingsIn(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    only_owner_manages: bool | None = None
    join_approval: bool | None = None
    searchable: bool | None = None
    history_visible_count: int | None = Field(default=None, ge=-1, le=10000)  # -1: everything
    forbid_private_chat: bool | None = None
    mute_all: bool | None = None
    mention_all_admins_only: bool | None = None
    max_members: int | None = Field(default=None, ge=2, le=100_000)


class AnnouncementIn(InputSchema):
    text: str = Field(max_length=2000)


class PersonalFlagsIn(InputSchema):
    do_not_disturb: bool | None = None
    pinned: bool | None = None


class MessageIn(InputSchema):
    kind: SendableKind = "text"
    text: str = Field(default="", max_length=20000)  # the policy's limit applies (default 5,000)
    file_id: str | None = Field(default=None, max_length=26)
    mentions: list[str] = Field(default_factory=list, max_length=100)
    mention_all: bool = False
    reply_to_id: str | None = Field(default=None, max_length=26)
    client_msg_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"
    )


class ForwardIn(InputSchema):
    message_ids: list[str] = Field(min_length=1, max_length=100)
    target_conversation_ids: list[str] = Field(min_length=1, max_length=20)
    merged: bool = False


class ReadIn(InputSchema):
    seq: int = Field(ge=0)


class ReactionIn(InputSchema):
    emoji: str = Field(min_length=1, max_length=16)


class PreferencesIn(InputSchema):
    hide_read_status: bool | None = None
    quiet_hours_enabled: bool | None = None
    quiet_start: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    quiet_end: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str | None = Field(default=None, max_length=64)


class ChatPolicyIn(InputSchema):
    read_receipts: Literal["on", "opt_out", "off"] | None = None
    recall_window_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    max_group_members: int | None = Field(default=None, ge=2, le=100_000)


class ChatPolicyRead(OutputSchema):
    read_receipts: str
    recall_window_minutes: int
    max_group_members: int
    max_upload_bytes: int  # the installation's limit for one attachment
    max_text_chars: int


class FileRead(OutputSchema):
    id: str
    name: str
    kind: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    has_thumbnail: bool = False


class QuoteRead(OutputSchema):
    message_id: str
    seq: int  # to jump to it with around_seq
    sender_name: str
    excerpt: str
    recalled: bool = False


class ForwardedItem(OutputSchema):
    sender_name: str
    kind: str
    text: str
    created_at: datetime
    attachment: FileRead | None = None


class SystemNote(OutputSchema):
    action: str  # created, joined, left, removed, owner_changed, settings_changed, announcement
    actor_name: str
    names: list[str]


class RobotButton(OutputSchema):
    title: str
    url: str


class RobotLink(OutputSchema):
    title: str
    url: str
    pic_url: str = ""


class RobotCard(OutputSchema):
    """What a group robot posted (robots/bodies.py checked it), with the robot: DingTalk's text,
    markdown, link, actionCard or feedCard. Every URL is http(s)."""

    id: str  # the robot's
    name: str
    avatar: str = "robot"
    msgtype: str
    title: str = ""
    text: str = ""  # plain for text; markdown for markdown and actionCard; the summary for link
    url: str = ""  # link: messageUrl; actionCard: singleURL
    pic_url: str = ""
    single_title: str = ""
    buttons: list[RobotButton] = Field(default_factory=list)
    vertical_buttons: bool = True
    links: list[RobotLink] = Field(default_factory=list)


class MessageRead(OutputSchema):
    id: str
    conversation_id: str
    seq: int
    sender_membership_id: str | None  # None: the author was removed from the organisation
    sender_name: str
    kind: str
    text: str = ""
    attachment: FileRead | None = None
    quote: QuoteRead | None = None
    items: list[ForwardedItem] = Field(default_factory=list)
    system: SystemNote | None = None
    robot: RobotCard | None = None  # kind "robot": the card, and the robot as the sender
    mentions: list[str] = Field(default_factory=list)
    mention_all: bool = False
    client_msg_id: str | None = None
    created_at: datetime
    recalled: bool = False
    recalled_by_membership_id: str | None = None  # the sender, or a group owner or admin
    pinned: bool = False
    reactions: dict[str, list[str]] = Field(default_factory=dict)
    # For the sender's own messages with read receipts on: how many have not read it yet.
    unread_count: int | None = None


class MessagePage(OutputSchema):
    items: list[MessageRead]
    has_more_before: bool
    has_more_after: bool = False  # with after_seq: more follow, ask again from the last seq
    visible_after_seq: int  # history older than this is not visible to the viewer


ReadTab = Literal["read", "unread"]


class ReadPerson(OutputSchema):
    membership_id: str
    name: str


class ReadListRead(OutputSchema):
    """One page of one tab of a message's read list (已读 or 未读), with the counts of both."""

    tab: ReadTab
    read_count: int
    unread_count: int
    hidden_count: int  # members who hide their read status (opt-out policy): counted, never listed
    items: list[ReadPerson]  # by name, then id
    next_cursor: str | None  # the rest of the same tab; None at its end


class GroupSettingsRead(OutputSchema):
    name: str
    owner_membership_id: str | None
    only_owner_manages: bool
    join_approval: bool
    searchable: bool
    history_visible_count: int | None
    forbid_private_chat: bool
    mute_all: bool
    mention_all_admins_only: bool
    max_members: int


class ConversationRead(OutputSchema):
    id: str
    kind: str
    title: str
    peer_membership_id: str | None
    department_id: str | None
    member_count: int
    unread: int
    last_seq: int
    read_seq: int
    visible_after_seq: int
    last_message_at: datetime | None
    rank: str
    do_not_disturb: bool
    pinned: bool
    muted_until: datetime | None
    settings: GroupSettingsRead | None
    announcement: str | None
    last_message: MessageRead | None = None  # the preview in the conversation list


class ConversationList(OutputSchema):
    items: list[ConversationRead]
    total_unread: int


class ConversationMemberRead(OutputSchema):
    membership_id: str
    name: str
    avatar_key: str | None
    rank: str
    muted_until: datetime | None


class ConversationMembers(OutputSchema):
    items: list[ConversationMemberRead]
    hidden_count: int


class SearchHit(OutputSchema):
    conversation_id: str
    conversation_title: str
    message: MessageRead


class SearchResults(OutputSchema):
    items: list[SearchHit]


class PreferencesRead(OutputSchema):
    hide_read_status: bool
    quiet_hours_enabled: bool
    quiet_start: str
    quiet_end: str
    timezone: str
    in_quiet_hours: bool


class GroupFound(OutputSchema):
    id: str
    name: str
    member_count: int
    join_approval: bool


class JoinAnswer(OutputSchema):
    status: Literal["joined", "requested"]


class JoinRequestRead(OutputSchema):
    id: str
    membership_id: str
    name: str
    invited_by_name: str | None
    created_at: datetime


class PresenceIn(InputSchema):
    membership_ids: list[str] = Field(min_length=1, max_length=500)


class PresenceRead(OutputSchema):
    online: list[str]  # the membership ids, of those asked about, that are online
