"""Response shapes of the address book."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from zhengtong.core.schemas import OutputSchema


class Watermark(OutputSchema):
    enabled: bool
    text: str  # the viewer's name and the last four digits of their mobile


class DepartmentNodeRead(OutputSchema):
    id: str
    parent_id: str | None
    name: str
    sort_order: int
    member_count: int


class DirectoryTree(OutputSchema):
    departments: list[DepartmentNodeRead]
    watermark: Watermark


class MemberBrief(OutputSchema):
    id: str
    name: str
    title: str
    is_head: bool
    avatar_key: str | None
    department_names: list[str] = Field(default_factory=list)  # filled in search results


class MemberListPage(OutputSchema):
    total: int
    items: list[MemberBrief]


class SeatRead(OutputSchema):
    department_id: str
    department_name: str
    title: str
    is_head: bool


class MemberCardRead(OutputSchema):
    id: str
    name: str
    mobile_masked: str | None
    can_reveal_mobile: bool
    status: str
    job_number: str | None = None
    title: str | None = None
    org_email: str | None = None
    office_phone: str | None = None
    work_place: str | None = None
    hired_date: date | None = None
    custom_fields: dict[str, Any] | None = None
    manager_name: str | None
    seats: list[SeatRead]


class MobileRead(OutputSchema):
    mobile: str


class DepartmentHit(OutputSchema):
    id: str
    name: str


class SearchRead(OutputSchema):
    members: list[MemberBrief]
    departments: list[DepartmentHit]
