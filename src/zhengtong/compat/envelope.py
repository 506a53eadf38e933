"""DingTalk's answer envelope: HTTP 200 with {"errcode": 0, "errmsg": "ok", …}, and an errcode for
every failure. The platform's error codes are translated here, in one table."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from zhengtong.core.errors import AppError
from zhengtong.core.ids import new_id

# platform code → (errcode, errmsg), as DingTalk's documentation names them.
ERRCODES: dict[str, tuple[int, str]] = {
    "apps.credentials_invalid": (40089, "不合法的appkey或appsecret"),
    "apps.access_token_invalid": (40014, "不合法的access_token"),
    "apps.disabled": (60011, "应用已停用，没有调用该接口的权限"),
    "compat.agent_id_invalid": (40056, "不合法的agentid"),
    "compat.missing_parameter": (40035, "缺少参数"),
    "not_found": (400004, "任务不存在"),
    "worknotices.no_target": (40035, "接收者不能为空"),
    "worknotices.too_many_targets": (40035, "接收者数量超过限制"),
    "worknotices.message_invalid": (40035, "消息体不合法"),
    "worknotices.recalled": (400005, "消息已撤回"),
    "rate_limited": (90018, "请求的并发量太高，请降低并发"),
}
UNKNOWN = (-1, "系统繁忙")


class CompatError(Exception):
    """A failure only the open API knows (a wrong agent id, a missing parameter)."""

    def __init__(self, code: str, field: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.field = field


def ok(**fields: Any) -> JSONResponse:
    return JSONResponse({"errcode": 0, "errmsg": "ok", **fields, "request_id": new_id()})


def failure(code: str, detail: str = "") -> JSONResponse:
    errcode, errmsg = ERRCODES.get(code, UNKNOWN)
    message = f"{errmsg}: {detail}" if detail else errmsg
    return JSONResponse({"errcode": errcode, "errmsg": message, "request_id": new_id()})


def from_app_error(error: AppError) -> JSONResponse:
    field = error.detail.get("field", "") if isinstance(error.detail, dict) else ""
    return failure(error.error.code, str(field))
