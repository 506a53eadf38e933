"""Steps the browser tests (tests/e2e) share: an organisation of their own, its new main admin
through the forced TOTP setup, API calls from a logged-in browser context, antd's button names."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

VENV_BIN = Path(__file__).resolve().parents[1] / ".venv" / "bin"
ZHENGTONG = str(VENV_BIN / "zhengtong") if (VENV_BIN / "zhengtong").exists() else "zhengtong"


def button_name(text: str) -> re.Pattern[str]:
    """antd puts a space between the two characters of a two-character Chinese label (确 定)."""
    return re.compile("^" + r"\s*".join(map(re.escape, text)) + "$")


def create_org(server: Any, name: str, admin_mobile: str, admin_name: str) -> None:
    """`zhengtong org create` against the test server's data."""
    created = subprocess.run(
        [
            ZHENGTONG,
            "org",
            "create",
            "--name",
            name,
            "--admin-mobile",
            admin_mobile,
            "--admin-name",
            admin_name,
        ],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stdout + created.stderr


def login_with_totp_setup(web: Any, mobile: str, **context: Any) -> Any:
    """Logs a new admin in: SMS code, then the forced TOTP setup (the secret read off the page)."""
    page = web.page(**context)
    web.sms_login(page, mobile)
    finish_totp_setup(web, page)
    return page


def finish_totp_setup(web: Any, page: Any) -> str:
    """On the forced TOTP setup page: reads the secret off the page, enables the second factor
    with a code from it and lands in the chat; returns the secret."""
    expect(page).to_have_url(re.compile(r"/login/totp-setup$"))
    secret = page.get_by_test_id("totp-secret").get_attribute("data-secret")
    assert secret
    page.get_by_test_id("totp-code").fill(web.totp_code(secret))
    page.get_by_test_id("totp-enable").click()
    expect(page).to_have_url(re.compile(r"/chat$"))
    return str(secret)


def api_post(web: Any, context: Any, path: str, data: dict[str, Any]) -> Any:
    """POST from a logged-in browser context (its cookies and CSRF token); the JSON answer."""
    answer = context.request.post(path, data=data, headers=web.csrf_headers(context))
    assert answer.ok, answer.text()
    return answer.json()
