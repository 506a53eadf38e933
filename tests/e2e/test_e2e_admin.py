"""The admin console (管理后台): members, departments, bulk import with progress, invitations and
join requests, administrator duties (三员分立) and the audit log, and the public join page.

Each test opens an organisation of its own with `zhengtong org create`, so that its main admin
goes through the TOTP setup here without touching the demo admin the login tests rely on."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from browser_steps import button_name, create_org, login_with_totp_setup

pytestmark = pytest.mark.browser


SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"
GIVEN = ["子涵", "雨萱", "浩然", "梓轩", "欣怡", "宇航", "思远", "佳怡"]


def _open_console(page: Any, section: str) -> None:
    page.get_by_test_id("side-nav").get_by_role("menuitem", name="管理后台").click()
    expect(page).to_have_url(re.compile(r"/admin/"))
    page.get_by_test_id(f"admin-tab-{section}").click()
    expect(page).to_have_url(re.compile(rf"/admin/{section}$"))


def _drawer_closed(page: Any) -> None:
    """Waits until the member drawer has gone (it gives the focus back as it goes)."""
    expect(page.get_by_test_id("member-form")).to_have_count(0)


def _pick_department(page: Any, test_id: str, name: str) -> None:
    """Chooses `name` in one of the console's department pickers (an antd TreeSelect)."""
    dropdown = page.locator(".ant-select-dropdown").filter(visible=True)
    expect(dropdown).to_have_count(0)
    page.get_by_test_id(test_id).click()
    try:
        expect(dropdown).to_have_count(1, timeout=2000)
    except AssertionError:  # the click landed while a drawer was still closing
        page.get_by_test_id(test_id).click()
        expect(dropdown).to_have_count(1)
    page.keyboard.type(name)
    dropdown.locator(".ant-select-tree-title").get_by_text(name, exact=True).click()
    expect(dropdown).to_have_count(0)


def _tree_node(page: Any, name: str) -> Any:
    return (
        page.get_by_test_id("admin-dept-tree")
        .get_by_test_id("admin-tree-dept")
        .filter(has=page.locator(".zt-dir-tree-name", has_text=re.compile(rf"^{name}$")))
    )


def _confirm(page: Any, button: str) -> None:
    popover = page.locator(".ant-popover").filter(visible=True)
    popover.get_by_role("button", name=button_name(button)).click()
    expect(popover).to_have_count(0)


def test_admin_manages_departments_and_members(web: Any) -> None:
    create_org(web.server, "政通测试局", "13700000001", "王建国")
    page = login_with_totp_setup(web, "13700000001")
    nav = page.get_by_test_id("side-nav")
    expect(nav.get_by_role("menuitem", name="管理后台")).to_be_visible()
    nav.get_by_role("menuitem", name="管理后台").click()
    expect(page).to_have_url(re.compile(r"/admin/members$"))
    # The main admin holds the system and security duties; the audit log belongs to an audit admin.
    for section in ["members", "departments", "import", "invites", "admins", "visibility", "scim"]:
        expect(page.get_by_test_id(f"admin-tab-{section}")).to_be_visible()
    expect(page.get_by_test_id("admin-tab-audit")).to_have_count(0)

    # Departments: create two under the root, move one under the other, rename, reorder.
    page.get_by_test_id("admin-tab-departments").click()
    expect(page.get_by_test_id("dept-detail-name")).to_have_text("政通测试局")
    for name in ["信息中心", "数据科", "临时组"]:
        page.get_by_test_id("dept-new-name").fill(name)
        with page.expect_response(lambda r: r.url.endswith("/api/v1/org/departments") and r.status == 201):
            page.get_by_test_id("dept-create").click()
        expect(page.get_by_test_id("dept-detail-name")).to_have_text(name)  # the new one is selected
        _tree_node(page, "政通测试局").click()
    _tree_node(page, "数据科").click()
    _pick_department(page, "dept-move-target", "信息中心")
    with page.expect_response(
        lambda r: "/api/v1/org/departments/" in r.url and r.request.method == "PATCH"
    ) as moved:
        page.get_by_test_id("dept-move").click()
    assert moved.value.ok, moved.value.text()
    expect(page.get_by_text("已将 数据科 移动到 信息中心 下")).to_be_visible()
    detail = page.get_by_test_id("dept-detail")
    expect(detail.locator(".ant-breadcrumb")).to_contain_text("信息中心")
    expect(detail.locator(".ant-breadcrumb")).to_contain_text("数据科")

    _tree_node(page, "临时组").click()
    page.get_by_test_id("dept-rename-input").fill("综合组")
    page.get_by_test_id("dept-rename-save").click()
    expect(page.get_by_test_id("dept-detail-name")).to_have_text("综合组")
    page.get_by_test_id("dept-up").click()  # 综合组 now comes before 信息中心
    top = page.get_by_test_id("admin-dept-tree").locator(".ant-tree-treenode").nth(1)
    expect(top).to_contain_text("综合组")

    # The server refuses to delete a department that still has sub-departments; its message shows.
    _tree_node(page, "信息中心").click()
    page.get_by_test_id("dept-delete").click()
    _confirm(page, "删除部门")
    expect(page.get_by_test_id("dept-error")).to_contain_text("不能删除")
    _tree_node(page, "综合组").click()
    expect(page.get_by_test_id("dept-detail-name")).to_have_text("综合组")
    page.get_by_test_id("dept-delete").click()
    _confirm(page, "删除部门")
    expect(page.get_by_text("已删除部门 综合组")).to_be_visible()
    expect(_tree_node(page, "综合组")).to_have_count(0)
    _tree_node(page, "信息中心").click()
    expect(page.get_by_test_id("dept-detail-name")).to_have_text("信息中心")
    web.screenshot(page, "admin-departments-zh")

    # Members: add one into 数据科, see them 未激活, edit them, and see the server's refusals inline.
    page.get_by_test_id("admin-tab-members").click()
    page.get_by_test_id("member-add").click()
    form = page.get_by_test_id("member-form")
    form.get_by_test_id("member-name").fill("赵敏")
    form.get_by_test_id("member-mobile-input").fill("13700000002")
    _pick_department(page, "seat-department", "数据科")
    form.get_by_test_id("member-title").fill("工程师")
    form.get_by_test_id("member-job-number").fill("CS001")
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/org/members") and r.request.method == "POST"
    ) as added:
        page.get_by_test_id("member-save").click()
    assert added.value.status == 201, added.value.text()
    _drawer_closed(page)
    table = page.get_by_test_id("members-table")
    row = table.locator("tr.ant-table-row", has_text="赵敏")
    expect(row).to_contain_text("数据科")
    expect(row).to_contain_text("137****0002")
    expect(row.get_by_test_id("status-tag")).to_have_text("未激活")
    admin_row = table.locator("tr.ant-table-row", has_text="王建国")
    expect(admin_row.get_by_test_id("status-tag")).to_have_text("已激活")

    page.get_by_test_id("member-add").click()
    form.get_by_test_id("member-name").fill("重复")
    form.get_by_test_id("member-mobile-input").fill("13700000002")
    _pick_department(page, "seat-department", "信息中心")
    page.get_by_test_id("member-save").click()
    expect(page.get_by_test_id("member-form-error")).to_have_text("该手机号已是本组织成员")
    page.locator(".ant-drawer").get_by_role("button", name=button_name("取消")).click()
    _drawer_closed(page)

    row.get_by_test_id("member-edit").click()
    expect(form.get_by_test_id("member-name")).to_have_value("赵敏")
    form.get_by_test_id("member-title").fill("高级工程师")
    with page.expect_response(
        lambda r: "/api/v1/org/members/" in r.url and r.request.method == "PATCH"
    ) as edited:
        page.get_by_test_id("member-save").click()
    assert edited.value.ok, edited.value.text()
    _drawer_closed(page)
    expect(row).to_contain_text("高级工程师")

    page.get_by_test_id("member-add").click()
    form.get_by_test_id("member-name").fill("钱临时")
    form.get_by_test_id("member-mobile-input").fill("13700000003")
    _pick_department(page, "seat-department", "信息中心")
    page.get_by_test_id("member-save").click()
    _drawer_closed(page)
    expect(table.locator("tr.ant-table-row")).to_have_count(3)

    # Filters: by department (with the subtree), by activation state, by pinyin.
    _pick_department(page, "members-filter-dept", "信息中心")
    expect(table.locator("tr.ant-table-row")).to_have_count(2)
    page.get_by_test_id("members-filter-status").click()
    page.locator(".ant-select-item-option").filter(visible=True).get_by_text("已激活", exact=True).click()
    expect(table.locator("tr.ant-table-row")).to_have_count(0)
    page.reload()
    search = page.get_by_test_id("members-search").get_by_placeholder("姓名、拼音或工号")
    search.fill("zhaomin")
    search.press("Enter")
    expect(table.locator("tr.ant-table-row")).to_have_count(1)
    expect(table).to_contain_text("赵敏")
    search.fill("")
    search.press("Enter")
    expect(table.locator("tr.ant-table-row")).to_have_count(3)
    web.screenshot(page, "admin-members-zh")

    # Removing asks first.
    temp = table.locator("tr.ant-table-row", has_text="钱临时")
    temp.get_by_test_id("member-remove").click()
    expect(page.locator(".ant-popover").filter(visible=True)).to_contain_text("确定将 钱临时 移出本单位吗?")
    with page.expect_response(
        lambda r: "/api/v1/org/members/" in r.url and r.request.method == "DELETE"
    ) as removed:
        _confirm(page, "移除")
    assert removed.value.status == 204
    expect(table.locator("tr.ant-table-row")).to_have_count(2)

    # The new member shows in the address book, in the department they were put in.
    page.goto("/contacts")
    results = page.get_by_test_id("contacts-search")
    results.fill("zhaomin")
    expect(page.get_by_test_id("search-members")).to_contain_text("赵敏")
    expect(page.get_by_test_id("search-members")).to_contain_text("高级工程师")


def _import_csv(tmp_path: Path) -> tuple[Path, int]:
    """A template-shaped CSV: 70 good rows (56 in an existing department, 14 in a new one) and a bad one."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名*", "手机号*", "工号", "部门", "职务", "是否部门主管"])
    good = 0
    for index in range(70):
        name = SURNAMES[index % 16] + GIVEN[(index + index // 16) % len(GIVEN)]  # 70 different names
        department = "办公室/文秘科" if index % 5 == 0 else "信息中心"
        writer.writerow([name, f"137000010{index:02d}", f"IM{index:03d}", department, "科员", "否"])
        good += 1
    writer.writerow(["错误行", "12345", "IM999", "信息中心", "科员", "否"])
    path = tmp_path / "导入成员.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return path, good


def test_admin_imports_a_csv_and_watches_the_progress(web: Any, tmp_path: Path) -> None:
    create_org(web.server, "政通导入局", "13700000101", "刘洋")
    page = login_with_totp_setup(web, "13700000101")
    _open_console(page, "departments")
    page.get_by_test_id("dept-new-name").fill("信息中心")
    page.get_by_test_id("dept-create").click()
    expect(page.get_by_test_id("dept-detail-name")).to_have_text("信息中心")

    page.get_by_test_id("admin-tab-import").click()
    card = page.get_by_test_id("import-card")
    with page.expect_download() as template:
        card.get_by_test_id("template-csv").click()
    header = Path(template.value.path()).read_text("utf-8-sig").splitlines()[0]
    assert header.startswith("姓名*,手机号*"), header

    path, good = _import_csv(tmp_path)
    card.locator("input[type=file]").set_input_files(str(path))
    expect(card).to_contain_text("导入成员.csv")
    card.get_by_test_id("mode-skip").click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/org/import/upload")) as uploaded:
        card.get_by_test_id("import-start").click()
    assert uploaded.value.status == 202, uploaded.value.text()
    job_id = uploaded.value.json()["job_id"]
    expect(card.get_by_test_id("import-job")).to_have_attribute("data-job-id", job_id)

    progress = card.get_by_test_id("job-progress")
    expect(progress).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    result = card.get_by_test_id("import-result")
    expect(result.get_by_test_id("import-created")).to_have_text(str(good))
    expect(result.get_by_test_id("import-failed")).to_have_text("1")
    expect(result).to_contain_text("有 1 行因错误被跳过")
    expect(result).to_be_in_viewport()
    job = page.request.get(f"/api/v1/jobs/{job_id}").json()
    assert job["progress"]["percent"] == 100 and job["result"]["created"] == good, job
    web.screenshot(page, "admin-import-progress-zh")

    with page.expect_download() as report:
        result.get_by_test_id("import-errors-csv").click()
    errors = Path(report.value.path()).read_text("utf-8-sig")
    assert "错误行" in errors and "12345" in errors, errors

    # The imported people are in the members table, in the new department too.
    page.get_by_test_id("admin-tab-members").click()
    table = page.get_by_test_id("members-table")
    expect(page.get_by_test_id("admin-members").locator(".ant-pagination-total-text")).to_have_text(
        f"共 {good + 1} 人"
    )
    expect(table.locator("tr.ant-table-row").first.get_by_test_id("status-tag")).to_be_visible()
    _pick_department(page, "members-filter-dept", "文秘科")
    expect(page.get_by_test_id("admin-members").locator(".ant-pagination-total-text")).to_have_text(
        "共 14 人"
    )
    page.reload()
    expect(table.locator("tr.ant-table-row")).to_have_count(20)  # the first page
    web.screenshot(page, "admin-members-imported-zh")

    # The same console on a phone: the table keeps to the screen's width.
    phone = web.browser.new_context(
        base_url=web.server.url,
        locale="zh-CN",
        storage_state=page.context.storage_state(),
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        phone.on("page", web.errors.watch)
        small = phone.new_page()
        small.goto("/admin/members")
        expect(small.get_by_test_id("members-table").locator("tr.ant-table-row")).to_have_count(20)
        width = small.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"page is {width}px wide on a 390px screen"
        web.screenshot(small, "phone-admin-members-zh")
        small.get_by_test_id("bottom-nav-more").tap()
        small.get_by_test_id("more-grid").get_by_role("button", name="管理后台").tap()
        expect(small).to_have_url(re.compile(r"/admin/members$"))
    finally:
        phone.close()

    # Export: a job, then the file.
    page.get_by_test_id("admin-tab-import").click()
    export = page.get_by_test_id("export-card")
    export.get_by_test_id("export-start").click()
    expect(export.get_by_test_id("job-progress")).to_have_attribute(
        "data-status", "succeeded", timeout=60_000
    )
    with page.expect_download() as exported:
        export.get_by_test_id("export-download").click()
    assert Path(exported.value.path()).stat().st_size > 0

    # In the address book the 56 members of 信息中心 arrive page by page as the list scrolls.
    page.goto("/contacts")
    page.get_by_test_id("tree-dept").filter(has_text="信息中心").click()
    listing = page.get_by_test_id("member-list")
    expect(listing).to_have_attribute("data-total", "56")
    rows = listing.get_by_test_id("member-row")
    expect(rows).to_have_count(50)
    rows.nth(49).scroll_into_view_if_needed()
    page.mouse.wheel(0, 2000)
    expect(rows).to_have_count(56)
    expect(page.get_by_test_id("load-more")).to_have_count(0)


def test_stranger_joins_through_an_invitation_and_the_admin_approves(web: Any) -> None:
    create_org(web.server, "政通邀请局", "13700000201", "陈静")
    page = login_with_totp_setup(web, "13700000201")
    _open_console(page, "invites")
    card = page.get_by_test_id("invite-card")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/org/invites")) as created:
        card.get_by_test_id("invite-create").click()
    assert created.value.status == 201, created.value.text()
    join_path = created.value.json()["join_path"]
    result = card.get_by_test_id("invite-result")
    expect(result.get_by_test_id("invite-link")).to_contain_text(join_path)
    expect(result.locator("canvas")).to_be_visible()  # the QR code
    web.screenshot(page, "admin-invite-zh")

    # A stranger (not logged in, on a phone) opens the link.
    stranger = web.page(phone=True)
    stranger.goto(join_path)
    expect(stranger.get_by_test_id("join-invite")).to_contain_text("政通邀请局")
    mobile = "13700000299"
    stranger.get_by_test_id("join-mobile").fill(mobile)
    before = len(web.server.outbox_lines())
    with stranger.expect_response(lambda r: r.url.endswith("/code")) as sent:
        stranger.get_by_test_id("join-send-code").click()
    assert sent.value.status == 204, sent.value.text()
    code = web.server.sms_code(mobile, after=before)
    stranger.get_by_test_id("join-code").fill(code)
    stranger.get_by_test_id("join-name").fill("孙悦")
    web.screenshot(stranger, "phone-join-zh")
    with stranger.expect_response(
        lambda r: r.url.endswith(join_path) and r.request.method == "POST"
    ) as joined:
        stranger.get_by_test_id("join-submit").click()
    assert joined.value.status == 202, joined.value.text()
    expect(stranger.get_by_test_id("join-done")).to_contain_text("已提交，等待管理员审核")
    width = stranger.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width

    # The admin sees the request and approves it; the stranger is then a (not yet activated) member.
    requests = page.get_by_test_id("join-requests")
    requests.get_by_test_id("join-refresh").click()
    row = requests.locator("tr.ant-table-row", has_text="孙悦")
    expect(row).to_contain_text("137****0299")
    with page.expect_response(lambda r: r.url.endswith("/decision")) as decided:
        row.get_by_test_id("join-approve").click()
    assert decided.value.status == 204, decided.value.text()
    expect(requests.locator("tr.ant-table-row", has_text="孙悦")).to_have_count(0)
    page.get_by_test_id("admin-tab-members").click()
    expect(page.get_by_test_id("members-table")).to_contain_text("孙悦")

    # The link of a revoked invitation no longer works.
    page.get_by_test_id("admin-tab-invites").click()
    page.get_by_test_id("invite-create").click()
    link = page.get_by_test_id("invite-link").inner_text().strip()
    page.get_by_role("button", name=re.compile("作废此链接")).click()
    _confirm(page, "确定")
    expect(page.get_by_text("邀请链接已作废")).to_be_visible()
    stranger.goto(link)
    expect(stranger.get_by_test_id("join-invalid")).to_be_visible()


def test_audit_admin_only_reads_the_audit_log_and_the_watermark_shows(web: Any) -> None:
    create_org(web.server, "政通审计局", "13700000301", "周伟")
    page = login_with_totp_setup(web, "13700000301")
    _open_console(page, "members")
    page.get_by_test_id("member-add").click()
    form = page.get_by_test_id("member-form")
    form.get_by_test_id("member-name").fill("吴芳")
    form.get_by_test_id("member-mobile-input").fill("13700000302")
    _pick_department(page, "seat-department", "政通审计局")
    page.get_by_test_id("member-save").click()
    _drawer_closed(page)
    expect(page.get_by_test_id("members-table")).to_contain_text("吴芳")

    # 三员分立: the audit duty is held alone, and the form explains each duty.
    page.get_by_test_id("admin-tab-admins").click()
    admins = page.get_by_test_id("admin-admins")
    expect(admins).to_contain_text("三员分立")
    expect(admins).to_contain_text("只能查看审计日志")
    page.get_by_test_id("admin-add").click()
    page.get_by_test_id("grant-member").click()
    page.keyboard.type("wufang")
    page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)").get_by_text(
        re.compile("吴芳")
    ).click()
    page.get_by_test_id("grant-system").check()
    page.get_by_test_id("grant-audit").check()
    expect(page.get_by_test_id("grant-system")).not_to_be_checked()  # audit is not combined
    web.screenshot(page, "admin-grant-audit-zh")
    with page.expect_response(lambda r: r.url.endswith("/admin") and r.request.method == "PUT") as granted:
        page.get_by_role("dialog").get_by_role("button", name=button_name("保存")).click()
    assert granted.value.status == 204, granted.value.text()
    row = page.get_by_test_id("admins-table").locator("tr.ant-table-row", has_text="吴芳")
    expect(row.get_by_test_id("duty-audit")).to_contain_text("审计管理员")
    web.screenshot(page, "admin-admins-zh")

    # The security duty turns the directory watermark on.
    page.get_by_test_id("admin-tab-visibility").click()
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/org/settings") and r.request.method == "PATCH"
    ):
        page.get_by_test_id("watermark-switch").click()
    expect(page.get_by_test_id("watermark-switch")).to_be_checked()
    web.screenshot(page, "admin-visibility-zh")
    page.goto("/contacts")
    watermark = page.get_by_test_id("watermark")
    expect(watermark).to_have_attribute("data-text", "周伟 0301")
    style = watermark.evaluate(
        "node => getComputedStyle(node).pointerEvents + ' ' + getComputedStyle(node).backgroundImage"
    )
    assert style.startswith("none url(") and "svg" in style, style
    page.get_by_test_id("tree-dept").filter(has_text="政通审计局").click()
    page.get_by_test_id("member-row").filter(has_text="吴芳").click()  # clicks pass through it
    expect(page.get_by_test_id("member-card-name")).to_have_text("吴芳")
    web.screenshot(page, "contacts-watermark-zh")

    # The audit admin: TOTP like every admin, then only the audit log, with its chain verified.
    auditor = login_with_totp_setup(web, "13700000302")
    auditor.get_by_test_id("side-nav").get_by_role("menuitem", name="管理后台").click()
    expect(auditor).to_have_url(re.compile(r"/admin/audit$"))
    expect(auditor.get_by_test_id("admin-tab-audit")).to_be_visible()
    expect(auditor.get_by_test_id("admin-tab-members")).to_have_count(0)
    expect(auditor.get_by_test_id("chain-badge")).to_have_text("哈希链完整")
    log = auditor.get_by_test_id("audit-table")
    expect(log.get_by_test_id("audit-action").filter(has_text="添加成员")).to_have_count(1)
    expect(log.get_by_test_id("audit-action").filter(has_text="设置管理员职责")).to_have_count(1)
    expect(log.get_by_test_id("audit-action").filter(has_text="修改通讯录设置")).to_have_count(1)
    expect(log).to_contain_text("duties")
    web.screenshot(auditor, "admin-audit-zh")
    members = auditor.request.get("/api/v1/org/members")
    assert members.status == 403, members.text()


def test_security_admin_creates_and_revokes_a_scim_token(web: Any) -> None:
    create_org(web.server, "政通同步局", "13700000401", "郑华")
    page = login_with_totp_setup(web, "13700000401")
    _open_console(page, "scim")
    section = page.get_by_test_id("admin-scim")
    expect(section).to_contain_text("/scim/v2")
    section.get_by_test_id("scim-name").fill("人事管理系统")
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/org/scim-tokens") and r.request.method == "POST"
    ) as made:
        section.get_by_test_id("scim-create").click()
    assert made.value.status == 201, made.value.text()
    token = made.value.json()["token"]
    expect(page.get_by_test_id("scim-token-value")).to_contain_text(token)
    web.screenshot(page, "admin-scim-zh")
    page.get_by_test_id("scim-token-close").click()
    expect(page.get_by_test_id("scim-token-value")).to_have_count(0)
    row = section.get_by_test_id("scim-table").locator("tr.ant-table-row", has_text="人事管理系统")
    expect(row).to_contain_text("有效")

    bearer = {"Authorization": f"Bearer {token}"}
    assert page.request.get("/scim/v2/ServiceProviderConfig", headers=bearer).ok
    row.get_by_test_id("scim-revoke").click()
    _confirm(page, "确定")
    expect(row).to_contain_text("已吊销")
    assert page.request.get("/scim/v2/ServiceProviderConfig", headers=bearer).status == 401
