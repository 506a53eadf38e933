"""Notifications in the browser: 设置 → 通知设置 (channels per kind of notice, quiet hours, push to
this browser) on desktop and phone, and the web client's service worker, which shows a notice that
arrives by Web Push and opens the notice's page when the notification is clicked.

Chromium's PushManager.subscribe needs Google's push service, which this machine cannot reach (in
a normal profile the call never answers; in Playwright's contexts, which Chrome treats as
incognito, it fails at once): the switch shows that failure, and the push itself is handed to the
service worker through the DevTools protocol (ServiceWorker.deliverPushMessage), as the push
service would. A headless
browser has no notification to click, so the click is the worker's own `notificationclick`
event, dispatched to it."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Demo members no other browser test logs in as (a number gets one SMS code a minute).
SETTINGS_MEMBER, PHONE_MEMBER, WORKER_MEMBER = "13800000070", "13800000071", "13800000072"
NOTICE = {
    "title": "系统维护通知",
    "body": "本周六 22:00 至 24:00 系统维护。",
    "link": "/settings/devices",
    "tag": "N1",
}

_REGISTER_THE_WORKER = """() => navigator.serviceWorker.register("/sw.js")
  .then(() => navigator.serviceWorker.ready)
  .then((registration) => registration.scope)"""
_INCOGNITO_PUSH = "does not support the Push API in incognito mode"
_CLICK_THE_NOTIFICATION = """async () => {
  const [notification] = await self.registration.getNotifications();
  const event = new NotificationEvent("notificationclick", { notification });
  const pending = [];
  Object.defineProperty(event, "waitUntil", { value: (promise) => pending.push(promise) });
  self.dispatchEvent(event);
  await Promise.all(pending);
  return (await self.registration.getNotifications()).length;
}"""


def _open_settings(web: Any, mobile: str, **options: Any) -> Any:
    """A logged-in page on 设置 → 通知设置, allowed to show notifications."""
    context = web.context(**options)
    context.grant_permissions(["notifications"], origin=web.server.url)
    web.api_login(context, mobile)
    page = context.new_page()
    page.goto("/settings/notifications")
    expect(page.get_by_test_id("notify-settings")).to_be_visible()
    return page


def _registration_id(page: Any, cdp: Any, scope: str) -> str:
    found: dict[str, str] = {}

    def seen(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"] == scope and not registration["isDeleted"]:
                found["id"] = registration["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", seen)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while "id" not in found and time.monotonic() < deadline:
        page.wait_for_timeout(100)  # lets Playwright hand over the protocol's events
    assert "id" in found, f"no service worker registered for {scope}"
    return found["id"]


def _shown_notifications(page: Any) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = page.evaluate(
        """() => navigator.serviceWorker.ready
             .then((registration) => registration.getNotifications())
             .then((all) => all.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })))"""
    )
    return shown


def test_the_settings_section_and_push_to_this_browser_offline(web: Any) -> None:
    page = _open_settings(web, SETTINGS_MEMBER)
    expect(page.get_by_test_id("notify-channels")).to_contain_text("DING 消息")
    web.screenshot(page, "settings-notifications-zh")

    # turning SMS off for DING and setting quiet hours is kept
    page.get_by_test_id("notify-ding-sms").click()
    page.get_by_test_id("notify-quiet-switch").click()
    expect(page.get_by_test_id("notify-quiet-start")).to_be_visible()
    page.get_by_test_id("notify-save").click()
    expect(page.get_by_text("通知设置已保存")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("notify-ding-sms")).not_to_be_checked()
    expect(page.get_by_test_id("notify-quiet-start")).to_contain_text("22:00")

    # push to this browser: the worker registers, but the browser's push service is out of reach
    page.get_by_test_id("notify-push-switch").click()
    expect(page.get_by_test_id("notify-push-problem")).to_contain_text(
        "无法连接浏览器的推送服务", timeout=30_000
    )
    expect(page.get_by_test_id("notify-push-switch")).not_to_be_checked()
    assert (
        page.evaluate("navigator.serviceWorker.getRegistration('/').then((r) => r?.scope)")
        == web.server.url + "/"
    )
    page.get_by_test_id("notify-push").scroll_into_view_if_needed()
    web.screenshot(page, "settings-notifications-push-offline-zh")
    # Chrome says why on the console itself; that is the failure shown above, not the client's.
    web.errors.messages = [line for line in web.errors.messages if _INCOGNITO_PUSH not in line]


def test_the_service_worker_shows_a_pushed_notice_and_a_click_opens_its_page(web: Any) -> None:
    # given: the client's service worker, registered at the site root
    page = _open_settings(web, WORKER_MEMBER)
    context = page.context
    scope = page.evaluate(_REGISTER_THE_WORKER)
    assert scope == web.server.url + "/"
    cdp = context.new_cdp_session(page)
    registration_id = _registration_id(page, cdp, scope)

    # when: a push arrives, as the push service would hand it over (handed over again while
    # nothing shows: a worker still starting on a loaded machine may miss the first; the tag makes
    # a second delivery replace the first notification, never add one)
    shown: list[dict[str, Any]] = []
    for _delivery in range(3):
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": web.server.url,
                "registrationId": registration_id,
                "data": json.dumps(NOTICE, ensure_ascii=False),
            },
        )
        deadline = time.monotonic() + 10
        while not (shown := _shown_notifications(page)) and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        if shown:
            break

    # then: the notice is shown as a notification
    assert shown == [
        {"title": NOTICE["title"], "body": NOTICE["body"], "tag": "N1", "data": {"link": "/settings/devices"}}
    ]

    # and clicking it closes it and brings the open window to the notice's page
    [worker] = context.service_workers
    assert worker.evaluate(_CLICK_THE_NOTIFICATION) == 0
    expect(page).to_have_url(re.compile(r"/settings/devices$"))
    expect(page.get_by_test_id("sessions-table")).to_be_visible()


def test_the_settings_section_on_a_phone(web: Any) -> None:
    page = _open_settings(web, PHONE_MEMBER, phone=True)
    expect(page.get_by_test_id("notify-ding-push")).to_be_visible()
    web.screenshot(page, "settings-notifications-phone-zh")
    page.get_by_test_id("notify-quiet-switch").click()
    page.get_by_test_id("notify-push").scroll_into_view_if_needed()
    expect(page.get_by_test_id("notify-quiet-end")).to_be_visible()
    web.screenshot(page, "settings-notifications-phone-quiet-zh")
