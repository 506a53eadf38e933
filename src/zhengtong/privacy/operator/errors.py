"""Error codes of the operator's console, security incidents, notices and the service shutdown."""

from zhengtong.core.errors import error_code

UNKNOWN_ACCOUNTS = error_code(
    "privacy.operator.unknown_accounts",
    422,
    "部分账号不存在或不属于任何组织。",
    "Some accounts do not exist or belong to no organisation.",
)
UNKNOWN_ORGANIZATIONS = error_code(
    "privacy.operator.unknown_organizations", 422, "部分组织不存在。", "Some organisations do not exist."
)
INCIDENT_CLOSED = error_code(
    "privacy.operator.incident_closed",
    409,
    "该安全事件已关闭，不能再修改。",
    "The security incident is closed and cannot change any more.",
)
INCIDENT_PEOPLE_NOT_NOTIFIED = error_code(
    "privacy.operator.incident_people_not_notified",
    409,
    "仍有受影响的个人未通过任何渠道收到告知，不能关闭该安全事件。",
    "Some affected people have not been reached through any channel yet; the incident cannot be closed.",
)
INCIDENT_DISCOVERED_IN_FUTURE = error_code(
    "privacy.operator.incident_discovered_in_future",
    422,
    "发现时间不能晚于当前时间。",
    "The time of discovery cannot be in the future.",
)
NOTHING_TO_NOTIFY = error_code(
    "privacy.operator.nothing_to_notify",
    409,
    "没有尚待告知的人员。",
    "Nobody is left to notify.",
)
SHUTDOWN_TOO_SOON = error_code(
    "privacy.operator.shutdown_too_soon",
    422,
    "停止运营须至少提前 30 天公告。",
    "A shutdown must be announced at least 30 days ahead.",
)
SHUTDOWN_NEEDS_TWO_CHANNELS = error_code(
    "privacy.operator.shutdown_needs_two_channels",
    422,
    "停止运营公告须通过站内通知和短信或邮件至少两种渠道发送。",
    "The shutdown notice must go out in-app and by SMS or e-mail: at least two channels.",
)
SHUTDOWN_ALREADY_SCHEDULED = error_code(
    "privacy.operator.shutdown_already_scheduled",
    409,
    "已有计划中的停止运营安排。",
    "A shutdown is already scheduled.",
)
SHUTDOWN_NOT_CANCELLABLE = error_code(
    "privacy.operator.shutdown_not_cancellable",
    409,
    "停止收集之后不能再取消停止运营。",
    "The shutdown cannot be cancelled once collection has stopped.",
)
SERVICE_SHUTTING_DOWN = error_code(
    "privacy.operator.service_shutting_down",
    403,
    "本服务已停止运营，不再收集新的个人信息；您仍可导出或删除您的数据。",
    "The service has stopped operating and collects no new personal data; you can still export or "
    "delete your data.",
)
