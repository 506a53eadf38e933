"""The privacy centre's rights: a member exports their data (watching the job's progress) and
downloads the zip, files a request that an admin closes in the tracker, and sees what was
disclosed about them; desktop and phone screenshots of each screen."""

from __future__ import annotations

import asyncio
import json
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from zhengtong.core.caller import Caller
from zhengtong.core.config import load_settings
from zhengtong.core.context import build_context
from zhengtong.core.inventory import DataClass
from zhengtong.demo import DEMO_ORG_NAME
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import AdminDuty, AdminGrant, MemberRole, Membership
from zhengtong.privacy.rights import requests
from zhengtong.privacy.rights.disclosures import record_disclosure
from zhengtong.privacy.rights.models import LegalBasis, RecipientKind, RequestKind

pytestmark = pytest.mark.browser

MEMBER = "13800000040"  # a demo member no other browser test logs in as
OFFICER = "13800000041"  # made the system admin who handles requests
LATE = "13800000042"  # filed a request that is now overdue
PASSWORD = "Quanli2026x"
SEED_IP = "127.0.0.1"


async def _prepare(env: dict[str, str]) -> str:
    """Through the services, as the organisation would have done earlier: OFFICER becomes a
    system admin who logs in with a password and TOTP (no SMS code needed), and a court's
    request for MEMBER's data is in the ledger. Returns the officer's TOTP secret."""
    context = build_context(load_settings(env))
    try:
        async with context.db.transaction() as session:
            organization = await org_service.get_organization_by_name(session, DEMO_ORG_NAME)
            assert organization is not None
            main_admin = await session.scalar(
                select(Membership).where(
                    Membership.org_id == organization.id, Membership.role == MemberRole.MAIN_ADMIN
                )
            )
            assert main_admin is not None
            scope = AdminScope(organization.id, main_admin.id, True, (), frozenset())
            members = {}
            for mobile in (MEMBER, OFFICER, LATE):
                account = await identity.get_account_by_mobile(
                    session, context.keyring, identity.normalise_mobile(mobile)
                )
                assert account is not None
                members[mobile] = await org_service.get_membership(
                    session, org_id=organization.id, account_id=account.id
                )
            officer = members[OFFICER]
            assert officer is not None and members[MEMBER] is not None
            grant = AdminGrant(duty=AdminDuty.SYSTEM, department_ids=[], functions=[])
            await org_service.set_admin_grants(
                session, context, scope, officer, [grant], actor_id=main_admin.account_id, ip=SEED_IP
            )
            caller = Caller(officer.account_id, "e2e-seed", organization.id, MemberRole.ADMIN, True, False)
            await identity.set_password(
                session, context, caller, new_password=PASSWORD, current_password=None, ip=SEED_IP
            )
            setup = await identity.begin_totp_setup(session, context, caller)
            officer_account = await session.get(Account, officer.account_id)
            assert officer_account is not None
            officer_account.totp_enabled = True  # enrolled earlier on the officer's phone
            await record_disclosure(
                session,
                context,
                org_id=organization.id,
                recipient_kind=RecipientKind.COURT,
                recipient="某区人民法院",
                data_categories=[DataClass.IDENTITY, DataClass.CONTACT],
                legal_basis=LegalBasis.LAW,
                membership_ids=[members[MEMBER].id],
                reference="（2026）京0105民初118号",
                purpose="依法调取证据",
            )
            late = members[LATE]
            assert late is not None
            late_caller = Caller(late.account_id, "e2e-seed", organization.id, MemberRole.MEMBER, True, False)
            filed = await requests.file_request(
                session,
                context,
                late_caller,
                kind=RequestKind.DELETION,
                details="请删除我的工号",
                org_id=None,
                ip=SEED_IP,
            )
            filed.request.due_on = filed.request.due_on - timedelta(days=30)  # a month has passed
            return setup.secret
    finally:
        await context.close()


def _seed(env: dict[str, str]) -> str:
    # In a thread of its own: Playwright's synchronous API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _prepare(env)).result()


def _phone_copy(web: Any, context: Any) -> Any:
    """A phone-sized browser with the same session (no second SMS code)."""
    phone = web.context(phone=True)
    phone.add_cookies(context.cookies())
    return phone.new_page()


def test_member_exports_their_data_files_a_request_and_sees_disclosures(web: Any, tmp_path: Any) -> None:
    totp_secret = _seed(web.server.env)
    context = web.context()
    web.api_login(context, MEMBER)
    page = context.new_page()

    # My data: the summary, then an export whose progress the page follows to the download link.
    page.goto("/privacy/data")
    expect(page.get_by_test_id("category-identity")).to_be_visible()
    expect(page.get_by_test_id("category-sensitive")).to_be_visible()
    page.get_by_test_id("export-start").click()
    progress = page.get_by_test_id("job-progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("data-status", "succeeded", timeout=30_000)
    download_button = page.get_by_test_id("export-download")
    expect(download_button).to_be_visible()
    web.screenshot(page, "privacy-my-data-zh")
    with page.expect_download() as downloading:
        download_button.click()
    saved = tmp_path / "my-data.zip"
    downloading.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        accounts = json.loads(archive.read("data/accounts.json"))
    assert {"README.zh.txt", "README.en.txt", "data/memberships.json"} <= names
    assert accounts[0]["mobile_encrypted"] == f"+86{MEMBER}"
    assert any(entry["table"] == "im_messages" for entry in manifest["tables"])

    # My requests: a correction request, with its deadline counting down.
    page.goto("/privacy/requests")
    page.get_by_test_id("request-new").click()
    page.get_by_test_id("request-details").fill("我的办公地点应为三号楼 302 室")
    page.get_by_test_id("request-submit").click()
    card = page.get_by_test_id("request-card").first
    expect(card).to_contain_text("我的办公地点应为三号楼 302 室")
    expect(card.get_by_test_id("deadline")).to_contain_text("剩余 15 个工作日")
    expect(card.get_by_test_id("request-status")).to_have_text("待处理")
    web.screenshot(page, "privacy-requests-zh")

    # What was disclosed about me.
    page.goto("/privacy/disclosures")
    expect(page.get_by_test_id("my-disclosures")).to_contain_text("某区人民法院")
    web.screenshot(page, "privacy-disclosures-zh")

    phone = _phone_copy(web, context)
    for tab in ("data", "requests", "disclosures"):
        phone.goto(f"/privacy/{tab}")
        expect(phone.get_by_test_id("page-privacy")).to_be_visible()
        web.screenshot(phone, f"privacy-{tab}-phone-zh")

    # The organisation's admin closes the request in the tracker.
    admin_context = web.context()
    admin = admin_context.new_page()
    admin.goto("/login")
    admin.get_by_role("tab", name="密码登录").click()
    admin.get_by_test_id("login-mobile").fill(OFFICER)
    admin.get_by_test_id("login-password").fill(PASSWORD)
    admin.get_by_test_id("login-submit").click()
    expect(admin).to_have_url(re.compile(r"/login/totp$"))
    admin.get_by_test_id("totp-code").fill(pyotp.TOTP(totp_secret).now())
    admin.get_by_test_id("totp-submit").click()
    expect(admin).not_to_have_url(re.compile(r"/login"))
    admin.goto("/admin/privacy_requests")
    rows = admin.get_by_test_id("admin-requests").locator("tbody tr.ant-table-row")
    expect(rows).to_have_count(2)
    late_row = rows.filter(has_text="删除")
    expect(late_row).to_have_class(re.compile("zt-rights-overdue"))
    expect(late_row.get_by_test_id("deadline").first).to_contain_text("已逾期")
    expect(admin.get_by_test_id("overdue-count")).to_have_text("1 件逾期")
    row = rows.filter(has_text="更正、补充")
    expect(row.get_by_test_id("deadline").first).to_contain_text("剩余 15 个工作日")
    web.screenshot(admin, "admin-privacy-requests-zh")
    row.click()
    drawer = admin.get_by_test_id("request-drawer")
    expect(drawer).to_contain_text("我的办公地点应为三号楼 302 室")
    admin.get_by_test_id("request-note").fill("已更正为三号楼 302 室")
    admin.get_by_test_id("request-done").click()
    expect(admin.get_by_text("已更新，申请人将收到通知")).to_be_visible()
    web.screenshot(admin, "admin-privacy-request-drawer-zh")
    admin_phone = _phone_copy(web, admin_context)
    admin_phone.goto("/admin/privacy_requests")
    expect(admin_phone.get_by_test_id("admin-requests")).to_be_visible()
    web.screenshot(admin_phone, "admin-privacy-requests-phone-zh")

    # The member sees the answer.
    page.goto("/privacy/requests")
    expect(page.get_by_test_id("request-card").first.get_by_test_id("request-status")).to_have_text("已办结")
    expect(page.get_by_test_id("request-card").first).to_contain_text("已更正为三号楼 302 室")
