"""Retention of the logs: log files per type, and the audit log in the database (at least 180
days; its chains stay verifiable through checkpoints, see platform.audit.prune_chain)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.platform import audit
from zhengtong.privacy.scan.logfiles import delete_expired_logs, log_retention_days
from zhengtong.privacy.scan.residency import MINIMUM_AUDIT_LOG_DAYS


@dataclass
class RetentionResult:
    log_files_deleted: list[str] = field(default_factory=list)
    audit_entries_pruned: dict[str, int] = field(default_factory=dict)  # scope → entries


async def prune_audit_log(context: AppContext) -> dict[str, int]:
    """Prunes every audit chain of the entries older than `audit_log_days` (never fewer than
    180), one scope per transaction, and records the pruning itself in the platform's chain."""
    days = max(context.settings.audit_log_days, MINIMUM_AUDIT_LOG_DAYS)
    before = utcnow() - timedelta(days=days)
    async with context.db.transaction() as session:
        scopes = await audit.scopes(session)
    pruned: dict[str, int] = {}
    for scope in scopes:
        async with context.db.transaction() as session:
            count = await audit.prune_chain(session, context.keyring, scope=scope, before=before)
        if count:
            pruned[scope] = count
    if pruned:
        async with context.db.transaction() as session:
            await audit.record(
                session,
                context.keyring,
                action="audit.pruned",
                object_type="audit_log",
                detail={"entries": sum(pruned.values()), "scopes": len(pruned), "retention_days": days},
            )
    return pruned


async def apply_retention(context: AppContext) -> RetentionResult:
    """Deletes expired log files of this machine and prunes the audit log."""
    settings = context.settings
    deleted = await asyncio.to_thread(
        delete_expired_logs, settings.log_dir, log_retention_days(settings), utcnow().date()
    )
    return RetentionResult(deleted, await prune_audit_log(context))
