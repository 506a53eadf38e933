"""API shapes of privacy.rights."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema
from zhengtong.platform.jobs import JobStatus
from zhengtong.privacy.rights.models import (
    DisclosureSource,
    LegalBasis,
    RecipientKind,
    RequestEventKind,
    RequestKind,
    RequestStatus,
)

DataCategory = Literal["identity", "contact", "sensitive", "biometric", "location", "business"]
TEXT_LIMIT = 2000


# My data ----------------------------------------------------------------------------------------
class CategoryCount(OutputSchema):
    data_class: DataCategory
    values: int  # personal values of this class the platform holds about the person
    tables: list[str]


class TableCount(OutputSchema):
    table: str
    rows: int


class HoldingsSummary(OutputSchema):
    categories: list[CategoryCount]
    tables: list[TableCount]


class ExportStarted(OutputSchema):
    job_id: str  # follow it at GET /api/v1/jobs/{job_id}


class ExportRead(OutputSchema):
    job_id: str
    status: JobStatus
    percent: int | None
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    bytes: int | None
    download_url: str | None  # signed, for the owner only, until expires_at


class ExportList(OutputSchema):
    link_hours: int  # how long a finished export can be downloaded
    items: list[ExportRead]  # newest first


# Requests ---------------------------------------------------------------------------------------
class RequestCreate(InputSchema):
    kind: RequestKind
    details: str = Field(min_length=1, max_length=TEXT_LIMIT)
    org_id: str | None = None  # one of the caller's organisations; the current one by default


class ReplyCreate(InputSchema):
    text: str = Field(min_length=1, max_length=TEXT_LIMIT)


class StatusChange(InputSchema):
    status: Literal[RequestStatus.IN_PROGRESS, RequestStatus.DONE, RequestStatus.REFUSED]
    note: str = Field(default="", max_length=TEXT_LIMIT)  # required when refusing: the reason


class DeadlineRead(OutputSchema):
    due_on: date
    working_days_left: int  # 0: due today; negative: working days overdue
    overdue: bool


class RequestEventRead(OutputSchema):
    id: str
    kind: RequestEventKind
    status: RequestStatus | None
    from_organization: bool
    text: str
    created_at: datetime


class RequestRead(OutputSchema):
    id: str
    org_id: str
    organization_name: str
    kind: RequestKind
    details: str
    status: RequestStatus
    created_at: datetime
    status_changed_at: datetime
    closed_at: datetime | None
    resolution: str
    deadline: DeadlineRead
    events: list[RequestEventRead]


class AdminRequestRead(RequestRead):
    membership_id: str
    requester_name: str


class NoticeRead(OutputSchema):
    id: str
    request_id: str
    event_kind: RequestEventKind
    status: RequestStatus
    created_at: datetime
    read_at: datetime | None


# Disclosures ------------------------------------------------------------------------------------
class DisclosureCreate(InputSchema):
    recipient_kind: RecipientKind
    recipient: str = Field(min_length=1, max_length=200)
    data_categories: list[DataCategory] = Field(min_length=1)
    legal_basis: LegalBasis
    membership_ids: list[str] = Field(min_length=1, max_length=1000)
    reference: str = Field(default="", max_length=200)
    purpose: str = Field(default="", max_length=TEXT_LIMIT)
    disclosed_at: datetime | None = None  # when the data was handed over; now by default
    withhold_until: date | None = None  # legal secrecy: the people concerned see it from this date


class DisclosureRead(OutputSchema):
    id: str
    org_id: str
    organization_name: str
    recipient_kind: RecipientKind
    recipient: str
    data_categories: list[DataCategory]
    legal_basis: LegalBasis
    reference: str
    purpose: str
    source: DisclosureSource
    disclosed_at: datetime


class DisclosureSubjectRead(OutputSchema):
    membership_id: str
    name: str


class AdminDisclosureRead(DisclosureRead):
    withhold_until: date | None
    created_at: datetime
    subjects: list[DisclosureSubjectRead]


# Cancelling the account -------------------------------------------------------------------------
class BlockingOrganizationRead(OutputSchema):
    id: str
    name: str


class CancellationCheck(OutputSchema):
    blocked_by: list[BlockingOrganizationRead]  # organisations of which the caller is the only main admin


class CancellationCodeSent(OutputSchema):
    cooldown_seconds: int
    expires_in_seconds: int


class CancellationConfirm(InputSchema):
    code: str = Field(min_length=4, max_length=10)
