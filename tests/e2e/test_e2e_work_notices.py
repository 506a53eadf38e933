"""Apps and work notices (工作通知) in the browser: the admin makes an app and sees its secret once
(and the secret gets a token from /oapi, until it is reset), composes a markdown work notice to a
department and follows it to 100 % and 未读 1; the member opens it from the bell at
/work-notices/{id} and reads the rendered markdown; the admin's detail then says 已读 1; the admin
recalls it and the member's page shows the recalled marker. Desktop and phone screenshots.

The test opens an organisation of its own with `zhengtong org create` (its main admin goes through
the TOTP setup here), with one department holding one member."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from browser_steps import api_post, button_name, create_org, login_with_totp_setup

pytestmark = pytest.mark.browser


ORG = "工作通知测试局"
ADMIN = ("13700000601", "周文书")
MEMBER = ("13700000602", "吴收文")
DEPARTMENT = "收文科"
TITLE = "关于开展网络安全检查的通知"
MARKDOWN = (
    "## 检查安排\n"
    "- **时间**：本周五 9:00\n"
    "- 范围：全部办公电脑\n"
    "\n"
    "详见 [通知原文](https://example.gov.cn/notice)，请提前做好准备。"
)


def _seed_department(web: Any, context: Any) -> str:
    """收文科 under the root, with the one member in it; returns the member's membership id."""
    departments = context.request.get("/api/v1/org/departments").json()
    root = next(d for d in departments if d["parent_id"] is None)
    department = api_post(
        web, context, "/api/v1/org/departments", {"parent_id": root["id"], "name": DEPARTMENT}
    )
    member = api_post(
        web,
        context,
        "/api/v1/org/members",
        {"mobile": MEMBER[0], "name": MEMBER[1], "seats": [{"department_id": department["id"]}]},
    )
    return str(member["id"])


# The other formats, sent through the API to the member.
ACTION_CARD = {
    "msgtype": "action_card",
    "action_card": {
        "title": "请审批：办公用品采购",
        "markdown": "**申请人**：吴收文\n\n金额：1,280 元，用于第四季度办公耗材。",
        "btn_orientation": "1",
        "btn_json_list": [
            {"title": "同意", "action_url": "https://oa.example.gov.cn/approve?id=7"},
            {"title": "拒绝", "action_url": "https://oa.example.gov.cn/reject?id=7"},
        ],
    },
}
OA = {
    "msgtype": "oa",
    "oa": {
        "message_url": "https://oa.example.gov.cn/leave/9",
        "head": {"bgcolor": "FF1F7A4D", "text": "请假审批"},
        "body": {
            "title": "吴收文的请假申请",
            "form": [{"key": "请假类型：", "value": "年假"}, {"key": "时间：", "value": "12月1日至12月3日"}],
            "content": "已由科长审核，请人事处复核。",
            "author": "人事处",
        },
    },
}
LINK = {
    "msgtype": "link",
    "link": {
        "title": "2026 年度预算编制说明",
        "text": "预算编制的时间安排、报送格式和注意事项。",
        "messageUrl": "https://example.gov.cn/budget",
        "picUrl": "https://example.gov.cn/budget.png",
    },
}
# What a tampered answer might carry: the page must not put any of it in an href.
HOSTILE = {
    "id": "01HOSTILE0000000000000000",
    "sender_name": "测试",
    "recalled": False,
    "created_at": "2026-11-29T08:00:00Z",
    "read_at": "2026-11-29T08:00:00Z",
    "msg": {
        "msgtype": "action_card",
        "action_card": {
            "title": "恶意卡片",
            "markdown": "[点我](javascript:alert(1)) <img src=x onerror=alert(1)>",
            "btn_orientation": "0",
            "btn_json_list": [
                {"title": "脚本", "action_url": "javascript:alert(1)"},
                {"title": "数据", "action_url": "data:text/html,<script>alert(1)</script>"},
            ],
        },
    },
}


def _send_and_wait(web: Any, context: Any, user_id: str, msg: dict[str, Any]) -> str:
    sent = api_post(web, context, "/api/v1/org/work-notices", {"user_ids": [user_id], "msg": msg})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        detail = context.request.get(f"/api/v1/org/work-notices/{sent['id']}").json()
        if detail["status"] == "sent":
            return str(sent["id"])
        time.sleep(0.2)
    raise AssertionError(f"work notice {sent['id']} still sending")


def _same_session(web: Any, context: Any, **options: Any) -> Any:
    """Another browser (e.g. the phone) on the same session, like a second tab."""
    other = web.context(**options)
    other.add_cookies(context.cookies())
    return other


def _confirm(page: Any) -> None:
    popover = page.locator(".ant-popover").filter(visible=True)
    popover.get_by_role("button", name=button_name("确定")).click()
    expect(popover).to_have_count(0)


def _token(context: Any, app_key: str, secret: str) -> dict[str, Any]:
    answer = context.request.get("/oapi/gettoken", params={"appkey": app_key, "appsecret": secret})
    return dict(answer.json())


def test_apps_and_work_notices(web: Any) -> None:
    create_org(web.server, ORG, ADMIN[0], ADMIN[1])
    admin = login_with_totp_setup(web, ADMIN[0])
    member_id = _seed_department(web, admin.context)

    # The app: its secret shown once, with the warning, the AppKey, the AgentId and the open API's address.
    admin.goto("/admin/apps")
    section = admin.get_by_test_id("admin-apps")
    expect(section.get_by_test_id("apps-base-url")).to_contain_text(f"{web.server.url}/oapi")
    expect(section.get_by_test_id("apps-open-api")).to_contain_text("/oapi/gettoken?appkey=…&appsecret=…")
    expect(section.get_by_test_id("apps-open-api")).to_contain_text(
        "/oapi/topapi/message/corpconversation/asyncsend_v2?access_token=…"
    )
    admin.get_by_test_id("apps-name").fill("OA 审批提醒")
    admin.get_by_test_id("apps-description").fill("审批待办通过工作通知提醒经办人")
    with admin.expect_response(
        lambda r: r.url.endswith("/api/v1/org/apps") and r.request.method == "POST"
    ) as made:
        admin.get_by_test_id("apps-create").click()
    assert made.value.status == 201, made.value.text()
    modal = admin.get_by_test_id("apps-secret-modal")
    expect(modal).to_contain_text("AppSecret 只显示这一次")
    secret = modal.get_by_test_id("apps-secret-value").inner_text().strip()
    app_key = modal.get_by_test_id("apps-secret-key").inner_text().strip()
    assert len(secret) > 40 and app_key.startswith("ding"), (secret, app_key)
    web.screenshot(admin, "work-notices-apps-secret")
    admin.get_by_test_id("apps-secret-close").click()
    expect(modal).to_have_count(0)
    expect(section.get_by_test_id("apps-table")).to_contain_text("OA 审批提醒")
    expect(section.get_by_test_id("apps-app-key")).to_contain_text(app_key)
    web.screenshot(admin, "work-notices-apps")
    listed = admin.context.request.get("/api/v1/org/apps").json()
    assert all("app_secret" not in app for app in listed)  # shown once: never listed again
    assert _token(admin.context, app_key, secret)["errcode"] == 0

    # On a phone, resetting the secret shows the new one once; the old one stops working.
    phone_admin = _same_session(web, admin.context, phone=True).new_page()
    phone_admin.goto("/admin/apps")
    phone_admin.get_by_test_id("apps-rotate").click()
    with phone_admin.expect_response(lambda r: r.url.endswith("/secret") and r.status == 200):
        _confirm(phone_admin)
    phone_modal = phone_admin.get_by_test_id("apps-secret-modal")
    expect(phone_modal).to_contain_text("AppSecret 已重置")
    new_secret = phone_modal.get_by_test_id("apps-secret-value").inner_text().strip()
    assert new_secret and new_secret != secret
    web.screenshot(phone_admin, "work-notices-apps-secret-phone")
    phone_admin.get_by_test_id("apps-secret-close").click()
    assert _token(admin.context, app_key, secret)["errcode"] != 0
    assert _token(admin.context, app_key, new_secret)["errcode"] == 0

    # Compose: a markdown notice to 收文科, with its preview.
    admin.goto("/admin/work_notices")
    expect(admin.get_by_test_id("admin-work-notices")).to_be_visible()
    admin.get_by_test_id("wn-compose-open").click()
    drawer = admin.get_by_test_id("wn-compose-drawer")
    expect(drawer.get_by_test_id("wn-compose")).to_be_visible()
    admin.get_by_test_id("wn-departments").click()
    admin.keyboard.type(DEPARTMENT)
    dropdown = admin.locator(".ant-select-dropdown").filter(visible=True)
    dropdown.locator(".ant-select-tree-title").get_by_text(DEPARTMENT, exact=True).click()
    admin.keyboard.press("Escape")
    expect(admin.get_by_test_id("wn-departments")).to_contain_text(DEPARTMENT)
    admin.get_by_test_id("wn-md-title").fill(TITLE)
    admin.get_by_test_id("wn-md-text").fill(MARKDOWN)
    preview = drawer.get_by_test_id("wn-preview")
    expect(preview.locator(".zt-md-h2")).to_have_text("检查安排")
    expect(preview.get_by_test_id("wn-message").locator("strong")).to_have_text("时间")
    web.screenshot(admin, "work-notices-compose")
    created = "/api/v1/org/work-notices"
    with admin.expect_response(lambda r: r.url.endswith(created) and r.status == 201) as sent:
        admin.get_by_test_id("wn-send").click()
    notice_id = sent.value.json()["id"]
    expect(drawer).to_be_hidden()

    # The list follows it to 100 %: 已读 0 / 未读 1.
    row = admin.get_by_test_id("wn-row").filter(has_text=TITLE)
    expect(row.get_by_test_id("wn-progress")).to_have_attribute("data-percent", "100")
    expect(row.get_by_test_id("wn-progress")).to_have_attribute("data-status", "sent")
    expect(row.get_by_test_id("wn-counts")).to_have_attribute("data-unread", "1")
    expect(row.get_by_test_id("wn-counts")).to_have_text("已读 0 / 未读 1")
    web.screenshot(admin, "work-notices-list")

    # The member: the bell leads to /work-notices/{id}, where the markdown is rendered (and read).
    member_context = web.context()
    web.api_login(member_context, MEMBER[0])
    member = member_context.new_page()
    member.goto("/chat")
    member.get_by_test_id("notice-bell").click()
    item = member.get_by_test_id("notice-item").filter(has_text="工作通知")
    expect(item).to_have_count(1)
    with member.expect_response(lambda r: r.url.endswith(f"/api/v1/work-notices/{notice_id}/read")) as read:
        item.click()
    assert read.value.ok, read.value.text()
    expect(member).to_have_url(re.compile(rf"/work-notices/{notice_id}$"))
    message = member.get_by_test_id("wn-message")
    expect(message).to_have_attribute("data-msgtype", "markdown")
    expect(message.locator(".zt-md-h2")).to_have_text("检查安排")
    expect(message.locator("li").first).to_contain_text("时间：本周五 9:00")
    link = message.get_by_role("link", name="通知原文")
    expect(link).to_have_attribute("href", "https://example.gov.cn/notice")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(member.get_by_test_id("page-work-notice")).to_contain_text(TITLE)
    web.screenshot(member, "work-notices-recipient")
    member.get_by_test_id("wn-back").click()
    expect(member).to_have_url(re.compile(r"/work-notices$"))
    expect(member.get_by_test_id("wn-received-item")).to_contain_text(TITLE)

    phone_member = _same_session(web, member_context, phone=True).new_page()
    phone_member.goto(f"/work-notices/{notice_id}")
    expect(phone_member.get_by_test_id("wn-message").locator(".zt-md-h2")).to_have_text("检查安排")
    web.screenshot(phone_member, "work-notices-recipient-phone")

    # The admin's detail: 已读 1, by name.
    admin.reload()
    row = admin.get_by_test_id("wn-row").filter(has_text=TITLE)
    expect(row.get_by_test_id("wn-counts")).to_have_text("已读 1 / 未读 0")
    row.get_by_test_id("wn-open").click()
    detail = admin.get_by_test_id("wn-detail")
    expect(detail.get_by_test_id("wn-detail-read")).to_contain_text("1")
    expect(detail.get_by_test_id("wn-detail-unread")).to_contain_text("0")
    expect(detail.get_by_test_id("wn-message").locator(".zt-md-h2")).to_have_text("检查安排")
    detail.get_by_test_id("wn-tab-read").click()
    expect(detail.get_by_test_id("wn-reader")).to_contain_text(MEMBER[1])
    web.screenshot(admin, "work-notices-detail")

    phone_admin.goto("/admin/work_notices")
    phone_row = phone_admin.get_by_test_id("wn-row").filter(has_text=TITLE)
    expect(phone_row.get_by_test_id("wn-counts")).to_have_text("已读 1 / 未读 0")
    web.screenshot(phone_admin, "work-notices-list-phone")
    phone_row.click()
    phone_detail = phone_admin.get_by_test_id("wn-detail")
    expect(phone_detail.get_by_test_id("wn-detail-read")).to_contain_text("1")
    web.screenshot(phone_admin, "work-notices-detail-phone")
    phone_admin.keyboard.press("Escape")
    expect(phone_detail).to_be_hidden()
    phone_admin.get_by_test_id("wn-compose-open").click()
    phone_compose = phone_admin.get_by_test_id("wn-compose-drawer")
    phone_compose.get_by_test_id("wn-md-title").fill(TITLE)
    phone_compose.get_by_test_id("wn-md-text").fill(MARKDOWN)
    expect(phone_compose.get_by_test_id("wn-preview").locator(".zt-md-h2")).to_have_text("检查安排")
    web.screenshot(phone_admin, "work-notices-compose-phone")

    # Recall (with a confirm): the member's page shows the marker, the bell forgets it.
    detail.get_by_test_id("wn-recall").click()
    with admin.expect_response(lambda r: r.url.endswith(f"/{notice_id}/recall")) as recalled:
        _confirm(admin)
    assert recalled.value.ok, recalled.value.text()
    expect(detail.get_by_test_id("wn-detail-body")).to_have_attribute("data-status", "recalled")
    expect(detail.get_by_test_id("wn-detail-recalled")).to_be_visible()
    expect(detail.get_by_test_id("wn-recall")).to_have_count(0)

    member.goto(f"/work-notices/{notice_id}")
    expect(member.get_by_test_id("wn-recalled")).to_have_text("该通知已被撤回")
    expect(member.get_by_test_id("wn-message")).to_have_count(0)
    web.screenshot(member, "work-notices-recipient-recalled")

    _other_formats(web, admin, member, phone_member, member_id)
    _compose_other_formats(web, admin)


def _other_formats(web: Any, admin: Any, member: Any, phone_member: Any, member_id: str) -> None:
    card_id = _send_and_wait(web, admin.context, member_id, ACTION_CARD)
    oa_id = _send_and_wait(web, admin.context, member_id, OA)
    link_id = _send_and_wait(web, admin.context, member_id, LINK)

    phone_member.goto("/work-notices")
    items = phone_member.get_by_test_id("wn-received-item")
    expect(items).to_have_count(4)
    expect(items.first).to_contain_text("2026 年度预算编制说明")
    expect(items.last).to_contain_text("该通知已被撤回")
    web.screenshot(phone_member, "work-notices-mine-phone")

    # The action card: its buttons open their URLs in a new tab, side by side.
    member.goto(f"/work-notices/{card_id}")
    card = member.get_by_test_id("wn-action-card")
    expect(card.locator("strong")).to_have_text("申请人")
    buttons = card.get_by_test_id("wn-card-button")
    expect(buttons).to_have_count(2)
    expect(buttons.first).to_have_attribute("href", "https://oa.example.gov.cn/approve?id=7")
    for i in range(2):
        expect(buttons.nth(i)).to_have_attribute("target", "_blank")
        expect(buttons.nth(i)).to_have_attribute("rel", "noopener noreferrer")
    web.screenshot(member, "work-notices-recipient-card")

    # The OA card: header colour and text, form rows, content, author, the details link.
    member.goto(f"/work-notices/{oa_id}")
    oa = member.get_by_test_id("wn-oa-card")
    expect(oa.locator(".zt-wn-oa-head")).to_have_text("请假审批")
    expect(oa.locator(".zt-wn-oa-head")).to_have_css("background-color", "rgb(31, 122, 77)")
    expect(oa.locator(".zt-wn-oa-row")).to_have_count(2)
    expect(oa.locator(".zt-wn-oa-row").last).to_contain_text("12月1日至12月3日")
    expect(oa.locator(".zt-wn-oa-author")).to_have_text("人事处")
    expect(oa.get_by_role("link")).to_have_attribute("href", "https://oa.example.gov.cn/leave/9")
    web.screenshot(member, "work-notices-recipient-oa")

    # The link card (its picture is on another host, which the CSP would block: an icon instead).
    phone_member.goto(f"/work-notices/{link_id}")
    link = phone_member.get_by_test_id("wn-link-card")
    expect(link).to_have_attribute("href", "https://example.gov.cn/budget")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link.locator("img")).to_have_count(0)
    web.screenshot(phone_member, "work-notices-recipient-link-phone")

    # Whatever an answer carries, no script URL reaches an href and no HTML is injected.
    member.route(f"**/api/v1/work-notices/{HOSTILE['id']}", lambda route: route.fulfill(json=HOSTILE))
    member.goto(f"/work-notices/{HOSTILE['id']}")
    hostile = member.get_by_test_id("wn-action-card")
    expect(hostile.get_by_test_id("wn-card-button")).to_have_count(2)
    expect(hostile.locator("a")).to_have_count(0)
    expect(hostile.locator("img")).to_have_count(0)
    expect(hostile).to_contain_text("<img src=x onerror=alert(1)>")


def _compose_other_formats(web: Any, admin: Any) -> None:
    """The action card's and the OA message's forms, with their previews; a script URL is refused."""
    admin.goto("/admin/work_notices")
    admin.get_by_test_id("wn-compose-open").click()
    drawer = admin.get_by_test_id("wn-compose-drawer")
    drawer.get_by_test_id("wn-type").get_by_text("卡片", exact=True).click()
    drawer.get_by_test_id("wn-card-title").fill("请审批：办公用品采购")
    drawer.get_by_test_id("wn-card-markdown").fill("**申请人**：吴收文\n\n金额：1,280 元")
    drawer.get_by_text("多个按钮", exact=True).click()
    titles = drawer.get_by_test_id("wn-button-title")
    urls = drawer.get_by_test_id("wn-button-url")
    titles.nth(0).fill("同意")
    urls.nth(0).fill("https://oa.example.gov.cn/approve?id=7")
    titles.nth(1).fill("拒绝")
    urls.nth(1).fill("javascript:alert(1)")
    posted: list[str] = []
    admin.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    drawer.get_by_test_id("wn-send").click()
    expect(drawer.get_by_text("请填写以 http:// 或 https:// 开头的链接")).to_be_visible()
    assert not any(url.endswith("/api/v1/org/work-notices") for url in posted)
    preview = drawer.get_by_test_id("wn-preview")
    expect(preview.get_by_test_id("wn-card-button")).to_have_count(2)
    expect(preview.locator("a[href^='javascript']")).to_have_count(0)
    urls.nth(1).fill("https://oa.example.gov.cn/reject?id=7")
    expect(preview.get_by_test_id("wn-card-button").nth(1)).to_have_attribute(
        "href", "https://oa.example.gov.cn/reject?id=7"
    )
    web.screenshot(admin, "work-notices-compose-card")

    drawer.get_by_test_id("wn-type").get_by_text("OA 消息", exact=True).click()
    drawer.get_by_test_id("wn-oa-head-text").fill("请假审批")
    drawer.get_by_test_id("wn-oa-title").fill("吴收文的请假申请")
    drawer.get_by_test_id("wn-oa-form-key").first.fill("请假类型：")
    drawer.get_by_test_id("wn-oa-form-value").first.fill("年假")
    drawer.get_by_test_id("wn-oa-content").fill("已由科长审核，请人事处复核。")
    drawer.get_by_test_id("wn-oa-author").fill("人事处")
    expect(preview.get_by_test_id("wn-oa-card")).to_contain_text("请假类型：")
    web.screenshot(admin, "work-notices-compose-oa")


PAGING_ORG = "工作通知翻页测试局"
PAGING_ADMIN = ("13700000611", "郑督办")
PAGING_MEMBER = ("13700000612", "王承办")
PAGE = 50  # notices per page in both lists


def test_older_work_notices_load_on_demand(web: Any) -> None:
    """Both lists show the newest 50 and load the older ones with 加载更早的通知."""
    create_org(web.server, PAGING_ORG, PAGING_ADMIN[0], PAGING_ADMIN[1])
    admin = login_with_totp_setup(web, PAGING_ADMIN[0])
    member_id = api_post(
        web, admin.context, "/api/v1/org/members", {"mobile": PAGING_MEMBER[0], "name": PAGING_MEMBER[1]}
    )["id"]
    for number in range(1, PAGE + 2):
        text = {"msgtype": "text", "text": {"content": f"第{number}期督办通报"}}
        api_post(web, admin.context, "/api/v1/org/work-notices", {"user_ids": [member_id], "msg": text})

    admin.goto("/admin/work_notices")
    rows = admin.get_by_test_id("admin-work-notices").locator("tbody tr.ant-table-row")
    _page_back(admin, rows, "wn-more")

    member_context = web.context()
    web.api_login(member_context, PAGING_MEMBER[0])
    member = member_context.new_page()
    member.goto("/work-notices")
    _page_back(member, member.get_by_test_id("wn-received-item"), "wn-received-more")


def _page_back(page: Any, items: Any, more_button: str) -> None:
    """The newest 50 of the 51 notices, then all of them after 加载更早的通知, which then goes."""
    expect(items).to_have_count(PAGE)
    expect(items.first).to_contain_text(f"第{PAGE + 1}期督办通报")
    page.get_by_test_id(more_button).click()
    expect(items).to_have_count(PAGE + 1)
    expect(items.last).to_contain_text("第1期督办通报")
    expect(page.get_by_test_id(more_button)).to_have_count(0)
