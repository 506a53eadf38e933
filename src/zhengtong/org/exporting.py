"""Spreadsheets the directory hands out: the import template, an import's error report, and the
export of the members in an admin's scope (a job; the file is kept encrypted like the uploads).

Every cell is written as text, so Excel keeps mobile numbers and job numbers as typed, and no
value can turn into a formula: XLSX cells are typed as strings, and CSV values that a spreadsheet
would run as formulas get a leading apostrophe.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.context import AppContext
from zhengtong.core.errors import all_error_codes
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org.access import AdminScope
from zhengtong.org.importing import (
    Column,
    DepartmentTree,
    access_finished_transfer,
    get_organization,
    load_sealed,
    looks_like_formula,
    owner_scope,
    plan_each_statement,
    read_error_report,
    store_sealed,
    template_columns,
)
from zhengtong.org.models import Department, MemberDepartment, Membership
from zhengtong.platform import audit, jobs
from zhengtong.platform.jobs import Job, JobContext

EXPORT_JOB = "org.directory_export"
EXPORT_BATCH = 1_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
SHEET_TITLE = "通讯录"
FileFormat = Literal["xlsx", "csv"]

TEMPLATE_NOTES = (
    "带 * 的列必填；其余列留空时，已有成员的该项保持不变。",
    "成员按工号匹配，没有工号时按手机号匹配；已存在的成员会被更新，其余成员会被新增。",
    "部门填写从根部门以下的路径，如“办公室/综合科”；多个部门用分号（; 或 ；）分隔。",
    "是否部门主管、隐藏手机号填写“是”或“否”；入职日期格式为 YYYY-MM-DD。",
    "不接受公式单元格。",
)


@dataclass(frozen=True)
class FileDownload:
    content: bytes
    filename: str
    media_type: str


# Writers ------------------------------------------------------------------------------------
def _text_cell(sheet: Any, value: str) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # a string even when it starts with "=": never a formula
    return cell


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence[str]], notes: Sequence[str] = ()) -> bytes:
    """A workbook with one sheet of text cells (and, given notes, a second sheet "说明")."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    sheet.append([_text_cell(sheet, header) for header in headers])
    for values in rows:
        sheet.append([_text_cell(sheet, value) if value else None for value in values])
    if notes:
        notes_sheet = workbook.create_sheet("说明")
        for note in notes:
            notes_sheet.append([_text_cell(notes_sheet, note)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _neutralised(value: str) -> str:
    return f"'{value}" if looks_like_formula(value) else value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """UTF-8 with a BOM, which is how Excel recognises UTF-8 when it opens a CSV file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows([_neutralised(value) for value in values] for values in rows)
    return buffer.getvalue().encode("utf-8-sig")


def spreadsheet(
    file_format: FileFormat, name: str, headers: Sequence[str], rows: Iterable[Sequence[str]]
) -> FileDownload:
    if file_format == "csv":
        return FileDownload(csv_bytes(headers, rows), f"{name}.csv", CSV_TYPE)
    return FileDownload(xlsx_bytes(headers, rows), f"{name}.xlsx", XLSX_TYPE)


# Template -----------------------------------------------------------------------------------
async def import_template(session: AsyncSession, scope: AdminScope, file_format: FileFormat) -> FileDownload:
    """The import template: the fixed columns and one per custom field, with notes in XLSX."""
    headers = [column.header for column in await template_columns(session, scope.org_id)]
    if file_format == "csv":
        return FileDownload(csv_bytes(headers, []), "通讯录导入模板.csv", CSV_TYPE)
    return FileDownload(xlsx_bytes(headers, [], TEMPLATE_NOTES), "通讯录导入模板.xlsx", XLSX_TYPE)


# Error report -------------------------------------------------------------------------------
def _reasons(errors: Sequence[dict[str, str]], language: str) -> str:
    """Reasons such as 手机号*：手机号码格式不正确；工号：… (in English: "Mobile*: …; Job number: …")."""
    codes = all_error_codes()
    colon, separator, brackets = (": ", "; ", "()") if language == "en" else ("：", "；", "（）")
    reasons = []
    for error in errors:
        column = error["column_en"] if language == "en" else error["column"]
        reason = f"{column}{colon}{codes[error['code']].message(language)}"
        detail = f"{brackets[0]}{error['detail']}{brackets[1]}" if error["detail"] else ""
        reasons.append(reason + detail)
    return separator.join(reasons)


def render_error_report(report: dict[str, Any], file_format: FileFormat, language: str) -> FileDownload:
    """Each bad row: its number, the cells as they were, and the reasons in `language`."""
    row_header, reasons_header = ("Row", "Errors") if language == "en" else ("行号", "错误原因")
    headers = [row_header, *report["headers"], reasons_header]
    width = len(report["headers"])
    rows = [
        [str(row["row"]), *(row["values"] + [""] * width)[:width], _reasons(row["errors"], language)]
        for row in report["rows"]
    ]
    name = "import-errors" if language == "en" else "导入错误报告"
    return spreadsheet(file_format, name, headers, rows)


async def error_report_file(
    session: AsyncSession,
    context: AppContext,
    caller: Caller,
    *,
    job_id: str,
    file_format: FileFormat,
    language: str,
) -> FileDownload:
    """The caller's import error report as a spreadsheet in their language."""
    report = await read_error_report(session, context, caller, job_id=job_id)
    return await asyncio.to_thread(render_error_report, report, file_format, language)


# Export -------------------------------------------------------------------------------------
def export_key(org_id: str, job_id: str) -> str:
    return f"org/{org_id}/exports/{job_id}"


async def start_export(session: AsyncSession, scope: AdminScope, *, actor_id: str, ip: str) -> Job:
    """Enqueues the export of the members in the admin's scope."""
    return await jobs.enqueue(
        session, kind=EXPORT_JOB, payload={"ip": ip}, org_id=scope.org_id, owner_account_id=actor_id
    )


async def member_ids_in_scope(session: AsyncSession, scope: AdminScope) -> list[str]:
    query = select(Membership.id).where(Membership.org_id == scope.org_id)
    if not scope.whole_org:
        seated = (
            select(MemberDepartment.membership_id)
            .join(Department, Department.id == MemberDepartment.department_id)
            .where(or_(false(), *(Department.path.startswith(path) for path in scope.subtree_paths)))
        )
        query = query.where(Membership.id.in_(seated))
    result = await session.execute(query.order_by(Membership.name, Membership.id))
    return list(result.scalars())


def _national(e164: str) -> str:
    return e164.removeprefix("+86")  # mainland numbers as people write them


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


async def export_rows(
    session: AsyncSession,
    context: AppContext,
    membership_ids: Sequence[str],
    columns: Sequence[Column],
    tree: DepartmentTree,
) -> list[list[str]]:
    """One batch of members as template rows, the mobile in full."""
    await plan_each_statement(session)
    members = (await session.execute(select(Membership).where(Membership.id.in_(membership_ids)))).scalars()
    by_id = {member.id: member for member in members}
    accounts = await session.execute(
        select(Account).where(Account.id.in_([member.account_id for member in by_id.values()]))
    )
    mobiles = {
        account.id: identity.decrypt_mobile(context.keyring, account) for account in accounts.scalars()
    }
    seats: dict[str, list[MemberDepartment]] = {membership_id: [] for membership_id in membership_ids}
    seat_rows = await session.execute(
        select(MemberDepartment)
        .where(MemberDepartment.membership_id.in_(membership_ids))
        .order_by(MemberDepartment.sort_order)
    )
    for seat in seat_rows.scalars():
        seats[seat.membership_id].append(seat)
    return [
        _export_row(
            by_id[membership_id],
            _national(mobiles[by_id[membership_id].account_id]),
            seats[membership_id],
            columns,
            tree,
        )
        for membership_id in membership_ids
    ]


def _export_row(
    member: Membership,
    mobile: str,
    seats: Sequence[MemberDepartment],
    columns: Sequence[Column],
    tree: DepartmentTree,
) -> list[str]:
    values = {
        "name": member.name,
        "mobile": mobile,
        "job_number": member.job_number or "",
        "departments": ";".join(tree.display(tree.names_of(seat.department_id)) for seat in seats),
        "title": member.title,
        "is_head": _yes_no(any(seat.is_head for seat in seats)),
        "office_phone": member.office_phone,
        "org_email": member.org_email,
        "work_place": member.work_place,
        "hired_date": member.hired_date.isoformat() if member.hired_date else "",
        "hide_mobile": _yes_no(member.hide_mobile),
    }
    custom = member.custom_fields or {}
    return [str(custom.get(column.key, "")) if column.custom else values[column.key] for column in columns]


async def run_export(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """The export job: the members in the owner's scope, in batches, into an encrypted XLSX file."""
    context = job.context
    async with job.transaction() as session:
        scope = await owner_scope(session, job)
        organization = await get_organization(session, scope.org_id)
        columns = await template_columns(session, scope.org_id)
        tree = await DepartmentTree.load(session, scope.org_id)
        membership_ids = await member_ids_in_scope(session, scope)
    rows: list[list[str]] = []
    for start in range(0, len(membership_ids), EXPORT_BATCH):
        async with job.transaction() as session:
            batch = membership_ids[start : start + EXPORT_BATCH]
            rows.extend(await export_rows(session, context, batch, columns, tree))
        await job.report_progress(len(rows), len(membership_ids), f"正在导出：{len(rows)} 行")
    headers = [column.header for column in columns]
    content = await asyncio.to_thread(xlsx_bytes, headers, rows)
    await store_sealed(context, organization, export_key(organization.id, job.job_id), content)
    async with job.transaction() as session:
        await audit.record(
            session,
            context.keyring,
            action="org.directory_exported",
            org_id=organization.id,
            actor_id=job.owner_account_id,
            object_type="job",
            object_id=job.job_id,
            ip=str(payload.get("ip", "")),
            detail={"rows": len(rows), "whole_org": scope.whole_org},
        )
    return {"rows": len(rows), "download_available": True}


async def export_file(
    session: AsyncSession, context: AppContext, caller: Caller, *, job_id: str
) -> FileDownload:
    """The caller's finished export."""
    job = await access_finished_transfer(session, caller, job_id=job_id, kind=EXPORT_JOB)
    organization = await get_organization(session, job.org_id)
    content = await load_sealed(context, organization, export_key(organization.id, job.id))
    filename = f"通讯录导出_{job.created_at:%Y%m%d}.xlsx"
    return FileDownload(content, filename, XLSX_TYPE)
