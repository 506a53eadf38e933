"""Logging in through the web client: SMS code, wrong code, admin TOTP, QR code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from browser_steps import finish_totp_setup

pytestmark = pytest.mark.browser

NAV_ZH = ["消息", "DING", "通讯录", "工作台", "审批", "考勤", "日志", "日程", "云盘", "邮箱"]


def test_member_logs_in_with_an_sms_code_and_sees_the_layout_in_chinese(web: Any) -> None:
    page = web.page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("tab", name="验证码登录")).to_be_visible()
    expect(page.get_by_role("tab", name="密码登录")).to_be_visible()
    expect(page.get_by_role("tab", name="扫码登录")).to_be_visible()
    web.screenshot(page, "login-zh")

    code = web.request_code(page, web.MEMBERS[0])
    expect(page.get_by_test_id("code-sent")).to_have_text("若该号码已由所在单位开通，验证码已发送")
    expect(page.get_by_test_id("send-code")).to_be_disabled()
    expect(page.get_by_test_id("send-code")).to_have_text(re.compile(r"^\d+ 秒后重新获取$"))
    page.get_by_test_id("login-code").fill(code)
    page.get_by_test_id("login-submit").click()

    expect(page).to_have_url(re.compile(r"/chat$"))
    nav = page.get_by_test_id("side-nav")
    for label in NAV_ZH:
        expect(nav.get_by_role("menuitem", name=label)).to_be_visible()
    expect(page.get_by_test_id("conversation-pane")).to_contain_text("消息")
    expect(page.get_by_test_id("org-switcher")).to_contain_text("政通示范单位")
    expect(page.get_by_test_id("user-menu")).to_contain_text("李华")
    web.screenshot(page, "layout-zh")

    nav.get_by_role("menuitem", name="审批").click()
    expect(page).to_have_url(re.compile(r"/approval$"))
    expect(page.get_by_test_id("page-approval")).to_contain_text("审批功能正在建设中")

    page.get_by_test_id("user-menu").click()
    page.get_by_role("menuitem", name="个人设置").click()
    expect(page).to_have_url(re.compile(r"/settings/profile$"))
    profile = page.get_by_test_id("profile")
    expect(profile).to_contain_text("李华")
    expect(profile).to_contain_text("政通示范单位")
    expect(profile).to_contain_text("成员")
    mobile = page.get_by_test_id("profile-mobile")
    expect(mobile).to_contain_text("0002")
    expect(mobile).not_to_contain_text(web.MEMBERS[0])  # masked
    web.screenshot(page, "settings-profile-zh")


def test_a_wrong_code_shows_the_servers_message_in_the_chosen_language(web: Any) -> None:
    page = web.page()
    page.goto("/login")
    # A number without an account gets the same answer as any other: nothing is revealed.
    page.get_by_test_id("login-mobile").fill("13900000009")
    with page.expect_response("**/api/v1/auth/sms/send") as sent:
        page.get_by_test_id("send-code").click()
    assert sent.value.status == 200
    expect(page.get_by_test_id("code-sent")).to_be_visible()

    page.get_by_test_id("login-code").fill("000000")
    with page.expect_response("**/api/v1/auth/sms/login") as answer:
        page.get_by_test_id("login-submit").click()
    body = answer.value.json()
    assert answer.value.status >= 400 and body["code"].startswith("auth.")
    assert re.search(r"[\u4e00-\u9fff]", body["message"]), body
    expect(page.get_by_test_id("login-error")).to_have_text(body["message"])
    web.screenshot(page, "login-wrong-code-zh")

    page.get_by_test_id("language-switch").click()
    page.get_by_role("menuitem", name="English").click()
    expect(page.get_by_role("tab", name="SMS code")).to_be_visible()
    with page.expect_response("**/api/v1/auth/sms/login") as answer:
        page.get_by_test_id("login-submit").click()
    english = answer.value.json()
    assert english["code"] == body["code"]
    assert not re.search(r"[\u4e00-\u9fff]", english["message"]), english
    expect(page.get_by_test_id("login-error")).to_have_text(english["message"])
    expect(page).to_have_url(re.compile(r"/login$"))


def test_admin_is_forced_through_totp_setup_and_verifies_on_the_next_login(web: Any) -> None:
    page = web.page()
    web.sms_login(page, web.ADMIN)
    expect(page).to_have_url(re.compile(r"/login/totp-setup$"))
    expect(page.get_by_text("管理员账号必须开启两步验证")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").get_attribute("data-secret")
    assert secret and re.fullmatch(r"[A-Z2-7]+=*", secret)
    web.screenshot(page, "totp-setup-zh")

    # The app is out of reach until the second factor is set up.
    page.goto("/messages")
    secret = finish_totp_setup(web, page)
    expect(page.get_by_test_id("user-menu")).to_contain_text("张明")

    password = "Zhengtong2024"
    answer = page.request.put(
        "/api/v1/me/password", data={"new_password": password}, headers=web.csrf_headers(page.context)
    )
    assert answer.status == 204, answer.text()

    page.get_by_test_id("user-menu").click()
    page.get_by_role("menuitem", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login$"))

    page.get_by_role("tab", name="密码登录").click()
    page.get_by_test_id("login-mobile").fill(web.ADMIN)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/login/totp$"))
    web.screenshot(page, "totp-verify-zh")

    page.get_by_test_id("totp-code").fill("000000")
    page.get_by_test_id("totp-submit").click()
    expect(page.get_by_test_id("totp-error")).to_be_visible()

    page.get_by_test_id("totp-code").fill(web.totp_code(secret, next_step=True))
    page.get_by_test_id("totp-submit").click()
    expect(page).to_have_url(re.compile(r"/chat$"))

    page.goto("/settings/security")
    expect(page.get_by_test_id("security-twofa")).to_contain_text("已开启")
    expect(page.get_by_test_id("security-password")).to_contain_text("已设置")


def _created_qr(response: Any) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/v1/auth/qr")


def test_qr_login_confirmed_by_a_second_logged_in_client(web: Any) -> None:
    page = web.page()
    page.goto("/login")
    with page.expect_response(_created_qr) as created:
        page.get_by_role("tab", name="扫码登录").click()
    qr_text = created.value.json()["qr_text"]
    qr = page.get_by_test_id("qr-login")
    expect(qr).to_have_attribute("data-status", "pending")
    expect(qr.locator("canvas")).to_be_visible()
    web.screenshot(page, "login-qr-zh")

    phone = web.context()
    web.api_login(phone, web.MEMBERS[3])
    name = phone.request.get("/api/v1/me").json()["name"]
    headers = web.csrf_headers(phone)
    scan = phone.request.post("/api/v1/auth/qr/scan", data={"qr_text": qr_text}, headers=headers)
    assert scan.ok, scan.text()
    assert scan.json()["device_label"]
    expect(page.get_by_test_id("qr-status-text")).to_have_text("已扫码，请在手机上确认")
    expect(qr).to_have_attribute("data-status", "scanned")
    web.screenshot(page, "login-qr-scanned-zh")

    confirm = phone.request.post(
        "/api/v1/auth/qr/confirm", data={"qr_text": qr_text, "approve": True}, headers=headers
    )
    assert confirm.ok, confirm.text()
    expect(page).to_have_url(re.compile(r"/chat$"))
    expect(page.get_by_test_id("user-menu")).to_contain_text(name)
