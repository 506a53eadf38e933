"""Error codes of apps."""

from zhengtong.core.errors import error_code

APP_NAME_INVALID = error_code(
    "apps.name_invalid", 422, "应用名称须为 1 到 60 个字符", "An app's name has 1 to 60 characters"
)
APP_NAME_TAKEN = error_code(
    "apps.name_taken", 409, "本组织已有同名应用", "This organisation already has an app of that name"
)
APP_CREDENTIALS_INVALID = error_code(
    "apps.credentials_invalid", 401, "应用的 AppKey 或 AppSecret 不正确", "The app key or secret is not valid"
)
ACCESS_TOKEN_INVALID = error_code(
    "apps.access_token_invalid",
    401,
    "access_token 无效或已过期",
    "The access token is invalid or has expired",
)
APP_DISABLED = error_code("apps.disabled", 403, "该应用已停用", "This app has been disabled")
