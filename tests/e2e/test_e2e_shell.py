"""The application shell: language switch, phone-sized layout."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NAV_EN = ["Messages", "DING", "Contacts", "Workbench", "Approval", "Attendance", "Work logs", "Calendar"]


def test_member_switches_to_english_and_the_choice_persists(web: Any) -> None:
    page = web.page()
    web.sms_login(page, web.MEMBERS[1])
    expect(page).to_have_url(re.compile(r"/chat$"))
    expect(page.get_by_test_id("side-nav").get_by_role("menuitem", name="通讯录")).to_be_visible()

    page.get_by_test_id("language-switch").click()
    with page.expect_response("**/api/v1/me/language") as saved:
        page.get_by_role("menuitem", name="English").click()
    assert saved.value.status == 204

    nav = page.get_by_test_id("side-nav")
    for label in NAV_EN:
        expect(nav.get_by_role("menuitem", name=label)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("conversation-pane")).to_contain_text("Messages")
    web.screenshot(page, "layout-en")

    # Remembered in this browser and with the account.
    page.reload()
    expect(page.get_by_test_id("side-nav").get_by_role("menuitem", name="Contacts")).to_be_visible()
    me = page.request.get("/api/v1/me").json()
    assert me["language"] == "en"

    page.goto("/settings/devices")
    expect(page.get_by_role("tab", name="Devices")).to_be_visible()
    expect(page.get_by_test_id("current-session")).to_have_text("This device")
    web.screenshot(page, "settings-devices-en")

    # The server's own messages follow the language too.
    answer = page.request.put(
        "/api/v1/me/current-org",
        data={"org_id": "does-not-exist"},
        headers={**web.csrf_headers(page.context), "Accept-Language": "en"},
    )
    assert answer.status == 403 and "organisation" in answer.json()["message"]


def _no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px screen"


def test_phone_sized_screen_has_a_usable_navigation(web: Any) -> None:
    page = web.page(phone=True)
    page.goto("/login")
    expect(page.get_by_role("tab", name="验证码登录")).to_be_visible()
    _no_horizontal_scroll(page)
    web.screenshot(page, "phone-login-zh")

    web.sms_login(page, web.MEMBERS[4])
    expect(page).to_have_url(re.compile(r"/chat$"))
    bottom = page.get_by_test_id("bottom-nav")
    expect(bottom).to_be_visible()
    expect(page.get_by_test_id("side-nav")).to_have_count(0)
    box = bottom.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844 + 0.5 and box["width"] >= 389
    for label in ["消息", "DING", "通讯录", "工作台", "更多"]:
        expect(bottom.get_by_role("button", name=label)).to_be_visible()
    _no_horizontal_scroll(page)
    web.screenshot(page, "phone-layout-zh")

    bottom.get_by_role("button", name="通讯录").tap()
    expect(page).to_have_url(re.compile(r"/contacts$"))
    expect(page.get_by_test_id("page-contacts")).to_have_attribute("data-view", "tree")

    page.get_by_test_id("bottom-nav-more").tap()
    grid = page.get_by_test_id("more-grid")
    expect(grid).to_be_visible()
    for label in ["审批", "考勤", "日志", "日程", "云盘", "邮箱", "设置"]:
        expect(grid.get_by_role("button", name=label)).to_be_visible()
    web.screenshot(page, "phone-more-zh")
    grid.get_by_role("button", name="云盘").tap()
    expect(page).to_have_url(re.compile(r"/drive$"))
    expect(grid).to_be_hidden()

    page.goto("/settings/devices")
    expect(page.get_by_test_id("current-session")).to_be_visible()
    _no_horizontal_scroll(page)
    web.screenshot(page, "phone-settings-devices-zh")

    # Phones are what confirms a QR login: a computer shows a code, the phone refuses it.
    computer = web.page()
    computer.goto("/login")
    with computer.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/api/v1/auth/qr")
    ) as created:
        computer.get_by_role("tab", name="扫码登录").click()
    qr_text = created.value.json()["qr_text"]

    page.goto("/settings/security")
    page.get_by_test_id("qr-text").fill(qr_text)
    page.get_by_test_id("qr-scan").tap()
    expect(page.get_by_test_id("security-qr")).to_contain_text("请求登录的设备")
    expect(computer.get_by_test_id("qr-status-text")).to_have_text("已扫码，请在手机上确认")
    page.get_by_test_id("qr-reject").scroll_into_view_if_needed()
    _no_horizontal_scroll(page)
    web.screenshot(page, "phone-qr-confirm-zh")
    page.get_by_test_id("qr-reject").tap()
    expect(page.get_by_text("已拒绝该登录请求")).to_be_visible()
    expect(computer.get_by_test_id("qr-login")).to_have_attribute("data-status", "cancelled")
    expect(computer).to_have_url(re.compile(r"/login$"))
