"""API shapes of privacy.erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema
from zhengtong.platform.jobs import JobStatus


class DeregistrationRead(OutputSchema):
    """Where the organisation stands: active, in its cooling-off period, or being purged."""

    state: Literal["active", "cooling_off", "purging"]
    org_name: str
    cooling_off_days: int  # how long the cooling-off period lasts from a request made now
    requested_at: datetime | None = None
    purge_at: datetime | None = None  # when the purge starts
    can_manage: bool  # the caller is the main admin: may request and cancel
    member_count: int


class DeregistrationCodeSent(OutputSchema):
    cooldown_seconds: int
    expires_in_seconds: int
    mobile_masked: str  # where the code went: 138****0000


class DeregistrationRequest(InputSchema):
    org_name: str = Field(
        min_length=1, max_length=200, description="the organisation's name, typed to confirm"
    )
    code: str = Field(min_length=4, max_length=10, description="the SMS code sent to the main admin")


class OrgArchiveRead(OutputSchema):
    """An archive of the organisation's data (directory, conversations, files) and its job."""

    job_id: str
    status: JobStatus
    percent: int | None  # None while the job cannot yet say how much there is
    done: int  # members and messages written so far
    total: int | None
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    bytes: int | None
    download_url: str | None  # signed, for the main admin, until expires_at


class OrgArchiveStatus(OutputSchema):
    link_hours: int  # how long a finished archive can be downloaded
    archive: OrgArchiveRead | None  # the latest one
