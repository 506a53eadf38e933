"""Request and response shapes of privacy.consent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema

PolicyKindName = Literal["minor", "major"]


# Policy --------------------------------------------------------------------------------------
class PolicyVersionBrief(OutputSchema):
    version: int
    kind: PolicyKindName
    published_at: datetime
    summary_zh: str
    summary_en: str


class PolicyVersionOut(PolicyVersionBrief):
    text_zh: str
    text_en: str


class PolicyStatusOut(OutputSchema):
    current: PolicyVersionBrief | None  # None: no policy published yet
    acknowledged_version: int | None
    # A major version newer than the last acknowledged one: the API refuses until it is acknowledged.
    required: PolicyVersionBrief | None
    # A newer minor version: shown as a dismissible notice; dismissing acknowledges it.
    notice: PolicyVersionBrief | None


class AcknowledgeIn(InputSchema):
    version: int = Field(ge=1)


class AcknowledgementOut(OutputSchema):
    version: int
    kind: PolicyKindName
    channel: Literal["first_login", "web", "api", "published"]
    acknowledged_at: datetime


class PolicyPublishIn(InputSchema):
    kind: PolicyKindName
    text_zh: str = Field(min_length=1, max_length=200_000)
    text_en: str = Field(min_length=1, max_length=200_000)
    summary_zh: str = Field(default="", max_length=2000)
    summary_en: str = Field(default="", max_length=2000)


# Separate consents ---------------------------------------------------------------------------
class PurposeOut(OutputSchema):
    key: str
    offered: bool
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    on_withdraw_zh: str
    on_withdraw_en: str
    granted: bool
    granted_at: datetime | None


class ConsentRecordOut(OutputSchema):
    id: str
    purpose: str
    purpose_version: int
    granted_at: datetime
    withdrawn_at: datetime | None
    deleted_rows: int


class ContactKeyOut(OutputSchema):
    algorithm: Literal["HMAC-SHA256"]
    key: str  # base64 of 32 bytes
    number_format: Literal["E.164"]


class ContactHashesIn(InputSchema):
    hashes: list[str] = Field(max_length=5000, description="hex of HMAC-SHA256(key, number in E.164)")


class ContactMatchOut(OutputSchema):
    membership_id: str
    name: str
    hash: str


class ContactMatchesOut(OutputSchema):
    stored: int
    matches: list[ContactMatchOut]


# The first-login notice ----------------------------------------------------------------------
class ProvidedFieldOut(OutputSchema):
    key: str
    value: str
    label: str


class DataNoticeOut(OutputSchema):
    org_id: str
    org_name: str
    membership_id: str
    fields: list[ProvidedFieldOut]


class DataNoticeSeenIn(InputSchema):
    membership_ids: list[str] = Field(min_length=1, max_length=100)


# Minors --------------------------------------------------------------------------------------
class BirthDateIn(InputSchema):
    birth_date: date


class GuardianConsentIn(InputSchema):
    guardian_name: str = Field(min_length=1, max_length=100)
    relation: Literal["parent", "guardian", "other"]
    guardian_contact: str = Field(min_length=1, max_length=100)
    evidence_note: str = Field(min_length=1, max_length=1000)


class GuardianConsentOut(OutputSchema):
    id: str
    guardian_name: str
    relation: str
    guardian_contact: str
    evidence_note: str
    recorded_by: str | None
    recorded_at: datetime
    withdrawn_at: datetime | None


class MinorStatusOut(OutputSchema):
    membership_id: str
    birth_date: date | None
    under_14: bool
    consent_needed: bool
    guardian_consents: list[GuardianConsentOut]


# Cookies -------------------------------------------------------------------------------------
class StoredItemOut(OutputSchema):
    name: str
    storage: Literal["cookie", "local_storage", "session_storage"]
    necessary: bool
    lifetime_zh: str
    lifetime_en: str
    purpose_zh: str
    purpose_en: str
