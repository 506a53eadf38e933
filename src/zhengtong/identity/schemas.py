"""Request and response shapes of the identity API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from zhengtong.core.schemas import InputSchema, OutputSchema


class SmsSendIn(InputSchema):
    mobile: str = Field(min_length=1, max_length=32, examples=["13800000002"])


class SmsSendOut(OutputSchema):
    cooldown_seconds: int
    expires_in_seconds: int


class SmsLoginIn(InputSchema):
    mobile: str = Field(min_length=1, max_length=32)
    code: str = Field(min_length=1, max_length=12)


class PasswordLoginIn(InputSchema):
    mobile: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=200)


class LoginResult(OutputSchema):
    status: Literal["ok", "totp_required", "totp_setup_required"]


class TotpCodeIn(InputSchema):
    code: str = Field(min_length=6, max_length=8, pattern=r"^\d+$")


class TotpSetupOut(OutputSchema):
    secret: str
    otpauth_uri: str


class QrCreateOut(OutputSchema):
    id: str
    poll_secret: str
    qr_text: str
    expires_at: datetime


class QrPollOut(OutputSchema):
    status: Literal["pending", "scanned", "ok", "expired", "cancelled"]


class QrTextIn(InputSchema):
    qr_text: str = Field(min_length=1, max_length=200)


class QrConfirmIn(InputSchema):
    qr_text: str = Field(min_length=1, max_length=200)
    approve: bool


class QrScanOut(OutputSchema):
    device_label: str


class OrganizationBrief(OutputSchema):
    id: str
    name: str
    role: str
    membership_id: str  # the person's membership there (who they are in chat, the directory …)


class MeOut(OutputSchema):
    account_id: str
    mobile_masked: str
    name: str
    language: str
    totp_enabled: bool
    has_password: bool
    organizations: list[OrganizationBrief]
    current_org_id: str | None
    current_membership_id: str | None
    is_operator: bool = False  # one of the platform operator's staff: the client offers the console


class SwitchOrgIn(InputSchema):
    org_id: str = Field(min_length=1, max_length=26)


class PasswordSetIn(InputSchema):
    new_password: str = Field(min_length=1, max_length=200)
    current_password: str | None = Field(default=None, max_length=200)


class LanguageIn(InputSchema):
    language: Literal["zh-CN", "en"]


class SessionOut(OutputSchema):
    id: str
    kind: str
    device_label: str
    ip_prefix: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


class TokenCreateIn(InputSchema):
    name: str = Field(min_length=1, max_length=60)


class TokenCreateOut(OutputSchema):
    token: str
    session: SessionOut
