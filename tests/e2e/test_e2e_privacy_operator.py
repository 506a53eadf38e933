"""The operator's console in a real browser: an operator logs in, looks at the organisations and
their figures, records a security incident for the demo organisation, sends its notices and sees
the progress reach everyone."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
ZHENGTONG = str(VENV_BIN / "zhengtong") if (VENV_BIN / "zhengtong").exists() else "zhengtong"
OPERATOR = "13700000088"  # staff of the operator, in no organisation


def test_operator_records_an_incident_and_notifies_everyone(web: Any) -> None:
    granted = subprocess.run(
        [ZHENGTONG, "operator", "grant", "--mobile", OPERATOR, "--create"],
        env=web.server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert granted.returncode == 0, granted.stderr
    context = web.context()
    web.api_login(context, OPERATOR)
    page = context.new_page()

    # the console, reachable from the menu, shows figures and no content
    page.goto("/chat")
    page.get_by_test_id("side-nav").get_by_text("运营控制台").click()
    page.get_by_test_id("operator-org-table").get_by_text("政通示范单位").wait_for()
    page.get_by_test_id("usage-chart").wait_for()
    web.screenshot(page, "privacy-operator-organizations")

    # record an incident for the demo organisation
    page.get_by_test_id("operator-tab-incidents").click()
    page.get_by_test_id("incident-record").click()
    page.locator("#zh_title").fill("短信网关日志外泄")
    page.locator("#zh_what_happened").fill("调试日志被错误地公开访问约两小时。")
    page.locator("#zh_possible_impact").fill("他人可能得知您的手机号码曾接收验证码。")
    page.locator("#zh_measures_taken").fill("已关闭公开访问并轮换全部密钥。")
    page.locator("#zh_person_can_do").fill("不要向任何人透露验证码。")
    page.locator("#zh_contact").fill("安全热线 400-000-0000")
    page.locator("#data_categories").get_by_text("联系方式").click()
    page.get_by_test_id("incident-orgs").click()
    page.keyboard.type("政通示范单位")
    page.keyboard.press("Enter")
    with page.expect_response("**/api/v1/operator/incidents") as recorded:
        page.get_by_test_id("incident-submit").click()
    assert recorded.value.status == 201, recorded.value.text()

    # send the notices: the progress follows the deliveries until everyone is reached
    detail = page.get_by_test_id("incident-detail")
    detail.wait_for()
    assert re.fullmatch(
        r"剩余 (29|30) 天", page.get_by_test_id("incident-deadline").first.inner_text().strip()
    )
    with page.expect_response("**/notify") as sent:
        page.get_by_test_id("incident-send").click()
    people: dict[str, Any] = sent.value.json()
    assert sent.value.status == 200 and people["people"] > 100, sent.value.text()
    reached = f"已告知 {people['people']}/{people['people']} 人"
    page.get_by_test_id("incident-reached").filter(has_text=reached).wait_for(timeout=30_000)
    assert (
        "发生了什么：调试日志被错误地公开访问约两小时。"
        in detail.get_by_test_id("incident-notice").inner_text()
    )
    web.screenshot(page, "privacy-operator-incident")

    sms = [
        m
        for m in web.server.outbox_lines()
        if m["template"] == "notice.security_incident" and m["channel"] == "sms"
    ]
    assert len(sms) == people["people"]

    # on a phone: the incident list with its deadline and progress
    phone = web.context(phone=True)
    phone.add_cookies(context.cookies())  # the same session: a number gets one code a minute
    small = phone.new_page()
    small.goto("/operator/incidents")
    small.get_by_test_id("incident-card").first.get_by_text(reached).wait_for()
    web.screenshot(small, "privacy-operator-phone")
    small.goto("/operator/shutdown")
    small.get_by_test_id("shutdown-form").wait_for()
    web.screenshot(small, "privacy-operator-shutdown-phone")
