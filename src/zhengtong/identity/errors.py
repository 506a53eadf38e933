"""Error codes of login, second factor and sessions."""

from zhengtong.core.errors import error_code

MOBILE_INVALID = error_code(
    "auth.mobile_invalid", 422, "手机号码格式不正确", "This is not a valid mobile number"
)
CODE_INVALID = error_code("auth.code_invalid", 400, "验证码错误", "The verification code is wrong")
CODE_EXPIRED = error_code(
    "auth.code_expired",
    400,
    "验证码已过期，请重新获取",
    "The verification code has expired; request a new one",
)
CODE_USED = error_code(
    "auth.code_used",
    400,
    "验证码已使用，请重新获取",
    "The verification code was already used; request a new one",
)
CODE_ATTEMPTS_EXCEEDED = error_code(
    "auth.code_attempts_exceeded",
    400,
    "验证码输错次数过多，请重新获取",
    "Too many wrong attempts for this code; request a new one",
)
SEND_COOLDOWN = error_code(
    "auth.send_cooldown",
    429,
    "验证码发送过于频繁，请稍后再试",
    "A code was sent just now; wait before asking again",
)
ACCOUNT_LOCKED = error_code(
    "auth.account_locked",
    423,
    "尝试次数过多，账号已临时锁定，请稍后再试",
    "Too many failed attempts; the account is locked for a while",
)
PASSWORD_INVALID = error_code(
    "auth.password_invalid", 400, "手机号或密码错误", "Wrong mobile number or password"
)
PASSWORD_WEAK = error_code(
    "auth.password_weak",
    422,
    "密码至少 8 位，且须同时包含字母和数字",
    "A password needs at least 8 characters, with letters and digits",
)
CURRENT_PASSWORD_WRONG = error_code(
    "auth.current_password_wrong", 400, "当前密码不正确", "The current password is wrong"
)
SECOND_FACTOR_REQUIRED = error_code(
    "auth.second_factor_required",
    403,
    "请先完成两步验证",
    "Complete two-step verification first",
)
TOTP_INVALID = error_code("auth.totp_invalid", 400, "动态验证码错误", "The authenticator code is wrong")
TOTP_NOT_SET_UP = error_code(
    "auth.totp_not_set_up", 400, "尚未设置两步验证", "Two-step verification is not set up"
)
TOTP_REQUIRED_FOR_ADMIN = error_code(
    "auth.totp_required_for_admin",
    400,
    "管理员必须开启两步验证，不能关闭",
    "Administrators must keep two-step verification on",
)
QR_INVALID = error_code("auth.qr_invalid", 400, "二维码无效", "This QR code is not valid")
QR_EXPIRED = error_code("auth.qr_expired", 410, "二维码已过期，请刷新", "The QR code has expired; refresh it")
SMS_UNAVAILABLE = error_code(
    "auth.sms_unavailable",
    503,
    "短信暂时无法发送，请稍后再试",
    "Text messages cannot be sent right now; try again later",
)
