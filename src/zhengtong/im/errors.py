"""Error codes of conversations and messages."""

from zhengtong.core.errors import error_code

NOT_IN_CONVERSATION = error_code(
    "im.not_in_conversation", 403, "您不在该会话中", "You are not in this conversation"
)
CONVERSATION_DISBANDED = error_code(
    "im.conversation_disbanded", 409, "该群已解散", "This group has been disbanded"
)
NOT_GROUP_MANAGER = error_code(
    "im.manager_required", 403, "只有群主或群管理员可以这样做", "Only the group owner or admins can do this"
)
NOT_GROUP_OWNER = error_code(
    "im.owner_required", 403, "只有群主可以这样做", "Only the group owner can do this"
)
NOT_A_GROUP = error_code("im.not_a_group", 409, "单聊不支持该操作", "A direct conversation cannot do this")
MANAGED_MEMBERSHIP = error_code(
    "im.managed_membership",
    409,
    "部门群和全员群的成员随组织架构同步，不能手动调整",
    "Members of department and all-staff groups follow the organisation chart",
)
GROUP_FULL = error_code("im.group_full", 409, "群成员已达上限", "The group has reached its member limit")
MEMBER_NOT_VISIBLE = error_code(
    "im.member_not_visible", 404, "找不到该成员", "That member does not exist or is not visible to you"
)
PRIVATE_CHAT_FORBIDDEN = error_code(
    "im.private_chat_forbidden",
    403,
    "该群禁止群成员之间私聊",
    "This group forbids private chat between members",
)
MUTED = error_code("im.muted", 403, "您已被禁言", "You are muted in this conversation")
MUTE_ALL = error_code(
    "im.mute_all", 403, "全员禁言中，只有群主和管理员可以发言", "Only the owner and admins may speak"
)
MENTION_ALL_FORBIDDEN = error_code(
    "im.mention_all_forbidden",
    403,
    "只有群主和管理员可以@所有人",
    "Only the owner and admins may mention everyone",
)
MESSAGE_EMPTY = error_code("im.message_empty", 422, "消息内容不能为空", "The message is empty")
MESSAGE_TOO_LONG = error_code("im.message_too_long", 422, "消息过长", "The message is too long")
MESSAGE_NOT_FOUND = error_code("im.message_not_found", 404, "消息不存在", "The message does not exist")
RECALL_WINDOW_PASSED = error_code(
    "im.recall_window_passed", 409, "已超过可撤回的时间", "The time to recall this message has passed"
)
RECALL_NOT_ALLOWED = error_code(
    "im.recall_not_allowed", 403, "您不能撤回这条消息", "You cannot recall this message"
)
ALREADY_RECALLED = error_code("im.already_recalled", 409, "消息已被撤回", "The message was already recalled")
READ_RECEIPTS_OFF = error_code(
    "im.read_receipts_off", 409, "本组织未开启已读回执", "Read receipts are off in this organisation"
)
NOT_OWN_MESSAGE = error_code(
    "im.not_own_message", 403, "只能查看自己消息的已读情况", "Only the sender sees who has read a message"
)
READ_CURSOR_INVALID = error_code(
    "im.read_cursor_invalid",
    422,
    "已读列表的翻页位置无效，请重新打开列表",
    "This position in the read list is not valid; open the list again",
)
OWNER_CANNOT_LEAVE = error_code(
    "im.owner_cannot_leave", 409, "群主需先转让群后才能退出", "Transfer ownership before leaving the group"
)
MUTE_DURATION_INVALID = error_code(
    "im.mute_duration_invalid", 422, "禁言时长须在5分钟到30天之间", "A mute lasts from 5 minutes to 30 days"
)
FILE_TYPE_FORBIDDEN = error_code(
    "im.file_type_forbidden", 415, "不允许发送该类型的文件", "Files of this type may not be sent"
)
FILE_TOO_LARGE = error_code("im.file_too_large", 413, "文件过大", "The file is too large")
FILE_NOT_FOUND = error_code(
    "im.file_not_found", 404, "文件不存在或已删除", "The file does not exist or was erased"
)
QUERY_TOO_SHORT = error_code("im.query_empty", 422, "请输入搜索内容", "Type something to search for")
GROUP_NOT_JOINABLE = error_code(
    "im.group_not_joinable", 403, "该群不允许搜索加入", "This group cannot be joined by searching for it"
)
JOIN_REQUEST_NOT_FOUND = error_code(
    "im.join_request_not_found",
    404,
    "入群申请不存在或已处理",
    "The join request does not exist or was decided",
)
CLIENT_MSG_ID_REUSED = error_code(
    "im.client_msg_id_reused",
    409,
    "该客户端消息编号已用于另一个会话",
    "This client message id was already used in another conversation",
)
