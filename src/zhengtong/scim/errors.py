"""SCIM errors, in the protocol's own shape (RFC 7644 §3.12) rather than the platform's
{"code", "message", "detail"}: provisioning clients read `status` and `scimType`.

The services SCIM calls raise the platform's `AppError`; `from_app_error` says what each one
means to a SCIM client. Details are in English, like the protocol: they end up in the logs of
the client's system, read by whoever runs it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from zhengtong.core.errors import AppError

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimType(StrEnum):
    INVALID_FILTER = "invalidFilter"
    UNIQUENESS = "uniqueness"
    MUTABILITY = "mutability"
    INVALID_SYNTAX = "invalidSyntax"
    INVALID_PATH = "invalidPath"
    NO_TARGET = "noTarget"
    INVALID_VALUE = "invalidValue"


class ScimError(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        scim_type: ScimType | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type
        self.headers = headers or {}

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(self.status), "detail": self.detail}
        if self.scim_type is not None:
            body["scimType"] = self.scim_type.value
        return body


def unauthorized() -> ScimError:
    """The same answer for a missing, unknown or revoked token, so none can be told apart."""
    return ScimError(401, "A valid SCIM bearer token is required", headers={"WWW-Authenticate": "Bearer"})


def not_found() -> ScimError:
    return ScimError(404, "The resource does not exist")


def invalid_value(detail: str) -> ScimError:
    return ScimError(400, detail, ScimType.INVALID_VALUE)


def invalid_syntax(detail: str) -> ScimError:
    return ScimError(400, detail, ScimType.INVALID_SYNTAX)


# Platform error code → (HTTP status, scimType) for a SCIM client.
_MEANINGS: dict[str, tuple[int, ScimType | None]] = {
    "not_found": (404, None),
    "auth.mobile_invalid": (400, ScimType.INVALID_VALUE),
    "org.member_exists": (409, ScimType.UNIQUENESS),
    "org.job_number_taken": (409, ScimType.UNIQUENESS),
    "org.department_name_taken": (409, ScimType.UNIQUENESS),
    "org.department_not_empty": (409, ScimType.MUTABILITY),
    "org.last_main_admin": (409, ScimType.MUTABILITY),
    "org.root_department": (400, ScimType.MUTABILITY),
    "org.department_cycle": (400, ScimType.INVALID_VALUE),
}


def from_app_error(error: AppError) -> ScimError:
    status, scim_type = _MEANINGS.get(error.error.code, (error.error.status, None))
    return ScimError(status, error.error.en, scim_type)
