"""The address book (通讯录): department tree, a department's members, instant search by name,
pinyin and initials, the member card with its audited full-number reveal, and the phone layout."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Demo members the other browser tests do not log in with (each number gets one SMS a minute).
SEARCHER = "13800000010"
PHONE_USER = "13800000011"
ROOT = "政通示范单位"


def _no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px screen"


def _search(page: Any, query: str) -> Any:
    with page.expect_response(lambda r: "/api/v1/directory/search" in r.url and r.ok):
        page.get_by_test_id("contacts-search").fill(query)
    results = page.get_by_test_id("search-results")
    expect(results).to_have_attribute("data-loading", "false")
    return results


def test_member_browses_the_tree_searches_and_reveals_a_mobile(web: Any) -> None:
    page = web.page()
    web.sms_login(page, SEARCHER)
    expect(page).to_have_url(re.compile(r"/chat$"))
    # An ordinary member has no admin console.
    expect(page.get_by_test_id("side-nav").get_by_role("menuitem", name="管理后台")).to_have_count(0)

    page.get_by_test_id("side-nav").get_by_role("menuitem", name="通讯录").click()
    expect(page).to_have_url(re.compile(r"/contacts$"))
    tree = page.get_by_test_id("dept-tree")
    root = tree.get_by_test_id("tree-dept").filter(has_text=ROOT)
    expect(root).to_contain_text("193")  # every member, counted in the root's subtree
    expect(page.get_by_test_id("dept-title")).to_have_text(ROOT)
    expect(page.get_by_test_id("watermark")).to_have_count(0)  # the demo has no watermark

    # A division: its head first, marked 主管, its sub-departments with counts, breadcrumbs.
    tree.get_by_test_id("tree-dept").filter(has_text="办公室").click()
    expect(page).to_have_url(re.compile(r"/contacts\?dept="))
    expect(page.get_by_test_id("dept-title")).to_have_text("办公室")
    expect(page.get_by_test_id("dept-breadcrumb")).to_contain_text(ROOT)
    subs = page.get_by_test_id("sub-dept")
    expect(subs).to_have_count(3)
    expect(subs.first).to_contain_text("综合科")
    expect(subs.first).to_contain_text("12")
    rows = page.get_by_test_id("member-row")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_test_id("head-tag")).to_have_text("主管")

    subs.first.click()
    expect(page.get_by_test_id("dept-title")).to_have_text("综合科")
    expect(page.get_by_test_id("member-list")).to_have_attribute("data-total", "12")
    expect(rows).to_have_count(12)
    expect(rows.first.get_by_test_id("head-tag")).to_be_visible()  # the head is listed first
    expect(page.get_by_test_id("member-list")).to_contain_text("李华")
    expect(page.get_by_test_id("dept-breadcrumb")).to_contain_text("办公室")
    web.screenshot(page, "contacts-tree-zh")

    # Instant search: pinyin, initials, and a department by name.
    results = _search(page, "zhang")
    members = results.get_by_test_id("search-members")
    expect(members).to_contain_text("张明")
    web.screenshot(page, "contacts-search-zh")
    results = _search(page, "zm")
    expect(results.get_by_test_id("search-members")).to_contain_text("张明")
    results = _search(page, "信息化")
    results.get_by_test_id("search-dept").filter(has_text="信息化处").click()
    expect(page.get_by_test_id("dept-title")).to_have_text("信息化处")
    expect(page.get_by_test_id("contacts-search")).to_have_value("")

    # The card: a masked mobile, and the full number on request (the server audits each reveal).
    results = _search(page, "zhangming")
    results.get_by_test_id("member-row").filter(has_text="张明").first.click()
    card = page.get_by_test_id("member-card")
    expect(card.get_by_test_id("member-card-name")).to_have_text("张明")
    expect(card.get_by_test_id("member-mobile")).to_contain_text("0001")
    expect(card.get_by_test_id("member-mobile")).not_to_contain_text(web.ADMIN)
    expect(card).to_contain_text(ROOT)
    reveal = card.get_by_test_id("reveal-mobile")
    expect(reveal).to_have_text("查看完整号码")
    card.get_by_label(re.compile("审计日志")).hover()
    expect(page.get_by_role("tooltip")).to_contain_text("审计日志")
    web.screenshot(page, "contacts-card-zh")
    with page.expect_response(lambda r: r.url.endswith("/mobile") and r.request.method == "POST") as revealed:
        reveal.click()
    assert revealed.value.status == 200, revealed.value.text()
    assert revealed.value.json() == {"mobile": "+86" + web.ADMIN} or revealed.value.json()["mobile"].endswith(
        web.ADMIN
    )
    expect(card.get_by_test_id("member-mobile-full")).to_contain_text(web.ADMIN)
    expect(card.get_by_test_id("reveal-mobile")).to_have_count(0)
    web.screenshot(page, "contacts-card-revealed-zh")

    # The card is in the URL: reloading keeps it open; closing it goes back to the list.
    page.reload()
    expect(page.get_by_test_id("member-card-name")).to_have_text("张明")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("member-card")).to_have_count(0)

    # In English: the page's own words follow the language; the data stays as it is.
    page.get_by_test_id("language-switch").click()
    page.get_by_role("menuitem", name="English").click()
    expect(page.get_by_test_id("page-contacts").get_by_role("heading", name="Contacts")).to_be_visible()
    expect(page.get_by_test_id("contacts-search")).to_have_attribute(
        "placeholder", "Search names, pinyin, job numbers, departments"
    )
    expect(page.get_by_test_id("search-results")).to_contain_text("People")
    web.screenshot(page, "contacts-en")


def test_phone_shows_tree_then_list_then_card(web: Any) -> None:
    page = web.page(phone=True)
    web.sms_login(page, PHONE_USER)
    expect(page).to_have_url(re.compile(r"/chat$"))
    page.get_by_test_id("bottom-nav").get_by_role("button", name="通讯录").tap()
    expect(page).to_have_url(re.compile(r"/contacts$"))
    contacts = page.get_by_test_id("page-contacts")
    expect(contacts).to_have_attribute("data-view", "tree")
    tree = page.get_by_test_id("dept-tree")
    expect(tree.get_by_test_id("tree-dept").filter(has_text=ROOT)).to_contain_text("193")
    expect(page.get_by_test_id("contacts-search")).to_be_visible()
    _no_horizontal_scroll(page)
    web.screenshot(page, "phone-contacts-tree-zh")

    tree.get_by_test_id("tree-dept").filter(has_text="信息化处").tap()
    expect(contacts).to_have_attribute("data-view", "list")
    expect(page.get_by_test_id("dept-title")).to_have_text("信息化处")
    page.get_by_test_id("sub-dept").filter(has_text="网络安全科").tap()
    expect(page.get_by_test_id("dept-title")).to_have_text("网络安全科")
    rows = page.get_by_test_id("member-row")
    expect(rows).to_have_count(11)
    _no_horizontal_scroll(page)
    box = rows.first.bounding_box()
    assert box is not None and box["height"] >= 44, box  # comfortably tappable
    web.screenshot(page, "phone-contacts-list-zh")

    name = rows.nth(1).locator(".zt-dir-row-name").inner_text().strip()
    rows.nth(1).tap()
    expect(contacts).to_have_attribute("data-view", "card")
    expect(page.get_by_test_id("member-card-name")).to_have_text(name)
    expect(page.get_by_test_id("member-card")).to_contain_text("网络安全科")
    _no_horizontal_scroll(page)
    web.screenshot(page, "phone-contacts-card-zh")

    # Back: the list, then the tree (the browser's back button works the same way).
    page.get_by_test_id("contacts-back").tap()
    expect(contacts).to_have_attribute("data-view", "list")
    expect(page.get_by_test_id("dept-title")).to_have_text("网络安全科")
    page.go_back()
    expect(page.get_by_test_id("dept-title")).to_have_text("信息化处")
    page.get_by_test_id("contacts-back").tap()
    expect(contacts).to_have_attribute("data-view", "tree")

    # Search on the phone: initials find people, a tap opens the card.
    with page.expect_response(lambda r: "/api/v1/directory/search" in r.url and r.ok):
        page.get_by_test_id("contacts-search").fill("lihua")
    results = page.get_by_test_id("search-results")
    expect(results.get_by_test_id("member-row").filter(has_text="李华")).to_have_count(1)
    _no_horizontal_scroll(page)
    web.screenshot(page, "phone-contacts-search-zh")
    results.get_by_test_id("member-row").filter(has_text="李华").tap()
    expect(page.get_by_test_id("member-card-name")).to_have_text("李华")
