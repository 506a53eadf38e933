"""Accounts are keyed by mobile number: stored encrypted, found through a keyed blind index."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.db import Base, CreatedAtMixin, IdMixin, UtcDateTime
from zhengtong.core.inventory import DELETE, NOT_PERSONAL, DataClass, personal, retain

_LOGIN_BASIS = "《网络安全法》第二十一条: security of login verification"


class Account(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "accounts"

    mobile_encrypted: Mapped[bytes] = mapped_column(
        LargeBinary, info=personal(DataClass.SENSITIVE, DELETE, encrypted=True)
    )
    mobile_index: Mapped[bytes] = mapped_column(
        LargeBinary(32),
        unique=True,
        info=personal(DataClass.CONTACT, DELETE, encrypted=True, note="keyed blind index of the mobile"),
    )
    password_hash: Mapped[str | None] = mapped_column(
        String(200), info=personal(DataClass.SENSITIVE, DELETE, encrypted=True, note="argon2id hash")
    )
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(
        LargeBinary, info=personal(DataClass.SENSITIVE, DELETE, encrypted=True)
    )
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)  # no code twice
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    language: Mapped[str] = mapped_column(String(10), default="zh-CN", info=NOT_PERSONAL)
    # The platform operator's staff: create organisations, never read business data.
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class SmsCode(IdMixin, CreatedAtMixin, Base):
    """A one-time login code; only its keyed hash is stored."""

    __tablename__ = "sms_codes"

    mobile_index: Mapped[bytes] = mapped_column(
        LargeBinary(32), index=True, info=personal(DataClass.CONTACT, retain(1, _LOGIN_BASIS), encrypted=True)
    )
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), info=NOT_PERSONAL)
    purpose: Mapped[str] = mapped_column(String(20), default="login", info=NOT_PERSONAL)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    attempts: Mapped[int] = mapped_column(Integer, default=0, info=NOT_PERSONAL)
    consumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class SessionKind(StrEnum):
    BROWSER = "browser"
    API = "api"  # bearer token for API clients


class AuthSession(IdMixin, CreatedAtMixin, Base):
    """A logged-in browser or an API token. Only a hash of the secret token is stored."""

    __tablename__ = "auth_sessions"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, info=NOT_PERSONAL)
    kind: Mapped[str] = mapped_column(String(10), default=SessionKind.BROWSER, info=NOT_PERSONAL)
    device_label: Mapped[str] = mapped_column(
        String(120), default="", info=personal(DataClass.IDENTITY, DELETE, note="browser and OS")
    )
    ip_prefix: Mapped[str] = mapped_column(
        String(64), default="", info=personal(DataClass.LOCATION, DELETE, note="truncated IP address")
    )
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    second_factor_done: Mapped[bool] = mapped_column(Boolean, default=False, info=NOT_PERSONAL)
    current_org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), info=NOT_PERSONAL
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class KnownDevice(IdMixin, CreatedAtMixin, Base):
    """Devices an account has logged in from, so a login from a new one sends a notice."""

    __tablename__ = "known_devices"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, info=NOT_PERSONAL
    )
    device_index: Mapped[bytes] = mapped_column(
        LargeBinary(32), info=personal(DataClass.IDENTITY, DELETE, encrypted=True, note="keyed device id")
    )
    label: Mapped[str] = mapped_column(String(120), default="", info=personal(DataClass.IDENTITY, DELETE))
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)


class QrLoginStatus(StrEnum):
    PENDING = "pending"
    SCANNED = "scanned"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    USED = "used"


class QrLogin(IdMixin, CreatedAtMixin, Base):
    """A one-time QR shown by a browser; a logged-in client confirms it and the browser logs in."""

    __tablename__ = "qr_logins"

    secret_hash: Mapped[bytes] = mapped_column(
        LargeBinary(32), info=NOT_PERSONAL
    )  # the browser's poll secret
    scan_hash: Mapped[bytes] = mapped_column(LargeBinary(32), info=NOT_PERSONAL)  # the nonce inside the QR
    status: Mapped[str] = mapped_column(String(12), default=QrLoginStatus.PENDING, info=NOT_PERSONAL)
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), info=NOT_PERSONAL
    )
    device_label: Mapped[str] = mapped_column(
        String(120), default="", info=personal(DataClass.IDENTITY, retain(1, _LOGIN_BASIS))
    )
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
