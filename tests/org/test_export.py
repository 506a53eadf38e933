"""Directory export: the members in the admin's scope, in the template's columns, mobile in full,
audited, stored encrypted and downloadable by whoever asked for it alone."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from fixtures.directory_files import HEADERS, member_row, read_xlsx, xlsx_file
from fixtures.transfer import import_file, job, run_jobs
from openpyxl import load_workbook
from sqlalchemy import select, update

from helpers import Member, create_member, csrf_headers, login, login_admin, next_mobile
from zhengtong.core.clock import clock
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext
from zhengtong.org import exporting
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.jobs import CLEANUP_JOB
from zhengtong.org.models import AdminGrant, CustomFieldDefinition, MemberRole, Membership
from zhengtong.platform.audit import AuditEntry
from zhengtong.platform.jobs import Job, enqueue

ORG = "导出单位"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Jobs run when a test says so (run_until_idle), not in the app's background runner."""
    return settings.with_overrides(run_jobs_in_process=False)


@pytest.fixture
async def admin(client: httpx.AsyncClient, context: AppContext) -> Member:
    main_admin = await create_member(context, org_name=ORG, name="主管理员", role=MemberRole.MAIN_ADMIN)
    await login_admin(client, context, main_admin.mobile)
    return main_admin


async def _export(client: httpx.AsyncClient, context: AppContext) -> tuple[str, bytes]:
    started = await client.post("/api/v1/org/export", headers=csrf_headers(client))
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    await run_jobs(context)
    assert (await job(client, job_id))["status"] == "succeeded"
    download = await client.get(f"/api/v1/org/export/{job_id}/download")
    assert download.status_code == 200, download.text
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
    return job_id, download.content


async def test_export_has_the_template_columns_and_full_mobile_numbers(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    async with context.db.transaction() as session:
        session.add(CustomFieldDefinition(org_id=admin.org_id, key="rank", label="职级"))
    zhang, li = next_mobile(), next_mobile()
    rows = [
        [
            *member_row(
                "张三",
                zhang,
                job_number="E1",
                departments="办公室/综合科;信息化处",
                title="科长",
                is_head="是",
                office_phone="010-1234",
                org_email="z@example.gov.cn",
                work_place="3号楼",
                hired_date="2020-01-02",
                hide_mobile="是",
            ),
            "一级主任科员",
        ],
        [*member_row("李四", li), ""],
    ]
    await import_file(client, context, xlsx_file(rows, [*HEADERS, "职级"]))

    job_id, content = await _export(client, context)

    exported = read_xlsx(content)
    assert exported[0] == [*HEADERS, "职级"]
    by_name = {row[0]: row for row in exported[1:]}
    assert sorted(by_name) == ["主管理员", "张三", "李四"]
    assert by_name["张三"] == [
        "张三",
        zhang,
        "E1",
        "办公室/综合科;信息化处",
        "科长",
        "是",
        "010-1234",
        "z@example.gov.cn",
        "3号楼",
        "2020-01-02",
        "是",
        "一级主任科员",
    ]
    assert by_name["李四"][:6] == ["李四", li, "", ORG, "", "否"]
    async with context.db.transaction() as session:
        entries = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "org.directory_exported"))
        ).scalars()
        assert [(e.object_id, e.actor_account_id, e.detail["rows"]) for e in entries] == [
            (job_id, admin.account_id, 3)
        ]
    stored = [await context.storage.get(key) for key in context.storage.keys(f"org/{admin.org_id}/exports/")]
    assert len(stored) == 1 and zhang.encode() not in stored[0] and b"PK" not in stored[0][:4]


async def test_exported_file_imports_back_unchanged(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    rows = [
        member_row(f"成员{n}", next_mobile(), job_number=f"R{n}", departments="处/科", title="科员")
        for n in range(4)
    ]
    await import_file(client, context, xlsx_file(rows))
    _, content = await _export(client, context)

    _, result = await import_file(client, context, content)

    assert (result["created"], result["updated"], result["unchanged"], result["failed"]) == (0, 0, 5, 0)


async def test_values_that_look_like_formulas_are_exported_as_text(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    async with context.db.transaction() as session:
        await session.execute(
            update(Membership).where(Membership.account_id == admin.account_id).values(title="=1+1")
        )

    _, content = await _export(client, context)

    cell = load_workbook(io.BytesIO(content)).worksheets[0]["E2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


async def test_sub_admin_exports_only_their_departments(
    client: httpx.AsyncClient, context: AppContext, admin: Member, make_client: Any
) -> None:
    rows = [
        member_row("办公室的人", next_mobile(), departments="办公室"),
        member_row("综合科的人", next_mobile(), departments="办公室/综合科"),
        member_row("信息化处的人", next_mobile(), departments="信息化处"),
    ]
    await import_file(client, context, xlsx_file(rows))
    sub = await create_member(context, org_name=ORG, name="分管管理员")
    async with context.db.transaction() as session:
        scope = AdminScope(admin.org_id, "", True, (), frozenset())
        tree = {d.name: d for d in await org_service.list_departments(session, admin.org_id)}
        membership = await org_service.get_membership(session, org_id=sub.org_id, account_id=sub.account_id)
        assert membership is not None
        grant = AdminGrant(duty="system", department_ids=[tree["办公室"].id], functions=["import_export"])
        await org_service.set_admin_grants(
            session, context, scope, membership, [grant], actor_id=admin.account_id, ip=""
        )
    sub_client = make_client()
    await login_admin(sub_client, context, sub.mobile)

    _, content = await _export(sub_client, context)

    assert sorted(row[0] for row in read_xlsx(content)[1:]) == ["办公室的人", "综合科的人"]


async def test_only_the_owner_downloads_and_only_when_finished(
    client: httpx.AsyncClient, context: AppContext, admin: Member, make_client: Any
) -> None:
    started = await client.post("/api/v1/org/export", headers=csrf_headers(client))
    job_id = started.json()["job_id"]
    early = await client.get(f"/api/v1/org/export/{job_id}/download")
    await run_jobs(context)
    other_admin = await create_member(context, org_name=ORG, name="另一位管理员", role=MemberRole.MAIN_ADMIN)
    other = make_client()
    await login_admin(other, context, other_admin.mobile)
    stranger_admin = await create_member(context, org_name="别的单位", role=MemberRole.MAIN_ADMIN)
    stranger = make_client()
    await login_admin(stranger, context, stranger_admin.mobile)

    assert early.status_code == 409 and early.json()["code"] == "org.transfer_not_finished"
    assert (await other.get(f"/api/v1/org/export/{job_id}/download")).status_code == 404
    assert (await stranger.get(f"/api/v1/org/export/{job_id}/download")).status_code == 404
    assert (await client.get(f"/api/v1/org/import/{job_id}/errors")).status_code == 404  # not an import
    assert (await client.get(f"/api/v1/org/export/{job_id}/download")).status_code == 200


async def test_members_may_not_export(
    client: httpx.AsyncClient, context: AppContext, admin: Member, make_client: Any
) -> None:
    member = await create_member(context, org_name=ORG)
    staff = make_client()
    await login(staff, context, member.mobile)

    answer = await staff.post("/api/v1/org/export", headers=csrf_headers(staff))

    assert answer.status_code == 403 and answer.json()["code"] == "org.admin_required"
    async with context.db.transaction() as session:
        exports = await session.execute(select(Job.id).where(Job.kind == exporting.EXPORT_JOB))
        assert exports.first() is None


async def test_transfer_files_are_removed_a_week_after_their_job(
    client: httpx.AsyncClient, context: AppContext, admin: Member
) -> None:
    # given an export that finished
    job_id, _content = await _export(client, context)
    key = exporting.export_key(admin.org_id, job_id)
    assert await context.storage.exists(key)

    # when the hourly clean-up runs within the week, then after it
    async with context.db.transaction() as session:
        await enqueue(session, kind=CLEANUP_JOB, payload={})
    await run_jobs(context)
    kept = await context.storage.exists(key)
    clock.advance(8 * 24 * 3600)
    async with context.db.transaction() as session:
        await enqueue(session, kind=CLEANUP_JOB, payload={})
    await run_jobs(context)

    # then the file stays a week, then goes, and the download says so plainly
    assert kept is True
    assert not await context.storage.exists(key)
    async with context.db.transaction() as session:
        finished = await session.get(Job, job_id)
        assert finished is not None and finished.result is not None
        assert finished.result["files_removed"] is True
    gone = await client.get(f"/api/v1/org/export/{job_id}/download")
    assert (gone.status_code, gone.json()["code"]) == (410, "org.transfer_file_removed")
