"""Configuration from environment variables (ZT_*) and an optional TOML file (ZT_CONFIG_FILE).

Environment variables win over the file. Every setting has an embedded default so that a fresh
checkout runs on SQLite, local files and the in-process bus without any configuration.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./var")
    database_url: str = ""  # empty: SQLite file inside data_dir
    redis_url: str | None = None  # None: in-process bus, rate limits and presence
    redis_prefix: str = "zt:"  # every Redis key and channel starts with it
    master_key: str | None = None  # base64 of 32 bytes; None: read or create data_dir/master.key
    key_dir: Path | None = None  # organisations' key secrets (core.keystore); None: data_dir/keys
    national_crypto: bool = False  # SM4-GCM and SM3 instead of AES-256-GCM and SHA-256
    environment: str = "development"  # "production" refuses development-only providers
    # Notification channels (platform/notify.py, platform/channels/). "outbox" is the development
    # provider that records into data_dir/outbox.jsonl; production refuses it on every channel.
    sms_provider: str = "outbox"  # outbox | gateway
    voice_provider: str = "outbox"  # outbox | gateway (the same HTTP gateway as SMS)
    sms_gateway_url: str = ""  # base URL of the SMS/voice bridge (docs/gateway.md)
    sms_gateway_secret: str = ""  # shared secret of the bridge's HMAC-SHA256 signatures
    email_provider: str = "outbox"  # outbox | smtp
    smtp_url: str = ""  # smtp://user:pass@host:587?starttls=true, smtps://… for implicit TLS
    email_from: str = ""  # the From header, e.g. "政通 <noreply@zt.example.gov.cn>"
    push_provider: str = "outbox"  # outbox | webpush
    vapid_private_key: str | None = None  # base64url of 32 bytes; None: read or create data_dir/vapid.key
    vapid_subject: str = "mailto:admin@localhost"  # the operator's contact, sent to push services
    # Push services browsers use (outside the installation, like the browsers themselves): any,
    # unless the operator lists the hosts allowed (a push service of their own, say).
    push_allowed_hosts: tuple[str, ...] = ()
    notify_timeout_seconds: int = 10  # one send through any channel; longer counts as failed
    # A delivery that failed for good is tried again on another channel: "from:to" pairs.
    notify_fallback: tuple[str, ...] = ("push:sms", "email:sms")
    admin_totp_required: bool = True
    public_url: str = ""  # e.g. https://zt.example.gov.cn; decides Secure cookies when https
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024  # endpoints whose path ends in /upload
    run_jobs_in_process: bool = True
    session_days: int = 30
    chat_sends_per_minute: int = 120  # per person, against flooding
    # Login codes by SMS, per hour: per number against bombing one phone, per client address
    # against trying many numbers (raise it where a whole agency leaves through one NAT address).
    sms_sends_per_number_per_hour: int = 10
    sms_sends_per_ip_per_hour: int = 30
    # Private, loopback or link-local networks (CIDR) that outgoing group robots may call; by
    # default they reach public addresses only (robots/egress.py: no request into the intranet).
    robot_allowed_networks: tuple[str, ...] = ()
    deregistration_cooling_days: int = 30  # an organisation's data is purged this long after it asks
    log_level: str = "info"
    log_to_files: bool = True  # data_dir/logs/{access,app}-YYYY-MM-DD.log besides stderr
    access_log_days: int = 30  # log files older than this are deleted (privacy.scan.retention)
    app_log_days: int = 90
    audit_log_days: int = 186  # the law asks for at least six months: below 180 refuses to start
    # Data residency: where the database, Redis, storage and any outgoing endpoint may be. Host
    # names ("db.zt.local"), "*.gov.cn" for a domain and its subdomains, addresses or networks in
    # CIDR form. Any setting named *_url or *_endpoint (but public_url) outside it refuses to start.
    allowed_hosts: tuple[str, ...] = (
        "localhost",
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
    )
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'zhengtong.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.jsonl"

    @property
    def vapid_key_path(self) -> Path:
        return self.data_dir / "vapid.key"

    @property
    def keys_dir(self) -> Path:
        return self.key_dir or self.data_dir / "keys"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


_ENV_NAMES = {
    "ZT_DATA_DIR": "data_dir",
    "ZT_DATABASE_URL": "database_url",
    "ZT_REDIS_URL": "redis_url",
    "ZT_REDIS_PREFIX": "redis_prefix",
    "ZT_MASTER_KEY": "master_key",
    "ZT_KEY_DIR": "key_dir",
    "ZT_NATIONAL_CRYPTO": "national_crypto",
    "ZT_ENVIRONMENT": "environment",
    "ZT_SMS_PROVIDER": "sms_provider",
    "ZT_VOICE_PROVIDER": "voice_provider",
    "ZT_SMS_GATEWAY_URL": "sms_gateway_url",
    "ZT_SMS_GATEWAY_SECRET": "sms_gateway_secret",
    "ZT_EMAIL_PROVIDER": "email_provider",
    "ZT_SMTP_URL": "smtp_url",
    "ZT_EMAIL_FROM": "email_from",
    "ZT_PUSH_PROVIDER": "push_provider",
    "ZT_VAPID_PRIVATE_KEY": "vapid_private_key",
    "ZT_VAPID_SUBJECT": "vapid_subject",
    "ZT_PUSH_ALLOWED_HOSTS": "push_allowed_hosts",
    "ZT_NOTIFY_TIMEOUT_SECONDS": "notify_timeout_seconds",
    "ZT_NOTIFY_FALLBACK": "notify_fallback",
    "ZT_ADMIN_TOTP_REQUIRED": "admin_totp_required",
    "ZT_PUBLIC_URL": "public_url",
    "ZT_MAX_BODY_BYTES": "max_body_bytes",
    "ZT_MAX_UPLOAD_BYTES": "max_upload_bytes",
    "ZT_CHAT_SENDS_PER_MINUTE": "chat_sends_per_minute",
    "ZT_SMS_SENDS_PER_NUMBER_PER_HOUR": "sms_sends_per_number_per_hour",
    "ZT_SMS_SENDS_PER_IP_PER_HOUR": "sms_sends_per_ip_per_hour",
    "ZT_ROBOT_ALLOWED_NETWORKS": "robot_allowed_networks",
    "ZT_DEREGISTRATION_COOLING_DAYS": "deregistration_cooling_days",
    "ZT_RUN_JOBS_IN_PROCESS": "run_jobs_in_process",
    "ZT_SESSION_DAYS": "session_days",
    "ZT_LOG_LEVEL": "log_level",
    "ZT_LOG_TO_FILES": "log_to_files",
    "ZT_ACCESS_LOG_DAYS": "access_log_days",
    "ZT_APP_LOG_DAYS": "app_log_days",
    "ZT_AUDIT_LOG_DAYS": "audit_log_days",
    "ZT_ALLOWED_HOSTS": "allowed_hosts",
}


def _coerce(name: str, raw: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Settings)}
    kind = str(kinds[name])
    if kind.startswith("tuple"):  # a comma-separated list in the environment, a list in TOML
        parts = raw.split(",") if isinstance(raw, str) else raw
        return tuple(str(part).strip() for part in parts if str(part).strip())
    if isinstance(raw, str):
        if kind == "bool":
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if kind == "int":
            return int(raw)
        if kind == "Path":
            return Path(raw)
        if "None" in kind and raw == "":
            return None
    if kind == "Path":
        return Path(raw)
    return raw


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ZT_CONFIG_FILE (TOML, keys named like the fields) overlaid by ZT_* variables."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = environ.get("ZT_CONFIG_FILE")
    if config_file:
        with open(config_file, "rb") as handle:
            document = tomllib.load(handle)
        known = {f.name for f in fields(Settings)}
        unknown = set(document) - known
        if unknown:
            raise ValueError(f"unknown settings in {config_file}: {', '.join(sorted(unknown))}")
        values.update({key: _coerce(key, value) for key, value in document.items()})
    for env_name, field_name in _ENV_NAMES.items():
        if env_name in environ:
            values[field_name] = _coerce(field_name, environ[env_name])
    return Settings(**values)
