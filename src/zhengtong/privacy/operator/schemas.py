"""Request and response shapes of the operator's console, incidents and shutdown."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema

SendChannel = Literal["sms", "email", "push", "letter"]
DataCategory = Literal["identity", "contact", "sensitive", "biometric", "location", "business"]


# Organisations ------------------------------------------------------------------------------------
class OrganizationUsageRead(OutputSchema):
    id: str
    name: str
    status: str  # active, deregistering
    created_at: datetime
    members: int
    conversations: int
    messages: int
    files: int
    storage_bytes: int
    purge_at: datetime | None  # deregistering: when the purge runs


# Incidents -----------------------------------------------------------------------------------------
class IncidentTextsIn(InputSchema):
    title: str = Field(min_length=1, max_length=200)
    what_happened: str = Field(min_length=1, max_length=4000)
    data_concerned: str = Field(default="", max_length=2000)  # added to the chosen categories
    possible_impact: str = Field(min_length=1, max_length=4000)
    measures_taken: str = Field(min_length=1, max_length=4000)
    person_can_do: str = Field(min_length=1, max_length=4000)
    contact: str = Field(min_length=1, max_length=500)


class IncidentTexts(InputSchema):
    zh_cn: IncidentTextsIn = Field(alias="zh-CN")
    en: IncidentTextsIn | None = None


class AffectedIn(InputSchema):
    org_ids: list[str] = Field(default_factory=list, max_length=1000)  # everyone in them
    account_ids: list[str] = Field(default_factory=list, max_length=100_000)  # from logs: ids only


class IncidentCreate(AffectedIn):
    discovered_at: datetime
    data_categories: list[DataCategory] = Field(min_length=1)
    texts: IncidentTexts


class NotifyIn(InputSchema):
    # In-app always; at least one more way to reach people.
    channels: list[SendChannel] = Field(min_length=1)


class NotifyOut(OutputSchema):
    people: int


class AffectedOut(OutputSchema):
    added: int


class AffectedOrganizationRead(OutputSchema):
    id: str
    name: str
    people: int


class IncidentProgressRead(OutputSchema):
    organizations: int
    affected: int
    reached: int
    in_flight: int
    not_reached: int
    letters_queued: int
    deliveries: dict[str, dict[str, int]]  # channel → result → count
    deadline_at: datetime
    seconds_left: int
    overdue: bool


class IncidentRead(OutputSchema):
    id: str
    title: str
    status: str
    discovered_at: datetime
    created_at: datetime
    closed_at: datetime | None
    data_categories: list[str]
    texts: dict[str, dict[str, str]]
    progress: IncidentProgressRead


class IncidentDetail(IncidentRead):
    organizations: list[AffectedOrganizationRead]
    notice_subject: dict[str, str]  # exactly what people receive
    notice_body: dict[str, str]


class LettersPostedIn(InputSchema):
    letter_ids: list[str] = Field(min_length=1, max_length=100_000)


class LettersPostedOut(OutputSchema):
    posted: int


class LetterRead(OutputSchema):
    id: str  # the letter's number, printed on it
    account_id: str  # whom it is for, by id only
    org_id: str | None
    org_name: str
    language: str
    subject: str
    created_at: datetime


# Shutdown ------------------------------------------------------------------------------------------
class ShutdownCreate(InputSchema):
    collection_stops_at: datetime
    channels: list[Literal["sms", "email", "push"]] = Field(min_length=1)
    message_zh: str = Field(default="", max_length=2000)
    message_en: str = Field(default="", max_length=2000)


class ShutdownRead(OutputSchema):
    id: str
    status: str
    collection_stops_at: datetime
    channels: list[str]
    message: dict[str, str]
    created_at: datetime
    cancelled_at: datetime | None
    purge_started_at: datetime | None
    completed_at: datetime | None
    outcome: dict[str, int]
    announce_job_id: str | None
    purge_job_id: str | None
    collection_stopped: bool
    notices: dict[str, dict[str, int]]  # channel → result → count of the announcement


class ShutdownState(OutputSchema):
    current: ShutdownRead | None
    earliest: datetime  # the earliest date a shutdown may be scheduled for now
    history: list[ShutdownRead]
