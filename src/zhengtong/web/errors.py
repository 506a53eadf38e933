"""Every error leaves the server in one shape: {"code", "message", "detail"}, in the caller's language."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from zhengtong.core.errors import (
    INTERNAL,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    REQUEST_INVALID,
    REQUEST_MALFORMED_JSON,
    REQUEST_TOO_LARGE,
    TEMPORARILY_UNAVAILABLE,
    AppError,
    ErrorCode,
)
from zhengtong.platform.ratelimit import LimiterUnavailable
from zhengtong.web.middleware import path_template

log = logging.getLogger("zhengtong.errors")


def request_language(request: Request) -> str:
    """'en' when the caller prefers English, otherwise zh-CN (the default)."""
    header = request.headers.get("accept-language", "")
    first = header.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh"


def error_response(request: Request, error: AppError) -> JSONResponse:
    return JSONResponse(
        error.to_json(request_language(request)), status_code=error.error.status, headers=error.headers
    )


def _validation_detail(exc: RequestValidationError) -> tuple[ErrorCode, list[dict[str, Any]]]:
    problems = []
    malformed = False
    for item in exc.errors():
        if item.get("type") == "json_invalid":
            malformed = True
        location = [str(part) for part in item.get("loc", ()) if part != "body"]
        problems.append({"field": ".".join(location), "type": item.get("type"), "message": item.get("msg")})
    return (REQUEST_MALFORMED_JSON if malformed else REQUEST_INVALID), problems


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, problems = _validation_detail(exc)
        return error_response(request, AppError(code, problems))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 413: REQUEST_TOO_LARGE}.get(exc.status_code)
        if code is None:
            code = ErrorCode(f"http.{exc.status_code}", exc.status_code, str(exc.detail), str(exc.detail))
        return error_response(request, AppError(code))

    @app.exception_handler(LimiterUnavailable)
    async def _limiter_unavailable(request: Request, exc: LimiterUnavailable) -> JSONResponse:
        log.warning("rate limiter unavailable on %s %s", request.method, path_template(request.scope))
        return error_response(request, AppError(TEMPORARILY_UNAVAILABLE, headers={"Retry-After": "5"}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The route template, never the body or the query: they may carry names and numbers.
        log.exception("unhandled error on %s %s", request.method, path_template(request.scope))
        return error_response(request, AppError(INTERNAL))
