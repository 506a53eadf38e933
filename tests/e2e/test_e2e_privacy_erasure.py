"""注销组织 in the admin console: the consequences, the request (the organisation's name typed and
the SMS code given), the countdown of the cooling-off period, cancelling; desktop and phone
screenshots. The organisation is one of its own, so nothing else is touched."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

from zhengtong.core.caller import Caller
from zhengtong.core.config import load_settings
from zhengtong.core.context import build_context
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import MemberRole
from zhengtong.privacy.erasure.deregistration import CODE_PURPOSE, CODE_TEXT

pytestmark = pytest.mark.browser

ORG_NAME = "注销演示局"
ADMIN_MOBILE = "13600000701"
PASSWORD = "Zhuxiao2026x"
SEED_IP = "192.0.2.71"  # the seed's SMS codes do not count against the browser's address


def _in_thread(coroutine: Any) -> Any:
    # Playwright's synchronous API keeps an event loop running in this thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _open_organisation(env: dict[str, str]) -> str:
    """As the operator would have: the organisation with its main admin (who logs in with a
    password and TOTP enrolled earlier) and two members. Returns the TOTP secret."""
    context = build_context(load_settings(env))
    try:
        async with context.db.transaction() as session:
            organization = await org_service.open_organization(
                session,
                context,
                name=ORG_NAME,
                admin_mobile=ADMIN_MOBILE,
                admin_name="吕主任",
                actor_id=None,
                ip=SEED_IP,
            )
            admin = await identity.get_account_by_mobile(session, context.keyring, f"+86{ADMIN_MOBILE}")
            assert admin is not None
            membership = await org_service.get_membership(
                session, org_id=organization.id, account_id=admin.id
            )
            assert membership is not None
            scope = AdminScope(organization.id, membership.id, True, (), frozenset())
            for mobile, name in (("13600000702", "田科员"), ("13600000703", "池科员")):
                await org_service.add_member(
                    session,
                    context,
                    scope,
                    mobile=mobile,
                    profile=org_service.MemberProfile(name=name),
                    actor_id=admin.id,
                    ip=SEED_IP,
                )
            caller = Caller(admin.id, "e2e-seed", organization.id, MemberRole.MAIN_ADMIN, True, False)
            await identity.set_password(
                session, context, caller, new_password=PASSWORD, current_password=None, ip=SEED_IP
            )
            setup = await identity.begin_totp_setup(session, context, caller)
            account = await session.get(Account, admin.id)
            assert account is not None
            account.totp_enabled = True
            return setup.secret
    finally:
        await context.close()


async def _send_code(env: dict[str, str]) -> None:
    """The code 发送验证码 would send (sent from here: the browser tests share a budget of SMS
    codes per address)."""
    context = build_context(load_settings(env))
    try:
        async with context.db.transaction() as session:
            await identity.send_verification_code(
                session, context, mobile=ADMIN_MOBILE, purpose=CODE_PURPOSE, ip=SEED_IP, text=CODE_TEXT
            )
    finally:
        await context.close()


def _log_in(web: Any, secret: str) -> tuple[Any, Any]:
    context = web.context()
    page = context.new_page()
    page.goto("/login")
    page.get_by_role("tab", name="密码登录").click()
    page.get_by_test_id("login-mobile").fill(ADMIN_MOBILE)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/login/totp$"))
    page.get_by_test_id("totp-code").fill(pyotp.TOTP(secret).now())
    page.get_by_test_id("totp-submit").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    return context, page


def test_the_main_admin_requests_watches_the_countdown_and_cancels(web: Any) -> None:
    secret = _in_thread(_open_organisation(web.server.env))
    context, page = _log_in(web, secret)

    page.goto("/admin/deregistration")
    section = page.get_by_test_id("admin-deregistration")
    expect(section).to_contain_text("销毁组织的数据密钥")
    expect(section).to_contain_text("本组织共有 3 名成员")
    expect(page.get_by_test_id("deregistration-export")).to_be_visible()
    web.screenshot(page, "admin-deregistration-zh")

    # The request: the name typed, the code given
    page.get_by_test_id("deregistration-request").click()
    confirm = page.get_by_test_id("deregistration-confirm")
    page.get_by_test_id("deregistration-name").fill("注销演示")
    expect(page.get_by_text("与组织名称不一致")).to_be_visible()
    expect(confirm).to_be_disabled()
    page.get_by_test_id("deregistration-name").fill(ORG_NAME)
    before = len(web.server.outbox_lines())
    _in_thread(_send_code(web.server.env))
    page.get_by_test_id("deregistration-code").fill(web.server.sms_code(ADMIN_MOBILE, after=before))
    expect(confirm).to_be_enabled()
    web.screenshot(page, "admin-deregistration-request-zh")
    confirm.click()

    # The cooling-off period, counting down
    expect(page.get_by_test_id("deregistration-cooling")).to_contain_text("组织正在注销冷静期")
    countdown = page.get_by_test_id("deregistration-countdown")
    expect(countdown).to_contain_text(re.compile(r"(29|30) 天"))
    web.screenshot(page, "admin-deregistration-cooling-zh")
    phone = web.context(phone=True)
    phone.add_cookies(context.cookies())
    phone_page = phone.new_page()
    phone_page.goto("/admin/deregistration")
    expect(phone_page.get_by_test_id("deregistration-countdown")).to_be_visible()
    web.screenshot(phone_page, "admin-deregistration-cooling-phone-zh")

    # Cancelling
    page.get_by_test_id("deregistration-cancel").click()
    page.locator(".ant-popconfirm").get_by_role("button", name=re.compile("确|OK")).click()
    expect(page.get_by_test_id("deregistration-request")).to_be_visible()
    expect(page.get_by_test_id("deregistration-cooling")).to_have_count(0)
    phone_page.reload()
    expect(phone_page.get_by_test_id("deregistration-request")).to_be_visible()
    web.screenshot(phone_page, "admin-deregistration-phone-zh")
