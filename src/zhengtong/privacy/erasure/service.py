"""Removing a member and purging an organisation, as the personal-data inventory says.

`erase_member` deletes or anonymises everything of one person in one organisation, following the
plan that privacy.erasure.walk reads from the schema: rows that are theirs go, rows that are the
organisation's (messages they wrote, files they shared) stay with the reference to them cleared
(shown as a removed member). Then what the schema cannot point at: jobs and directory copies
that name them, their own files, their event stream. The account goes when no organisation is
left (`erase_account`).

`purge_organization` deletes everything of an organisation in steps that can each run again,
so a purge that died halfway finishes on the next run: the data key first (crypto-shredding:
a backup copy of its sealed data can no longer be opened), then its files, its rows table by
table in batches, the accounts left without an organisation, what Redis holds, and finally the
organisation row, leaving a tombstone (privacy_deregistrations: id and dates, no name).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.db import after_commit
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org import exporting, importing
from zhengtong.org.models import Membership, Organization
from zhengtong.platform import audit, hooks, storage
from zhengtong.platform.jobs import FINISHED_STATUSES, Job
from zhengtong.privacy.erasure.models import Deregistration, DeregistrationState
from zhengtong.privacy.erasure.walk import TablePlan, blank_value, erasure_plan

log = logging.getLogger(__name__)

# Rows per statement and transaction: a purge of millions of rows never holds one lock for long.
PURGE_BATCH = 2_000


def _plans() -> tuple[TablePlan, ...]:
    from zhengtong.models import metadata

    return erasure_plan(metadata)


async def _apply(
    session: AsyncSession, plan: TablePlan, column: Any, where: ColumnElement[bool], *, owns_row: bool
) -> None:
    """Deletes the rows that are the person's own; in rows that only name them, clears the
    reference and the columns the inventory marks ANONYMISE (in another person's own row, a
    member they managed, only the reference)."""
    table = plan.table
    if owns_row:
        await session.execute(delete(table).where(where))
        return
    cleared = {column.name: None}
    if not plan.is_subject:
        cleared.update({c.name: blank_value(c) for c in plan.anonymised_columns})
    await session.execute(update(table).where(where).values(cleared))


# Members ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Person:
    """Who is being erased from which organisation, and the values that name them."""

    org_id: str
    membership_id: str
    account_id: str
    mobile_index: bytes | None
    names: tuple[str, ...]  # ids, mobile, name, e-mail: what marks a job or a file as theirs


async def erase_member(session: AsyncSession, context: AppContext, membership: Membership) -> None:
    """Deletes or anonymises everything of `membership`'s person in its organisation (see the
    module docstring), then the account when no organisation is left. Runs the `member_leaving`
    hooks first, so domains can act on what is about to go (chat hands their groups on). The
    caller checks who may do this and records the audit entry."""
    person = await _person(session, context, membership)
    await hooks.member_leaving(session, context, membership)
    # Jobs and their files first: the walk below deletes the jobs they own without their files.
    await _delete_jobs_about(session, context, person, org_id=person.org_id)
    await _withdraw_directory_copies(session, context, person.org_id)
    for plan in _plans():
        await _erase_member_rows(session, plan, person)
    await session.delete(membership)
    await session.flush()

    async def forget_files_and_stream() -> None:
        await storage.delete_member_files(context.storage, person.org_id, person.membership_id)
        await _forget_in_cache(context, event_streams_of=[person.account_id])

    after_commit(session, _logging_failure(forget_files_and_stream))
    remaining = await session.scalar(
        select(func.count()).select_from(Membership).where(Membership.account_id == person.account_id)
    )
    if not remaining:
        await erase_account(session, context, person.account_id)


async def _person(session: AsyncSession, context: AppContext, membership: Membership) -> _Person:
    account = await session.get(Account, membership.account_id)
    names = [membership.id, membership.account_id, membership.org_email]
    if len(membership.name) >= 2:  # a one-character name would match unrelated text
        names.append(membership.name)
    if account is not None:
        names.append(identity.decrypt_mobile(context.keyring, account).removeprefix("+86"))
    return _Person(
        org_id=membership.org_id,
        membership_id=membership.id,
        account_id=membership.account_id,
        mobile_index=account.mobile_index if account is not None else None,
        names=tuple(name for name in names if name),
    )


async def _erase_member_rows(session: AsyncSession, plan: TablePlan, person: _Person) -> None:
    for link in plan.membership_links:
        await _apply(session, plan, link.column, link.column == person.membership_id, owns_row=link.owns_row)
    if plan.is_subject:
        return  # the membership row itself goes last, the account with erase_account
    org_column = plan.organization_column
    if org_column is None:
        # Account-level rows (sessions) stop referring to the organisation; they stay the account's.
        for org_link in plan.organization_links:
            for account_link in plan.account_links:
                await session.execute(
                    update(plan.table)
                    .where(account_link.column == person.account_id, org_link.column == person.org_id)
                    .values({org_link.column.name: None})
                )
        return
    in_org = org_column == person.org_id
    for link in plan.account_links:
        await _apply(
            session, plan, link.column, and_(link.column == person.account_id, in_org), owns_row=link.owns_row
        )
    if plan.mobile_index is not None and person.mobile_index is not None:
        await session.execute(delete(plan.table).where(plan.mobile_index == person.mobile_index, in_org))


def _forms(name: str) -> list[str]:
    """A value as it may appear in a JSON column: as is, and with non-ASCII characters escaped
    (the default JSON encoding of the database drivers)."""
    escaped = json.dumps(name)[1:-1]
    return [name] if escaped == name else [name, escaped]


async def _delete_jobs_about(
    session: AsyncSession, context: AppContext, person: _Person, *, org_id: str | None
) -> None:
    """Jobs the person owns, and jobs whose payload, result or messages name them (by id,
    mobile, name or e-mail), go with their files: a job is a copy of what it was given.
    `org_id` None: the jobs outside any organisation."""
    texts = [cast(column, Text) for column in (Job.payload, Job.result, Job.error, Job.progress_message)]
    naming = [
        text.contains(form, autoescape=True)
        for text in texts
        for name in person.names
        for form in _forms(name)
    ]
    in_scope = Job.org_id.is_(None) if org_id is None else Job.org_id == org_id
    about = await session.scalars(
        select(Job).where(in_scope, or_(Job.owner_account_id == person.account_id, *naming))
    )
    for job in about.all():
        await _delete_job_files(context, job)
        await session.delete(job)
    await session.flush()


def _transfer_files(job: Job) -> list[str]:
    org_id = job.org_id or ""
    if job.kind == importing.IMPORT_JOB:
        return [importing.upload_key(org_id, job.id), importing.report_key(org_id, job.id)]
    if job.kind == exporting.EXPORT_JOB:
        return [exporting.export_key(org_id, job.id)]
    return []


async def _delete_job_files(context: AppContext, job: Job) -> None:
    for key in _transfer_files(job):
        await context.storage.delete(key)


async def _withdraw_directory_copies(session: AsyncSession, context: AppContext, org_id: str) -> None:
    """Finished directory imports and exports are copies of the members list, kept a week for
    download (org.jobs). Once a member leaves, the copies that list them are withdrawn at once;
    the jobs stay and say their files were removed."""
    finished = await session.scalars(
        select(Job).where(
            Job.org_id == org_id,
            Job.kind.in_([importing.IMPORT_JOB, exporting.EXPORT_JOB]),
            Job.status.in_(list(FINISHED_STATUSES)),
        )
    )
    for job in finished.all():
        if (job.result or {}).get("files_removed"):
            continue
        await _delete_job_files(context, job)
        job.result = {**(job.result or {}), "files_removed": True}
    await session.flush()


# Accounts -------------------------------------------------------------------------------------------
async def erase_account(session: AsyncSession, context: AppContext, account_id: str) -> None:
    """Deletes an account that belongs to no organisation any more and everything that is the
    account's: sessions, devices, QR logins, notices, jobs it owns or that name it, its files,
    what Redis holds about it. An operator's account stays (it is the platform's staff, not an
    organisation's member)."""
    account = await session.get(Account, account_id)
    if account is None or account.is_operator:
        return
    if await session.scalar(
        select(func.count()).select_from(Membership).where(Membership.account_id == account_id)
    ):
        raise ValueError("the account still belongs to an organisation: erase its memberships first")
    mobile_index = account.mobile_index
    mobile = identity.decrypt_mobile(context.keyring, account).removeprefix("+86")
    for plan in _plans():
        if plan.is_subject:
            continue
        for link in plan.account_links:
            await _apply(session, plan, link.column, link.column == account_id, owns_row=link.owns_row)
        if plan.mobile_index is not None and plan.organization_column is None:
            await session.execute(delete(plan.table).where(plan.mobile_index == mobile_index))
    person = _Person("", "", account_id, mobile_index, (account_id, mobile))
    await _delete_jobs_about(session, context, person, org_id=None)
    await identity.delete_account(session, account_id)

    async def forget_files_and_cache() -> None:
        await storage.delete_account_files(context.storage, account_id)
        await _forget_in_cache(
            context,
            naming=[account_id, mobile_index.hex()],
            event_streams_of=[account_id],
            departed_accounts=[account_id],
        )

    after_commit(session, _logging_failure(forget_files_and_cache))


def _logging_failure(step: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """An after-commit step whose failure (Redis away, a storage error) is logged, not raised:
    the rows are gone and committed; what is left behind is named in the log by ids only."""

    async def run() -> None:
        try:
            await step()
        except Exception:
            log.exception("erasure: a step after commit failed (%s)", step.__qualname__)

    return run


async def _forget_in_cache(
    context: AppContext,
    *,
    naming: Sequence[str] = (),
    event_streams_of: Sequence[str] = (),
    departed_accounts: Sequence[str] = (),
) -> int:
    """Redis keys about an organisation or people (with Redis configured; the in-process caches
    live only as long as the process and hold nothing beyond the last events)."""
    settings = context.settings
    if not settings.redis_url:
        return 0
    from zhengtong.platform.redis_backends import forget_in_redis

    return await forget_in_redis(
        settings.redis_url,
        settings.redis_prefix,
        naming=naming,
        event_streams_of=event_streams_of,
        departed_accounts=departed_accounts,
    )


# Organisations --------------------------------------------------------------------------------------
@dataclass
class PurgeReport:
    org_id: str
    already_purged: bool = False
    files_deleted: int = 0
    rows_deleted: dict[str, int] = field(default_factory=dict)  # table → rows deleted
    references_cleared: dict[str, int] = field(default_factory=dict)  # table → rows that pointed at it
    accounts_deleted: int = 0
    cache_keys_deleted: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "already_purged": self.already_purged,
            "files_deleted": self.files_deleted,
            "rows_deleted": dict(sorted(self.rows_deleted.items())),
            "references_cleared": dict(sorted(self.references_cleared.items())),
            "accounts_deleted": self.accounts_deleted,
            "cache_keys_deleted": self.cache_keys_deleted,
        }


# Told which step the purge reached: (done, total, step name). A job reports it as progress.
ProgressCallback = Callable[[int, int, str], Awaitable[None]]


async def purge_organization(
    context: AppContext, org_id: str, *, progress: ProgressCallback | None = None
) -> PurgeReport:
    """Deletes all of the organisation's data (see the module docstring). Owns its transactions:
    one per step and per batch. Safe to run again after a failure at any point, and on an
    organisation already purged (the report says so)."""
    report = PurgeReport(org_id)
    account_ids = await _start_purge(context, org_id)
    if account_ids is None:
        report.already_purged = True
        return report
    plans = [plan for plan in _plans() if plan.organization_links]
    total = len(plans) + 4

    async def step(done: int, name: str) -> None:
        if progress is not None:
            await progress(done, total, name)

    await step(1, "files")
    report.files_deleted = await storage.delete_organization_files(context.storage, org_id)
    for number, plan in enumerate(plans, start=2):
        await step(number, plan.table.name)
        await _purge_table(context, plan, org_id, report)
    await step(total - 2, "accounts")
    report.accounts_deleted = await _delete_accountless(context, account_ids)
    await step(total - 1, "cache")
    report.cache_keys_deleted = await _forget_in_cache(context, naming=[org_id], event_streams_of=account_ids)
    await step(total, "organization")
    await _finish_purge(context, org_id, report)
    return report


async def _start_purge(context: AppContext, org_id: str) -> list[str] | None:
    """Destroys the organisation's data key and notes its members' accounts (on a rerun, adds the
    members still there to those noted before). None when the organisation is already gone."""
    async with context.db.transaction() as session:
        organization = await session.get(Organization, org_id)
        if organization is None:
            return None
        deregistration = await _purge_record(session, org_id)
        members = await session.scalars(select(Membership.account_id).where(Membership.org_id == org_id))
        noted = list(dict.fromkeys([*deregistration.account_ids, *members.all()]))
        first_run = deregistration.state != DeregistrationState.PURGING
        deregistration.account_ids = noted
        deregistration.state = DeregistrationState.PURGING
        deregistration.purge_started_at = deregistration.purge_started_at or utcnow()
        organization.data_key_wrapped = None
        if first_run:
            await audit.record(
                session,
                context.keyring,
                action="privacy.org_purge_started",
                object_type="organization",
                object_id=org_id,
                detail={"members": len(noted)},
            )
    # Crypto-shredding, once the row no longer names the key: every sealed copy anywhere,
    # backups of the database included, is now noise. A crash before this line reruns the purge.
    context.keyring.destroy_org_key(org_id)
    return noted


async def _purge_record(session: AsyncSession, org_id: str) -> Deregistration:
    """The deregistration being carried out; one is made when the purge was started otherwise
    (the operator's command or the service shutdown)."""
    record = await session.scalar(
        select(Deregistration)
        .where(
            Deregistration.org_id == org_id,
            Deregistration.state.in_([DeregistrationState.COOLING_OFF, DeregistrationState.PURGING]),
        )
        .order_by(Deregistration.created_at.desc())
        .limit(1)
    )
    if record is None:
        record = Deregistration(
            org_id=org_id, state=DeregistrationState.PURGING, purge_at=utcnow(), account_ids=[]
        )
        session.add(record)
        await session.flush()
    return record


async def _purge_table(context: AppContext, plan: TablePlan, org_id: str, report: PurgeReport) -> None:
    table = plan.table
    owning = [link.column for link in plan.organization_links if link.owns_row]
    referring = [link.column for link in plan.organization_links if not link.owns_row]
    async with context.db.transaction() as session:
        for column in referring:
            cleared = await session.execute(update(table).where(column == org_id).values({column.name: None}))
            report.references_cleared[table.name] = report.references_cleared.get(table.name, 0) + int(
                cleared.rowcount or 0  # type: ignore[attr-defined]
            )
        if owning and plan.self_references:
            values = {column.name: None for column in plan.self_references}
            await session.execute(update(table).where(owning[0] == org_id).values(values))
    for column in owning:
        while deleted := await _delete_batch(context, table, column, org_id):
            report.rows_deleted[table.name] = report.rows_deleted.get(table.name, 0) + deleted


async def _delete_batch(context: AppContext, table: Any, column: Any, org_id: str) -> int:
    """Deletes up to PURGE_BATCH of the organisation's rows of `table` in a transaction of its own."""
    key = list(table.primary_key.columns)
    batch = select(*key).where(column == org_id).limit(PURGE_BATCH)
    matching = key[0].in_(batch.scalar_subquery()) if len(key) == 1 else tuple_(*key).in_(batch)
    async with context.db.transaction() as session:
        result = await session.execute(delete(table).where(matching))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _delete_accountless(context: AppContext, account_ids: Sequence[str]) -> int:
    """Deletes the accounts among `account_ids` that belong to no organisation any more."""
    deleted = 0
    for account_id in account_ids:
        async with context.db.transaction() as session:
            account = await session.get(Account, account_id)
            if account is None or account.is_operator:
                continue
            memberships = await session.scalar(
                select(func.count()).select_from(Membership).where(Membership.account_id == account_id)
            )
            if memberships:
                continue
            await erase_account(session, context, account_id)
            deleted += 1
    return deleted


async def _finish_purge(context: AppContext, org_id: str, report: PurgeReport) -> None:
    """Deletes the organisation row and leaves the tombstone: the deregistration with its dates."""
    async with context.db.transaction() as session:
        await session.execute(delete(Organization).where(Organization.id == org_id))
        record = await _purge_record(session, org_id)
        record.state = DeregistrationState.PURGED
        record.purged_at = utcnow()
        record.account_ids = []
        record.requested_by_membership_id = None
        await session.execute(
            delete(Deregistration).where(
                Deregistration.org_id == org_id, Deregistration.state == DeregistrationState.CANCELLED
            )
        )
        await audit.record(
            session,
            context.keyring,
            action="privacy.org_purged",
            object_type="organization",
            object_id=org_id,
            detail={
                "rows": sum(report.rows_deleted.values()),
                "files": report.files_deleted,
                "accounts_deleted": report.accounts_deleted,
            },
        )
