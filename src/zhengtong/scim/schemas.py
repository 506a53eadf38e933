"""Shapes of the token API (native, under /api/v1) and of what SCIM clients send.

SCIM bodies are read leniently, as RFC 7644 expects: attributes this service does not keep
(locale, addresses, …) are ignored, not refused. What it keeps is checked with the same limits
as the admin console's member form."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from zhengtong.core.schemas import InputSchema, OutputSchema
from zhengtong.scim.errors import invalid_syntax, invalid_value

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
DEPARTMENT_SCHEMA = "urn:zhengtong:scim:schemas:extension:department:1.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


# Token API ----------------------------------------------------------------------------------
class ScimTokenCreate(InputSchema):
    name: str = Field(min_length=1, max_length=100)


class ScimTokenRead(OutputSchema):
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ScimTokenCreated(OutputSchema):
    id: str
    name: str
    token: str  # shown once; only its keyed hash is kept
    created_at: datetime


# SCIM bodies --------------------------------------------------------------------------------
class ScimInput(BaseModel):
    model_config = ConfigDict(
        extra="ignore", str_strip_whitespace=True, alias_generator=to_camel, populate_by_name=True
    )


class Name(ScimInput):
    formatted: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    given_name: str | None = Field(default=None, max_length=100)


class Email(ScimInput):
    value: str = Field(max_length=200, pattern=EMAIL_PATTERN)
    type: str | None = None
    primary: bool | None = None


class PhoneNumber(ScimInput):
    value: str = Field(min_length=1, max_length=64)
    type: str | None = None
    primary: bool | None = None


class ManagerRef(ScimInput):
    value: str | None = Field(default=None, max_length=26)


class EnterpriseUser(ScimInput):
    employee_number: str | None = Field(default=None, max_length=64)
    manager: ManagerRef | None = None

    @field_validator("manager", mode="before")
    @classmethod
    def _manager_id_alone(cls, value: Any) -> Any:
        # Some clients (Entra ID among them) send the manager's id as a bare string.
        return {"value": value} if isinstance(value, str) else value


class UserIn(ScimInput):
    schemas: list[str] = Field(default_factory=list)  # checked by parse_body
    user_name: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, max_length=64)
    name: Name | None = None
    display_name: str | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, max_length=100)
    active: bool = True
    emails: list[Email] = Field(default_factory=list, max_length=20)
    phone_numbers: list[PhoneNumber] = Field(default_factory=list, max_length=20)
    enterprise: EnterpriseUser | None = Field(default=None, alias=ENTERPRISE_USER_SCHEMA)


class MemberRef(ScimInput):
    value: str = Field(min_length=1, max_length=26)


class DepartmentExtension(ScimInput):
    parent_id: str | None = Field(default=None, min_length=1, max_length=26)


class GroupIn(ScimInput):
    schemas: list[str] = Field(default_factory=list)  # checked by parse_body
    display_name: str = Field(min_length=1, max_length=100)
    members: list[MemberRef] = Field(default_factory=list, max_length=10_000)
    department: DepartmentExtension | None = Field(default=None, alias=DEPARTMENT_SCHEMA)


class PatchOperation(ScimInput):
    op: str
    path: str | None = Field(default=None, max_length=500)
    value: Any = None

    @field_validator("op")
    @classmethod
    def _known_op(cls, value: str) -> str:
        # Clients differ in case ("Replace" from Entra ID); the RFC names them in lower case.
        if value.lower() not in ("add", "replace", "remove"):
            raise ValueError("op is add, replace or remove")
        return value.lower()


class PatchRequest(ScimInput):
    schemas: list[str] = Field(default_factory=list)  # checked by parse_body
    operations: list[PatchOperation] = Field(alias="Operations", min_length=1, max_length=1000)


Body = TypeVar("Body", bound=ScimInput)


def parse_body(model: type[Body], payload: Any, schema: str) -> Body:
    """`payload` (decoded JSON) as `model`, naming `schema` among its schemas; else a SCIM 400."""
    if not isinstance(payload, dict):
        raise invalid_syntax("The body must be a JSON object")
    try:
        body = model.model_validate(payload)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
        )
        raise invalid_value(problems) from error
    schemas: list[str] = getattr(body, "schemas", [])
    if schema.lower() not in (name.lower() for name in schemas):
        raise invalid_syntax(f"schemas must include {schema}")
    return body
