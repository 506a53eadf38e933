"""API shapes of privacy.erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema


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
