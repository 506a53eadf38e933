"""Chat (即时通讯) in two and three browsers at once: a direct chat started from the member picker,
messages and unread badges arriving live, read receipts that turn from "1人未读" to "全部已读" while
the sender watches, a group with an @mention and its read list, a recall that disappears on the
other side, an image with its thumbnail, and the phone layout; "N人未读" counting down from the read
events alone, the read list of a 60-member group loading page by page as it scrolls (desktop and
phone), a group owner's recall named on every side, the 发消息 button of the address book's card,
online dots, the composer's limits, a search hit far back in the history opened around it, and a
pinned conversation following on the person's other device."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from browser_steps import api_post

pytestmark = pytest.mark.browser

# Demo members no other browser test logs in with (each number gets one SMS code a minute).
DIRECT = ("13800000020", "13800000021")
GROUP = ("13800000022", "13800000023", "13800000024")
RECALL = ("13800000025", "13800000026")
IMAGE = ("13800000027", "13800000028")
# The server sends at most 30 SMS codes an hour to one IP address, and the whole browser suite
# comes from 127.0.0.1: the later tests share three people, each logged in once (see _person).
COUNTDOWN = ("13800000029", "13800000030", "13800000031")
CARD = (COUNTDOWN[1], COUNTDOWN[2])
JUMP = (COUNTDOWN[0], COUNTDOWN[2])

# Session cookies of the people logged in so far, by server and mobile number.
_SESSIONS: dict[tuple[str, str], list[Any]] = {}


def _person(web: Any, mobile: str, **options: Any) -> tuple[Any, str]:
    """A logged-in browser context and the person's name. A person logs in once (one SMS code);
    later contexts take the same session's cookies, like a second browser tab."""
    context = web.context(**options)
    key = (web.server.url, mobile)
    if key in _SESSIONS:
        context.add_cookies(_SESSIONS[key])
    else:
        web.api_login(context, mobile)
        _SESSIONS[key] = context.cookies()
    me = context.request.get("/api/v1/me")
    assert me.ok, me.text()
    return context, me.json()["name"]


def _membership_id(context: Any, name: str) -> str:
    """A colleague's membership id, found in the address book the way the picker finds them."""
    found = context.request.get("/api/v1/directory/search", params={"q": name}).json()["members"]
    ids = [member["id"] for member in found if member["name"] == name]
    assert len(ids) == 1, f"the demo should have exactly one {name}: {found}"
    return str(ids[0])


def _everyone_online(page: Any, asked: list[list[str]]) -> None:
    """Answers the page's POST /im/presence with everyone it asks about online (the server marks
    nobody online yet: its WebSocket does not report connections to the presence registry), and
    records whom it asked about."""

    def answer(route: Any) -> None:
        ids = list(route.request.post_data_json["membership_ids"])
        asked.append(ids)
        route.fulfill(json={"online": ids})

    page.route("**/api/v1/im/presence", answer)


def _open_chat(page: Any) -> None:
    page.goto("/chat")
    pane = page.get_by_test_id("conversation-pane")
    expect(pane).to_have_attribute("data-connection", "open")
    expect(pane).to_have_attribute("data-loaded", "true")


def _send(page: Any, text: str) -> None:
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")


def _row(page: Any, title: str) -> Any:
    return page.get_by_test_id("conversation-row").filter(
        has=page.get_by_test_id("conversation-title").get_by_text(title, exact=True)
    )


def _own(page: Any, text: str) -> Any:
    return page.locator('[data-testid="message"][data-own="true"]').filter(has_text=text)


def _theirs(page: Any, text: str) -> Any:
    return page.locator('[data-testid="message"][data-own="false"]').filter(has_text=text)


def _image(page: Any, *, own: bool) -> Any:
    message = page.locator(f'[data-testid="message"][data-own="{"true" if own else "false"}"]')
    return message.get_by_test_id("message-image").locator("img")


def _png(width: int = 96, height: int = 64) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (22, 119, 255))
    ImageDraw.Draw(image).rectangle((12, 12, width - 12, height - 12), fill=(255, 196, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_two_people_chat_live_with_read_receipts(web: Any) -> None:
    alice_context, alice = _person(web, DIRECT[0])
    bob_context, bob = _person(web, DIRECT[1])
    bob_id = _membership_id(alice_context, bob)
    pa, pb = alice_context.new_page(), bob_context.new_page()
    _open_chat(pa)
    _open_chat(pb)
    web.screenshot(pb, "chat-list-zh")

    # Alice starts a direct chat with Bob from the member picker.
    pa.get_by_test_id("new-chat").click()
    pa.get_by_test_id("new-direct").click()
    pa.get_by_test_id("picker-search").fill(bob)
    person = pa.locator(f'[data-testid="picker-member"][data-member-id="{bob_id}"]')
    expect(person).to_be_visible()
    web.screenshot(pa, "chat-picker-zh")
    person.click()
    expect(pa).to_have_url(re.compile(r"/chat/[0-9A-Za-z]+$"))
    expect(pa.get_by_test_id("conversation-header-title")).to_have_text(bob)

    _send(pa, "李处长好，明天上午的会议材料已经准备好了。")
    sent = _own(pa, "会议材料已经准备好了")
    expect(sent.get_by_test_id("receipt")).to_have_text("1人未读")

    # Bob sees the new conversation arrive with its unread badge, without reloading.
    row = _row(pb, alice)
    expect(row.get_by_test_id("unread-badge")).to_have_text("1")
    expect(row).to_contain_text("会议材料已经准备好了")
    expect(pb.get_by_test_id("side-nav").get_by_test_id("nav-unread")).to_be_visible()
    web.screenshot(pb, "chat-unread-zh")

    row.click()
    expect(_theirs(pb, "会议材料已经准备好了")).to_be_visible()
    expect(row.get_by_test_id("unread-badge")).to_have_count(0)
    # …and Alice watches her receipt turn to read.
    expect(sent.get_by_test_id("receipt")).to_have_text("全部已读")

    # Bob types (Alice sees that he does), then replies on two lines.
    box = pb.get_by_test_id("composer-input")
    box.press_sequentially("收到")
    expect(pa.get_by_test_id("typing")).to_contain_text(bob)
    box.press("Shift+Enter")
    box.press_sequentially("我看一下再回复您")
    box.press("Enter")
    reply = _theirs(pa, "我看一下再回复您")
    expect(reply).to_be_visible()
    expect(reply.get_by_test_id("bubble")).to_have_text(re.compile(r"收到\s*我看一下再回复您"))
    # Alice has the conversation open, so Bob's reply is read at once.
    expect(_own(pb, "我看一下再回复您").get_by_test_id("receipt")).to_have_text("全部已读")

    # The read list names who has read the message.
    sent.get_by_test_id("receipt").click()
    reads = pa.get_by_test_id("read-list")
    expect(pa.get_by_test_id("reads-tab-read")).to_have_text("已读（1）")
    pa.get_by_test_id("reads-tab-read").click()
    expect(reads.get_by_test_id("read-people")).to_contain_text(bob)
    pa.keyboard.press("Escape")
    expect(reads).to_be_hidden()

    web.screenshot(pa, "chat-conversation-zh")
    web.screenshot(pb, "chat-conversation-reply-zh")

    # Message search finds the message and jumps into the conversation.
    pb.get_by_test_id("chat-search").fill("会议材料")
    hit = pb.get_by_test_id("search-hit").first
    expect(hit).to_contain_text("会议材料")
    web.screenshot(pb, "chat-search-zh")
    hit.click()
    expect(pb.get_by_test_id("chat-search")).to_have_value("")
    expect(_theirs(pb, "会议材料已经准备好了")).to_be_visible()


def test_group_with_a_mention_and_its_read_list(web: Any) -> None:
    owner_context, owner = _person(web, GROUP[0])
    member_context, member = _person(web, GROUP[1])
    other_context, other = _person(web, GROUP[2])
    member_id = _membership_id(owner_context, member)
    other_id = _membership_id(owner_context, other)
    po, pm, px = owner_context.new_page(), member_context.new_page(), other_context.new_page()
    for page in (po, pm, px):
        _open_chat(page)

    po.get_by_test_id("new-chat").click()
    po.get_by_test_id("new-group").click()
    po.get_by_test_id("group-name").fill("专项工作组")
    for name, membership_id in ((member, member_id), (other, other_id)):
        po.get_by_test_id("picker-search").fill(name)
        po.locator(f'[data-testid="picker-member"][data-member-id="{membership_id}"]').click()
    expect(po.get_by_test_id("picker-chosen")).to_contain_text(member)
    expect(po.get_by_test_id("picker-chosen")).to_contain_text(other)
    web.screenshot(po, "chat-new-group-zh")
    po.get_by_test_id("picker-confirm").click()
    expect(po.get_by_test_id("conversation-header-title")).to_contain_text("专项工作组")
    expect(po.get_by_test_id("system-line").first).to_contain_text("创建了群聊")

    # Both members hear of the group as soon as it exists.
    expect(_row(pm, "专项工作组")).to_be_visible()
    expect(_row(px, "专项工作组")).to_be_visible()

    # An @mention chosen from the picker that opens on "@".
    box = po.get_by_test_id("composer-input")
    box.press_sequentially("@" + member[0])
    option = po.get_by_test_id("mention-option").filter(has_text=member)
    expect(option).to_be_visible()
    web.screenshot(po, "chat-mention-picker-zh")
    option.click()
    box.press_sequentially("请在周五前汇总各科室的意见")
    with po.expect_request(lambda r: r.method == "POST" and r.url.endswith("/messages")) as request:
        box.press("Enter")
    body = request.value.post_data_json
    assert body["mentions"] == [member_id] and body["text"].startswith(f"@{member} "), body
    sent = _own(po, "汇总各科室的意见")
    expect(sent.get_by_test_id("receipt")).to_have_text("2人未读")

    mentioned = _row(pm, "专项工作组")
    expect(mentioned).to_contain_text("[有人@我]")
    expect(mentioned.get_by_test_id("unread-badge")).to_be_visible()
    mentioned.click()
    expect(_theirs(pm, "汇总各科室的意见").locator(".zt-msg-at")).to_have_text(f"@{member}")
    expect(sent.get_by_test_id("receipt")).to_have_text("1人未读")

    # Who has read it and who has not; the open list follows the third member's reading.
    sent.get_by_test_id("receipt").click()
    reads = po.get_by_test_id("read-list")
    expect(po.get_by_test_id("reads-tab-unread")).to_have_text("未读（1）")
    expect(reads.get_by_test_id("unread-people")).to_contain_text(other)
    expect(reads.get_by_test_id("unread-people")).not_to_contain_text(member)
    po.get_by_test_id("reads-tab-read").click()
    expect(reads.get_by_test_id("read-people")).to_contain_text(member)
    web.screenshot(po, "chat-read-list-zh")

    _row(px, "专项工作组").click()
    expect(_theirs(px, "汇总各科室的意见")).to_be_visible()
    expect(po.get_by_test_id("reads-tab-read")).to_have_text("已读（2）")
    expect(po.get_by_test_id("reads-tab-unread")).to_have_text("未读（0）")
    po.keyboard.press("Escape")
    expect(sent.get_by_test_id("receipt")).to_have_text("全部已读")

    # The group's settings: the owner and the members.
    po.get_by_test_id("open-settings").click()
    settings = po.get_by_test_id("conversation-settings")
    expect(settings.get_by_test_id("chat-member")).to_have_count(3)
    owner_row = settings.get_by_test_id("chat-member").filter(has_text=owner)
    expect(owner_row.get_by_test_id("rank-owner")).to_be_visible()
    expect(settings.get_by_test_id("group-switches")).to_be_visible()
    web.screenshot(po, "chat-group-settings-zh")


def test_a_recalled_message_disappears_for_the_other_side(web: Any) -> None:
    alice_context, alice = _person(web, RECALL[0])
    bob_context, bob = _person(web, RECALL[1])
    bob_id = _membership_id(alice_context, bob)
    opened = alice_context.request.post(
        "/api/v1/im/conversations/direct",
        data={"membership_id": bob_id},
        headers=web.csrf_headers(alice_context),
    )
    assert opened.ok, opened.text()
    conversation_id = opened.json()["id"]
    pa, pb = alice_context.new_page(), bob_context.new_page()
    _open_chat(pb)
    pa.goto(f"/chat/{conversation_id}")
    expect(pa.get_by_test_id("conversation-header-title")).to_have_text(bob)

    _send(pa, "这份名单有误，请以附件为准")
    _row(pb, alice).click()
    expect(_theirs(pb, "这份名单有误")).to_be_visible()

    message = _own(pa, "这份名单有误")
    message.get_by_test_id("bubble").hover()
    message.get_by_test_id("action-more").click()
    pa.locator("[data-testid=action-recall]:visible").click()
    pa.get_by_test_id("recall-confirm").click()
    expect(pa.get_by_test_id("recall-marker")).to_have_text("你撤回了一条消息")

    # Gone on the other side too, live, with a marker in its place.
    expect(pb.get_by_text("这份名单有误")).to_have_count(0)
    expect(pb.get_by_test_id("recall-marker")).to_have_text(f"“{alice}”撤回了一条消息")
    expect(_row(pb, alice)).to_contain_text(f"“{alice}”撤回了一条消息")
    web.screenshot(pb, "chat-recalled-zh")


def test_an_image_with_its_thumbnail_on_a_phone(web: Any, tmp_path: Any) -> None:
    alice_context, alice = _person(web, IMAGE[0])
    bob_context, bob = _person(web, IMAGE[1], phone=True)
    bob_id = _membership_id(alice_context, bob)
    opened = alice_context.request.post(
        "/api/v1/im/conversations/direct",
        data={"membership_id": bob_id},
        headers=web.csrf_headers(alice_context),
    )
    assert opened.ok, opened.text()
    conversation_id = opened.json()["id"]
    pa, pb = alice_context.new_page(), bob_context.new_page()
    _open_chat(pb)
    pa.goto(f"/chat/{conversation_id}")
    expect(pa.get_by_test_id("conversation-header-title")).to_have_text(bob)

    picture = tmp_path / "现场照片.png"
    picture.write_bytes(_png())
    with pa.expect_response(lambda r: "/files/upload" in r.url) as uploaded:
        pa.get_by_test_id("image-input").set_input_files(str(picture))
    assert uploaded.value.status == 201, uploaded.value.text()
    assert uploaded.value.json()["has_thumbnail"] is True
    mine = _image(pa, own=True)
    expect(mine).to_be_visible()
    expect(mine).to_have_attribute("src", re.compile(r"/api/v1/im/files/\w+\?thumbnail=true$"))
    pa.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=mine.element_handle())
    expect(pa.get_by_test_id("pending-message")).to_have_count(0)
    web.screenshot(pa, "chat-image-zh")

    # On the phone: the list, then the conversation as a screen of its own, and back.
    row = _row(pb, alice)
    expect(row).to_contain_text("[图片]")
    expect(pb.get_by_test_id("bottom-nav").get_by_test_id("nav-unread")).to_be_visible()
    width = pb.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px screen"
    web.screenshot(pb, "chat-phone-list-zh")
    row.tap()
    expect(pb.get_by_test_id("page-chat")).to_have_attribute("data-view", "conversation")
    theirs = _image(pb, own=False)
    expect(theirs).to_be_visible()
    pb.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=theirs.element_handle())
    # The conversation covers the app's bars; its composer sits at the bottom of the screen.
    covered = pb.evaluate("document.elementFromPoint(195, 835)?.closest('.zt-chat-phone-conv') !== null")
    assert covered, "the bottom navigation shows through the conversation"
    box = pb.get_by_test_id("composer").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844 + 0.5
    _send(pb, "照片收到，很清楚👍")
    expect(_theirs(pa, "照片收到")).to_be_visible()
    web.screenshot(pb, "chat-phone-conversation-zh")
    pb.get_by_test_id("chat-back").tap()
    expect(pb.get_by_test_id("page-chat")).to_have_attribute("data-view", "list")
    expect(_row(pb, alice)).to_contain_text("照片收到")


def test_unread_counts_down_as_each_member_reads(web: Any) -> None:
    owner_context, owner = _person(web, COUNTDOWN[0])
    first_context, first = _person(web, COUNTDOWN[1])
    second_context, second = _person(web, COUNTDOWN[2])
    members = [_membership_id(owner_context, first), _membership_id(owner_context, second)]
    group = api_post(
        web,
        owner_context,
        "/api/v1/im/conversations/group",
        {"name": "季度总结审阅组", "member_ids": members},
    )
    po, p1, p2 = owner_context.new_page(), first_context.new_page(), second_context.new_page()
    asked: list[list[str]] = []
    _everyone_online(po, asked)
    _open_chat(p1)
    _open_chat(p2)
    po.goto(f"/chat/{group['id']}")
    expect(po.get_by_test_id("conversation-pane")).to_have_attribute("data-connection", "open")
    expect(po.get_by_test_id("conversation-header-title")).to_contain_text("季度总结审阅组")

    _send(po, "请各位审阅第三季度工作总结")
    sent = _own(po, "第三季度工作总结")
    receipt = sent.get_by_test_id("receipt")
    expect(receipt).to_have_text("2人未读")
    # From here on the counts move with the read events alone: nothing is fetched again.
    fetched: list[str] = []
    po.on(
        "request",
        lambda r: (
            fetched.append(r.url)
            if r.method == "GET" and ("/messages" in r.url or "/reads" in r.url)
            else None
        ),
    )

    _row(p1, "季度总结审阅组").click()
    expect(_theirs(p1, "第三季度工作总结")).to_be_visible()
    expect(receipt).to_have_text("1人未读")

    # The read list, open while the second member reads: they move from 未读 to 已读.
    receipt.click()
    reads = po.get_by_test_id("read-list")
    expect(po.get_by_test_id("reads-tab-unread")).to_have_text("未读（1）")
    expect(po.get_by_test_id("reads-tab-read")).to_have_text("已读（1）")
    expect(reads.get_by_test_id("unread-people")).to_contain_text(second)
    _row(p2, "季度总结审阅组").click()
    expect(_theirs(p2, "第三季度工作总结")).to_be_visible()
    expect(po.get_by_test_id("reads-tab-unread")).to_have_text("未读（0）")
    expect(po.get_by_test_id("reads-tab-read")).to_have_text("已读（2）")
    expect(reads.get_by_test_id("unread-people")).to_have_count(0)  # the 暂无 of an empty tab
    assert len([url for url in fetched if "/reads" in url]) == 1, fetched  # the 未读 tab's one page
    po.get_by_test_id("reads-tab-read").click()
    expect(reads.get_by_test_id("read-people")).to_contain_text(first)
    expect(reads.get_by_test_id("read-people")).to_contain_text(second)
    po.keyboard.press("Escape")
    expect(reads).to_be_hidden()
    expect(receipt).to_have_text("全部已读")
    assert [url for url in fetched if re.search(r"/conversations/\w+/messages", url)] == [], fetched
    reads_fetched = [url for url in fetched if "/reads" in url]
    assert len(reads_fetched) == 2 and "tab=read" in reads_fetched[1], fetched

    # Opening the group's settings asks who of its members is online, and shows it.
    asked.clear()
    po.get_by_test_id("open-settings").click()
    settings = po.get_by_test_id("conversation-settings")
    expect(settings.get_by_test_id("chat-member")).to_have_count(3)
    expect(settings.get_by_test_id("member-online")).to_have_count(3)
    assert any(sorted(ids) == sorted([*members, _membership_id(owner_context, owner)]) for ids in asked), (
        asked
    )
    web.screenshot(po, "chat-group-presence-zh")
    po.keyboard.press("Escape")
    expect(po.get_by_test_id("settings-drawer")).to_be_hidden()

    # The owner recalls a member's message: each side is told who recalled whose message.
    _send(p1, "这条消息发错群了")
    wrong = _theirs(po, "这条消息发错群了")
    expect(wrong).to_be_visible()
    expect(_theirs(p2, "这条消息发错群了")).to_be_visible()
    wrong.get_by_test_id("bubble").hover()
    wrong.get_by_test_id("action-more").click()
    po.locator("[data-testid=action-recall]:visible").click()
    po.get_by_test_id("recall-confirm").click()
    expect(po.get_by_test_id("recall-marker")).to_have_text(f"你撤回了“{first}”的一条消息")
    expect(p1.get_by_test_id("recall-marker")).to_have_text(f"群主或管理员“{owner}”撤回了你的一条消息")
    expect(p2.get_by_test_id("recall-marker")).to_have_text(f"群主或管理员“{owner}”撤回了“{first}”的一条消息")
    expect(p2.get_by_text("这条消息发错群了")).to_have_count(0)
    expect(_row(p2, "季度总结审阅组")).to_contain_text(f"群主或管理员“{owner}”撤回了“{first}”的一条消息")
    web.screenshot(p2, "chat-recalled-by-owner-zh")


def _department_member_ids(context: Any, names: set[str]) -> list[str]:
    departments = context.request.get("/api/v1/directory/tree").json()["departments"]
    ids: list[str] = []
    for department in departments:
        if department["name"] in names:
            path = f"/api/v1/directory/departments/{department['id']}/members"
            ids += [
                member["id"] for member in context.request.get(path, params={"limit": 100}).json()["items"]
            ]
    return ids


def test_the_read_list_of_a_big_group_loads_as_it_scrolls(web: Any) -> None:
    owner_context, _ = _person(web, COUNTDOWN[0])
    # Sixty colleagues no browser test logs in as: the demo's 信息化处 and 行政审批处 sections.
    members = _department_member_ids(
        owner_context, {"网络安全科", "数据管理科", "应用开发科", "受理科", "审核科"}
    )
    assert len(members) == 60, members
    group = api_post(
        web,
        owner_context,
        "/api/v1/im/conversations/group",
        {"name": "年度总结报送群", "member_ids": members},
    )
    path = f"/api/v1/im/conversations/{group['id']}/messages"
    api_post(web, owner_context, path, {"text": "请各位于周五前报送年度总结"})

    page = owner_context.new_page()
    page.goto(f"/chat/{group['id']}")
    expect(page.get_by_test_id("conversation-pane")).to_have_attribute("data-connection", "open")
    receipt = _own(page, "报送年度总结").get_by_test_id("receipt")
    expect(receipt).to_have_text("60人未读")
    receipt.click()
    # 未读 first, with both counts, and the first page of 50 by name.
    expect(page.get_by_test_id("reads-tab-unread")).to_have_text("未读（60）")
    expect(page.get_by_test_id("reads-tab-read")).to_have_text("已读（0）")
    unread = page.get_by_test_id("unread-people")
    expect(unread).to_have_attribute("data-loaded", "50")
    names = unread.get_by_test_id("read-name").all_inner_texts()
    assert names == sorted(names), names
    web.screenshot(page, "chat-read-list-paged-zh")
    # Scrolling near the bottom brings the rest.
    unread.evaluate("node => { node.scrollTop = node.scrollHeight; }")
    expect(unread).to_have_attribute("data-loaded", "60")
    expect(unread.get_by_test_id("read-person")).to_have_count(60)
    expect(page.get_by_test_id("reads-more")).to_have_count(0)
    page.get_by_test_id("reads-tab-read").click()
    expect(page.get_by_test_id("read-list")).to_contain_text("暂无")

    # On a phone the list takes the screen's width and scrolls the same way.
    phone_context, _ = _person(web, COUNTDOWN[0], phone=True)
    phone = phone_context.new_page()
    phone.goto(f"/chat/{group['id']}")
    expect(phone.get_by_test_id("page-chat")).to_have_attribute("data-view", "conversation")
    _own(phone, "报送年度总结").get_by_test_id("receipt").tap()
    expect(phone.get_by_test_id("reads-tab-unread")).to_have_text("未读（60）")
    expect(phone.get_by_test_id("read-person").first).to_be_visible()
    web.screenshot(phone, "chat-phone-read-list-zh")
    listed = phone.get_by_test_id("unread-people")
    listed.evaluate("node => { node.scrollTop = node.scrollHeight; }")
    expect(listed).to_have_attribute("data-loaded", "60")


def test_message_button_on_a_member_card(web: Any, tmp_path: Any) -> None:
    alice_context, alice = _person(web, CARD[0])
    bob_context, bob = _person(web, CARD[1], phone=True)
    alice_id = _membership_id(alice_context, alice)
    bob_id = _membership_id(alice_context, bob)
    pa, pb = alice_context.new_page(), bob_context.new_page()
    asked: list[list[str]] = []
    _everyone_online(pa, asked)

    # On Bob's phone: Alice's card, 发消息, and the conversation opens as a screen of its own.
    pb.goto(f"/contacts?member={alice_id}")
    expect(pb.get_by_test_id("member-card-name")).to_have_text(alice)
    button = pb.get_by_test_id("member-message")
    expect(button).to_have_text("发消息")
    web.screenshot(pb, "contacts-phone-card-message-zh")
    button.tap()
    expect(pb).to_have_url(re.compile(r"/chat/[0-9A-Za-z]+$"))
    conversation_id = pb.url.rsplit("/", 1)[1]
    expect(pb.get_by_test_id("page-chat")).to_have_attribute("data-view", "conversation")
    expect(pb.get_by_test_id("conversation-header-title")).to_have_text(alice)

    # Alice's own card has no such button; Bob's opens the same conversation, with Bob online.
    pa.goto(f"/contacts?member={alice_id}")
    expect(pa.get_by_test_id("member-card-name")).to_have_text(alice)
    expect(pa.get_by_test_id("member-message")).to_have_count(0)
    pa.goto(f"/contacts?member={bob_id}")
    expect(pa.get_by_test_id("member-card-name")).to_have_text(bob)
    web.screenshot(pa, "contacts-card-message-zh")
    pa.get_by_test_id("member-message").click()
    expect(pa).to_have_url(re.compile(rf"/chat/{conversation_id}$"))
    expect(pa.get_by_test_id("conversation-header-title")).to_have_text(bob)
    expect(pa.get_by_test_id("presence")).to_have_text("在线")
    expect(_row(pa, bob).get_by_test_id("online-dot")).to_be_visible()
    assert [bob_id] in asked, asked
    _send(pa, "你好，通讯录里找到你了")
    expect(_theirs(pb, "通讯录里找到你了")).to_be_visible()
    web.screenshot(pb, "chat-phone-from-card-zh")

    # The composer counts down to the organisation's limit and will not send more.
    policy = alice_context.request.get("/api/v1/im/policy").json()
    limit = int(policy["max_text_chars"])
    box = pa.get_by_test_id("composer-input")
    box.fill("文" * (limit - 10))
    expect(pa.get_by_test_id("composer-count")).to_have_text(f"{limit - 10}/{limit}")
    box.fill("文" * (limit + 3))
    expect(pa.get_by_test_id("composer-count")).to_have_text("超出 3 字")
    expect(pa.get_by_test_id("send-button")).to_be_disabled()
    web.screenshot(pa, "chat-composer-limit-zh")
    box.fill("")
    expect(pa.get_by_test_id("composer-count")).to_have_count(0)

    # A file over the upload limit is refused here, before any upload.
    big = tmp_path / "扫描件合集.zip"
    with big.open("wb") as handle:
        handle.truncate(int(policy["max_upload_bytes"]) + 1024 * 1024)
    uploads: list[str] = []
    pa.on("request", lambda r: uploads.append(r.url) if "/files/upload" in r.url else None)
    pa.get_by_test_id("file-input").set_input_files(str(big))
    expect(pa.locator(".ant-message")).to_contain_text(
        "“扫描件合集.zip”（21.0 MB）超过了单个文件 20.0 MB 的上限，未发送"
    )
    web.screenshot(pa, "chat-file-too-large-zh")
    expect(pa.get_by_test_id("pending-message")).to_have_count(0)
    assert uploads == [], uploads


def test_a_search_hit_far_back_opens_around_it(web: Any) -> None:
    reader_context, reader = _person(web, JUMP[0])
    writer_context, writer = _person(web, JUMP[1])
    opened = api_post(
        web,
        writer_context,
        "/api/v1/im/conversations/group",
        {"name": "进度通报组", "member_ids": [_membership_id(writer_context, reader)]},
    )
    conversation_id = opened["id"]
    for number in range(1, 111):
        text = "第40号进度通报：档案数字化验收通过" if number == 40 else f"第{number}号进度通报"
        api_post(web, writer_context, f"/api/v1/im/conversations/{conversation_id}/messages", {"text": text})

    page = reader_context.new_page()
    _open_chat(page)
    page.get_by_test_id("chat-search").fill("验收")
    hit = page.get_by_test_id("search-hit").filter(has_text="档案数字化")
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text(writer)
    hit.click()
    expect(page).to_have_url(re.compile(rf"/chat/{conversation_id}$"))

    # The page around the hit: the hit in view and highlighted, neither end of the history loaded.
    found = _theirs(page, "档案数字化验收通过")
    expect(found).to_be_in_viewport()
    expect(found).to_have_class(re.compile("is-highlighted"))
    seq = found.get_attribute("data-seq")
    history = page.get_by_test_id("message-list")
    expect(history).to_have_attribute("data-more-after", "true")
    expect(_theirs(page, "第110号进度通报")).to_have_count(0)
    expect(_theirs(page, "第1号进度通报")).to_have_count(0)
    expect(page.get_by_test_id("latest-button")).to_be_visible()
    web.screenshot(page, "chat-search-jump-zh")

    # Scrolling up loads the older pages …
    for _ in range(10):
        if _theirs(page, "第1号进度通报").count() > 0:
            break
        history.evaluate("node => { node.scrollTop = 0; }")
        page.wait_for_timeout(300)
    expect(_theirs(page, "第1号进度通报")).to_have_count(1)
    # … and down the newer ones, until the newest; then live messages arrive as usual.
    for _ in range(10):
        if history.get_attribute("data-more-after") == "false":
            break
        history.evaluate("node => { node.scrollTop = node.scrollHeight; }")
        page.wait_for_timeout(300)
    expect(history).to_have_attribute("data-more-after", "false")
    expect(_theirs(page, "第110号进度通报")).to_have_count(1)
    expect(page.get_by_test_id("latest-button")).to_have_count(0)
    expect(page.locator('[data-testid="message"]')).to_have_count(110)
    # The newest page came in below where the reader stopped: they scroll to the bottom to follow along.
    history.evaluate("node => { node.scrollTop = node.scrollHeight; }")
    expect(_theirs(page, "第110号进度通报")).to_be_in_viewport()
    page.wait_for_timeout(100)  # the scroll event that marks the reader at the bottom fires on the next frame
    api_post(
        web,
        writer_context,
        f"/api/v1/im/conversations/{conversation_id}/messages",
        {"text": "验收报告已归档"},
    )
    expect(_theirs(page, "验收报告已归档")).to_be_in_viewport()
    _send(page, "收到，辛苦了")
    expect(_own(page, "辛苦了")).to_be_in_viewport()

    # A hit that is loaded by now: scrolled to and highlighted in place.
    page.get_by_test_id("chat-search").fill("验收")
    page.get_by_test_id("search-hit").filter(has_text="档案数字化").click()
    expect(found).to_be_in_viewport()
    expect(found).to_have_class(re.compile("is-highlighted"))
    expect(history).to_have_attribute("data-more-after", "false")

    # A link to the message opens the page around it again; 回到最新消息 goes to the newest.
    page.goto(f"/chat/{conversation_id}?seq={seq}")
    expect(found).to_be_in_viewport()
    expect(history).to_have_attribute("data-more-after", "true")
    expect(page).to_have_url(re.compile(rf"/chat/{conversation_id}$"))
    page.get_by_test_id("latest-button").click()
    expect(history).to_have_attribute("data-more-after", "false")
    expect(_own(page, "辛苦了")).to_be_in_viewport()

    # Pinning the conversation that is last in the list: the person's other tab re-sorts at once.
    other = reader_context.new_page()
    _open_chat(other)
    titles = other.get_by_test_id("conversation-title")
    expect(titles.first).to_have_text("进度通报组")
    last = titles.all_inner_texts()[-1]
    assert last != "进度通报组"
    _row(page, last).click()
    page.get_by_test_id("open-settings").click()
    page.get_by_test_id("pin-switch").click()
    expect(titles.first).to_have_text(last)
    expect(_row(other, last).locator('[aria-label="已置顶"]')).to_be_visible()
    page.get_by_test_id("dnd-switch").click()
    expect(_row(other, last).locator('[aria-label="消息免打扰"]')).to_be_visible()
    web.screenshot(other, "chat-pinned-elsewhere-zh")
