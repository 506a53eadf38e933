"""Data residency and no telemetry: endpoints outside the allowed hosts refuse to start, outgoing
requests are checked, and no code path talks to anything but the configured providers."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from zhengtong.app import create_app
from zhengtong.cli import main
from zhengtong.core.config import Settings, load_settings
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.privacy.scan.errors import EGRESS_REFUSED
from zhengtong.privacy.scan.residency import (
    StartRefused,
    check_at_start,
    check_outgoing,
    configured_endpoints,
    endpoint_hosts,
    host_allowed,
)

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "src" / "zhengtong"


def test_hosts_match_names_domains_and_networks() -> None:
    allowed = ("localhost", "*.gov.cn", "db.zt.internal", "10.0.0.0/8", "::1/128")
    for host in ("localhost", "gov.cn", "sms.gd.gov.cn", "db.zt.internal", "10.2.3.4", "::1"):
        assert host_allowed(host, allowed), host
    for host in ("evilgov.cn", "gov.cn.example.com", "zt.internal", "11.0.0.1", "::2", "example.com"):
        assert not host_allowed(host, allowed), host


def test_the_hosts_of_a_url_are_found_however_it_is_written() -> None:
    assert endpoint_hosts("postgresql+asyncpg://zt:secret@DB.zt.internal:5432/zt") == ["db.zt.internal"]
    assert endpoint_hosts("postgresql+asyncpg://zt@a.example:5432,b.example:5433/zt") == [
        "a.example",
        "b.example",
    ]
    assert endpoint_hosts("postgresql+asyncpg://zt@/zt?host=/var/run/postgresql") == []
    assert endpoint_hosts("postgresql+asyncpg://zt@/zt?host=db.example") == ["db.example"]
    assert endpoint_hosts("redis://[2001:db8::7]:6379/0") == ["2001:db8::7"]
    assert endpoint_hosts("sqlite+aiosqlite:////srv/zt/zhengtong.db") == []
    assert endpoint_hosts("unix:///run/redis.sock") == []


def test_the_defaults_allow_this_machine_and_private_networks(settings: Settings) -> None:
    check_at_start(Settings())
    check_at_start(settings)
    names = [name for name, _ in configured_endpoints(settings.with_overrides(redis_url="redis://127.0.0.1"))]
    assert names == ["database_url", "redis_url"]  # public_url is where people reach us, not an endpoint


@pytest.mark.parametrize(
    ("setting", "url", "host"),
    [
        ("database_url", "postgresql+asyncpg://zt@db.example.com:5432/zt", "db.example.com"),
        ("redis_url", "redis://cache.example.com:6379/0", "cache.example.com"),
        ("database_url", "postgresql+asyncpg://zt@8.8.8.8/zt", "8.8.8.8"),
    ],
)
def test_an_endpoint_outside_the_allowed_hosts_refuses_to_start(
    settings: Settings, setting: str, url: str, host: str
) -> None:
    with pytest.raises(StartRefused) as refused:
        check_at_start(settings.with_overrides(**{setting: url}))
    assert (
        setting in str(refused.value)
        and host in str(refused.value)
        and "ZT_ALLOWED_HOSTS" in str(refused.value)
    )
    check_at_start(settings.with_overrides(**{setting: url}, allowed_hosts=(host, "127.0.0.1")))


def test_the_allowed_hosts_come_from_the_environment_as_a_list() -> None:
    settings = load_settings({"ZT_ALLOWED_HOSTS": "localhost, *.gov.cn ,10.0.0.0/8,"})
    assert settings.allowed_hosts == ("localhost", "*.gov.cn", "10.0.0.0/8")


async def test_the_app_refuses_to_start_outside_the_allowed_hosts(context: AppContext) -> None:
    context.settings = context.settings.with_overrides(
        database_url="postgresql+asyncpg://zt@db.example.com/zt", allowed_hosts=("db.zt.internal",)
    )
    application = create_app(context=context)
    with pytest.raises(StartRefused, match=r"db\.example\.com"):
        async with application.router.lifespan_context(application):
            pass


def test_the_command_refuses_to_start_and_names_the_setting(tmp_path: Path) -> None:
    env = {
        "ZT_DATA_DIR": str(tmp_path / "var"),
        "ZT_DATABASE_URL": "postgresql+asyncpg://zt@db.example.com/zt",
        "ZT_ALLOWED_HOSTS": "localhost,*.gov.cn",
    }
    result = CliRunner().invoke(main, ["migrate"], env=env)
    assert result.exit_code != 0
    assert "database_url points at db.example.com" in result.output and "allowed_hosts" in result.output


def test_outgoing_requests_are_checked_against_the_allowed_hosts(settings: Settings) -> None:
    allowed = settings.with_overrides(allowed_hosts=("*.gov.cn", "10.0.0.0/8"))
    check_outgoing(allowed, "https://sms.gd.gov.cn/send")
    check_outgoing(allowed, "smtp://10.1.2.3:25")
    for url in (
        "https://api.example.com/hook",
        "https://8.8.8.8/",
        "/relative/path",
        "https://gov.cn.evil.io/",
    ):
        with pytest.raises(AppError) as refused:
            check_outgoing(allowed, url)
        assert refused.value.error is EGRESS_REFUSED, url


# No telemetry ---------------------------------------------------------------------------------
# Modules that may open network connections, and why. Anything else that imports a network client
# fails the test: a new outgoing call must be a configured provider that calls check_outgoing.
NETWORK_ALLOWED = {
    "platform/redis_backends.py": "TCP keepalive options for the configured Redis",
    "platform/jobs.py": "socket.gethostname() names the worker",
    "platform/notify.py": "the configured SMS, e-mail and push providers",
    "platform/channels/smtp.py": "the configured SMTP server (ZT_SMTP_URL, checked at start)",
    "platform/channels/gateway.py": "the configured SMS and voice gateway (checked at start)",
    "platform/channels/webpush.py": "browsers' push services: ciphertext only",
    "robots/egress.py": "outgoing group robots' calls, checked there against residency and SSRF",
    "web/websocket_protocol.py": "the server's own WebSocket protocol: accepts connections, opens none",
}
_NETWORK_CLIENT = re.compile(
    r"^\s*(?:import|from)\s+(?:httpx|requests|aiohttp|urllib3|http\.client|urllib\.request|smtplib|aiosmtplib"
    r"|ftplib|telnetlib|poplib|imaplib|xmlrpc|websockets|grpc|boto3|botocore|paramiko|socket)\b"
    r"|^\s*from\s+urllib\s+import\s+request\b"
    r"|\b(?:open_connection|create_connection|urlopen|getaddrinfo)\(",
    re.MULTILINE,
)
_TELEMETRY_PACKAGES = re.compile(
    r"sentry|opentelemetry|posthog|segment|mixpanel|newrelic|datadog|ddtrace|rollbar|bugsnag|honeybadger|amplitude"
)


def test_no_code_outside_the_providers_opens_a_network_connection() -> None:
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE).as_posix()
        if relative in NETWORK_ALLOWED:
            continue
        for match in _NETWORK_CLIENT.finditer(path.read_text("utf-8")):
            offenders.append(f"{relative}: {match.group(0).strip()}")
    assert offenders == []


def test_no_telemetry_package_is_a_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    extras = project.get("optional-dependencies", {}).values()
    dependencies = [*project["dependencies"], *(name for group in extras for name in group)]
    assert [d for d in dependencies if _TELEMETRY_PACKAGES.search(d.lower())] == []
    package = (ROOT / "frontend" / "package.json").read_text("utf-8").lower()
    assert _TELEMETRY_PACKAGES.search(package) is None


def test_the_web_client_loads_nothing_from_elsewhere() -> None:
    """No script, font, image or API of another host in the client's source; the browser is held
    to its own origin by the Content-Security-Policy (next test)."""
    external = re.compile(r"https?://(?!www\.w3\.org/)[^\s\"'`)]+")
    found = []
    for path in [ROOT / "frontend" / "index.html", *sorted((ROOT / "frontend" / "src").rglob("*"))]:
        if (
            path.is_file()
            and path.suffix in {".html", ".ts", ".tsx", ".css", ".json"}
            and "gen" not in path.name
        ):
            found += [f"{path.name}: {url}" for url in external.findall(path.read_text("utf-8"))]
    assert found == []


async def test_the_browser_may_reach_only_its_own_origin(client: httpx.AsyncClient) -> None:
    policy = (await client.get("/healthz")).headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    local_sources = {"'self'", "'unsafe-inline'", "'none'", "data:", "blob:", "ws:", "wss:"}
    for name, sources in directives.items():
        assert set(sources.split()) <= local_sources, (name, sources)
