"""Group robots (群机器人) in the browser, DingTalk's custom robot: the group's owner (also the
organisation's admin) adds a robot from the group's settings with the signature (加签) security
mode and reads its webhook URL and SEC… secret off the page; a program then posts to the webhook,
signed as DingTalk signs, one message of each format — text with an @mention by mobile number and
one @everyone, link, markdown, an action card with one button and one with two, a feed card —
and a member watching the group sees each arrive live as its card. A wrong signature is answered
310000 and posts nothing. Desktop and phone screenshots in test-artifacts/screenshots/robots/.

The test opens an organisation of its own with `zhengtong org create` (its main admin goes through
the TOTP setup here), with one department holding two members."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from playwright.sync_api import expect

from browser_steps import api_post, button_name, create_org, login_with_totp_setup

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = "robots"  # under test-artifacts/screenshots/, where conftest's Web.screenshot puts them

ORG = "群机器人测试局"
ADMIN = ("13700000701", "郑值班")
READER = ("13700000702", "钱运维")
OTHER = ("13700000703", "孙安全")
DEPARTMENT = "运维中心"
GROUP = "运维告警群"
ROBOT = "监控告警"

# One message of each format, as a DingTalk robot library posts them.
TEXT_AT: dict[str, Any] = {
    "msgtype": "text",
    "text": {"content": f"【告警】数据库主库 CPU 使用率 95%，请 @{READER[0]} 立即处理"},
    "at": {"atMobiles": [READER[0]], "isAtAll": False},
}
TEXT_ALL: dict[str, Any] = {
    "msgtype": "text",
    "text": {"content": "【通知】今晚 22:00 至 23:00 进行机房断电演练"},
    "at": {"isAtAll": True},
}
LINK: dict[str, Any] = {
    "msgtype": "link",
    "link": {
        "title": "第四季度系统可用性报告",
        "text": "核心业务系统可用性 99.98%，较上季度提升 0.02 个百分点。",
        "messageUrl": "https://ops.example.gov.cn/reports/2026q4",
        "picUrl": "https://ops.example.gov.cn/reports/2026q4.png",
    },
}
MARKDOWN: dict[str, Any] = {
    "msgtype": "markdown",
    "markdown": {
        "title": "每日巡检",
        "text": "### 今日巡检结果\n- **主库**：正常\n- 备库：复制延迟 2 秒\n\n详见 [巡检记录](https://ops.example.gov.cn/check)",
    },
}
ACTION_SINGLE: dict[str, Any] = {
    "msgtype": "actionCard",
    "actionCard": {
        "title": "磁盘空间不足",
        "text": "**web-03** 的 /data 分区已使用 91%，请及时清理。",
        "singleTitle": "查看监控面板",
        "singleURL": "https://ops.example.gov.cn/grafana/web-03",
    },
}
ACTION_BUTTONS: dict[str, Any] = {
    "msgtype": "actionCard",
    "actionCard": {
        "title": "变更审批：升级网关证书",
        "text": "申请人：孙安全\n\n计划时间：周六 02:00",
        "btnOrientation": "1",
        "btns": [
            {"title": "批准变更", "actionURL": "https://ops.example.gov.cn/change/12/approve"},
            {"title": "驳回变更", "actionURL": "https://ops.example.gov.cn/change/12/reject"},
        ],
    },
}
FEED: dict[str, Any] = {
    "msgtype": "feedCard",
    "feedCard": {
        "links": [
            {
                "title": "本周安全通报：勒索软件防范",
                "messageURL": "https://ops.example.gov.cn/news/1",
                "picURL": "https://ops.example.gov.cn/news/1.png",
            },
            {
                "title": "统一身份认证平台升级完成",
                "messageURL": "https://ops.example.gov.cn/news/2",
                "picURL": "https://ops.example.gov.cn/news/2.png",
            },
            {
                "title": "机房巡检制度修订说明",
                "messageURL": "https://ops.example.gov.cn/news/3",
                "picURL": "https://ops.example.gov.cn/news/3.png",
            },
        ]
    },
}
SENTINEL: dict[str, Any] = {"msgtype": "text", "text": {"content": "【恢复】主库 CPU 使用率已回落至 40%"}}
OK = {"errcode": 0, "errmsg": "ok"}


def _open_group(web: Any, context: Any) -> str:
    """运维中心 with its two members, and the admin's group with both of them; the group's id."""
    departments = context.request.get("/api/v1/org/departments").json()
    root = next(d for d in departments if d["parent_id"] is None)
    department = api_post(
        web, context, "/api/v1/org/departments", {"parent_id": root["id"], "name": DEPARTMENT}
    )
    member_ids = [
        api_post(
            web,
            context,
            "/api/v1/org/members",
            {"mobile": mobile, "name": name, "seats": [{"department_id": department["id"]}]},
        )["id"]
        for mobile, name in (READER, OTHER)
    ]
    group = api_post(
        web, context, "/api/v1/im/conversations/group", {"name": GROUP, "member_ids": member_ids}
    )
    return str(group["id"])


def _same_session(web: Any, context: Any, **options: Any) -> Any:
    """Another browser (e.g. the phone) on the same session, like a second tab."""
    other = web.context(**options)
    other.add_cookies(context.cookies())
    return other


def _open_conversation(page: Any, conversation_id: str, *, phone: bool = False) -> None:
    page.goto(f"/chat/{conversation_id}")
    expect(page.get_by_test_id("conversation-header-title")).to_contain_text(GROUP)
    if not phone:  # on a phone the list (which shows the connection) makes way for the conversation
        expect(page.get_by_test_id("conversation-pane")).to_have_attribute("data-connection", "open")


def _shot(web: Any, page: Any, name: str) -> Path:
    (ROOT / "test-artifacts" / "screenshots" / SHOTS).mkdir(parents=True, exist_ok=True)
    path: Path = web.screenshot(page, f"{SHOTS}/{name}")
    assert path.stat().st_size > 0
    return path


# The webhook, as a DingTalk client library calls it ----------------------------------------
def _sign(secret: str, timestamp: int) -> str:
    """DingTalk's: urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def _send(webhook: str, secret: str, body: dict[str, Any], *, sign: str | None = None) -> dict[str, Any]:
    timestamp = int(time.time() * 1000)
    url = f"{webhook}&timestamp={timestamp}&sign={sign or _sign(secret, timestamp)}"
    answer = httpx.post(url, json=body, timeout=15)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _robot_modal(page: Any) -> Any:
    """The robot's dialog (the test id sits on antd's modal root, which has no box of its own)."""
    return page.get_by_test_id("robot-modal").get_by_role("dialog")


def _add_robot(web: Any, admin: Any, conversation_id: str) -> tuple[str, str]:
    """群设置 → 群机器人 → 添加机器人 with the signature mode: the webhook URL and the secret shown."""
    _open_conversation(admin, conversation_id)
    admin.get_by_test_id("open-settings").click()
    section = admin.get_by_test_id("robots-section")
    expect(section).to_contain_text("群机器人")
    expect(section).to_contain_text("本群还没有机器人")
    section.get_by_test_id("robot-add").click()
    modal = _robot_modal(admin)
    expect(modal).to_be_visible()
    expect(modal.get_by_test_id("robot-webhook")).to_have_count(0)  # none before it is saved
    modal.get_by_test_id("robot-name").fill(ROBOT)

    # The picture: 告警.
    modal.locator(".ant-select").first.click()
    admin.locator(".ant-select-dropdown").filter(visible=True).get_by_text("告警", exact=True).click()
    # The security mode: 加签 (on by default; the test turns it off and on again to choose it).
    signature = modal.get_by_test_id("robot-signature")
    box = modal.get_by_role("checkbox", name="加签")
    expect(box).to_be_checked()
    signature.click()
    expect(box).not_to_be_checked()
    signature.click()
    expect(box).to_be_checked()
    _shot(web, admin, "robot-add")

    robots = f"/api/v1/im/conversations/{conversation_id}/robots"
    with admin.expect_response(lambda r: r.url.endswith(robots) and r.request.method == "POST") as made:
        modal.locator(".ant-modal-footer").get_by_role("button", name=button_name("保存")).click()
    assert made.value.status == 201, made.value.text()
    expect(admin.get_by_text(f"已添加机器人“{ROBOT}”")).to_be_visible()

    # The modal stays open on the new robot, with its credentials.
    webhook_text = modal.get_by_test_id("robot-webhook").inner_text()
    secret_text = modal.get_by_test_id("robot-secret").inner_text()
    webhook_match = re.search(r"https?://\S+/robot/send\?access_token=[0-9a-f]{64}", webhook_text)
    secret_match = re.search(r"SEC[0-9a-f]{64}", secret_text)
    assert webhook_match and secret_match, (webhook_text, secret_text)
    webhook, secret = webhook_match.group(0), secret_match.group(0)
    assert webhook.startswith(f"{web.server.url}/robot/send?access_token="), webhook
    created = made.value.json()
    assert (created["webhook_url"], created["secret"]) == (webhook, secret)
    expect(modal.get_by_test_id("robot-signature")).to_be_visible()
    _shot(web, admin, "robot-credentials")

    modal.locator(".ant-modal-footer").get_by_role("button", name=button_name("关闭")).click()
    expect(modal).to_be_hidden()
    item = section.get_by_test_id("robot-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(ROBOT)
    _shot(web, admin, "robot-settings")
    admin.keyboard.press("Escape")
    expect(admin.get_by_test_id("settings-drawer")).to_be_hidden()
    return webhook, secret


def _arrives(reader: Any, webhook: str, secret: str, body: dict[str, Any], msgtype: str, count: int) -> Any:
    """Posts `body`; the reader's open conversation shows it as the `count`-th robot card, last.
    Returns that message (by its id, so later ones do not move it)."""
    assert _send(webhook, secret, body) == OK
    expect(reader.get_by_test_id("robot-card")).to_have_count(count)
    last = reader.get_by_test_id("message").last
    card = last.get_by_test_id("robot-card")
    expect(card).to_have_attribute("data-msgtype", msgtype)
    expect(card.locator(".zt-robot-name")).to_have_text(ROBOT)
    expect(card.locator(".zt-robot-tag")).to_have_text("机器人")
    message_id = last.get_attribute("data-message-id")
    assert message_id
    return reader.locator(f'[data-testid="message"][data-message-id="{message_id}"]')


def test_a_signed_robot_posts_every_format_into_the_group(web: Any) -> None:
    create_org(web.server, ORG, ADMIN[0], ADMIN[1])
    admin = login_with_totp_setup(web, ADMIN[0])
    conversation_id = _open_group(web, admin.context)

    # The member watching the group, in another browser.
    reader_context = web.context()
    web.api_login(reader_context, READER[0])
    reader = reader_context.new_page()
    _open_conversation(reader, conversation_id)
    expect(reader.get_by_test_id("robot-card")).to_have_count(0)
    reader.evaluate("window.__ztNotReloaded = true")

    webhook, secret = _add_robot(web, admin, conversation_id)

    # Text, with an @mention by mobile number: the number becomes the member's name.
    message = _arrives(reader, webhook, secret, TEXT_AT, "text", 1)
    card = message.get_by_test_id("robot-card")
    expect(card).to_contain_text("【告警】数据库主库 CPU 使用率 95%")
    expect(card.locator(".zt-msg-at")).to_have_text(f"@{READER[1]}")
    expect(card).not_to_contain_text(READER[0])
    expect(message.get_by_test_id("bubble")).to_have_class(re.compile(r"\bis-mention\b"))

    # Text to everyone.
    message = _arrives(reader, webhook, secret, TEXT_ALL, "text", 2)
    card = message.get_by_test_id("robot-card")
    expect(card).to_contain_text("今晚 22:00 至 23:00 进行机房断电演练")
    expect(message.get_by_test_id("bubble")).to_have_class(re.compile(r"\bis-mention\b"))

    # A link card: title, text, the address (its picture is on another host: not loaded).
    card = _arrives(reader, webhook, secret, LINK, "link", 3).get_by_test_id("robot-card")
    link = card.get_by_test_id("robot-link")
    expect(link.locator(".zt-robot-title")).to_have_text("第四季度系统可用性报告")
    expect(link).to_contain_text("核心业务系统可用性 99.98%")
    expect(link).to_have_attribute("href", "https://ops.example.gov.cn/reports/2026q4")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(card.locator("img")).to_have_count(0)

    # Markdown, rendered: the heading, bold, a list, a link.
    card = _arrives(reader, webhook, secret, MARKDOWN, "markdown", 4).get_by_test_id("robot-card")
    expect(card.locator(".zt-md-h3")).to_have_text("今日巡检结果")
    expect(card.locator("strong")).to_have_text("主库")
    expect(card.locator("li")).to_have_count(2)
    expect(card.locator("li").last).to_contain_text("备库：复制延迟 2 秒")
    expect(card.get_by_role("link", name="巡检记录")).to_have_attribute(
        "href", "https://ops.example.gov.cn/check"
    )
    expect(card).not_to_contain_text("###")

    # An action card with one button.
    card = _arrives(reader, webhook, secret, ACTION_SINGLE, "actionCard", 5).get_by_test_id("robot-card")
    action = card.get_by_test_id("robot-action-card")
    expect(action.locator(".zt-robot-title")).to_have_text("磁盘空间不足")
    expect(action.locator("strong")).to_have_text("web-03")
    button = action.get_by_test_id("robot-button")
    expect(button).to_have_count(1)
    expect(button).to_contain_text("查看监控面板")
    expect(button).to_have_attribute("href", "https://ops.example.gov.cn/grafana/web-03")

    # An action card with two buttons, side by side.
    card = _arrives(reader, webhook, secret, ACTION_BUTTONS, "actionCard", 6).get_by_test_id("robot-card")
    action = card.get_by_test_id("robot-action-card")
    expect(action.locator(".zt-robot-title")).to_have_text("变更审批：升级网关证书")
    buttons = action.get_by_test_id("robot-button")
    expect(buttons).to_have_text(["批准变更", "驳回变更"])
    expect(buttons.last).to_have_attribute("href", "https://ops.example.gov.cn/change/12/reject")
    expect(action.locator(".zt-robot-buttons")).not_to_have_class(re.compile(r"\bis-vertical\b"))

    # A feed card: each item's title, the first one large.
    card = _arrives(reader, webhook, secret, FEED, "feedCard", 7).get_by_test_id("robot-card")
    feed = card.get_by_test_id("robot-feed-card")
    items = feed.get_by_test_id("robot-feed-link")
    expect(items).to_have_count(3)
    expect(feed.locator(".zt-robot-feed-first-title")).to_have_text("本周安全通报：勒索软件防范")
    later = [link["title"] for link in FEED["feedCard"]["links"][1:]]
    expect(feed.locator(".zt-robot-feed-title")).to_have_text(later)
    expect(items.nth(2)).to_have_attribute("href", "https://ops.example.gov.cn/news/3")
    expect(feed.locator("img")).to_have_count(0)

    # All of it arrived live: the reader's page was never reloaded.
    assert reader.evaluate("window.__ztNotReloaded === true")
    _shot(web, reader, "robot-messages")
    reader.get_by_test_id("robot-card").nth(2).scroll_into_view_if_needed()
    _shot(web, reader, "robot-messages-earlier")

    # A wrong signature (the right one for another secret): 310000, and nothing is posted.
    messages = reader.get_by_test_id("message")
    count = messages.count()
    last_id = messages.last.get_attribute("data-message-id")
    assert last_id
    timestamp = int(time.time() * 1000)
    wrong = _send(webhook, secret, TEXT_ALL, sign=_sign("SEC" + "0" * 64, timestamp))
    assert wrong == {"errcode": 310000, "errmsg": "sign not match"}, wrong
    unsigned = httpx.post(webhook, json=TEXT_ALL, timeout=15).json()  # no timestamp, no sign
    assert unsigned == {"errcode": 310000, "errmsg": "invalid timestamp"}, unsigned
    reader.wait_for_timeout(1500)
    expect(messages).to_have_count(count)
    expect(messages.last).to_have_attribute("data-message-id", last_id)
    # The next good message comes straight after the feed card: nothing came in between.
    _arrives(reader, webhook, secret, SENTINEL, "text", 8)
    expect(messages).to_have_count(count + 1)
    expect(messages.nth(count - 1)).to_have_attribute("data-message-id", last_id)
    history = reader_context.request.get(f"/api/v1/im/conversations/{conversation_id}/messages").json()
    robot_texts = [m["robot"].get("text", "") for m in history["items"] if m["kind"] == "robot"]
    assert len(robot_texts) == 8 and robot_texts.count(TEXT_ALL["text"]["content"]) == 1, robot_texts

    # The owner's own view of the group, with the cards.
    _open_conversation(admin, conversation_id)
    expect(admin.get_by_test_id("robot-card")).to_have_count(8)
    _shot(web, admin, "robot-messages-owner")

    # Phones: the member's conversation, and the owner's robot settings.
    phone_reader = _same_session(web, reader_context, phone=True).new_page()
    _open_conversation(phone_reader, conversation_id, phone=True)
    phone_cards = phone_reader.get_by_test_id("robot-card")
    expect(phone_cards).to_have_count(8)
    _shot(web, phone_reader, "robot-messages-phone")
    # The feed card and the action cards are at the bottom; the link and the markdown above.
    expect(phone_cards.nth(6).get_by_test_id("robot-feed-card")).to_be_in_viewport()
    expect(phone_cards.nth(5).get_by_test_id("robot-button")).to_have_text(["批准变更", "驳回变更"])
    phone_cards.nth(0).scroll_into_view_if_needed()
    expect(phone_cards.nth(0).locator(".zt-msg-at")).to_have_text(f"@{READER[1]}")
    expect(phone_cards.nth(0)).to_be_in_viewport()
    expect(phone_cards.nth(3).locator(".zt-md-h3")).to_be_in_viewport()
    _shot(web, phone_reader, "robot-text-link-markdown-phone")

    phone_admin = _same_session(web, admin.context, phone=True).new_page()
    _open_conversation(phone_admin, conversation_id, phone=True)
    phone_admin.get_by_test_id("open-settings").click()
    phone_section = phone_admin.get_by_test_id("robots-section")
    phone_section.get_by_test_id("robot-item").filter(has_text=ROBOT).get_by_test_id("robot-edit").click()
    phone_modal = _robot_modal(phone_admin)
    expect(phone_modal).to_be_visible()
    expect(phone_modal.get_by_test_id("robot-webhook")).to_contain_text(webhook)
    expect(phone_modal.get_by_test_id("robot-secret")).to_contain_text(secret)
    _shot(web, phone_admin, "robot-credentials-phone")
