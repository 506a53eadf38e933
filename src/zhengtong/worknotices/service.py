"""Sending, reading, following and recalling work notices.

`send` records the notice (its content sealed with the organisation's data key, bound to the
notice id) and enqueues the sending job after commit; the job works out the people (named ones,
everyone below the named departments, or everyone), and gives each a row and a notice under the
bell in batches, reporting progress; rerun after a crash, it skips who already has theirs. The bell
only says that a work notice came from whom: its content opens from the notice itself, sealed.

Recall erases the content (the row stays as a marker) and takes the notices off the bells.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import FieldCipher
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.notifications.models import Notice
from zhengtong.notifications.notices import notify_people, tell_bells
from zhengtong.org import errors as org_errors
from zhengtong.org.access import AdminScope
from zhengtong.org.models import Department, MemberDepartment, Membership, Organization
from zhengtong.platform import audit, jobs
from zhengtong.platform.eventlog import append_after_commit
from zhengtong.worknotices import errors, messages
from zhengtong.worknotices.models import NoticeStatus, WorkNotice, WorkNoticeRecipient

SEND_JOB = "worknotices.send"
BATCH = 500
MAX_USERS = 5_000
MAX_DEPARTMENTS = 500
_JS_SAFE_TASK_IDS = 2**52  # task ids are numbers in the open API: keep them exact in JavaScript


@dataclass(frozen=True)
class Sender:
    org_id: str
    name: str  # the app's name; empty for the organisation's admins (shown as 管理员)
    app_id: str | None = None
    membership_id: str | None = None
    account_id: str | None = None  # an admin's: the job's progress reaches their clients


@dataclass(frozen=True)
class Targets:
    user_ids: Sequence[str] = ()
    department_ids: Sequence[str] = ()
    to_all: bool = False

    def checked(self) -> Targets:
        users, departments = list(dict.fromkeys(self.user_ids)), list(dict.fromkeys(self.department_ids))
        if not (users or departments or self.to_all):
            raise AppError(errors.NO_TARGET)
        if len(users) > MAX_USERS or len(departments) > MAX_DEPARTMENTS:
            raise AppError(errors.TOO_MANY_TARGETS)
        return Targets(users, departments, self.to_all)


def _cipher(context: AppContext, organization: Organization) -> FieldCipher:
    return context.keyring.org_cipher(organization.id, organization.data_key_wrapped)


def _aad(notice_id: str) -> bytes:
    return b"work-notice:" + notice_id.encode()


def content_of(context: AppContext, organization: Organization, notice: WorkNotice) -> dict[str, Any] | None:
    """The message, or None once recalled."""
    if notice.content_sealed is None:
        return None
    opened: dict[str, Any] = orjson.loads(
        _cipher(context, organization).decrypt(notice.content_sealed, aad=_aad(notice.id))
    )
    return opened


# Sending ----------------------------------------------------------------------------------------
async def send(
    session: AsyncSession,
    context: AppContext,
    sender: Sender,
    targets: Targets,
    msg: Any,
    *,
    scope: AdminScope | None = None,
    ip: str = "",
) -> WorkNotice:
    """Records a work notice and enqueues its sending. An admin (`scope`) sends only inside their
    scope; an app, to anyone of its organisation."""
    targets = targets.checked()
    message = messages.checked(msg)
    if scope is not None:
        await _require_in_scope(session, scope, targets)
    organization = await session.get(Organization, sender.org_id)
    assert organization is not None
    notice = WorkNotice(
        org_id=sender.org_id,
        task_id=secrets.randbelow(_JS_SAFE_TASK_IDS - 1) + 1,
        app_id=sender.app_id,
        sender_membership_id=sender.membership_id,
        sender_name=sender.name[:60],
        msgtype=message["msgtype"],
        targets={
            "user_ids": targets.user_ids,
            "department_ids": targets.department_ids,
            "to_all": targets.to_all,
        },
    )
    session.add(notice)
    await session.flush()
    notice.content_sealed = _cipher(context, organization).encrypt(orjson.dumps(message), aad=_aad(notice.id))
    job = await jobs.enqueue(
        session,
        kind=SEND_JOB,
        payload={"notice_id": notice.id},
        org_id=sender.org_id,
        owner_account_id=sender.account_id,
    )
    notice.job_id = job.id
    await audit.record(
        session,
        context.keyring,
        action="worknotices.sent",
        org_id=sender.org_id,
        actor_id=sender.account_id,
        object_type="work_notice",
        object_id=notice.id,
        detail={
            "app_id": sender.app_id,
            "to_all": targets.to_all,
            "departments": len(targets.department_ids),
        },
        ip=ip,
    )
    return notice


async def _require_in_scope(session: AsyncSession, scope: AdminScope, targets: Targets) -> None:
    if scope.whole_org:
        return
    if targets.to_all:
        raise AppError(org_errors.OUT_OF_SCOPE)
    paths = await session.scalars(
        select(Department.path).where(
            Department.org_id == scope.org_id, Department.id.in_(targets.department_ids)
        )
    )
    if not all(scope.covers_path(path) for path in paths):
        raise AppError(org_errors.OUT_OF_SCOPE)
    seats = await session.execute(
        select(MemberDepartment.membership_id, Department.path)
        .join(Department, Department.id == MemberDepartment.department_id)
        .where(MemberDepartment.org_id == scope.org_id, MemberDepartment.membership_id.in_(targets.user_ids))
    )
    covered = {membership_id for membership_id, path in seats.all() if scope.covers_path(path)}
    known = set(
        await session.scalars(
            select(Membership.id).where(
                Membership.org_id == scope.org_id, Membership.id.in_(targets.user_ids)
            )
        )
    )
    if known - covered:
        raise AppError(org_errors.OUT_OF_SCOPE)


async def _people(session: AsyncSession, notice: WorkNotice) -> tuple[list[str], list[str], list[str]]:
    """(membership ids to send to, in id order; user ids naming nobody; department ids naming none)."""
    targets = notice.targets
    user_ids, department_ids = list(targets["user_ids"]), list(targets["department_ids"])
    members = select(Membership.id).where(Membership.org_id == notice.org_id)
    if targets["to_all"]:
        everyone = list(await session.scalars(members.order_by(Membership.id)))
        named = set(everyone)
        return (
            everyone,
            [u for u in user_ids if u not in named],
            await _unknown_departments(session, notice.org_id, department_ids),
        )
    found_users = set(await session.scalars(members.where(Membership.id.in_(user_ids))))
    departments = (
        await session.execute(
            select(Department.id, Department.path).where(
                Department.org_id == notice.org_id, Department.id.in_(department_ids)
            )
        )
    ).all()
    below: set[str] = set()
    if departments:
        below = set(
            await session.scalars(
                select(MemberDepartment.membership_id)
                .join(Department, Department.id == MemberDepartment.department_id)
                .where(
                    MemberDepartment.org_id == notice.org_id,
                    or_(*(Department.path.startswith(path) for _, path in departments)),
                )
            )
        )
    found_departments = {department_id for department_id, _ in departments}
    return (
        sorted(found_users | below),
        [u for u in user_ids if u not in found_users],
        [d for d in department_ids if d not in found_departments],
    )


async def _unknown_departments(session: AsyncSession, org_id: str, department_ids: list[str]) -> list[str]:
    found = set(
        await session.scalars(
            select(Department.id).where(Department.org_id == org_id, Department.id.in_(department_ids))
        )
    )
    return [d for d in department_ids if d not in found]


@jobs.register(SEND_JOB)
async def run_send(job: jobs.JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    notice_id = str(payload["notice_id"])
    async with job.transaction() as session:
        notice = await session.get(WorkNotice, notice_id)
        if notice is None or notice.status != NoticeStatus.SENDING:
            return {"sent": 0}
        people, invalid_users, invalid_departments = await _people(session, notice)
        notice.total = len(people)
        notice.invalid_user_ids, notice.invalid_department_ids = invalid_users, invalid_departments
    for start in range(0, len(people), BATCH):
        async with job.transaction() as session:
            batch, sent = people[start : start + BATCH], min(start + BATCH, len(people))
            if not await _send_batch(session, job.context, notice_id, batch, done=sent):
                return {"sent": start, "recalled": True}
        await job.report_progress(sent, len(people))
    async with job.transaction() as session:
        await session.execute(
            update(WorkNotice)
            .where(WorkNotice.id == notice_id, WorkNotice.status == NoticeStatus.SENDING)
            .values(status=NoticeStatus.SENT, done=len(people))
        )
    return {"sent": len(people), "invalid_user_ids": len(invalid_users)}


async def _send_batch(
    session: AsyncSession, context: AppContext, notice_id: str, batch: list[str], *, done: int
) -> bool:
    """Gives each person of `batch` without one yet their row and bell notice; False once recalled."""
    notice = await session.get(WorkNotice, notice_id)
    if notice is None or notice.status != NoticeStatus.SENDING:
        return False
    have = set(
        await session.scalars(
            select(WorkNoticeRecipient.membership_id).where(
                WorkNoticeRecipient.notice_id == notice_id, WorkNoticeRecipient.membership_id.in_(batch)
            )
        )
    )
    rows = (
        await session.execute(
            select(Membership.id, Membership.account_id).where(
                Membership.id.in_([m for m in batch if m not in have])
            )
        )
    ).all()
    now = utcnow()
    session.add_all(
        WorkNoticeRecipient(
            org_id=notice.org_id, notice_id=notice_id, membership_id=membership_id, sent_at=now
        )
        for membership_id, _ in rows
    )
    await notify_people(
        session,
        context,
        [account_id for _, account_id in rows],
        kind="work_notice",
        subject={
            "zh-CN": f"工作通知：{notice.sender_name or '管理员'}",
            "en": f"Work notice: {notice.sender_name or 'Administrator'}",
        },
        body={"zh-CN": "您收到一条工作通知，点击查看。", "en": "You have a work notice; open it to read."},
        channels=[],
        org_id=notice.org_id,
        reference=reference_of(notice_id),
        link=f"/work-notices/{notice_id}",
    )
    notice.done = done
    return True


def reference_of(notice_id: str) -> str:
    return f"work_notice:{notice_id}"


# Following and recalling (the sender) -----------------------------------------------------------
@dataclass(frozen=True)
class Progress:
    status: str
    total: int
    done: int

    @property
    def percent(self) -> int:
        if self.status != NoticeStatus.SENDING:
            return 100
        return 0 if not self.total else min(99, self.done * 100 // self.total)


def progress_of(notice: WorkNotice) -> Progress:
    return Progress(notice.status, notice.total, notice.done)


@dataclass(frozen=True)
class Results:
    read: list[str]
    unread: list[str]
    invalid_user_ids: list[str]
    invalid_department_ids: list[str]


async def results_of(session: AsyncSession, notice: WorkNotice) -> Results:
    """Who read it and who has not (membership ids), and the ids that named nobody."""
    rows = await session.execute(
        select(WorkNoticeRecipient.membership_id, WorkNoticeRecipient.read_at)
        .where(WorkNoticeRecipient.notice_id == notice.id)
        .order_by(WorkNoticeRecipient.membership_id)
    )
    read: list[str] = []
    unread: list[str] = []
    for membership_id, read_at in rows.all():
        (unread if read_at is None else read).append(membership_id)
    return Results(read, unread, list(notice.invalid_user_ids), list(notice.invalid_department_ids))


async def counts_of(session: AsyncSession, notice_id: str) -> tuple[int, int]:
    """(read, unread), counted by the database."""
    return (await counts_of_each(session, [notice_id])).get(notice_id, (0, 0))


async def counts_of_each(session: AsyncSession, notice_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """(read, unread) of each notice, in one statement for a whole page."""
    if not notice_ids:
        return {}
    rows = await session.execute(
        select(WorkNoticeRecipient.notice_id, func.count(WorkNoticeRecipient.read_at), func.count())
        .where(WorkNoticeRecipient.notice_id.in_(notice_ids))
        .group_by(WorkNoticeRecipient.notice_id)
    )
    return {notice_id: (int(read), int(total) - int(read)) for notice_id, read, total in rows.all()}


async def recall(
    session: AsyncSession, context: AppContext, notice: WorkNotice, *, actor_id: str | None, ip: str = ""
) -> None:
    """Erases the content and takes the notice off every bell; the sending stops if it is running."""
    if notice.status == NoticeStatus.RECALLED:
        raise AppError(errors.ALREADY_RECALLED)
    notice.status = NoticeStatus.RECALLED
    notice.content_sealed = None
    notice.recalled_at = utcnow()
    accounts = list(
        await session.scalars(select(Notice.account_id).where(Notice.reference == reference_of(notice.id)))
    )
    await session.execute(delete(Notice).where(Notice.reference == reference_of(notice.id)))
    append_after_commit(session, context.events, accounts, {"type": "notice.removed", "kind": "work_notice"})
    await audit.record(
        session,
        context.keyring,
        action="worknotices.recalled",
        org_id=notice.org_id,
        actor_id=actor_id,
        object_type="work_notice",
        object_id=notice.id,
        ip=ip,
    )


async def sent_by_app(session: AsyncSession, app_id: str, task_id: int) -> WorkNotice:
    notice = await session.scalar(select(WorkNotice).where(WorkNotice.task_id == task_id))
    if notice is None or notice.app_id != app_id:
        raise AppError(NOT_FOUND)
    return notice


async def of_organization(session: AsyncSession, scope: AdminScope, notice_id: str) -> WorkNotice:
    """A work notice an admin may follow: any of the organisation's for an admin of all of it,
    their own otherwise."""
    notice = await session.get(WorkNotice, notice_id)
    if notice is None or notice.org_id != scope.org_id:
        raise AppError(NOT_FOUND)
    if not scope.whole_org and notice.sender_membership_id != scope.membership_id:
        raise AppError(NOT_FOUND)
    return notice


async def list_for_admin(
    session: AsyncSession, scope: AdminScope, *, limit: int, before: str | None = None
) -> Sequence[WorkNotice]:
    """The newest notices first; `before` (a notice's id, which sorts by time) pages further back."""
    query = select(WorkNotice).where(WorkNotice.org_id == scope.org_id)
    if not scope.whole_org:
        query = query.where(WorkNotice.sender_membership_id == scope.membership_id)
    if before is not None:
        query = query.where(WorkNotice.id < before)
    return (await session.scalars(query.order_by(WorkNotice.id.desc()).limit(limit))).all()


# Reading (the person it went to) ----------------------------------------------------------------
@dataclass(frozen=True)
class Received:
    notice: WorkNotice
    content: dict[str, Any] | None
    read_at: Any


async def _received_row(
    session: AsyncSession, membership_id: str, notice_id: str
) -> tuple[WorkNotice, WorkNoticeRecipient]:
    row = (
        await session.execute(
            select(WorkNotice, WorkNoticeRecipient)
            .join(WorkNoticeRecipient, WorkNoticeRecipient.notice_id == WorkNotice.id)
            .where(WorkNotice.id == notice_id, WorkNoticeRecipient.membership_id == membership_id)
        )
    ).first()
    if row is None:
        raise AppError(NOT_FOUND)
    return row[0], row[1]


async def _as_received(
    session: AsyncSession, context: AppContext, notice: WorkNotice, recipient: WorkNoticeRecipient
) -> Received:
    organization = await session.get(Organization, notice.org_id)
    assert organization is not None
    return Received(notice, content_of(context, organization, notice), recipient.read_at)


async def received(
    session: AsyncSession, context: AppContext, *, membership_id: str, notice_id: str
) -> Received:
    """The notice as the person it went to sees it; `not_found` for anyone else."""
    return await _as_received(session, context, *await _received_row(session, membership_id, notice_id))


async def mark_read(
    session: AsyncSession, context: AppContext, *, membership_id: str, account_id: str, notice_id: str
) -> Received:
    """Marks the notice read, here and under the person's bell; reading it again changes nothing."""
    notice, recipient = await _received_row(session, membership_id, notice_id)
    if recipient.read_at is None and notice.status != NoticeStatus.RECALLED:
        recipient.read_at = utcnow()
        await session.execute(
            update(Notice)
            .where(
                Notice.reference == reference_of(notice.id),
                Notice.account_id == account_id,
                Notice.read_at.is_(None),
            )
            .values(read_at=recipient.read_at)
        )
        tell_bells(session, context, [account_id])
    return await _as_received(session, context, notice, recipient)


async def list_received(
    session: AsyncSession,
    context: AppContext,
    *,
    membership_id: str,
    org_id: str,
    limit: int,
    before: str | None = None,
) -> list[Received]:
    """The newest first; `before` (a notice's id) pages further back."""
    query = (
        select(WorkNotice, WorkNoticeRecipient.read_at)
        .join(WorkNoticeRecipient, WorkNoticeRecipient.notice_id == WorkNotice.id)
        .where(WorkNoticeRecipient.membership_id == membership_id)
    )
    if before is not None:
        query = query.where(WorkNotice.id < before)
    rows = await session.execute(query.order_by(WorkNotice.id.desc()).limit(limit))
    organization = await session.get(Organization, org_id)
    assert organization is not None
    return [
        Received(notice, content_of(context, organization, notice), read_at) for notice, read_at in rows.all()
    ]


async def recipients_page(
    session: AsyncSession, notice_id: str, *, read: bool, offset: int, limit: int
) -> tuple[list[tuple[str, str, Any]], int]:
    """One page of who read it (or has not), by name, and how many there are in all."""
    condition = WorkNoticeRecipient.read_at.is_not(None) if read else WorkNoticeRecipient.read_at.is_(None)
    where = (WorkNoticeRecipient.notice_id == notice_id, condition)
    total = await session.scalar(select(func.count()).select_from(WorkNoticeRecipient).where(*where))
    rows = await session.execute(
        select(WorkNoticeRecipient.membership_id, Membership.name, WorkNoticeRecipient.read_at)
        .join(Membership, Membership.id == WorkNoticeRecipient.membership_id)
        .where(*where)
        .order_by(Membership.name, WorkNoticeRecipient.membership_id)
        .offset(offset)
        .limit(limit)
    )
    return [(m, n, r) for m, n, r in rows.all()], int(total or 0)
