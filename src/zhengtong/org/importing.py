"""Bulk import of the directory from the fixed template (XLSX or CSV), run as a job.

1. Read: the stored upload is decrypted and read row by row (openpyxl in read-only mode for XLSX;
   UTF-8 with or without BOM, or GB18030/GBK, for CSV). A file that cannot be read, or whose
   columns are wrong, ends the import with one file-level error.
2. Validate every row before anything is written: cell formats, duplicates inside the file, the
   departments (existing, or new paths to create), the admin's scope and the existing members the
   rows match (by job number, else by the mobile's account).
3. Apply in batches of multi-row statements, each batch in a transaction of its own followed by a
   progress report. In all_or_nothing mode any row error stops the import before step 3; in
   skip_invalid_rows mode the valid rows are applied and the others reported.

An empty cell leaves an existing member's value as it is, so a partial file never wipes data; a
row whose values all match is counted as unchanged and not written. Running an import twice is
therefore harmless, which the job runner's at-least-once delivery needs: a crash part-way leaves
the rows applied so far, and the retry applies the rest.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

import orjson
from openpyxl import load_workbook
from sqlalchemy import Row, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from zhengtong.core.caller import Caller
from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import FieldCipher, Keyring
from zhengtong.core.db import Base
from zhengtong.core.errors import NOT_FOUND, AppError, ErrorCode, error_code
from zhengtong.core.ids import new_id
from zhengtong.directory import index
from zhengtong.identity import service as identity
from zhengtong.org import errors
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope, admin_scope
from zhengtong.org.models import (
    AdminDuty,
    CustomFieldDefinition,
    Department,
    MemberDepartment,
    MemberRole,
    Membership,
    MemberStatus,
    Organization,
)
from zhengtong.platform import audit, hooks, jobs
from zhengtong.platform.jobs import Job, JobCancelled, JobContext, JobInterrupted, JobStatus

IMPORT_JOB = "org.directory_import"
TRANSFER_FUNCTION = "import_export"  # the system duty's function that covers import and export
IMPORT_MAX_ATTEMPTS = 3
MAX_ROWS = 200_000
READ_CHUNK = 5_000  # rows read (in a worker thread) between two progress reports
APPLY_BATCH = 2_000  # rows written per transaction
LOOKUP_CHUNK = 1_000  # values per IN (...) list: well inside SQLite's and PostgreSQL's limits
MAX_UNPACKED_XLSX_BYTES = 1 << 30  # refuses zip bombs before openpyxl unpacks anything

# File-level errors: the import stops before reading any row.
BAD_FILE = error_code(
    "org.import_bad_file",
    422,
    "文件无法读取：请上传 xlsx 或 csv 格式的表格",
    "The file cannot be read: upload an xlsx or csv spreadsheet",
)
BAD_ENCODING = error_code(
    "org.import_bad_encoding",
    422,
    "无法识别 CSV 文件的编码：请保存为 UTF-8 或 GBK/GB18030 编码",
    "The CSV file's encoding is not recognised: save it as UTF-8 or GBK/GB18030",
)
EMPTY_FILE = error_code(
    "org.import_empty_file", 422, "文件为空或没有数据行", "The file is empty or has no data rows"
)
MISSING_COLUMNS = error_code(
    "org.import_missing_columns", 422, "文件缺少必需的列", "The file lacks required columns"
)
UNKNOWN_COLUMNS = error_code(
    "org.import_unknown_columns",
    422,
    "文件中有模板以外的列",
    "The file has columns that are not in the template",
)
DUPLICATE_COLUMNS = error_code(
    "org.import_duplicate_columns", 422, "文件中有重复的列", "The file has the same column twice"
)
TOO_MANY_ROWS = error_code(
    "org.import_too_many_rows", 422, "文件行数超过上限", "The file has more rows than an import takes"
)
JOB_NOT_FINISHED = error_code(
    "org.transfer_not_finished",
    409,
    "任务尚未完成，请稍后再试",
    "The job has not finished yet; try again later",
)

# Row errors: reported per row in the error report.
ROW_REQUIRED = error_code("org.import_row_required", 422, "必填项为空", "This column is required")
ROW_FORMULA = error_code(
    "org.import_row_formula", 422, "公式单元格不被接受", "Formula cells are not accepted"
)
ROW_TOO_LONG = error_code("org.import_row_too_long", 422, "内容超过长度上限", "The value is too long")
ROW_BAD_DATE = error_code(
    "org.import_row_bad_date", 422, "日期格式不正确，应为 YYYY-MM-DD", "The date is not valid; use YYYY-MM-DD"
)
ROW_BAD_YES_NO = error_code("org.import_row_bad_yes_no", 422, "请填写“是”或“否”", "Fill in yes or no")
ROW_BAD_EMAIL = error_code(
    "org.import_row_bad_email", 422, "邮箱格式不正确", "The e-mail address is not valid"
)
ROW_BAD_DEPARTMENT = error_code(
    "org.import_row_bad_department",
    422,
    "部门名称过长（最多 100 个字符）",
    "A department name is too long (100 characters at most)",
)
ROW_UNKNOWN_DEPARTMENT = error_code(
    "org.import_row_unknown_department", 422, "部门不存在", "The department does not exist"
)
ROW_DUPLICATE_MOBILE = error_code(
    "org.import_row_duplicate_mobile",
    422,
    "文件中有多行使用同一手机号",
    "Several rows of the file have this mobile number",
)
ROW_DUPLICATE_JOB_NUMBER = error_code(
    "org.import_row_duplicate_job_number",
    422,
    "文件中有多行使用同一工号",
    "Several rows of the file have this job number",
)
ROW_MOBILE_MISMATCH = error_code(
    "org.import_row_mobile_mismatch",
    422,
    "该工号已属于使用其他手机号的成员",
    "This job number belongs to a member with another mobile number",
)
ROW_SAME_MEMBER = error_code(
    "org.import_row_same_member",
    422,
    "文件中有多行对应同一成员",
    "Several rows of the file match the same member",
)


class ImportMode(StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"  # any row error: nothing is imported
    SKIP_INVALID_ROWS = "skip_invalid_rows"  # the valid rows are imported, the others reported


# Columns ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str  # the profile field, or the custom field's key
    header: str  # the template's zh-CN header
    english: str  # the header in English error reports
    limit: int = 100  # characters
    required: bool = False
    custom: bool = False


NAME = Column("name", "姓名*", "Name*", required=True)
MOBILE = Column("mobile", "手机号*", "Mobile*", limit=32, required=True)
JOB_NUMBER = Column("job_number", "工号", "Job number", limit=64)
DEPARTMENTS = Column("departments", "部门", "Departments", limit=2000)
TITLE = Column("title", "职务", "Title")
IS_HEAD = Column("is_head", "是否部门主管", "Department head", limit=8)
OFFICE_PHONE = Column("office_phone", "办公电话", "Office phone", limit=64)
ORG_EMAIL = Column("org_email", "组织邮箱", "Organisation e-mail", limit=200)
WORK_PLACE = Column("work_place", "办公地点", "Work place", limit=200)
HIRED_DATE = Column("hired_date", "入职日期", "Hired on", limit=32)
HIDE_MOBILE = Column("hide_mobile", "隐藏手机号", "Hide mobile", limit=8)
FIXED_COLUMNS = (
    NAME,
    MOBILE,
    JOB_NUMBER,
    DEPARTMENTS,
    TITLE,
    IS_HEAD,
    OFFICE_PHONE,
    ORG_EMAIL,
    WORK_PLACE,
    HIRED_DATE,
    HIDE_MOBILE,
)
CUSTOM_FIELD_LIMIT = 200

# The membership's own columns an import sets: the profile's, but for those the template has no
# column for (manager, executive mode) and custom fields (handled apart).
PROFILE_FIELDS = tuple(
    name for name in org_service.PROFILE_FIELDS if name not in ("manager_id", "executive", "custom_fields")
)
_INDEXED_FIELDS = frozenset({"name", "job_number", "title"})  # what the search tokens are made of
# What an existing member is matched and compared by (not the whole row: 100,000 of them are read).
_MATCHED_MEMBER_COLUMNS = [
    getattr(Membership, name) for name in ("id", "account_id", *PROFILE_FIELDS, "custom_fields")
]


async def template_columns(session: AsyncSession, org_id: str) -> list[Column]:
    """The template's columns: the fixed ones, then one per custom field the organisation defined."""
    definitions = await session.execute(
        select(CustomFieldDefinition.key, CustomFieldDefinition.label)
        .where(CustomFieldDefinition.org_id == org_id)
        .order_by(CustomFieldDefinition.sort_order, CustomFieldDefinition.key)
    )
    custom = [
        Column(key, label, label, limit=CUSTOM_FIELD_LIMIT, custom=True) for key, label in definitions.all()
    ]
    return [*FIXED_COLUMNS, *custom]


_PLAIN_NUMBER = re.compile(r"[+\-]?[\d\s\-()]*")


def looks_like_formula(text: str) -> bool:
    """Text a spreadsheet would run as a formula (=, +, -, @ in front), unless it is a plain number
    such as "+86 138 0013 8000" or a lone "-" placeholder. Such cells are refused on import and
    neutralised on export, so that nobody's spreadsheet runs what a file smuggled in."""
    return bool(text) and text[0] in "=+-@" and not _PLAIN_NUMBER.fullmatch(text)


# Encrypted files ----------------------------------------------------------------------------
def upload_key(org_id: str, job_id: str) -> str:
    return f"org/{org_id}/imports/{job_id}"


def report_key(org_id: str, job_id: str) -> str:
    return f"org/{org_id}/imports/{job_id}-errors"


def _org_cipher(context: AppContext, organization: Organization) -> FieldCipher:
    return context.keyring.org_cipher(organization.id, organization.data_key_wrapped)


async def store_sealed(context: AppContext, organization: Organization, key: str, data: bytes) -> None:
    """Stores `data` encrypted with the organisation's data key and bound to its storage key, so
    the file is shredded with the organisation and cannot be swapped for another."""
    sealed = _org_cipher(context, organization).encrypt(data, aad=key.encode())
    await context.storage.put(key, sealed)


async def load_sealed(context: AppContext, organization: Organization, key: str) -> bytes:
    if not await context.storage.exists(key):
        raise AppError(errors.TRANSFER_FILE_REMOVED)  # removed a week after its job (org.jobs)
    sealed = await context.storage.get(key)
    return _org_cipher(context, organization).decrypt(sealed, aad=key.encode())


async def get_organization(session: AsyncSession, org_id: str | None) -> Organization:
    organization = await session.get(Organization, org_id) if org_id else None
    if organization is None:
        raise AppError(NOT_FOUND)
    return organization


# Who may start, run and read transfers ------------------------------------------------------
async def owner_scope(session: AsyncSession, job: JobContext) -> AdminScope:
    """The job owner's import/export scope, checked again when the job runs: an admin whose duty
    was withdrawn after enqueuing transfers nothing."""
    caller = Caller(
        account_id=job.owner_account_id or "",
        session_id=f"job:{job.job_id}",
        org_id=job.org_id,
        role=None,
        second_factor_done=True,
        via_cookie=False,
    )
    return await admin_scope(session, caller, AdminDuty.SYSTEM, TRANSFER_FUNCTION)


async def access_finished_transfer(session: AsyncSession, caller: Caller, *, job_id: str, kind: str) -> Job:
    """A finished import or export job of `kind` the caller started in their current organisation,
    while they still hold the import/export duty. Anyone else's job is `not_found`."""
    job = await jobs.access_own_job(session, job_id=job_id, account_id=caller.account_id)
    if job.kind != kind or job.org_id != caller.org_id:
        raise AppError(NOT_FOUND)
    await admin_scope(session, caller, AdminDuty.SYSTEM, TRANSFER_FUNCTION)
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        raise AppError(JOB_NOT_FINISHED)
    if job.status != JobStatus.SUCCEEDED:
        raise AppError(NOT_FOUND)
    return job


# Starting an import -------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportOptions:
    mode: ImportMode = ImportMode.ALL_OR_NOTHING
    create_departments: bool = True


async def start_import(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    data: bytes,
    options: ImportOptions,
    actor_id: str,
    ip: str,
    language: str,
) -> Job:
    """Stores the uploaded file encrypted and enqueues the import job; the file is read only by the
    job, so a large file does not hold the request."""
    organization = await get_organization(session, scope.org_id)
    job = await jobs.enqueue(
        session,
        kind=IMPORT_JOB,
        payload={
            "mode": options.mode.value,
            "create_departments": options.create_departments,
            "ip": ip,
            "language": language,
        },
        org_id=scope.org_id,
        owner_account_id=actor_id,
        max_attempts=IMPORT_MAX_ATTEMPTS,
    )
    # Stored before the commit that lets the job run; if the commit fails, an unreadable orphan remains.
    await store_sealed(context, organization, upload_key(scope.org_id, job.id), data)
    return job


# Reading the file ---------------------------------------------------------------------------
def _cell_text(value: Any) -> str:
    """A cell as the text an admin typed: 13800138000 rather than 13800138000.0, dates as
    YYYY-MM-DD, formulas as their "=..." text (refused later, never evaluated)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, int | float | date | time):
        return str(value)
    return str(getattr(value, "text", value)).strip()  # array and data-table formulas


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
        if unpacked > MAX_UNPACKED_XLSX_BYTES:
            raise AppError(BAD_FILE, {"reason": "too_large_when_unpacked"})
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except AppError:
        raise
    except Exception as error:  # not a zip, not a workbook, damaged parts: all the same to the admin
        raise AppError(BAD_FILE) from error
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
    except Exception as error:
        raise AppError(BAD_FILE) from error
    finally:
        workbook.close()


def _decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AppError(BAD_ENCODING)


def _csv_rows(text: str) -> Iterator[list[str]]:
    try:
        for values in csv.reader(io.StringIO(text, newline="")):
            yield [value.strip() for value in values]
    except csv.Error as error:
        raise AppError(BAD_FILE) from error


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode text"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


def _spreadsheet_rows(data: bytes) -> tuple[Iterator[list[str]], int]:
    """The rows of the first sheet (XLSX) or of the CSV, told apart by content rather than by the
    file's name, with an estimate of their number for progress reports (0: unknown)."""
    if not data.strip():
        raise AppError(EMPTY_FILE)
    if data.startswith(_UTF16_BOMS):
        raise AppError(BAD_ENCODING)
    if data.startswith(_ZIP_MAGIC):
        return _xlsx_rows(data), 0
    if data.startswith(_OLE_MAGIC) or b"\x00" in data:  # .xls, images, PDFs: text has no NUL bytes
        raise AppError(BAD_FILE)
    text = _decode_csv(data)
    return _csv_rows(text), text.count("\n")


class Sheet:
    """Numbered non-blank rows of a spreadsheet, after its header row (the first non-blank one)."""

    def __init__(self, data: bytes) -> None:
        rows, self.estimated_rows = _spreadsheet_rows(data)
        self._rows = enumerate(rows, start=1)
        first = self.take(1)
        if not first:
            raise AppError(EMPTY_FILE)
        self.header = first[0][1]

    def take(self, limit: int) -> list[tuple[int, list[str]]]:
        taken: list[tuple[int, list[str]]] = []
        for number, values in self._rows:
            if any(values):
                taken.append((number, values))
                if len(taken) == limit:
                    break
        return taken


@dataclass(frozen=True)
class Layout:
    """Where each known column sits in the file, and the file's own headers."""

    headers: list[str]
    positions: list[tuple[int, Column]]


def _header_key(header: str) -> str:
    return re.sub(r"[\s*＊]", "", header)  # "姓名*", "姓名 ＊" and "姓名" are one column


def match_columns(headers: list[str], columns: Sequence[Column]) -> Layout:
    """Maps the file's header row onto the template's columns; unknown, repeated or missing
    required columns are file-level errors that name them."""
    known = {_header_key(column.header): column for column in columns}
    found: dict[Column, int] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for position, header in enumerate(headers):
        if not header:
            continue  # a blank header: an empty column Excel kept around
        column = known.get(_header_key(header))
        if column is None:
            unknown.append(header)
        elif column in found:
            repeated.append(header)
        else:
            found[column] = position
    missing = [column.header for column in columns if column.required and column not in found]
    if missing:
        raise AppError(MISSING_COLUMNS, {"columns": missing, "unknown_columns": unknown})
    if unknown:
        raise AppError(UNKNOWN_COLUMNS, {"columns": unknown})
    if repeated:
        raise AppError(DUPLICATE_COLUMNS, {"columns": repeated})
    return Layout(headers, [(position, column) for column, position in found.items()])


# Rows ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RowError:
    column: Column
    code: ErrorCode
    detail: str = ""


class SeatState(NamedTuple):
    department_id: str
    title: str
    is_head: bool


@dataclass(slots=True)
class MemberRow:
    """One data row: what it says (None: the cell was empty, keep the member's value), its errors,
    and what it matched in the directory."""

    number: int
    values: list[str]  # the cells as read, for the error report
    errors: list[RowError] = field(default_factory=list)
    name: str | None = None
    mobile: str | None = None  # E.164
    mobile_index: bytes = b""
    job_number: str | None = None
    department_paths: list[tuple[str, ...]] | None = None  # names below the root
    title: str | None = None
    is_head: bool | None = None
    office_phone: str | None = None
    org_email: str | None = None
    work_place: str | None = None
    hired_date: date | None = None
    hide_mobile: bool | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)
    account_id: str | None = None  # the mobile's existing account
    member: Row[Any] | None = None  # the existing membership this row updates
    seats: list[SeatState] = field(default_factory=list)  # the member's seats now

    def fail(self, column: Column, code: ErrorCode, detail: str = "") -> None:
        self.errors.append(RowError(column, code, detail))


_YES = frozenset({"是", "y", "yes", "true", "1", "√"})
_NO = frozenset({"否", "n", "no", "false", "0"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T][\d:.]+)?")
_PATH_SEPARATORS = re.compile(r"[;；]")
_NAME_SEPARATORS = re.compile(r"[/／]")
_DEPARTMENT_NAME_LIMIT = 100


def _parse_text(row: MemberRow, column: Column, text: str) -> None:
    if column.custom:
        row.custom_fields[column.key] = text
    else:
        setattr(row, column.key, text)


def _parse_mobile(row: MemberRow, column: Column, text: str) -> None:
    try:
        row.mobile = identity.normalise_mobile(text)
    except AppError as error:
        row.fail(column, error.error)


def _parse_email(row: MemberRow, column: Column, text: str) -> None:
    if _EMAIL.fullmatch(text):
        row.org_email = text
    else:
        row.fail(column, ROW_BAD_EMAIL)


def _parse_yes_no(row: MemberRow, column: Column, text: str) -> None:
    answer = text.lower()
    if answer in _YES or answer in _NO:
        setattr(row, column.key, answer in _YES)
    else:
        row.fail(column, ROW_BAD_YES_NO)


def _parse_date(row: MemberRow, column: Column, text: str) -> None:
    match = _DATE.fullmatch(text)
    try:
        row.hired_date = date(*(int(part) for part in match.groups())) if match else None
    except ValueError:  # 2024-02-30
        row.hired_date = None
    if row.hired_date is None:
        row.fail(column, ROW_BAD_DATE)


def _parse_departments(row: MemberRow, column: Column, text: str) -> None:
    """ "机关/办公室/综合科; 机关/信息化处" → [("机关", "办公室", "综合科"), ("机关", "信息化处")]."""
    paths: list[tuple[str, ...]] = []
    for part in _PATH_SEPARATORS.split(text):
        names = tuple(name.strip() for name in _NAME_SEPARATORS.split(part) if name.strip())
        if any(len(name) > _DEPARTMENT_NAME_LIMIT for name in names):
            row.fail(column, ROW_BAD_DEPARTMENT, part.strip())
        elif names and names not in paths:
            paths.append(names)
    row.department_paths = paths or None


_PARSERS: dict[str, Callable[[MemberRow, Column, str], None]] = {
    "mobile": _parse_mobile,
    "org_email": _parse_email,
    "is_head": _parse_yes_no,
    "hide_mobile": _parse_yes_no,
    "hired_date": _parse_date,
    "departments": _parse_departments,
}


def parse_row(number: int, values: list[str], layout: Layout) -> MemberRow:
    """A row's cells checked one by one (nothing here needs the database)."""
    row = MemberRow(number, values)
    for position, column in layout.positions:
        text = values[position] if position < len(values) else ""
        if not text:
            if column.required:
                row.fail(column, ROW_REQUIRED)
        elif looks_like_formula(text):
            row.fail(column, ROW_FORMULA)
        elif len(text) > column.limit:
            row.fail(column, ROW_TOO_LONG, str(column.limit))
        else:
            parser = _parse_text if column.custom else _PARSERS.get(column.key, _parse_text)
            parser(row, column, text)
    return row


def _parse_chunk(sheet: Sheet, layout: Layout, keyring: Keyring) -> list[MemberRow]:
    rows = [parse_row(number, values, layout) for number, values in sheet.take(READ_CHUNK)]
    for row in rows:
        if row.mobile:
            row.mobile_index = identity.mobile_index(keyring, row.mobile)
    return rows


def flag_duplicates(rows: Sequence[MemberRow]) -> None:
    """Rows of the file that share a mobile number or a job number are all flagged: which one
    was meant is for the admin to say."""
    for column, code in ((MOBILE, ROW_DUPLICATE_MOBILE), (JOB_NUMBER, ROW_DUPLICATE_JOB_NUMBER)):
        by_value: dict[str, list[MemberRow]] = defaultdict(list)
        for row in rows:
            value = getattr(row, column.key)
            if value:
                by_value[value].append(row)
        for sharing in by_value.values():
            if len(sharing) > 1:
                numbers = ", ".join(str(row.number) for row in sharing)
                for row in sharing:
                    row.fail(column, code, numbers)


# The directory as it is ---------------------------------------------------------------------
class DepartmentNode(NamedTuple):
    id: str
    parent_id: str | None
    name: str
    path: str


class DepartmentTree:
    """The organisation's departments, to resolve paths of names such as 机关/办公室/综合科."""

    def __init__(self, nodes: Iterable[DepartmentNode]) -> None:
        self.by_id: dict[str, DepartmentNode] = {}
        self._children: dict[tuple[str, str], DepartmentNode] = {}
        for node in nodes:
            self.add(node)
        self.root = next(node for node in self.by_id.values() if node.parent_id is None)

    @classmethod
    async def load(cls, session: AsyncSession, org_id: str) -> DepartmentTree:
        result = await session.execute(
            select(Department.id, Department.parent_id, Department.name, Department.path).where(
                Department.org_id == org_id
            )
        )
        return cls(DepartmentNode(*row) for row in result.all())

    def add(self, node: DepartmentNode) -> None:
        self.by_id[node.id] = node
        if node.parent_id is not None:
            self._children[(node.parent_id, node.name)] = node

    def relative(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """Drops a leading root name ("政通示范单位/办公室"), unless a department right under the
        root has that name too."""
        if names and names[0] == self.root.name and (self.root.id, names[0]) not in self._children:
            return names[1:]
        return names

    def deepest(self, names: tuple[str, ...]) -> tuple[DepartmentNode, int]:
        """The deepest existing department along `names` (relative to the root) and how many of
        the names it covers."""
        node = self.root
        for depth, name in enumerate(names):
            child = self._children.get((node.id, name))
            if child is None:
                return node, depth
            node = child
        return node, len(names)

    def find(self, names: tuple[str, ...]) -> DepartmentNode | None:
        node, depth = self.deepest(names)
        return node if depth == len(names) else None

    def names_of(self, department_id: str) -> tuple[str, ...]:
        """The names from below the root down to the department."""
        ids = self.by_id[department_id].path.strip("/").split("/")
        return tuple(self.by_id[ancestor].name for ancestor in ids[1:])

    def display(self, names: tuple[str, ...]) -> str:
        return "/".join(names) or self.root.name


def _check_departments(row: MemberRow, tree: DepartmentTree, scope: AdminScope, create: bool) -> None:
    """Existing departments must be in the admin's scope; new ones are created (when allowed)
    under a department in scope."""
    if row.department_paths is None:
        return
    kept: list[tuple[str, ...]] = []
    for names in (tree.relative(path) for path in row.department_paths):
        existing, depth = tree.deepest(names)
        if not scope.covers_path(existing.path):
            row.fail(DEPARTMENTS, errors.OUT_OF_SCOPE, tree.display(names))
        elif depth < len(names) and not create:
            row.fail(DEPARTMENTS, ROW_UNKNOWN_DEPARTMENT, tree.display(names))
        elif names not in kept:
            kept.append(names)
    row.department_paths = kept


T = TypeVar("T")


def _chunks(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def _members_by(
    session: AsyncSession, column: InstrumentedAttribute[Any], org_id: str, values: Iterable[Any]
) -> dict[Any, Row[Any]]:
    """The organisation's memberships whose `column` is one of `values`, by that value."""
    found: dict[Any, Row[Any]] = {}
    for chunk in _chunks(sorted(set(values)), LOOKUP_CHUNK):
        result = await session.execute(
            select(*_MATCHED_MEMBER_COLUMNS).where(Membership.org_id == org_id, column.in_(chunk))
        )
        for member in result.all():
            found[getattr(member, column.key)] = member
    return found


async def _account_ids(session: AsyncSession, mobile_indexes: Iterable[bytes]) -> dict[bytes, str]:
    """Existing accounts by the blind index of their mobile number."""
    found: dict[bytes, str] = {}
    for chunk in _chunks(sorted(set(mobile_indexes)), LOOKUP_CHUNK):
        found.update(await identity.account_ids_by_mobile_index(session, chunk))
    return found


async def _seats_of(session: AsyncSession, membership_ids: Sequence[str]) -> dict[str, list[SeatState]]:
    seats: dict[str, list[SeatState]] = defaultdict(list)
    for chunk in _chunks(membership_ids, LOOKUP_CHUNK):
        result = await session.execute(
            select(
                MemberDepartment.membership_id,
                MemberDepartment.department_id,
                MemberDepartment.title,
                MemberDepartment.is_head,
            )
            .where(MemberDepartment.membership_id.in_(chunk))
            .order_by(MemberDepartment.membership_id, MemberDepartment.sort_order)
        )
        for membership_id, department_id, title, is_head in result.all():
            seats[membership_id].append(SeatState(department_id, title, is_head))
    return seats


async def _match_members(session: AsyncSession, org_id: str, rows: Sequence[MemberRow]) -> None:
    """Finds the member each row updates: by job number, else by the mobile's account. A job
    number that belongs to someone with another mobile is an error, never a change of number."""
    with_mobile = [row for row in rows if row.mobile]
    by_job_number = await _members_by(
        session, Membership.job_number, org_id, (row.job_number for row in with_mobile if row.job_number)
    )
    accounts = await _account_ids(session, (row.mobile_index for row in with_mobile))
    by_account = await _members_by(session, Membership.account_id, org_id, accounts.values())
    for row in with_mobile:
        row.account_id = accounts.get(row.mobile_index)
        member = by_job_number.get(row.job_number) if row.job_number else None
        if member is not None and member.account_id != row.account_id:
            row.fail(JOB_NUMBER, ROW_MOBILE_MISMATCH)
            continue
        row.member = member or (by_account.get(row.account_id) if row.account_id else None)
    matched = Counter(row.member.id for row in rows if row.member is not None)
    for row in rows:
        if row.member is not None and matched[row.member.id] > 1:
            row.fail(MOBILE, ROW_SAME_MEMBER)
    seats = await _seats_of(session, sorted(matched))
    for row in rows:
        if row.member is not None:
            row.seats = seats.get(row.member.id, [])


def _check_member_scope(row: MemberRow, tree: DepartmentTree, scope: AdminScope) -> None:
    """A sub-admin updates only members seated in their scope, and puts new members only there."""
    if scope.whole_org:
        return
    if row.member is not None:
        paths = [tree.by_id[seat.department_id].path for seat in row.seats]
        if not any(scope.covers_path(path) for path in paths):
            row.fail(MOBILE, errors.OUT_OF_SCOPE)
    elif row.department_paths is None and not scope.covers_path(tree.root.path):
        row.fail(DEPARTMENTS, errors.OUT_OF_SCOPE, tree.root.name)


async def plan_each_statement(session: AsyncSession) -> None:
    """PostgreSQL may cache a generic plan for a statement a connection runs again and again. One
    made while the tables were small (the first import into an organisation) scans a whole
    table for every IN (...) list once it holds 100,000 rows; planning each statement with its
    values picks the index. For this transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def check_against_directory(
    session: AsyncSession, scope: AdminScope, rows: Sequence[MemberRow], *, create_departments: bool
) -> DepartmentTree:
    """The checks that need the directory: departments, matching members, the admin's scope."""
    await plan_each_statement(session)
    tree = await DepartmentTree.load(session, scope.org_id)
    for row in rows:
        _check_departments(row, tree, scope, create_departments)
    await _match_members(session, scope.org_id, rows)
    for row in rows:
        _check_member_scope(row, tree, scope)
    return tree


# Applying -----------------------------------------------------------------------------------
@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    departments_created: int = 0


async def insert_rows(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """One multi-row insert of complete rows. "raw" skips the ORM's per-row bookkeeping, which
    doubles the time of a large import and adds nothing when every column is given."""
    if rows:
        await session.execute(insert(model).execution_options(dml_strategy="raw"), rows)


async def create_department_paths(
    session: AsyncSession, tree: DepartmentTree, org_id: str, paths: Iterable[tuple[str, ...]]
) -> int:
    """Creates the departments missing along `paths` (parents before children) in one multi-row
    insert, and adds them to `tree`; returns how many were created."""
    missing = {path[:depth] for path in paths for depth in range(1, len(path) + 1)}
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for names in sorted(missing, key=lambda names: (len(names), names)):
        if tree.find(names) is not None:
            continue
        parent = tree.find(names[:-1])
        assert parent is not None  # shorter paths come first
        department_id = new_id()
        node = DepartmentNode(department_id, parent.id, names[-1], f"{parent.path}{department_id}/")
        tree.add(node)
        rows.append(
            {
                **node._asdict(),
                "org_id": org_id,
                "sort_order": 0,
                "hidden": False,
                "hidden_whitelist": {},
                "created_at": now,
            }
        )
    await insert_rows(session, Department, rows)
    return len(rows)


def _target_seats(
    row: MemberRow, tree: DepartmentTree, title: str, current: Sequence[SeatState] | None
) -> list[SeatState]:
    """The seats a member ends up with (`current` None: a new member). Without a department cell a
    member keeps their departments, and a new one goes to the root; a seat keeps its own title
    and head flag unless the row gives them."""
    if row.department_paths is not None:
        department_ids = [node.id for node in map(tree.find, row.department_paths) if node is not None]
    elif current is None:
        department_ids = [tree.root.id]
    else:
        department_ids = [seat.department_id for seat in current]
    before = {seat.department_id: seat for seat in current or ()}
    seats: list[SeatState] = []
    for department_id in dict.fromkeys(department_ids):
        kept = before.get(department_id)
        seats.append(
            SeatState(
                department_id,
                row.title if row.title is not None else (kept.title if kept else title),
                row.is_head if row.is_head is not None else (kept.is_head if kept else False),
            )
        )
    return seats


def _profile_changes(row: MemberRow, member: Row[Any]) -> dict[str, Any]:
    """The fields the row changes on an existing member; empty cells change nothing."""
    changes = {
        name: getattr(row, name)
        for name in PROFILE_FIELDS
        if getattr(row, name) is not None and getattr(row, name) != getattr(member, name)
    }
    if row.custom_fields:
        merged = {**(member.custom_fields or {}), **row.custom_fields}
        if merged != (member.custom_fields or {}):
            changes["custom_fields"] = merged
    return changes


def _new_profile(row: MemberRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "job_number": row.job_number,
        "title": row.title or "",
        "org_email": row.org_email or "",
        "office_phone": row.office_phone or "",
        "work_place": row.work_place or "",
        "hired_date": row.hired_date,
        "hide_mobile": bool(row.hide_mobile),
        "custom_fields": dict(row.custom_fields),
    }


@dataclass
class _BatchWrites:
    """The multi-row statements one batch of rows turns into."""

    accounts: list[dict[str, Any]] = field(default_factory=list)
    memberships: list[dict[str, Any]] = field(default_factory=list)
    profile_updates: list[dict[str, Any]] = field(default_factory=list)
    reseated: list[str] = field(default_factory=list)  # memberships whose seats are replaced
    seats: list[dict[str, Any]] = field(default_factory=list)
    reindexed: list[Membership] = field(default_factory=list)  # transient: only read by the index

    def seat(self, org_id: str, membership_id: str, seats: Sequence[SeatState]) -> None:
        self.seats.extend(
            {
                "id": new_id(),
                "org_id": org_id,
                "membership_id": membership_id,
                "department_id": seat.department_id,
                "title": seat.title,
                "is_head": seat.is_head,
                "sort_order": order,
            }
            for order, seat in enumerate(seats)
        )

    def index(self, org_id: str, membership_id: str, profile: dict[str, Any]) -> None:
        fields = {name: profile[name] for name in _INDEXED_FIELDS}
        self.reindexed.append(Membership(id=membership_id, org_id=org_id, **fields))

    async def execute(self, session: AsyncSession) -> None:
        await identity.insert_account_rows(session, self.accounts)
        await insert_rows(session, Membership, self.memberships)
        if self.profile_updates:
            await session.execute(update(Membership), self.profile_updates)
        if self.reseated:
            await session.execute(
                delete(MemberDepartment).where(MemberDepartment.membership_id.in_(self.reseated))
            )
        await insert_rows(session, MemberDepartment, self.seats)
        await index.reindex_members(session, self.reindexed)


def _plan_new_member(
    writes: _BatchWrites, keyring: Keyring, org_id: str, tree: DepartmentTree, row: MemberRow
) -> None:
    account_id = row.account_id
    if account_id is None:
        assert row.mobile is not None
        account = identity.new_account_row(keyring, row.mobile)
        writes.accounts.append(account)
        account_id = str(account["id"])
    membership_id = new_id()
    profile = _new_profile(row)
    writes.memberships.append(
        {
            "id": membership_id,
            "org_id": org_id,
            "account_id": account_id,
            "role": MemberRole.MEMBER,
            "status": MemberStatus.NOT_ACTIVATED,
            "executive": False,
            "created_at": utcnow(),
            **profile,
        }
    )
    writes.seat(org_id, membership_id, _target_seats(row, tree, profile["title"], None))
    writes.index(org_id, membership_id, profile)


def _plan_update(writes: _BatchWrites, org_id: str, tree: DepartmentTree, row: MemberRow) -> bool:
    """Plans the changes to an existing member; False when the row changes nothing."""
    member = row.member
    assert member is not None
    changes = _profile_changes(row, member)
    profile = {name: getattr(member, name) for name in (*PROFILE_FIELDS, "custom_fields")} | changes
    seats = _target_seats(row, tree, profile["title"], row.seats)
    seats_changed = seats != row.seats
    if changes:
        writes.profile_updates.append({"id": member.id, **profile})
        if _INDEXED_FIELDS & changes.keys():
            writes.index(org_id, member.id, profile)
    if seats_changed:
        writes.reseated.append(member.id)
        writes.seat(org_id, member.id, seats)
    return bool(changes) or seats_changed


async def apply_rows(
    session: AsyncSession,
    keyring: Keyring,
    org_id: str,
    tree: DepartmentTree,
    rows: Sequence[MemberRow],
    counts: ImportCounts,
) -> None:
    """Writes one batch of valid rows with a few multi-row statements; unchanged rows are only
    counted."""
    await plan_each_statement(session)
    writes = _BatchWrites()
    for row in rows:
        if row.member is None:
            _plan_new_member(writes, keyring, org_id, tree, row)
            counts.created += 1
        elif _plan_update(writes, org_id, tree, row):
            counts.updated += 1
        else:
            counts.unchanged += 1
    await writes.execute(session)


# The job ------------------------------------------------------------------------------------
Progress = Callable[[int, int, str], Awaitable[None]]


async def read_rows(
    data: bytes, columns: Sequence[Column], keyring: Keyring, progress: Progress
) -> tuple[Layout, list[MemberRow]]:
    """Reads and checks every row of the file, in a worker thread so that the server keeps
    answering while a large file is parsed."""
    sheet = await asyncio.to_thread(Sheet, data)
    layout = match_columns(sheet.header, columns)
    rows: list[MemberRow] = []
    while chunk := await asyncio.to_thread(_parse_chunk, sheet, layout, keyring):
        rows.extend(chunk)
        if len(rows) > MAX_ROWS:
            raise AppError(TOO_MANY_ROWS, {"limit": MAX_ROWS})
        await progress(
            len(rows), 2 * max(len(rows), sheet.estimated_rows), f"正在读取：已读取 {len(rows)} 行"
        )
    if not rows:
        raise AppError(EMPTY_FILE)
    flag_duplicates(rows)
    return layout, rows


def error_report(layout: Layout, rows: Iterable[MemberRow]) -> dict[str, Any]:
    """The rows with errors: their numbers, original cells and reasons (as codes, so that the
    report can be rendered in the reader's language)."""
    return {
        "headers": layout.headers,
        "rows": [
            {
                "row": row.number,
                "values": row.values,
                "errors": [
                    {
                        "column": error.column.header,
                        "column_en": error.column.english,
                        "code": error.code.code,
                        "detail": error.detail,
                    }
                    for error in row.errors
                ],
            }
            for row in rows
            if row.errors
        ],
    }


@dataclass
class _ImportRun:
    """One attempt at an import job."""

    job: JobContext
    options: ImportOptions
    counts: ImportCounts = field(default_factory=ImportCounts)

    async def progress(self, done: int, total: int, message: str) -> None:
        await self.job.report_progress(min(done, total), total, message)

    async def run(self, organization: Organization, data: bytes) -> bool:
        """Reads, validates and (unless all_or_nothing meets an error) applies; True when
        anything was applied, and the error report stored when a row failed."""
        context = self.job.context
        async with self.job.transaction() as session:
            scope = await owner_scope(session, self.job)
            columns = await template_columns(session, scope.org_id)
        layout, rows = await read_rows(data, columns, context.keyring, self.progress)
        async with self.job.transaction() as session:
            tree = await check_against_directory(
                session, scope, rows, create_departments=self.options.create_departments
            )
        valid = [row for row in rows if not row.errors]
        self.counts.failed = len(rows) - len(valid)
        await self.progress(
            len(rows), 2 * len(rows), f"校验完成：{len(valid)} 行有效，{self.counts.failed} 行有误"
        )
        if self.counts.failed:
            report = orjson.dumps(error_report(layout, rows))
            await store_sealed(context, organization, report_key(organization.id, self.job.job_id), report)
        if self.counts.failed and self.options.mode is ImportMode.ALL_OR_NOTHING:
            return False
        await self._apply(scope.org_id, tree, valid, total_rows=len(rows))
        return bool(valid)

    async def _apply(
        self, org_id: str, tree: DepartmentTree, valid: list[MemberRow], total_rows: int
    ) -> None:
        paths = [path for row in valid for path in row.department_paths or ()]
        async with self.job.transaction() as session:
            self.counts.departments_created = await create_department_paths(session, tree, org_id, paths)
        applied = 0
        for batch in _chunks(valid, APPLY_BATCH):
            async with self.job.transaction() as session:
                await apply_rows(session, self.job.context.keyring, org_id, tree, batch, self.counts)
            applied += len(batch)
            done = total_rows + total_rows * applied // len(valid)
            await self.progress(done, 2 * total_rows, f"正在导入：{applied}/{len(valid)} 行")
        async with self.job.transaction() as session:
            await hooks.org_chart_changed(session, self.job.context, org_id)


async def _audit_import(
    job: JobContext, payload: dict[str, Any], counts: ImportCounts, detail: dict[str, Any]
) -> None:
    async with job.transaction() as session:
        await audit.record(
            session,
            job.context.keyring,
            action="org.directory_imported",
            org_id=job.org_id,
            actor_id=job.owner_account_id,
            object_type="job",
            object_id=job.job_id,
            ip=str(payload.get("ip", "")),
            detail={**vars(counts), "mode": payload["mode"], **detail},
        )


async def _import(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    options = ImportOptions(ImportMode(payload["mode"]), bool(payload["create_departments"]))
    async with job.transaction() as session:
        organization = await get_organization(session, job.org_id)
    data = await load_sealed(job.context, organization, upload_key(organization.id, job.job_id))
    attempt = _ImportRun(job, options)
    try:
        applied = await attempt.run(organization, data)
    except AppError as error:  # a file-level error: nothing was written
        await _audit_import(job, payload, attempt.counts, {"applied": False, "file_error": error.error.code})
        return {
            **vars(attempt.counts),
            "applied": False,
            "error_report_available": False,
            "file_error": error.to_json(str(payload.get("language", "zh"))),
        }
    await _audit_import(job, payload, attempt.counts, {"applied": applied})
    return {
        **vars(attempt.counts),
        "applied": applied,
        "error_report_available": attempt.counts.failed > 0,
        "file_error": None,
    }


async def run_import(job: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """The import job. The upload is deleted once the job is over (done, cancelled, or out of
    attempts) and kept while a retry may still need it."""
    key = upload_key(job.org_id or "", job.job_id)
    try:
        result = await _import(job, payload)
    except JobInterrupted:
        raise  # back in the queue: the next attempt reads the file again
    except Exception as error:
        if isinstance(error, JobCancelled) or job.attempt >= IMPORT_MAX_ATTEMPTS:
            await job.context.storage.delete(key)
        raise
    await job.context.storage.delete(key)
    return result


async def read_error_report(
    session: AsyncSession, context: AppContext, caller: Caller, *, job_id: str
) -> dict[str, Any]:
    """The stored error report of the caller's import job; `not_found` when it had no errors."""
    job = await access_finished_transfer(session, caller, job_id=job_id, kind=IMPORT_JOB)
    if not (job.result or {}).get("error_report_available"):
        raise AppError(NOT_FOUND)
    organization = await get_organization(session, job.org_id)
    report: dict[str, Any] = orjson.loads(
        await load_sealed(context, organization, report_key(organization.id, job.id))
    )
    return report
