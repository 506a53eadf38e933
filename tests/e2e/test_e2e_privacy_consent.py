"""The privacy policy gate in the browser: after a major version is published, the logged-in app
opens behind a pop-up that only accepting (or logging out) closes; accepting lets the app load.
Then the first-login notice, the cookie notice and the consents tab, with screenshots.

It runs its own server: publishing a major version is global, and would stop the other browser
tests' accounts at the gate."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from e2e.conftest import MEMBERS, ZHENGTONG, Server, Web, demo_server

pytestmark = pytest.mark.browser

MEMBER = MEMBERS[0]  # 李华
COLLEAGUE = MEMBERS[1]


@pytest.fixture(scope="module")
def gate_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo server of this module's own (the shared one's accounts must not meet the gate)."""
    with demo_server(tmp_path_factory.mktemp("zt-e2e-policy") / "var") as running:
        yield running


@pytest.fixture
def gate_web(browser: Any, gate_server: Server) -> Iterator[Web]:
    helper = Web(browser, gate_server)
    yield helper
    helper.close()
    assert not helper.errors.messages, "errors in the browser:\n" + "\n".join(helper.errors.messages)


def _publish_major(server: Server, folder: Path) -> None:
    zh, en = folder / "policy.zh.txt", folder / "policy.en.txt"
    zh.write_text("隐私政策(第二版)\n\n一、我们如何收集和使用您的个人信息\n……", "utf-8")
    en.write_text(
        "Privacy policy (second edition)\n\n1. How we collect and use personal information\n…", "utf-8"
    )
    command = [ZHENGTONG, "privacy", "policy", "publish", "--kind", "major", "--zh", str(zh), "--en", str(en)]
    command += [
        "--summary-zh",
        "新增手机通讯录匹配同事的单独同意。",
        "--summary-en",
        "Adds separate consent for contact matching.",
    ]
    published = subprocess.run(command, env=server.env, capture_output=True, text=True, timeout=120)
    assert published.returncode == 0 and "version 2 (major)" in published.stdout, published.stderr


def test_a_major_version_pops_up_after_login_and_accepting_lets_the_app_load(
    gate_web: Web, gate_server: Server, tmp_path: Path
) -> None:
    # the login page links to the policy in force (public) and shows the first-visit cookie notice
    visitor = gate_web.context(notices=True).new_page()
    visitor.goto("/login")
    expect(visitor.get_by_test_id("cookie-notice")).to_be_visible()
    visitor.get_by_test_id("auth-policy-links").get_by_test_id("policy-link").click()
    expect(visitor.get_by_test_id("policy-text")).to_contain_text("法律声明及隐私权政策")
    gate_web.screenshot(visitor, "privacy-login-policy")

    # given: 李华 has logged in before (accepting version 1), a colleague is active, and the
    # operator publishes version 2 as a major change
    colleague = gate_web.context()
    gate_web.api_login(colleague, COLLEAGUE)
    context = gate_web.context(notices=True)
    gate_web.api_login(context, MEMBER)
    _publish_major(gate_server, tmp_path)

    # when: 李华 opens the app
    page = context.new_page()
    page.goto("/chat")

    # then: the pop-up, and nothing of the app behind it
    gate = page.get_by_test_id("policy-gate-modal")
    expect(gate).to_be_visible()
    expect(page.get_by_role("dialog")).to_contain_text("隐私政策已更新(第 2 版)")
    expect(gate).to_contain_text("新增手机通讯录匹配同事的单独同意。")
    expect(page.get_by_test_id("policy-text")).to_contain_text("隐私政策(第二版)")
    expect(page.get_by_test_id("side-nav")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(gate).to_be_visible()
    gate_web.screenshot(page, "privacy-gate-modal")

    # when: accepted
    page.get_by_test_id("policy-gate-accept").click()

    # then: the app loads; the first-login notice says what the organisation provided
    expect(page.get_by_test_id("side-nav")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/chat$"))
    notice = page.get_by_test_id("first-login-notice")
    expect(notice).to_contain_text("政通示范单位")
    expect(notice).to_contain_text("李华")
    expect(notice).to_contain_text(MEMBER[:3] + "****" + MEMBER[-4:])
    gate_web.screenshot(page, "privacy-first-login-notice")
    page.get_by_test_id("first-login-notice-ok").click()
    expect(notice).to_have_count(0)

    # the cookie notice of a first visit lists the cookies
    cookie_notice = page.get_by_test_id("cookie-notice")
    expect(cookie_notice).to_be_visible()
    gate_web.screenshot(page, "privacy-cookie-notice")
    page.get_by_test_id("cookie-notice-list").click()
    expect(page.get_by_test_id("cookie-list")).to_contain_text("zt_session")
    gate_web.screenshot(page, "privacy-cookie-list")
    page.keyboard.press("Escape")
    page.get_by_test_id("cookie-notice-dismiss").click()
    expect(cookie_notice).to_have_count(0)

    # the consents tab: grant contact matching, match a colleague, withdraw (saying what goes)
    page.goto("/privacy/consents")
    card = page.get_by_test_id("consent-contact_matching")
    card.get_by_test_id("consent-grant-contact_matching").click()
    page.get_by_test_id("grant-confirm-ok").click()
    page.get_by_test_id("contact-numbers").fill(f"{COLLEAGUE}\n139 0000 9999")
    page.get_by_test_id("contact-match").click()
    expect(page.get_by_test_id("contact-match-item")).to_have_count(1)
    expect(page.get_by_test_id("policy-history")).to_contain_text("第 2 版")
    expect(page.get_by_test_id("policy-history")).to_contain_text("网页确认")
    gate_web.screenshot(page, "privacy-consents-desktop")
    card.get_by_test_id("consent-withdraw-contact_matching").click()
    expect(page.get_by_test_id("withdraw-confirm-text")).to_contain_text("删除已上传的全部通讯录摘要")
    page.get_by_test_id("withdraw-confirm-ok").click()
    expect(card.get_by_test_id("consent-grant-contact_matching")).to_be_visible()
    expect(page.get_by_test_id("consent-history")).to_contain_text("手机通讯录匹配同事")

    # on a phone (another member: a number gets one SMS code a minute)
    phone = gate_web.context(phone=True)
    gate_web.api_login(phone, MEMBERS[2])
    small = phone.new_page()
    small.goto("/privacy/consents")
    expect(small.get_by_test_id("consents-tab")).to_be_visible()
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the consents tab scrolls sideways on a phone ({width}px)"
    gate_web.screenshot(small, "privacy-consents-phone")
