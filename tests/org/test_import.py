"""Directory import: template, upload, validation of every row before anything is written,
idempotent upsert, error reports, scopes, progress."""

from __future__ import annotations

import codecs
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from fixtures.directory_files import HEADERS, csv_file, member_row, read_csv, read_xlsx, xlsx_file, zip_file
from fixtures.transfer import count_departments, count_members, import_file, job, run_jobs, upload
from sqlalchemy import select

from helpers import Member, create_member, csrf_headers, login, login_admin, next_event, next_mobile
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext
from zhengtong.directory.models import MemberSearchToken
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org import importing
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import (
    AdminGrant,
    CustomFieldDefinition,
    Department,
    MemberDepartment,
    MemberRole,
    Membership,
)
from zhengtong.platform.audit import AuditEntry
from zhengtong.platform.jobs import Job

ORG = "导入单位"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Jobs run when a test says so (run_until_idle), not in the app's background runner."""
    return settings.with_overrides(run_jobs_in_process=False)


@pytest.fixture
async def admin(client: httpx.AsyncClient, context: AppContext) -> Member:
    main_admin = await create_member(context, org_name=ORG, name="主管理员", role=MemberRole.MAIN_ADMIN)
    await login_admin(client, context, main_admin.mobile)
    return main_admin


async def _members_by_name(context: AppContext, org_id: str) -> dict[str, Membership]:
    async with context.db.transaction() as session:
        rows = await session.execute(select(Membership).where(Membership.org_id == org_id))
        return {member.name: member for member in rows.scalars()}


async def _department_paths(context: AppContext, membership_id: str) -> list[str]:
    """The member's departments as name paths below the root, in seat order."""
    async with context.db.transaction() as session:
        departments = {d.id: d for d in (await session.execute(select(Department))).scalars()}
        seats = await session.execute(
            select(MemberDepartment)
            .where(MemberDepartment.membership_id == membership_id)
            .order_by(MemberDepartment.sort_order)
        )
        paths = []
        for seat in seats.scalars():
            ids = departments[seat.department_id].path.strip("/").split("/")[1:]
            paths.append("/".join(departments[i].name for i in ids))
        return paths


async def _error_rows(client: httpx.AsyncClient, job_id: str, **headers: str) -> list[list[str]]:
    answer = await client.get(f"/api/v1/org/import/{job_id}/errors?format=csv", headers=headers)
    assert answer.status_code == 200, answer.text
    return read_csv(answer.content)


# Template -----------------------------------------------------------------------------------
async def test_template_has_the_fixed_columns_and_the_custom_fields(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    async with context.db.transaction() as session:
        session.add(CustomFieldDefinition(org_id=admin.org_id, key="rank", label="职级", sort_order=1))

    xlsx = await client.get("/api/v1/org/import/template?format=xlsx")
    csv = await client.get("/api/v1/org/import/template?format=csv")

    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in xlsx.headers["content-disposition"]
    assert read_xlsx(xlsx.content) == [[*HEADERS, "职级"]]
    assert csv.content.startswith(codecs.BOM_UTF8)
    assert read_csv(csv.content) == [[*HEADERS, "职级"]]


async def test_template_needs_the_import_export_duty(
    client: httpx.AsyncClient, context: AppContext, admin: Member, make_client: Any
) -> None:
    member = await create_member(context, org_name=ORG)
    staff = make_client()
    await login(staff, context, member.mobile)

    answer = await staff.get("/api/v1/org/import/template")

    assert answer.status_code == 403
    assert answer.json()["code"] == "org.admin_required"


# Creating and updating ----------------------------------------------------------------------
async def test_import_creates_members_and_department_paths(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    zhang, li, wang = next_mobile(), next_mobile(), next_mobile()
    content = xlsx_file(
        [
            member_row(
                "张三",
                int(zhang),  # typed as a number in Excel
                job_number="E001",
                departments=f"{ORG}/办公室/综合科",  # a leading root name is tolerated
                title="科长",
                is_head="是",
                org_email="zhangsan@example.gov.cn",
                hired_date=datetime(2020, 3, 1),  # a date cell
            ),
            member_row(
                "李四", li, departments="办公室/秘书科；信息化处", hide_mobile="是", hired_date="2021/5/6"
            ),
            member_row("王五", f"+86 {wang}"),
        ]
    )

    job_id, result = await import_file(client, context, content)

    assert result == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "failed": 0,
        "departments_created": 4,
        "applied": True,
        "error_report_available": False,
        "file_error": None,
    }
    members = await _members_by_name(context, admin.org_id)
    zhangsan = members["张三"]
    assert (zhangsan.job_number, zhangsan.title, zhangsan.org_email) == (
        "E001",
        "科长",
        "zhangsan@example.gov.cn",
    )
    assert zhangsan.hired_date == date(2020, 3, 1)
    assert zhangsan.status == "not_activated"
    assert members["李四"].hide_mobile is True
    assert members["李四"].hired_date == date(2021, 5, 6)
    assert await _department_paths(context, zhangsan.id) == ["办公室/综合科"]
    assert await _department_paths(context, members["李四"].id) == ["办公室/秘书科", "信息化处"]
    assert await _department_paths(context, members["王五"].id) == [""]  # the root
    async with context.db.transaction() as session:
        account = await session.get(Account, zhangsan.account_id)
        assert account is not None
        assert identity.decrypt_mobile(context.keyring, account) == f"+86{zhang}"
        seat = (
            await session.execute(
                select(MemberDepartment).where(MemberDepartment.membership_id == zhangsan.id)
            )
        ).scalar_one()
        assert (seat.title, seat.is_head) == ("科长", True)
        tokens = set(
            (
                await session.execute(
                    select(MemberSearchToken.token).where(MemberSearchToken.membership_id == zhangsan.id)
                )
            ).scalars()
        )
        assert {"张三", "zhangsan", "zs", "e001"} <= tokens
        entries = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "org.directory_imported"))
        ).scalars()
        assert [(e.object_id, e.detail["created"], e.detail["applied"]) for e in entries] == [
            (job_id, 3, True)
        ]
    # The upload is deleted once the job is over.
    assert list(context.storage.keys(f"org/{admin.org_id}/imports/")) == []


async def test_new_member_can_log_in_and_is_activated(
    client: httpx.AsyncClient, context: AppContext, admin: Member, make_client: Any
) -> None:
    mobile = next_mobile()
    await import_file(client, context, csv_file([member_row("新同事", mobile)]))

    newcomer = make_client()
    assert (await login(newcomer, context, mobile))["status"] == "ok"
    assert (await _members_by_name(context, admin.org_id))["新同事"].status == "active"


async def test_reimport_is_idempotent_and_updates_only_what_changed(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    rows = [
        member_row(f"成员{n}", next_mobile(), job_number=f"J{n}", departments="办公室", title="科员")
        for n in range(5)
    ]
    await import_file(client, context, xlsx_file(rows))
    before = await _members_by_name(context, admin.org_id)

    _, again = await import_file(client, context, xlsx_file(rows))

    assert (again["created"], again["updated"], again["unchanged"], again["departments_created"]) == (
        0,
        0,
        5,
        0,
    )
    rows[2][4] = "副科长"  # the title
    rows[3][0] = "改名了"  # matched by job number, renamed
    _, changed = await import_file(client, context, xlsx_file(rows))
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 2, 3)
    after = await _members_by_name(context, admin.org_id)
    assert after["成员2"].title == "副科长"
    assert after["改名了"].id == before["成员3"].id
    async with context.db.transaction() as session:
        seat = (
            await session.execute(
                select(MemberDepartment).where(MemberDepartment.membership_id == after["成员2"].id)
            )
        ).scalar_one()
        assert seat.title == "副科长"


async def test_empty_cells_keep_what_the_member_has(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    mobile = next_mobile()
    await import_file(
        client,
        context,
        xlsx_file(
            [
                member_row(
                    "赵六", mobile, job_number="Z6", departments="财务处", title="会计", work_place="2楼"
                )
            ]
        ),
    )

    _, result = await import_file(client, context, csv_file([member_row("赵六", mobile)]))

    assert (result["updated"], result["unchanged"]) == (0, 1)
    member = (await _members_by_name(context, admin.org_id))["赵六"]
    assert (member.job_number, member.title, member.work_place) == ("Z6", "会计", "2楼")
    assert await _department_paths(context, member.id) == ["财务处"]


async def test_existing_account_of_another_organisation_joins_by_mobile(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    elsewhere = await create_member(context, org_name="兄弟单位", name="借调人员")

    _, result = await import_file(client, context, csv_file([member_row("借调人员", elsewhere.mobile)]))

    assert result["created"] == 1
    assert (await _members_by_name(context, admin.org_id))["借调人员"].account_id == elsewhere.account_id


async def test_custom_field_columns_are_imported(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    async with context.db.transaction() as session:
        # A custom field's key may look like a profile field's: it stays a custom field.
        session.add(CustomFieldDefinition(org_id=admin.org_id, key="title", label="职级"))

    await import_file(
        client, context, csv_file([[*member_row("孙七", next_mobile()), "四级主任科员"]], [*HEADERS, "职级"])
    )

    member = (await _members_by_name(context, admin.org_id))["孙七"]
    assert (member.custom_fields, member.title) == ({"title": "四级主任科员"}, "")


# Bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "code", "columns"),
    [
        (["姓名*", "工号"], "org.import_missing_columns", ["手机号*"]),
        ([*HEADERS, "籍贯"], "org.import_unknown_columns", ["籍贯"]),
        ([*HEADERS, "工号"], "org.import_duplicate_columns", ["工号"]),
    ],
)
async def test_wrong_columns_are_a_file_error_naming_them(
    client: httpx.AsyncClient,
    context: AppContext,
    admin: Member,
    headers: list[str],
    code: str,
    columns: list[str],
) -> None:
    content = csv_file([["某人", next_mobile(), "", ""]], headers)

    _, result = await import_file(client, context, content)

    assert result["file_error"]["code"] == code
    assert result["file_error"]["detail"]["columns"] == columns
    assert result["file_error"]["message"]  # in zh-CN, the uploading request's language
    assert (result["applied"], result["created"], result["error_report_available"]) == (False, 0, False)
    assert await count_members(context, admin.org_id) == 1


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "org.import_empty_file"),
        (csv_file([]), "org.import_empty_file"),  # a header and no data
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "org.import_bad_file"),
        (b"PK\x03\x04 this zip is broken", "org.import_bad_file"),
        (zip_file(), "org.import_bad_file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old xls", "org.import_bad_file"),
        ("姓名*,手机号*\n张三,13800000000\n".encode("utf-16"), "org.import_bad_encoding"),
        (b"\xe5\xa7\x93\xe5\x90\x8d*,\xff\xff\xff\n", "org.import_bad_encoding"),
    ],
    ids=["empty", "header-only", "png", "broken-zip", "zip-not-xlsx", "xls", "utf-16", "undecodable"],
)
async def test_unreadable_files_are_a_file_error(
    client: httpx.AsyncClient, context: AppContext, admin: Member, content: bytes, code: str
) -> None:
    _, result = await import_file(client, context, content)

    assert result["file_error"]["code"] == code
    assert await count_members(context, admin.org_id) == 1


async def test_workbooks_that_unpack_too_large_are_refused_unread(
    client: httpx.AsyncClient, context: AppContext, admin: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "MAX_UNPACKED_XLSX_BYTES", 1000)  # a zip bomb, in miniature

    _, result = await import_file(client, context, xlsx_file([member_row("某", next_mobile())]))

    assert result["file_error"]["code"] == "org.import_bad_file"
    assert result["file_error"]["detail"] == {"reason": "too_large_when_unpacked"}


async def test_files_with_too_many_rows_are_refused(
    client: httpx.AsyncClient, context: AppContext, admin: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    monkeypatch.setattr(importing, "READ_CHUNK", 2)

    _, result = await import_file(
        client, context, csv_file([member_row(f"人{n}", next_mobile()) for n in range(5)])
    )

    assert result["file_error"]["code"] == "org.import_too_many_rows"
    assert await count_members(context, admin.org_id) == 1


async def test_file_error_message_follows_the_uploaders_language(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    answer = await client.post(
        "/api/v1/org/import/upload",
        files={"file": ("x.csv", b"")},
        headers={**csrf_headers(client), "Accept-Language": "en"},
    )
    await run_jobs(context)

    result = (await job(client, answer.json()["job_id"]))["result"]
    assert result["file_error"]["message"] == "The file is empty or has no data rows"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
async def test_csv_in_utf8_with_or_without_bom_and_in_gbk_is_read(
    client: httpx.AsyncClient, context: AppContext, admin: Member, encoding: str
) -> None:
    content = csv_file(
        [member_row("欧阳修", next_mobile(), departments="政策法规处/法规科")], encoding=encoding
    )

    _, result = await import_file(client, context, content)

    assert result["created"] == 1
    member = (await _members_by_name(context, admin.org_id))["欧阳修"]
    assert await _department_paths(context, member.id) == ["政策法规处/法规科"]


async def test_a_50_mb_upload_is_refused_as_too_large(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    answer = await upload(client, b"x" * (50 * 1024 * 1024))

    assert answer.status_code == 413
    assert answer.json()["code"] == "request.too_large"
    async with context.db.transaction() as session:
        imports = await session.execute(select(Job.id).where(Job.kind == importing.IMPORT_JOB))
        assert imports.first() is None


async def test_every_bad_row_is_reported_and_nothing_is_imported(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    shared_mobile = next_mobile()
    good = member_row("合格者", next_mobile(), departments="办公室")
    rows = [
        good,  # row 2
        member_row("甲", shared_mobile),  # 3: the mobile twice
        member_row("乙", shared_mobile),  # 4
        member_row("丙", next_mobile(), job_number="D1"),  # 5: the job number twice
        member_row("丁", next_mobile(), job_number="D1"),  # 6
        member_row("戊", "12345"),  # 7: not a mobile number
        member_row("", next_mobile()),  # 8: no name
        member_row('=HYPERLINK("http://x")', next_mobile()),  # 9: a formula
        member_row(
            "己", next_mobile(), hired_date="2024-02-30", is_head="也许", org_email="no-at-sign"
        ),  # 10
        member_row("庚", next_mobile(), title="长" * 101),  # 11
    ]
    members, departments = (
        await count_members(context, admin.org_id),
        await count_departments(context, admin.org_id),
    )

    job_id, result = await import_file(client, context, xlsx_file(rows))

    assert (result["applied"], result["created"], result["failed"]) == (False, 0, 9)
    assert result["error_report_available"] is True
    assert await count_members(context, admin.org_id) == members
    assert await count_departments(context, admin.org_id) == departments  # 办公室 was not created
    report = await _error_rows(client, job_id)
    assert report[0] == ["行号", *HEADERS, "错误原因"]
    reasons = {int(row[0]): row[-1] for row in report[1:]}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert reasons[3] == "手机号*：文件中有多行使用同一手机号（3, 4）"
    assert reasons[6] == "工号：文件中有多行使用同一工号（5, 6）"
    assert reasons[7] == "手机号*：手机号码格式不正确"
    assert reasons[8] == "姓名*：必填项为空"
    assert reasons[9] == "姓名*：公式单元格不被接受"
    assert reasons[10] == (
        "是否部门主管：请填写“是”或“否”；组织邮箱：邮箱格式不正确；入职日期：日期格式不正确，应为 YYYY-MM-DD"
    )
    assert reasons[11] == "职务：内容超过长度上限（100）"
    row_9 = next(row for row in report if row[0] == "9")
    assert row_9[1] == '\'=HYPERLINK("http://x")'  # the original value, neutralised for spreadsheets


async def test_skip_invalid_rows_imports_the_valid_ones(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    rows = [
        member_row("好一", next_mobile()),
        member_row("坏一", "not a number"),
        member_row("好二", next_mobile()),
        member_row("坏二", next_mobile(), departments="不存在的处"),
    ]
    departments = await count_departments(context, admin.org_id)

    job_id, result = await import_file(
        client, context, xlsx_file(rows), mode="skip_invalid_rows", create_departments="false"
    )

    assert (result["applied"], result["created"], result["failed"]) == (True, 2, 2)
    assert {"好一", "好二"} <= set(await _members_by_name(context, admin.org_id))
    assert {"坏一", "坏二"}.isdisjoint(await _members_by_name(context, admin.org_id))
    assert await count_departments(context, admin.org_id) == departments
    reasons = {int(row[0]): row[-1] for row in (await _error_rows(client, job_id))[1:]}
    assert reasons == {3: "手机号*：手机号码格式不正确", 5: "部门：部门不存在（不存在的处）"}


async def test_unknown_departments_are_row_errors_when_creating_them_is_off(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    job_id, result = await import_file(
        client,
        context,
        csv_file([member_row("某", next_mobile(), departments="新处/新科")]),
        create_departments="false",
    )

    assert (result["failed"], result["departments_created"]) == (1, 0)
    assert (await _error_rows(client, job_id))[1][-1] == "部门：部门不存在（新处/新科）"


async def test_job_number_of_someone_with_another_mobile_is_refused(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    await import_file(client, context, csv_file([member_row("原主", next_mobile(), job_number="K9")]))

    job_id, result = await import_file(
        client, context, csv_file([member_row("冒用", next_mobile(), job_number="K9")])
    )

    assert (result["failed"], result["applied"]) == (1, False)
    assert (await _error_rows(client, job_id))[1][-1] == "工号：该工号已属于使用其他手机号的成员"


async def test_error_report_in_english_and_as_xlsx(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    job_id, _ = await import_file(client, context, csv_file([member_row("坏", "123")]))

    english = await _error_rows(client, job_id, **{"Accept-Language": "en"})
    xlsx = await client.get(f"/api/v1/org/import/{job_id}/errors?format=xlsx")

    assert english == [
        ["Row", *HEADERS, "Errors"],
        ["2", "坏", "123", *[""] * 9, "Mobile*: This is not a valid mobile number"],
    ]
    assert read_xlsx(xlsx.content)[1][-1] == "手机号*：手机号码格式不正确"


async def test_error_report_is_stored_encrypted_and_only_its_owner_reads_it(
    client: httpx.AsyncClient, context: AppContext, admin: Member, make_client: Any
) -> None:
    job_id, _ = await import_file(client, context, csv_file([member_row("保密的名字", "123")]))
    stored = [await context.storage.get(key) for key in context.storage.keys(f"org/{admin.org_id}/imports/")]
    other_admin = await create_member(
        context, org_name=ORG, name="另一位主管理员", role=MemberRole.MAIN_ADMIN
    )
    other = make_client()
    await login_admin(other, context, other_admin.mobile)

    assert len(stored) == 1 and "保密的名字".encode() not in stored[0]
    assert (await other.get(f"/api/v1/org/import/{job_id}/errors")).status_code == 404
    assert (await other.get(f"/api/v1/jobs/{job_id}")).status_code == 404


async def test_no_error_report_for_an_import_without_errors(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    job_id, _ = await import_file(client, context, csv_file([member_row("无误", next_mobile())]))

    answer = await client.get(f"/api/v1/org/import/{job_id}/errors")

    assert answer.status_code == 404


async def test_error_report_of_a_job_still_queued_is_not_ready(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    job_id = (await upload(client, csv_file([member_row("等待", "1")]))).json()["job_id"]

    answer = await client.get(f"/api/v1/org/import/{job_id}/errors")

    assert answer.status_code == 409
    assert answer.json()["code"] == "org.transfer_not_finished"


# Who may import -----------------------------------------------------------------------------
async def _sub_admin(
    context: AppContext, main_admin: Member, client: httpx.AsyncClient, functions: list[str]
) -> dict[str, str]:
    """Departments 办公室 and 信息化处, and a sub-admin of 办公室 logged in on `client`."""
    sub = await create_member(context, org_name=ORG, name="分管管理员")
    async with context.db.transaction() as session:
        scope = AdminScope(main_admin.org_id, "", True, (), frozenset())
        root = await org_service.root_department(session, main_admin.org_id)
        created = {
            name: await org_service.create_department(
                session, context, scope, parent_id=root.id, name=name, actor_id=main_admin.account_id, ip=""
            )
            for name in ("办公室", "信息化处")
        }
        membership = await org_service.get_membership(session, org_id=sub.org_id, account_id=sub.account_id)
        assert membership is not None
        grant = AdminGrant(duty="system", department_ids=[created["办公室"].id], functions=functions)
        await org_service.set_admin_grants(
            session, context, scope, membership, [grant], actor_id=main_admin.account_id, ip=""
        )
    await login_admin(client, context, sub.mobile)
    return {name: department.id for name, department in created.items()}


async def test_sub_admin_imports_only_within_their_departments(
    client: httpx.AsyncClient, context: AppContext, admin: Member, make_client: Any
) -> None:
    sub_client = make_client()
    await _sub_admin(context, admin, sub_client, ["import_export"])
    outsider_mobile = next_mobile()
    await import_file(
        client, context, csv_file([member_row("老王", outsider_mobile, departments="信息化处")])
    )
    rows = [
        member_row("新人甲", next_mobile(), departments="办公室/综合科"),  # a new department in scope
        member_row("新人乙", next_mobile(), departments="信息化处"),
        member_row("新人丙", next_mobile()),  # would go to the root
        member_row("老王", outsider_mobile, departments="办公室"),  # someone they do not manage
        member_row("新人丁", next_mobile(), departments="新处/新科"),  # a new department outside
    ]

    job_id, result = await import_file(sub_client, context, csv_file(rows), mode="skip_invalid_rows")

    assert (result["created"], result["failed"], result["departments_created"]) == (1, 4, 1)
    members = await _members_by_name(context, admin.org_id)
    assert await _department_paths(context, members["新人甲"].id) == ["办公室/综合科"]
    assert await _department_paths(context, members["老王"].id) == ["信息化处"]
    reasons = {int(row[0]): row[-1] for row in (await _error_rows(sub_client, job_id))[1:]}
    assert reasons == {
        3: "部门：超出您的管理范围（信息化处）",
        4: f"部门：超出您的管理范围（{ORG}）",
        5: "手机号*：超出您的管理范围",
        6: "部门：超出您的管理范围（新处/新科）",
    }


async def test_sub_admin_without_the_import_export_function_is_refused(
    client: httpx.AsyncClient, context: AppContext, admin: Member, make_client: Any
) -> None:
    sub_client = make_client()
    await _sub_admin(context, admin, sub_client, ["members"])

    answer = await upload(sub_client, csv_file([member_row("某", next_mobile())]))

    assert answer.status_code == 403
    assert answer.json()["code"] == "org.admin_required"


async def test_members_and_other_organisations_change_nothing(
    client: httpx.AsyncClient, context: AppContext, admin: Member, make_client: Any
) -> None:
    job_id, _ = await import_file(client, context, csv_file([member_row("坏", "123")]))
    member = await create_member(context, org_name=ORG)
    staff = make_client()
    await login(staff, context, member.mobile)
    stranger_admin = await create_member(context, org_name="别的单位", role=MemberRole.MAIN_ADMIN)
    stranger = make_client()
    await login_admin(stranger, context, stranger_admin.mobile)
    members = await count_members(context, admin.org_id)

    refused = await upload(staff, csv_file([member_row("混入者", next_mobile())]))
    _, theirs = await import_file(stranger, context, csv_file([member_row("别处的人", next_mobile())]))

    assert refused.status_code == 403 and refused.json()["code"] == "org.admin_required"
    assert theirs["created"] == 1
    assert await count_members(context, admin.org_id) == members
    assert await count_members(context, stranger_admin.org_id) == 2
    for path in (f"/api/v1/jobs/{job_id}", f"/api/v1/org/import/{job_id}/errors"):
        assert (await stranger.get(path)).status_code == 404
        assert (await staff.get(path)).status_code == 404


async def test_revoked_admin_imports_nothing_from_an_earlier_upload(
    client: httpx.AsyncClient, context: AppContext, admin: Member, make_client: Any
) -> None:
    sub_client = make_client()
    await _sub_admin(context, admin, sub_client, ["import_export"])
    job_id = (
        await upload(sub_client, csv_file([member_row("迟到者", next_mobile(), departments="办公室")]))
    ).json()["job_id"]
    async with context.db.transaction() as session:
        for grant in (await session.execute(select(AdminGrant))).scalars():
            await session.delete(grant)

    await run_jobs(context)

    result = (await job(sub_client, job_id))["result"]
    assert result["file_error"]["code"] == "org.admin_required"
    assert "迟到者" not in await _members_by_name(context, admin.org_id)


# Progress -----------------------------------------------------------------------------------
async def test_progress_is_reported_while_validating_and_applying(
    client: httpx.AsyncClient, context: AppContext, admin: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "READ_CHUNK", 2)
    monkeypatch.setattr(importing, "APPLY_BATCH", 2)
    rows = [member_row(f"进度{n}", next_mobile()) for n in range(5)]
    job_id = (await upload(client, csv_file(rows))).json()["job_id"]

    async with context.events.listen(admin.account_id) as listener:
        await run_jobs(context)
        received: list[dict[str, Any]] = []
        while not received or received[-1]["type"] != "job.finished":
            received.append(await next_event(listener))

    progress = [event for event in received if event["type"] == "job.progress"]
    assert [event["job_id"] for event in progress] == [job_id] * len(progress)
    messages = [event["message"] for event in progress]
    assert sum(message.startswith("正在读取") for message in messages) == 3
    assert "校验完成：5 行有效，0 行有误" in messages
    assert [message for message in messages if message.startswith("正在导入")] == [
        "正在导入：2/5 行",
        "正在导入：4/5 行",
        "正在导入：5/5 行",
    ]
    assert [event["done"] for event in progress] == sorted(event["done"] for event in progress)
    assert (progress[-1]["percent"], progress[-1]["total"]) == (100, 10)
    assert (await job(client, job_id))["progress"]["percent"] == 100


async def test_departments_are_created_under_their_parents_with_correct_paths(
    context: AppContext, admin: Member
) -> None:
    async with context.db.transaction() as session:
        tree = await importing.DepartmentTree.load(session, admin.org_id)
        created = await importing.create_department_paths(
            session, tree, admin.org_id, [("一", "二", "三"), ("一", "四"), ("五",)]
        )
    async with context.db.transaction() as session:
        departments = {d.name: d for d in (await session.execute(select(Department))).scalars()}

    assert created == 5
    assert departments["三"].parent_id == departments["二"].id
    assert departments["三"].path == f"{departments['二'].path}{departments['三'].id}/"
    assert departments["四"].path.startswith(departments["一"].path)
    assert departments["五"].parent_id == departments[ORG].id
