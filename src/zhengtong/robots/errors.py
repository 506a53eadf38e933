"""Error codes of the group robots' management API (the webhook answers in DingTalk's envelope:
see webhook.py)."""

from zhengtong.core.errors import error_code

NOT_MANAGER = error_code(
    "robots.not_manager",
    403,
    "只有群主、群管理员或组织管理员可以管理群机器人",
    "Only the group's owner or admins, or the organisation's admins, manage its robots",
)
NAME_TAKEN = error_code(
    "robots.name_taken", 409, "本群已有同名机器人", "This group already has a robot of that name"
)
NO_SECURITY = error_code(
    "robots.security_required",
    422,
    "请至少选择一种安全设置：加签、自定义关键词或 IP 地址段",
    "Choose at least one security setting: signature, keywords or IP ranges",
)
IP_RANGE_INVALID = error_code(
    "robots.ip_range_invalid",
    422,
    "IP 地址段格式不正确，例如 203.0.113.0/24",
    "An IP range is not valid; write it like 203.0.113.0/24",
)
OUTGOING_URL_INVALID = error_code(
    "robots.outgoing_url_invalid",
    422,
    "消息接收地址须为 http(s) 地址",
    "The outgoing robot's address must be an http(s) URL",
)
OUTGOING_URL_REFUSED = error_code(
    "robots.outgoing_url_refused",
    422,
    "不允许向该地址发送消息（内网、本机或未列入允许的地址）",
    "Messages may not be sent to that address (a private or local network, or a host not allowed)",
)
