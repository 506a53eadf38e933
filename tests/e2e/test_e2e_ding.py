"""DING in two browsers at once: the sender picks a colleague and DINGs them by SMS from the DING
page; the colleague, looking at chat, gets the banner and confirms with one tap; the sender's open
DING moves them from 未确认 to 已确认 without a reload, and the attempts drawer shows the in-app
delivery and the SMS; the colleague DINGs a chat message back ("DING 一下"). Then the same on
phones. Screenshots: the form, the sender's detail, the
recipient's banner and the attempts, desktop and phone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Demo members no other browser test logs in with (each number gets one SMS code a minute).
SENDER, RECIPIENT = "13800000050", "13800000051"
# Session cookies of the people logged in so far, by server and mobile number.
_SESSIONS: dict[tuple[str, str], list[Any]] = {}


def _person(web: Any, mobile: str, **options: Any) -> tuple[Any, str]:
    """A logged-in browser context and the person's name; a person's later contexts take the
    first one's session cookies (one SMS code per person)."""
    context = web.context(**options)
    key = (web.server.url, mobile)
    if key in _SESSIONS:
        context.add_cookies(_SESSIONS[key])
    else:
        web.api_login(context, mobile)
        _SESSIONS[key] = context.cookies()
    me = context.request.get("/api/v1/me")
    assert me.ok, me.text()
    return context, str(me.json()["name"])


def _membership_id(context: Any, name: str) -> str:
    found = context.request.get("/api/v1/directory/search", params={"q": name}).json()["members"]
    ids = [member["id"] for member in found if member["name"] == name]
    assert len(ids) == 1, f"the demo should have exactly one {name}: {found}"
    return str(ids[0])


def _compose(page: Any, recipient: str, recipient_id: str, text: str) -> None:
    page.get_by_test_id("ding-new").click()
    form = page.get_by_test_id("ding-form")
    expect(form).to_be_visible()
    page.get_by_test_id("ding-pick-recipients").click()
    page.get_by_test_id("picker-search").fill(recipient)
    page.locator(f'[data-testid="picker-member"][data-member-id="{recipient_id}"]').click()
    page.get_by_test_id("picker-confirm").click()
    expect(page.get_by_test_id("ding-people")).to_have_attribute("data-count", "1")
    page.get_by_test_id("ding-text").fill(text)
    page.get_by_test_id("ding-channel-sms").click()


def test_a_ding_is_confirmed_in_one_tap_and_the_senders_list_moves_live(web: Any) -> None:
    sender_context, sender = _person(web, SENDER)
    recipient_context, recipient = _person(web, RECIPIENT)
    recipient_id = _membership_id(sender_context, recipient)
    sender_id = _membership_id(recipient_context, sender)
    sender_page, recipient_page = sender_context.new_page(), recipient_context.new_page()
    recipient_page.goto("/chat")
    expect(recipient_page.get_by_test_id("conversation-pane")).to_have_attribute("data-connection", "open")

    # The sender writes a DING by SMS to the colleague.
    sender_page.goto("/ding")
    _compose(sender_page, recipient, recipient_id, "防汛值班：今晚 20:00 到岗，请确认")
    web.screenshot(sender_page, "ding-form-zh")
    # The options: an attachment uploaded with its progress, a time to the minute, the emergency
    # switch with its warning; then back to "now" and not an emergency.
    sender_page.get_by_test_id("ding-attach-input").set_input_files(
        files=[{"name": "值班表.txt", "mimeType": "text/plain", "buffer": "20:00 张三；24:00 李四".encode()}]
    )
    expect(sender_page.get_by_test_id("ding-attachment")).to_contain_text("值班表.txt")
    sender_page.get_by_test_id("ding-when-later").click()
    expect(sender_page.get_by_test_id("ding-at")).to_be_visible()
    sender_page.get_by_test_id("ding-emergency").click()
    expect(sender_page.get_by_test_id("ding-emergency-warning")).to_be_visible()
    web.screenshot(sender_page, "ding-form-options-zh")
    sender_page.get_by_test_id("ding-emergency").click()
    sender_page.get_by_text("立即发送").click()
    sender_page.get_by_test_id("ding-submit").click()
    expect(sender_page).to_have_url(re.compile(r"/ding/[0-9A-Z]+\?tab=sent$"))
    detail = sender_page.get_by_test_id("ding-detail")
    expect(detail).to_have_attribute("data-role", "sender")
    expect(sender_page.get_by_test_id("ding-tab-unconfirmed")).to_have_attribute("data-count", "1")
    expect(sender_page.get_by_test_id("ding-remind")).to_be_disabled()  # within five minutes of the send
    expect(sender_page.get_by_test_id("ding-remind")).to_contain_text(re.compile(r"再次提醒（[0-5]:\d\d）"))

    # The colleague, in chat, cannot miss it, and confirms with one tap.
    banner = recipient_page.get_by_test_id("ding-alert")
    expect(banner).to_be_visible()
    expect(recipient_page.get_by_test_id("ding-alert-text")).to_have_text("防汛值班：今晚 20:00 到岗，请确认")
    expect(banner).to_contain_text("值班表.txt")
    web.screenshot(recipient_page, "ding-banner-zh")
    recipient_page.get_by_test_id("ding-alert-confirm").click()
    expect(banner).to_have_count(0)

    # The sender's open DING moves the colleague to 已确认 live.
    expect(sender_page.get_by_test_id("ding-tab-confirmed")).to_have_attribute("data-count", "1")
    expect(sender_page.get_by_test_id("ding-tab-unconfirmed")).to_have_attribute("data-count", "0")
    sender_page.get_by_test_id("ding-tab-confirmed").click()
    confirmed = sender_page.get_by_test_id("ding-list-confirmed")
    row = confirmed.locator(f'[data-testid="ding-recipient"][data-member-id="{recipient_id}"]')
    expect(row).to_contain_text("确认")
    expect(sender_page.get_by_test_id("ding-row-progress").first).to_have_text("1/1 已确认")
    web.screenshot(sender_page, "ding-detail-zh")

    # Each delivery attempt and its result, in a drawer.
    row.click()
    attempts = sender_page.get_by_test_id("ding-attempts")
    expect(attempts.locator('[data-testid="ding-attempt"][data-channel="in_app"]')).to_contain_text(
        "应用内已送达"
    )
    expect(attempts.locator('[data-testid="ding-attempt"][data-channel="sms"]')).to_contain_text("短信已发送")
    web.screenshot(sender_page, "ding-attempts-zh")

    # The colleague's list shows it confirmed.
    recipient_page.goto("/ding")
    expect(recipient_page.get_by_test_id("ding-row").first).to_contain_text("已确认")

    # "DING 一下" on a chat message: the form starts from the message, the DING remembers it.
    recipient_page.goto("/chat")
    recipient_page.get_by_test_id("conversation-row").first.click()
    message = recipient_page.locator('[data-testid="message"][data-own="false"]').last
    message.get_by_test_id("bubble").hover()
    message.get_by_test_id("action-more").click()
    recipient_page.get_by_test_id("action-ding").click()
    expect(recipient_page).to_have_url(re.compile(r"/ding/new$"))
    expect(recipient_page.get_by_test_id("ding-form")).to_contain_text("来自聊天消息")
    expect(recipient_page.get_by_test_id("ding-text")).not_to_have_value("")
    recipient_page.get_by_test_id("ding-pick-recipients").click()
    recipient_page.get_by_test_id("picker-search").fill(sender)
    recipient_page.locator(f'[data-testid="picker-member"][data-member-id="{sender_id}"]').click()
    recipient_page.get_by_test_id("picker-confirm").click()
    recipient_page.get_by_test_id("ding-submit").click()
    expect(recipient_page.get_by_test_id("ding-detail")).to_contain_text("来自聊天消息")
    sender_alert = sender_page.get_by_test_id("ding-alert")  # the banner, on the DING page too
    expect(sender_alert).to_be_visible()
    sender_page.get_by_test_id("ding-alert-confirm").click()
    expect(sender_alert).to_have_count(0)


def test_ding_on_phones(web: Any) -> None:
    sender_context, _sender = _person(web, SENDER, phone=True)
    recipient_context, recipient = _person(web, RECIPIENT, phone=True)
    recipient_id = _membership_id(sender_context, recipient)
    sender_page, recipient_page = sender_context.new_page(), recipient_context.new_page()
    recipient_page.goto("/contacts")

    sender_page.goto("/ding")
    _compose(sender_page, recipient, recipient_id, "明早 8:30 请到三楼会议室参加紧急会商")
    web.screenshot(sender_page, "ding-form-phone")
    sender_page.get_by_test_id("ding-submit").click()
    expect(sender_page.get_by_test_id("ding-detail")).to_be_visible()

    banner = recipient_page.get_by_test_id("ding-alert")
    expect(banner).to_be_visible()
    web.screenshot(recipient_page, "ding-banner-phone")
    expect(sender_page.get_by_test_id("ding-tab-unconfirmed")).to_have_attribute("data-count", "1")
    web.screenshot(sender_page, "ding-detail-phone")

    recipient_page.get_by_test_id("ding-alert-open").click()
    expect(recipient_page.get_by_test_id("ding-detail")).to_have_attribute("data-role", "recipient")
    recipient_page.get_by_test_id("ding-confirm").click()
    expect(recipient_page.get_by_test_id("ding-confirmed-note")).to_be_visible()
    expect(banner).to_have_count(0)
    expect(sender_page.get_by_test_id("ding-tab-confirmed")).to_have_attribute("data-count", "1")
