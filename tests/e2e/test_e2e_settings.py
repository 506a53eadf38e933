"""Settings: password, devices and remote logout."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_member_sees_their_devices_and_logs_another_one_out(web: Any) -> None:
    mobile = web.MEMBERS[2]
    password = "Lanting2024x"
    first = web.page()
    web.sms_login(first, mobile)
    expect(first).to_have_url(re.compile(r"/chat$"))

    # Set a password in the security tab, so that a second browser can log in without an SMS.
    first.goto("/settings/security")
    expect(first.get_by_test_id("security-password")).to_contain_text("未设置")
    first.get_by_test_id("password-open").click()
    first.get_by_test_id("new-password").fill(password)
    first.get_by_test_id("confirm-password").fill(password)
    first.get_by_test_id("password-save").click()
    expect(first.get_by_text("密码已保存")).to_be_visible()
    expect(first.get_by_test_id("security-password")).to_contain_text("已设置")
    web.screenshot(first, "settings-security-zh")

    second = web.page()
    second.goto("/login")
    second.get_by_role("tab", name="密码登录").click()
    second.get_by_test_id("login-mobile").fill(mobile)
    second.get_by_test_id("login-password").fill(password)
    second.get_by_test_id("login-submit").click()
    expect(second).to_have_url(re.compile(r"/chat$"))

    first.goto("/settings/devices")
    rows = first.get_by_test_id("sessions-table").locator("tbody tr.ant-table-row")
    expect(rows).to_have_count(2)
    expect(first.get_by_test_id("current-session")).to_have_count(1)
    expect(first.get_by_test_id("current-session")).to_have_text("本机")
    expect(first.get_by_test_id("revoke-session")).to_have_count(1)  # not offered for this device
    web.screenshot(first, "settings-devices-zh")

    first.get_by_test_id("revoke-session").click()
    first.get_by_role("button", name=re.compile(r"^确\s*定$")).click()
    expect(first.get_by_text("该设备已退出登录")).to_be_visible()
    expect(rows).to_have_count(1)

    # The other browser is logged out: its next request lands on the login page.
    second.reload()
    expect(second).to_have_url(re.compile(r"/login$"))
    # and this one is still in.
    first.reload()
    expect(first.get_by_test_id("current-session")).to_be_visible()

    # An API token is shown once, works as a bearer token and is listed with the devices.
    first.goto("/settings/security")
    first.get_by_test_id("token-name").fill("数据同步脚本")
    with first.expect_response("**/api/v1/me/tokens") as created:
        first.get_by_test_id("token-create").click()
    token = created.value.json()["token"]
    expect(first.get_by_test_id("token-value")).to_contain_text(token)
    web.screenshot(first, "settings-token-zh")
    first.get_by_test_id("token-close").click()
    expect(first.get_by_test_id("token-value")).to_have_count(0)
    me = first.context.request.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.ok and me.json() == first.context.request.get("/api/v1/me").json()

    first.goto("/settings/devices")
    expect(rows).to_have_count(2)
    expect(first.get_by_test_id("sessions-table")).to_contain_text("API 令牌")
