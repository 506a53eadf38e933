"""Domain errors with stable codes and messages in zh-CN and English.

Each domain declares its codes with `error_code(...)`; services raise `AppError(CODE, detail=...)`;
the web layer renders every AppError the same way: `{"code", "message", "detail"}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_REGISTRY: dict[str, ErrorCode] = {}


@dataclass(frozen=True)
class ErrorCode:
    code: str  # stable, dotted: "auth.code_expired"
    status: int  # HTTP status
    zh: str
    en: str

    def message(self, language: str) -> str:
        return self.en if language == "en" else self.zh


def error_code(code: str, status: int, zh: str, en: str) -> ErrorCode:
    if code in _REGISTRY:
        raise ValueError(f"error code {code} declared twice")
    declared = ErrorCode(code, status, zh, en)
    _REGISTRY[code] = declared
    return declared


def all_error_codes() -> dict[str, ErrorCode]:
    return dict(_REGISTRY)


class AppError(Exception):
    def __init__(self, error: ErrorCode, detail: Any = None, *, headers: dict[str, str] | None = None):
        super().__init__(error.code)
        self.error = error
        self.detail = detail
        self.headers = headers or {}

    def to_json(self, language: str) -> dict[str, Any]:
        return {"code": self.error.code, "message": self.error.message(language), "detail": self.detail}


# Codes used by the shared machinery itself.
REQUEST_INVALID = error_code("request.invalid", 422, "请求参数不合法", "The request is not valid")
REQUEST_MALFORMED_JSON = error_code(
    "request.malformed_json", 400, "请求正文不是合法的 JSON", "The request body is not valid JSON"
)
REQUEST_TOO_LARGE = error_code("request.too_large", 413, "请求正文过大", "The request body is too large")
NOT_FOUND = error_code("not_found", 404, "请求的对象不存在", "The requested object does not exist")
METHOD_NOT_ALLOWED = error_code("method_not_allowed", 405, "不支持该请求方法", "Method not allowed")
RATE_LIMITED = error_code(
    "rate_limited", 429, "操作过于频繁，请稍后再试", "Too many requests; try again later"
)
AUTH_REQUIRED = error_code("auth.required", 401, "请先登录", "Please log in first")
PERMISSION_DENIED = error_code("permission_denied", 403, "没有权限执行该操作", "You may not do this")
CSRF_FAILED = error_code(
    "auth.csrf_failed", 403, "请求缺少有效的 CSRF 令牌", "The request lacks a valid CSRF token"
)
INTERNAL = error_code("internal", 500, "服务器内部错误", "Internal server error")
NOT_READY = error_code("not_ready", 503, "服务尚未就绪", "The service is not ready yet")
TEMPORARILY_UNAVAILABLE = error_code(
    "temporarily_unavailable",
    503,
    "服务暂时不可用，请稍后再试",
    "The service is briefly unavailable; try again shortly",
)
