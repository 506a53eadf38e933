"""Error codes of DING."""

from zhengtong.core.errors import error_code

DING_NOT_FOUND = error_code("ding.not_found", 404, "该 DING 不存在", "The DING does not exist")
SENDER_ONLY = error_code(
    "ding.sender_only", 403, "只有发送人可以查看或这样做", "Only the sender can see this or do this"
)
TEXT_EMPTY = error_code("ding.text_empty", 422, "DING 内容不能为空", "The DING has no text")
TEXT_TOO_LONG = error_code("ding.text_too_long", 422, "DING 内容过长", "The DING's text is too long")
NO_RECIPIENTS = error_code("ding.no_recipients", 422, "请选择接收人", "Choose at least one recipient")
TOO_MANY_RECIPIENTS = error_code(
    "ding.too_many_recipients", 422, "接收人过多", "A DING goes to too many people"
)
RECIPIENT_NOT_VISIBLE = error_code(
    "ding.recipient_not_visible",
    404,
    "找不到部分接收人",
    "Some recipients do not exist or are not visible to you",
)
EXECUTIVE_PROTECTED = error_code(
    "ding.executive_protected",
    403,
    "对方开启了高管模式，普通员工不能向其发送 DING",
    "Executive mode: staff cannot DING this person",
)
SCHEDULE_IN_PAST = error_code(
    "ding.schedule_in_past", 422, "定时发送的时间须晚于现在", "A scheduled time must be in the future"
)
SCHEDULE_TOO_FAR = error_code(
    "ding.schedule_too_far", 422, "定时发送最多提前30天", "A DING can be scheduled at most 30 days ahead"
)
ATTACHMENT_NOT_FOUND = error_code(
    "ding.attachment_not_found", 404, "附件不存在或已被使用", "The attachment does not exist or was used"
)
FILE_TYPE_FORBIDDEN = error_code(
    "ding.file_type_forbidden", 415, "不允许发送该类型的文件", "Files of this type may not be sent"
)
FILE_TOO_LARGE = error_code("ding.file_too_large", 413, "文件过大", "The file is too large")
MESSAGE_NOT_FOUND = error_code(
    "ding.message_not_found", 404, "消息不存在或已撤回", "The message does not exist or was recalled"
)
NOT_SCHEDULED = error_code(
    "ding.not_scheduled",
    409,
    "只有尚未发出的定时 DING 可以取消",
    "Only a scheduled DING not yet sent can be cancelled",
)
NOT_SENT = error_code("ding.not_sent", 409, "该 DING 尚未发出", "The DING has not been sent")
REMIND_TOO_SOON = error_code(
    "ding.remind_too_soon", 429, "每5分钟最多提醒一次", "Remind at most once every 5 minutes"
)
ALL_CONFIRMED = error_code("ding.all_confirmed", 409, "所有人都已确认", "Everyone has confirmed")
LIST_CURSOR_INVALID = error_code(
    "ding.list_cursor_invalid",
    422,
    "列表的翻页位置无效，请重新打开",
    "This position in the list is not valid; open it again",
)
