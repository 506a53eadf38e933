"""Request and response shapes of the organisation admin API and the operator API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema

Duty = Literal["system", "security", "audit"]


class DepartmentCreate(InputSchema):
    parent_id: str = Field(min_length=1, max_length=26)
    name: str = Field(min_length=1, max_length=100)
    sort_order: int = 0
    chat_group: bool = False  # also create the department group (部门群), which follows the chart


class HiddenWhitelist(InputSchema):
    members: list[str] = Field(default_factory=list, max_length=1000)
    departments: list[str] = Field(default_factory=list, max_length=1000)


class DepartmentUpdate(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    sort_order: int | None = None
    parent_id: str | None = Field(default=None, min_length=1, max_length=26)
    hidden: bool | None = None
    hidden_whitelist: HiddenWhitelist | None = None


class DepartmentRead(OutputSchema):
    id: str
    parent_id: str | None
    name: str
    sort_order: int
    hidden: bool
    hidden_whitelist: dict[str, list[str]]


class SeatIn(InputSchema):
    department_id: str = Field(min_length=1, max_length=26)
    title: str = Field(default="", max_length=100)
    is_head: bool = False


class SeatRead(OutputSchema):
    department_id: str
    title: str
    is_head: bool


class MemberProfileFields(InputSchema):
    job_number: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, max_length=100)
    org_email: str | None = Field(default=None, max_length=200, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    office_phone: str | None = Field(default=None, max_length=64)
    work_place: str | None = Field(default=None, max_length=200)
    hired_date: date | None = None
    manager_id: str | None = Field(default=None, max_length=26)
    hide_mobile: bool | None = None
    executive: bool | None = None
    custom_fields: dict[str, str] | None = None
    seats: list[SeatIn] | None = Field(default=None, max_length=50)


class MemberCreate(MemberProfileFields):
    mobile: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)


class MemberUpdate(MemberProfileFields):
    name: str | None = Field(default=None, min_length=1, max_length=100)


class MemberAdminRead(OutputSchema):
    id: str
    account_id: str
    name: str
    mobile_masked: str
    role: str
    status: str
    job_number: str | None
    title: str
    org_email: str
    office_phone: str
    work_place: str
    hired_date: date | None
    manager_id: str | None
    hide_mobile: bool
    executive: bool
    custom_fields: dict[str, Any]
    seats: list[SeatRead]
    created_at: datetime
    activated_at: datetime | None


class MemberPage(OutputSchema):
    total: int
    items: list[MemberAdminRead]


class RoleCreate(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    group_name: str = Field(default="默认", min_length=1, max_length=100)


class RoleRead(OutputSchema):
    id: str
    name: str
    group_name: str


class MemberRolesIn(InputSchema):
    role_ids: list[str] = Field(max_length=100)


class GrantIn(InputSchema):
    duty: Duty
    department_ids: list[str] = Field(default_factory=list, max_length=200)
    functions: list[str] = Field(default_factory=list, max_length=20)


class AdminGrantsIn(InputSchema):
    grants: list[GrantIn] = Field(max_length=3)  # the service allows one: 三员分立


class AdminRead(OutputSchema):
    membership_id: str
    name: str
    role: str
    grants: list[GrantIn]


class VisibilityRuleIn(InputSchema):
    mode: Literal["self", "own_departments", "listed"]
    listed_department_ids: list[str] = Field(default_factory=list, max_length=500)


class VisibilityRuleRead(OutputSchema):
    department_id: str
    mode: str
    listed_department_ids: list[str]


HideableField = Literal[
    "mobile", "job_number", "org_email", "office_phone", "work_place", "hired_date", "custom_fields"
]


class OrgSettingsIn(InputSchema):
    watermark: bool | None = None
    hidden_fields: list[HideableField] | None = None


class OrgSettingsRead(OutputSchema):
    id: str
    name: str
    watermark: bool
    hidden_fields: list[str]


class CustomFieldIn(InputSchema):
    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1, max_length=100)


class CustomFieldRead(OutputSchema):
    id: str
    key: str
    label: str


class AuditEntryRead(OutputSchema):
    seq: int
    at: datetime
    actor_account_id: str | None
    action: str
    object_type: str
    object_id: str
    ip: str
    detail: dict[str, Any]


class AuditPage(OutputSchema):
    chain_ok: bool
    first_broken_seq: int | None
    items: list[AuditEntryRead]


class OrganizationCreate(InputSchema):
    name: str = Field(min_length=1, max_length=200)
    admin_mobile: str = Field(min_length=1, max_length=32)
    admin_name: str = Field(min_length=1, max_length=100)


class OrganizationRead(OutputSchema):
    id: str
    name: str
    status: str
    created_at: datetime
    member_count: int


class AdminRightsRead(OutputSchema):
    """What the caller may administer in their current organisation (drives the admin console)."""

    role: str
    grants: list[GrantIn]  # the main admin: system and security over the whole organisation
