"""Error codes of work notices."""

from zhengtong.core.errors import error_code

NO_TARGET = error_code(
    "worknotices.no_target", 422, "请选择接收人、部门或全员", "Name the people, departments or everyone"
)
TOO_MANY_TARGETS = error_code(
    "worknotices.too_many_targets",
    422,
    "一次最多发给 5000 人和 500 个部门",
    "At most 5,000 people and 500 departments at a time",
)
MESSAGE_INVALID = error_code(
    "worknotices.message_invalid",
    422,
    "消息格式不正确，支持 text、markdown、link、action_card、oa",
    "The message is malformed; text, markdown, link, action_card and oa are supported",
)
NOT_SENDER = error_code(
    "worknotices.not_sender",
    403,
    "只能撤回本应用发出的工作通知",
    "Only the sender can recall this work notice",
)
ALREADY_RECALLED = error_code(
    "worknotices.recalled", 410, "该工作通知已撤回", "This work notice has been recalled"
)
