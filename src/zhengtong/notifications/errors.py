"""Error codes of the notification centre."""

from __future__ import annotations

from zhengtong.core.errors import error_code

PUSH_SUBSCRIPTION_INVALID = error_code(
    "notifications.push_subscription_invalid",
    422,
    "浏览器推送订阅的密钥不正确，请关闭后重新开启推送。",
    "The browser's push subscription keys are malformed; turn push off and on again.",
)
PUSH_ENDPOINT_REFUSED = error_code(
    "notifications.push_endpoint_refused",
    422,
    "该浏览器使用的推送服务未被本平台允许。",
    "This browser's push service is not allowed by this platform.",
)
QUIET_HOURS_NEED_ORGANISATION = error_code(
    "notifications.quiet_hours_need_organisation",
    409,
    "免打扰时段随所在单位设置，请先进入一个单位。",
    "Quiet hours are set per organisation; enter an organisation first.",
)
