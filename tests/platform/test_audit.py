"""The hash-chained audit log: appends, verification, tampering, SM3, concurrency, the CLI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import cast

import pytest
from click.testing import CliRunner
from sqlalchemy import Table, delete, select, update
from sqlalchemy.sql import Executable

from zhengtong.cli import main
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import Keyring, load_master_key
from zhengtong.core.ids import new_id
from zhengtong.core.inventory import Action, DataClass, declaration_of
from zhengtong.core.keystore import MemoryKeyStore
from zhengtong.platform.audit import (
    GENESIS_HASH,
    PLATFORM_SCOPE,
    AuditEntry,
    VerifyReport,
    entry_hash,
    list_entries,
    record,
    verify,
)

audit_table = cast(Table, AuditEntry.__table__)


async def record_many(context: AppContext, count: int, *, org_id: str | None = None) -> list[AuditEntry]:
    async with context.db.transaction() as session:
        return [
            await record(
                session,
                context.keyring,
                action="member.update",
                org_id=org_id,
                actor_id="01ACTOR0000000000000000000",
                object_type="member",
                object_id=f"member-{number}",
                ip="203.0.113.7",
                detail={"fields": ["title"], "n": number},
            )
            for number in range(1, count + 1)
        ]


async def verify_with(context: AppContext, keyring: Keyring | None = None, **scope: str) -> VerifyReport:
    async with context.db.transaction() as session:
        return await verify(session, keyring or context.keyring, **scope)


async def tamper(context: AppContext, statement: Executable) -> None:
    async with context.db.transaction() as session:
        await session.execute(statement)


async def test_record_appends_a_linked_entry(context: AppContext) -> None:
    org_id = new_id()

    first, second = await record_many(context, 2, org_id=org_id)

    assert (first.scope, first.seq, first.prev_hash) == (org_id, 1, GENESIS_HASH)
    assert (second.scope, second.seq, second.prev_hash) == (org_id, 2, first.hash)
    assert len(second.hash) == 64 and int(second.hash, 16) >= 0
    assert second.algorithm == "sha256"
    assert second.at.tzinfo is not None
    assert (second.actor_account_id, second.ip, second.detail) == (
        "01ACTOR0000000000000000000",
        "203.0.113.7",
        {"fields": ["title"], "n": 2},
    )


async def test_each_scope_has_its_own_chain(context: AppContext) -> None:
    await record_many(context, 2, org_id=new_id())

    platform_entries = await record_many(context, 1)
    other_org_entries = await record_many(context, 1, org_id=new_id())

    assert (platform_entries[0].scope, platform_entries[0].seq) == (PLATFORM_SCOPE, 1)
    assert other_org_entries[0].seq == 1


async def test_an_entry_rolls_back_with_the_work_it_records(context: AppContext) -> None:
    org_id = new_id()
    with pytest.raises(RuntimeError):
        async with context.db.transaction() as session:
            await record(session, context.keyring, action="member.remove", org_id=org_id)
            raise RuntimeError("the removal failed")

    (entry,) = await record_many(context, 1, org_id=org_id)

    assert entry.seq == 1
    assert await verify_with(context) == VerifyReport(ok=True, checked=1)


async def test_verify_checks_every_chain(context: AppContext) -> None:
    org_id = new_id()
    await record_many(context, 3, org_id=org_id)
    await record_many(context, 2)

    assert await verify_with(context) == VerifyReport(ok=True, checked=5)
    assert await verify_with(context, scope=org_id) == VerifyReport(ok=True, checked=3, scope=org_id)
    assert await verify_with(context, scope="unknown") == VerifyReport(ok=True, checked=0, scope="unknown")


async def test_changed_detail_breaks_the_chain_at_that_entry(context: AppContext) -> None:
    org_id = new_id()
    await record_many(context, 4, org_id=org_id)

    await tamper(
        context,
        update(audit_table)
        .where(audit_table.c.scope == org_id, audit_table.c.seq == 2)
        .values(detail={"fields": ["salary"], "n": 2}),
    )

    assert await verify_with(context) == VerifyReport(ok=False, checked=1, first_broken_seq=2, scope=org_id)


@pytest.mark.parametrize("column", ["actor_account_id", "ip", "action", "object_id"])
async def test_any_changed_field_is_noticed(context: AppContext, column: str) -> None:
    org_id = new_id()
    await record_many(context, 2, org_id=org_id)

    await tamper(
        context,
        update(audit_table)
        .where(audit_table.c.scope == org_id, audit_table.c.seq == 1)
        .values({column: "forged"}),
    )

    report = await verify_with(context, scope=org_id)
    assert (report.ok, report.first_broken_seq) == (False, 1)


async def test_a_deleted_entry_is_reported_as_missing(context: AppContext) -> None:
    org_id = new_id()
    await record_many(context, 5, org_id=org_id)

    await tamper(context, delete(audit_table).where(audit_table.c.scope == org_id, audit_table.c.seq == 3))

    assert await verify_with(context, scope=org_id) == VerifyReport(
        ok=False, checked=2, first_broken_seq=3, scope=org_id
    )


async def test_a_rehashed_forgery_breaks_the_link_to_the_next_entry(context: AppContext) -> None:
    org_id = new_id()
    entries = await record_many(context, 3, org_id=org_id)
    forged = entries[1]
    forged.detail = {"fields": ["salary"], "n": 2}
    forged_hash = entry_hash(context.keyring, forged)  # anyone can: the digest has no key

    await tamper(
        context,
        update(audit_table)
        .where(audit_table.c.scope == org_id, audit_table.c.seq == 2)
        .values(detail=forged.detail, hash=forged_hash),
    )

    assert await verify_with(context, scope=org_id) == VerifyReport(
        ok=False, checked=2, first_broken_seq=3, scope=org_id
    )


async def test_a_broken_chain_does_not_hide_other_scopes(context: AppContext) -> None:
    broken_org, intact_org = new_id(), new_id()
    await record_many(context, 2, org_id=broken_org)
    await record_many(context, 2, org_id=intact_org)

    await tamper(context, update(audit_table).where(audit_table.c.scope == broken_org).values(ip="10.0.0.1"))

    assert (await verify_with(context, scope=intact_org)).ok
    assert (await verify_with(context)).scope == broken_org


async def test_sm3_chains_and_chains_that_change_algorithm_verify(context: AppContext) -> None:
    org_id = new_id()
    # Same master key, national crypto switched on.
    master_key = load_master_key(context.settings.master_key, context.settings.data_dir)
    national = Keyring(master_key, key_store=MemoryKeyStore(), national=True)
    async with context.db.transaction() as session:
        sm3_entry = await record(session, national, action="org.settings", org_id=org_id)
    # The setting is switched off again: the chain goes on with SHA-256.
    (sha_entry,) = await record_many(context, 1, org_id=org_id)

    assert (sm3_entry.algorithm, sha_entry.algorithm) == ("sm3", "sha256")
    assert sha_entry.prev_hash == sm3_entry.hash
    assert await verify_with(context, national, scope=org_id) == VerifyReport(
        ok=True, checked=2, scope=org_id
    )
    assert await verify_with(context, scope=org_id) == VerifyReport(ok=True, checked=2, scope=org_id)


async def test_an_unknown_algorithm_counts_as_broken(context: AppContext) -> None:
    org_id = new_id()
    await record_many(context, 2, org_id=org_id)

    await tamper(
        context,
        update(audit_table)
        .where(audit_table.c.scope == org_id, audit_table.c.seq == 2)
        .values(algorithm="md5"),
    )

    assert (await verify_with(context, scope=org_id)).first_broken_seq == 2


async def test_detail_is_hashed_as_the_database_returns_it(context: AppContext) -> None:
    org_id = new_id()
    async with context.db.transaction() as session:
        entry = await record(
            session,
            context.keyring,
            action="calendar.move",
            org_id=org_id,
            detail={"to": datetime(2026, 1, 5, 9, 30, tzinfo=UTC), "ids": ("a", "b"), "ratio": 0.1},
        )

    assert entry.detail == {"to": "2026-01-05T09:30:00+00:00", "ids": ["a", "b"], "ratio": 0.1}
    assert (await verify_with(context, scope=org_id)).ok


async def test_concurrent_appends_form_one_contiguous_chain(context: AppContext) -> None:
    org_id = new_id()

    async def append_in_own_transactions(worker: int) -> None:
        for step in range(5):
            async with context.db.transaction() as session:
                await record(
                    session,
                    context.keyring,
                    action="doc.edit",
                    org_id=org_id,
                    detail={"w": worker, "s": step},
                )
                await asyncio.sleep(0.001)  # hold the transaction open while others try to append

    await asyncio.gather(*(append_in_own_transactions(worker) for worker in range(6)))

    async with context.db.transaction() as session:
        seqs = list(
            await session.scalars(
                select(AuditEntry.seq).where(AuditEntry.scope == org_id).order_by(AuditEntry.seq)
            )
        )
    assert seqs == list(range(1, 31))
    assert await verify_with(context, scope=org_id) == VerifyReport(ok=True, checked=30, scope=org_id)


async def test_list_entries_pages_back_from_the_newest(context: AppContext) -> None:
    org_id = new_id()
    await record_many(context, 5, org_id=org_id)
    await record_many(context, 2, org_id=new_id())

    async with context.db.transaction() as session:
        newest = await list_entries(session, scope=org_id, limit=2)
        older = await list_entries(session, scope=org_id, limit=10, before_seq=newest[-1].seq)

    assert [entry.seq for entry in newest] == [5, 4]
    assert [entry.seq for entry in older] == [3, 2, 1]


def test_actor_and_address_are_personal_data_kept_for_the_legal_period() -> None:
    for column, data_class in (("actor_account_id", DataClass.IDENTITY), ("ip", DataClass.LOCATION)):
        declared = declaration_of(audit_table.c[column])
        assert declared is not None
        assert declared.data_class is data_class
        assert declared.lifecycle.action is Action.RETAIN
        assert declared.lifecycle.days >= 184  # six months at their longest
        assert "网络安全法" in declared.lifecycle.legal_basis


def _run_cli(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env=env)
    return result.exit_code, result.output


async def test_cli_verify_reports_and_fails_on_a_broken_chain(context: AppContext) -> None:
    org_id = new_id()
    await record_many(context, 3, org_id=org_id)
    env = {
        "ZT_DATA_DIR": str(context.settings.data_dir),
        "ZT_DATABASE_URL": context.settings.resolved_database_url,
    }

    assert await asyncio.to_thread(_run_cli, ["audit", "verify"], env) == (
        0,
        "audit log intact: 3 entries checked\n",
    )

    await tamper(context, delete(audit_table).where(audit_table.c.seq == 2))

    exit_code, output = await asyncio.to_thread(_run_cli, ["audit", "verify", "--org", org_id], env)
    assert exit_code == 1
    assert output == f"audit log BROKEN in scope {org_id} at entry 2 (1 entries intact before it)\n"
