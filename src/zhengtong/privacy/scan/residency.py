"""Data residency and no telemetry: the installation talks only to hosts the operator allowed.

`allowed_hosts` (ZT_ALLOWED_HOSTS) lists where data may be kept or sent: host names, "*.gov.cn"
for a domain and its subdomains, addresses and networks in CIDR form. By default only this
machine and private networks. At start (`check_at_start`, from the CLI and the app's lifespan)
every configured endpoint — the database, Redis, and any setting named `*_url` or `*_endpoint`
such as a future S3 endpoint, SMS gateway or SMTP server — must be inside the list, or the
platform refuses to start and names the setting. Code that makes an outgoing request calls
`check_outgoing(settings, url)` first. Host names are compared as written, without DNS: an
answer from DNS must not decide where data goes.

Nothing else leaves the installation: no telemetry, no update checks, no fonts or scripts from
elsewhere (a test greps the source for network clients outside the allowed modules).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import fields
from urllib.parse import parse_qs, urlsplit

from zhengtong.core.config import Settings
from zhengtong.core.errors import AppError
from zhengtong.privacy.scan.errors import EGRESS_REFUSED

MINIMUM_AUDIT_LOG_DAYS = 180  # 《网络安全法》第二十一条: network logs kept no less than six months
_NOT_AN_ENDPOINT = frozenset({"public_url"})  # our own address, where people reach us


class StartRefused(RuntimeError):
    """A setting the platform must not start with; the message names it."""


def endpoint_hosts(url: str) -> list[str]:
    """The hosts a URL connects to: none for a file or a Unix socket, several for a PostgreSQL
    URL listing fallback hosts."""
    parts = urlsplit(url)
    hosts = []
    netloc = parts.netloc.rsplit("@", 1)[-1]
    for item in netloc.split(","):
        item = item.strip()
        if not item:
            continue
        if item.startswith("["):  # [2001:db8::1]:5432
            hosts.append(item[1 : item.index("]")])
        else:
            hosts.append(item.rsplit(":", 1)[0] if item.count(":") == 1 else item)
    for value in parse_qs(parts.query).get("host", []):  # postgresql://u@/db?host=…
        if not value.startswith("/"):
            hosts.append(value)
    return [host.lower().rstrip(".") for host in hosts]


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (item.strip().lower() for item in allowed):
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except (ValueError, TypeError):  # a name in the list, or another IP version
                continue
        elif host == entry or (entry.startswith("*.") and (host == entry[2:] or host.endswith(entry[1:]))):
            return True
    return False


def configured_endpoints(settings: Settings) -> list[tuple[str, str]]:
    """(setting name, URL) of every endpoint the settings configure."""
    endpoints = [("database_url", settings.resolved_database_url)]
    for setting in fields(settings):
        name = setting.name
        if name == "database_url" or name in _NOT_AN_ENDPOINT:
            continue
        value = getattr(settings, name)
        if (name.endswith("_url") or name.endswith("_endpoint")) and isinstance(value, str) and value:
            endpoints.append((name, value))
    return endpoints


def check_residency(settings: Settings) -> None:
    for name, url in configured_endpoints(settings):
        for host in endpoint_hosts(url):
            if not host_allowed(host, settings.allowed_hosts):
                raise StartRefused(
                    f"{name} points at {host}, which is outside allowed_hosts (ZT_ALLOWED_HOSTS = "
                    f"{','.join(settings.allowed_hosts)}). Add the host to allowed_hosts if data may be "
                    f"kept or sent there, or change {name}."
                )


def check_retention(settings: Settings) -> None:
    if settings.audit_log_days < MINIMUM_AUDIT_LOG_DAYS:
        raise StartRefused(
            f"audit_log_days (ZT_AUDIT_LOG_DAYS) is {settings.audit_log_days}; the audit log must be kept "
            f"at least {MINIMUM_AUDIT_LOG_DAYS} days (《网络安全法》第二十一条)."
        )
    for name in ("access_log_days", "app_log_days"):
        if getattr(settings, name) < 1:
            raise StartRefused(f"{name} (ZT_{name.upper()}) must be at least 1 day.")


def check_at_start(settings: Settings) -> None:
    """Refuses to start (StartRefused, naming the setting) with an endpoint outside the allowed
    hosts or an audit retention below the legal minimum."""
    check_residency(settings)
    check_retention(settings)


def check_outgoing(settings: Settings, url: str) -> None:
    """Call before any outgoing request: refuses (privacy.scan.egress_refused) a URL whose host is
    not in allowed_hosts, or that names no host at all."""
    hosts = endpoint_hosts(url)
    refused = [host for host in hosts if not host_allowed(host, settings.allowed_hosts)]
    if refused or not hosts:
        raise AppError(EGRESS_REFUSED, {"host": refused[0] if refused else ""})
