"""Browser tests: a real `zhengtong serve` process with the demo organisation, driven through
Debian's Chromium by Playwright (PyPI). Never `playwright install`: scripts/install-browser.sh
installs /usr/bin/chromium and the CJK fonts; scripts/build-frontend.sh builds the client.

The server gets its own data directory and, when ZT_TEST_DATABASE_URL / ZT_TEST_REDIS_URL are set,
its own PostgreSQL database and Redis database number, all removed at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest

from helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
ZHENGTONG = str(VENV_BIN / "zhengtong") if (VENV_BIN / "zhengtong").exists() else "zhengtong"
STATIC_INDEX = ROOT / "src" / "zhengtong" / "static" / "index.html"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE_VIEWPORT = {"width": 390, "height": 844}
# A returning visitor: cookie notice dismissed, first-login notice off (test_e2e_privacy_consent
# shows both with `notices=True`).
ONE_TIME_NOTICES_SEEN = (
    # about:blank (a new page before its first navigation) has no storage: nothing to set there.
    "try { localStorage.setItem('zt_cookie_notice', 'dismissed');"
    " localStorage.setItem('zt_first_login_notice', 'off'); } catch (error) {}"
)

# The demo organisation (src/zhengtong/demo.py). Each test logs in with its own number: a number
# can receive one SMS code a minute.
ADMIN = "13800000001"
MEMBERS = ["13800000002", "13800000003", "13800000004", "13800000005", "13800000006"]

TEST_DATABASE_URL = os.environ.get("ZT_TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("ZT_TEST_REDIS_URL", "")

pytest.importorskip("playwright.sync_api")


# The server ------------------------------------------------------------------------------------
def _postgres(statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> None:
        engine = create_async_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    # In a thread of its own: pytest-asyncio may have an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


def _delete_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def _build_client_if_missing() -> None:
    if STATIC_INDEX.exists():
        return
    subprocess.run(["bash", str(ROOT / "scripts" / "build-frontend.sh")], cwd=ROOT, check=True)


@dataclass
class Server:
    url: str
    data_dir: Path
    log_path: Path
    env: dict[str, str] = field(repr=False)

    @property
    def outbox(self) -> Path:
        return self.data_dir / "outbox.jsonl"

    def outbox_lines(self) -> list[dict[str, Any]]:
        if not self.outbox.exists():
            return []
        return [json.loads(line) for line in self.outbox.read_text("utf-8").splitlines() if line.strip()]

    def sms_code(self, mobile: str, *, after: int, timeout: float = 10) -> str:
        """The code of the first SMS to `mobile` recorded after the first `after` outbox lines."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.outbox_lines()[after:]:
                if message["channel"] == "sms" and message["to"].endswith(mobile):
                    return str(message["params"]["code"])
            time.sleep(0.1)
        raise AssertionError(f"no SMS to {mobile} in the outbox after {timeout}s")


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _build_client_if_missing()
    with demo_server(tmp_path_factory.mktemp("zt-e2e") / "var") as running:
        yield running


@contextmanager
def demo_server(data_dir: Path) -> Iterator[Server]:
    """`zhengtong demo`, then `zhengtong serve` on a free port, with a database and Redis keys of
    its own (on PostgreSQL and Redis when the suite runs there); everything goes afterwards."""
    data_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZT_")}
    env.update({"ZT_DATA_DIR": str(data_dir), "ZT_LOG_LEVEL": "warning", "ZT_ENVIRONMENT": "development"})
    # Every browser test logs in from 127.0.0.1, many of them as the same demo people, within an
    # hour: the per-address and per-number limits are tested on their own (tests/identity).
    env.update({"ZT_SMS_SENDS_PER_IP_PER_HOUR": "10000", "ZT_SMS_SENDS_PER_NUMBER_PER_HOUR": "10000"})

    database_name = None
    if TEST_DATABASE_URL:
        database_name = f"zt_e2e_{uuid.uuid4().hex[:10]}"
        _postgres(f'CREATE DATABASE "{database_name}"')
        env["ZT_DATABASE_URL"] = TEST_DATABASE_URL.rsplit("/", 1)[0] + f"/{database_name}"
    redis_prefix = f"zt_e2e_{uuid.uuid4().hex[:10]}:"
    if TEST_REDIS_URL:
        env["ZT_REDIS_URL"] = TEST_REDIS_URL
        env["ZT_REDIS_PREFIX"] = redis_prefix

    log_path = data_dir.parent / "server.log"
    process = None
    try:
        demo = subprocess.run([ZHENGTONG, "demo"], env=env, capture_output=True, text=True, timeout=120)
        assert demo.returncode == 0, f"zhengtong demo failed:\n{demo.stdout}\n{demo.stderr}"
        assert ADMIN in demo.stdout and MEMBERS[0] in demo.stdout, demo.stdout

        port = free_port()
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [ZHENGTONG, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process, log_path)
        yield Server(url=url, data_dir=data_dir, log_path=log_path, env=env)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if database_name:
            _postgres(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')
        if TEST_REDIS_URL:
            _delete_redis_keys(TEST_REDIS_URL, redis_prefix)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if json.loads(response.read()) == {"status": "ok"}:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server not healthy after {timeout}s:\n{log_path.read_text()[-4000:]}")


# The browser -----------------------------------------------------------------------------------
# Package scope: Playwright's synchronous API keeps an event loop running in this thread while it
# is open, which the asyncio tests of other packages cannot share; it closes as the package ends.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install-browser.sh")
    from playwright.sync_api import sync_playwright

    # launch() starts Chromium with a fresh temporary profile (user-data dir) of its own.
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        yield instance
        instance.close()


@pytest.fixture(scope="session", autouse=True)
def _screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


class BrowserErrors:
    """Uncaught page errors and console errors (a CSP violation, a React crash) fail the test."""

    # The browser logs every non-2xx fetch, and a 401 before logging in is how the client learns
    # that nobody is logged in; the response is what the test checks, not this log line.
    IGNORED = re.compile(r"Failed to load resource")

    def __init__(self) -> None:
        self.messages: list[str] = []

    def watch(self, page: Any) -> None:
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.messages.append(f"console: {message.text}")
                if message.type == "error" and not self.IGNORED.search(message.text)
                else None
            ),
        )


class Web:
    """Opens browser contexts against the test server and drives the login steps."""

    ADMIN = ADMIN
    MEMBERS = MEMBERS

    def __init__(self, browser: Any, server: Server) -> None:
        self.browser = browser
        self.server = server
        self.errors = BrowserErrors()
        self._contexts: list[Any] = []

    def context(self, *, phone: bool = False, locale: str = "zh-CN", notices: bool = False) -> Any:
        options: dict[str, Any] = {"base_url": self.server.url, "locale": locale}
        if phone:
            options.update(viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True)
        else:
            options.update(viewport={"width": 1280, "height": 800})
        context = self.browser.new_context(**options)
        context.set_default_timeout(15_000)
        if not notices:  # the one-time cookie and first-login notices would cover what tests click
            context.add_init_script(ONE_TIME_NOTICES_SEEN)
        context.on("page", self.errors.watch)
        self._contexts.append(context)
        return context

    def page(self, **options: Any) -> Any:
        return self.context(**options).new_page()

    def close(self) -> None:
        for context in self._contexts:
            context.close()

    @staticmethod
    def screenshot(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.wait_for_timeout(250)  # let antd's entrance animations settle
        page.screenshot(path=str(path), full_page=False)
        return path

    def request_code(self, page: Any, mobile: str) -> str:
        """Fills the SMS tab, presses 获取验证码 and returns the code from the outbox."""
        before = len(self.server.outbox_lines())
        page.get_by_test_id("login-mobile").first.fill(mobile)
        with page.expect_response("**/api/v1/auth/sms/send") as sent:
            page.get_by_test_id("send-code").click()
        assert sent.value.status == 200, sent.value.text()
        return self.server.sms_code(mobile, after=before)

    def sms_login(self, page: Any, mobile: str) -> None:
        page.goto("/login")
        code = self.request_code(page, mobile)
        page.get_by_test_id("login-code").fill(code)
        page.get_by_test_id("login-submit").click()

    def api_login(self, context: Any, mobile: str) -> None:
        """Logs a browser context in through the API (cookies land in the context)."""
        before = len(self.server.outbox_lines())
        sent = context.request.post("/api/v1/auth/sms/send", data={"mobile": mobile})
        assert sent.ok, sent.text()
        code = self.server.sms_code(mobile, after=before)
        answer = context.request.post("/api/v1/auth/sms/login", data={"mobile": mobile, "code": code})
        assert answer.ok and answer.json() == {"status": "ok"}, answer.text()

    @staticmethod
    def csrf_headers(context: Any) -> dict[str, str]:
        token = next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "zt_csrf")
        return {"X-CSRF-Token": token}

    @staticmethod
    def totp_code(secret: str, *, next_step: bool = False) -> str:
        """The current code, or the next step's (the server accepts one step of drift and never
        the same step twice, so a second login within 30 s uses the next one)."""
        totp = pyotp.TOTP(secret)
        return totp.at(time.time() + (30 if next_step else 0))


@pytest.fixture
def web(browser: Any, server: Server) -> Iterator[Web]:
    helper = Web(browser, server)
    yield helper
    helper.close()
    assert not helper.errors.messages, "errors in the browser:\n" + "\n".join(helper.errors.messages)
