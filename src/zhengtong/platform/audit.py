"""Append-only, hash-chained audit log: who did what, to which object, from where.

Every scope (an organisation, or "platform" for what happens outside one) has its own chain.
Entry n carries the hash of entry n-1, and its own hash covers that and its fields:

    hash = HMAC(audit key, prev_hash || canonical JSON of the entry's fields)

so changing, deleting or reordering an entry breaks the chain at that entry and `verify` names
it. The HMAC key is derived from the master key, so someone who can write the database cannot
rebuild a consistent chain after tampering. The hash is HMAC-SHA256, or HMAC-SM3 under national
crypto; each entry records its algorithm, so a chain stays verifiable after the setting changes.

`detail` holds ids, codes, counts and the names of changed fields: never mobile numbers, names or
any other personal data in clear. The audit log is kept for its legal retention period after the
person's own data is gone, and it must not bring that data back.

Pruning (`prune_chain`, run by the retention job in privacy.scan.jobs) deletes a chain's oldest
entries once they are past retention. It first verifies the entries it is about to delete, then
keeps a checkpoint: the seq and hash of the last deleted entry, sealed with its own HMAC. `verify`
starts from the checkpoint instead of the genesis hash, so the rest of the chain still proves
itself, and a checkpoint that was altered or removed breaks the chain at its first remaining
entry.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Integer, String, UniqueConstraint, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from zhengtong.core.clock import utcnow
from zhengtong.core.crypto import Keyring
from zhengtong.core.db import Base, IdMixin, UtcDateTime
from zhengtong.core.inventory import NOT_PERSONAL, DataClass, personal, retain

PLATFORM_SCOPE = "platform"
GENESIS_HASH = "0" * 64  # what the first entry of a chain points back to

_LOG_RETENTION = retain(186, "《网络安全法》第二十一条: network logs are kept for at least six months")

# The fields the hash covers, in addition to prev_hash. Adding one here breaks existing chains.
_HASHED_FIELDS = (
    "scope",
    "seq",
    "at",
    "actor_account_id",
    "action",
    "object_type",
    "object_id",
    "ip",
    "detail",
    "algorithm",
)


class AuditEntry(IdMixin, Base):
    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("scope", "seq"),)

    scope: Mapped[str] = mapped_column(String(32), info=NOT_PERSONAL)  # organisation id or "platform"
    seq: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)  # 1, 2, 3 ... within the scope
    at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    # No foreign key: the trail must survive the account it names.
    actor_account_id: Mapped[str | None] = mapped_column(
        String(26), info=personal(DataClass.IDENTITY, _LOG_RETENTION, note="None for the system")
    )
    action: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)  # "auth.login"
    object_type: Mapped[str] = mapped_column(String(64), default="", info=NOT_PERSONAL)
    object_id: Mapped[str] = mapped_column(
        String(64), default="", info=personal(DataClass.IDENTITY, _LOG_RETENTION, note="may be an account id")
    )
    ip: Mapped[str] = mapped_column(
        String(64), default="", info=personal(DataClass.LOCATION, _LOG_RETENTION, note="the caller's address")
    )
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSON,
        default=dict,
        info=personal(
            DataClass.IDENTITY, _LOG_RETENTION, note="ids and codes only; never mobile numbers or names"
        ),
    )
    algorithm: Mapped[str] = mapped_column(String(8), info=NOT_PERSONAL)  # "sha256" or "sm3"
    prev_hash: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)  # hex
    hash: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)  # hex


class AuditCheckpoint(Base):
    """Where a pruned chain now starts: the seq and hash of the last entry deleted from it."""

    __tablename__ = "audit_checkpoints"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True, info=NOT_PERSONAL)
    seq: Mapped[int] = mapped_column(Integer, info=NOT_PERSONAL)  # the last pruned entry
    hash: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)  # its hash, hex
    pruned_at: Mapped[datetime] = mapped_column(UtcDateTime, info=NOT_PERSONAL)
    algorithm: Mapped[str] = mapped_column(String(8), info=NOT_PERSONAL)
    mac: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)  # hex, over scope, seq and hash


def _checkpoint_mac(keyring: Keyring, scope: str, seq: int, entry_hash_hex: str, algorithm: str) -> str:
    data = f"{scope}|{seq}|{entry_hash_hex}".encode()
    return keyring.keyed_digest("audit-checkpoint", data, algorithm).hex()


async def _chain_start(session: AsyncSession, keyring: Keyring, scope: str) -> tuple[int, str]:
    """(seq of the chain's first entry, the hash it must point back to): 1 and the genesis hash,
    or after pruning the checkpoint's successor. A forged checkpoint gives a hash nothing matches."""
    checkpoint = await session.get(AuditCheckpoint, scope)
    if checkpoint is None:
        return 1, GENESIS_HASH
    try:
        expected = _checkpoint_mac(keyring, scope, checkpoint.seq, checkpoint.hash, checkpoint.algorithm)
    except ValueError:
        expected = ""
    intact = expected != "" and hmac.compare_digest(expected, checkpoint.mac)
    return checkpoint.seq + 1, checkpoint.hash if intact else ""


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    checked: int  # entries found intact
    first_broken_seq: int | None = None
    scope: str | None = None  # the broken chain's scope, else the scope asked for (None: all)


def _canonical_fields(entry: Any) -> bytes:
    """The hashed fields of an entry (a model instance or a row) as sorted, compact JSON."""
    fields = {name: getattr(entry, name) for name in _HASHED_FIELDS}
    fields["at"] = fields["at"].astimezone(UTC).isoformat(timespec="microseconds")
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def entry_hash(keyring: Keyring, entry: Any) -> str:
    """The hash `entry` (a model instance or a row) must carry, in hex, by its own algorithm."""
    data = entry.prev_hash.encode("ascii") + _canonical_fields(entry)
    return keyring.keyed_digest("audit-chain", data, entry.algorithm).hex()


def _advisory_lock_key(scope: str) -> int:
    # pg_advisory_xact_lock takes a signed 64-bit key; hashing keeps scopes apart from other users.
    digest = hashlib.sha256(b"zhengtong-audit:" + scope.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def _serialise_appends(session: AsyncSession, scope: str) -> None:
    """Holds, until the transaction ends, the right to append to `scope`'s chain; otherwise two
    transactions would read the same head and write the same seq."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _advisory_lock_key(scope)})
    else:
        # SQLite has one writer at a time. A write that changes nothing takes the writer's lock now,
        # before the chain's head is read, instead of at the insert.
        await session.execute(text("UPDATE audit_log SET seq = seq WHERE 0 = 1"))


async def record(
    session: AsyncSession,
    keyring: Keyring,
    *,
    action: str,
    org_id: str | None = None,
    actor_id: str | None = None,
    object_type: str = "",
    object_id: str = "",
    ip: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Appends an entry to the organisation's chain (the platform's without `org_id`) inside the
    caller's transaction, so it commits or rolls back with the work it records. Appends to one
    scope wait for each other until commit: record near the end of the unit of work.
    `detail` holds ids and codes, never mobile numbers or names."""
    scope = org_id or PLATFORM_SCOPE
    await _serialise_appends(session, scope)
    head = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.hash)
            .where(AuditEntry.scope == scope)
            .order_by(AuditEntry.seq.desc())
            .limit(1)
        )
    ).first()
    entry = AuditEntry(
        scope=scope,
        seq=head.seq + 1 if head else 1,
        at=utcnow(),
        actor_account_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip=ip,
        # Through JSON and back: the hash must cover exactly what the database will return.
        detail=orjson.loads(orjson.dumps(detail or {})),
        algorithm=keyring.digest_algorithm,
        prev_hash=head.hash if head else GENESIS_HASH,
    )
    entry.hash = entry_hash(keyring, entry)
    session.add(entry)
    await session.flush()
    return entry


async def _verify_chain(session: AsyncSession, keyring: Keyring, scope: str) -> tuple[int, int | None]:
    """(entries intact, seq of the first broken entry or None) for one scope's chain."""
    expected_seq, prev_hash = await _chain_start(session, keyring, scope)
    rows = await session.stream(
        select(*AuditEntry.__table__.columns).where(AuditEntry.scope == scope).order_by(AuditEntry.seq)
    )
    first_seq = expected_seq
    try:
        async for row in rows:
            if row.seq != expected_seq:  # the expected entry was deleted
                return expected_seq - first_seq, expected_seq
            try:
                intact = row.prev_hash == prev_hash and entry_hash(keyring, row) == row.hash
            except (ValueError, TypeError):  # an unknown algorithm, or a value damaged past hashing
                intact = False
            if not intact:
                return expected_seq - first_seq, row.seq
            expected_seq, prev_hash = expected_seq + 1, row.hash
    finally:
        await rows.close()
    return expected_seq - first_seq, None


async def verify(session: AsyncSession, keyring: Keyring, *, scope: str | None = None) -> VerifyReport:
    """Recomputes every chain, or only `scope`'s, from its first entry and reports the first entry
    that is missing, altered or chained to the wrong predecessor. Entries removed from the end
    of a chain leave no trace in the chain itself."""
    scopes = (
        [scope]
        if scope is not None
        else list(await session.scalars(select(AuditEntry.scope).distinct().order_by(AuditEntry.scope)))
    )
    checked = 0
    for name in scopes:
        intact, broken_seq = await _verify_chain(session, keyring, name)
        checked += intact
        if broken_seq is not None:
            return VerifyReport(ok=False, checked=checked, first_broken_seq=broken_seq, scope=name)
    return VerifyReport(ok=True, checked=checked, scope=scope)


async def prune_chain(session: AsyncSession, keyring: Keyring, *, scope: str, before: datetime) -> int:
    """Deletes `scope`'s oldest entries made before `before` (the unbroken run from the chain's
    start, so nothing newer goes) and moves the checkpoint to the last of them; returns how many.
    Entries whose chain does not verify are kept as the evidence they are: nothing is pruned."""
    await _serialise_appends(session, scope)
    start_seq, _ = await _chain_start(session, keyring, scope)
    first_kept = await session.scalar(
        select(AuditEntry.seq)
        .where(AuditEntry.scope == scope, AuditEntry.at >= before)
        .order_by(AuditEntry.seq)
        .limit(1)
    )
    if first_kept is None:  # everything is old; the head stays, so the chain goes on from it
        first_kept = await session.scalar(select(func.max(AuditEntry.seq)).where(AuditEntry.scope == scope))
    if first_kept is None or first_kept <= start_seq:
        return 0
    _, broken_seq = await _verify_chain(session, keyring, scope)
    if broken_seq is not None and broken_seq < first_kept:
        return 0
    last = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.hash, AuditEntry.algorithm).where(
                AuditEntry.scope == scope, AuditEntry.seq == first_kept - 1
            )
        )
    ).one()
    deleted = await session.execute(
        delete(AuditEntry).where(AuditEntry.scope == scope, AuditEntry.seq < first_kept)
    )
    checkpoint = await session.get(AuditCheckpoint, scope)
    if checkpoint is None:
        checkpoint = AuditCheckpoint(scope=scope)
        session.add(checkpoint)
    checkpoint.seq, checkpoint.hash, checkpoint.algorithm = last.seq, last.hash, last.algorithm
    checkpoint.pruned_at = utcnow()
    checkpoint.mac = _checkpoint_mac(keyring, scope, last.seq, last.hash, last.algorithm)
    await session.flush()
    return int(getattr(deleted, "rowcount", 0) or 0)


async def scopes(session: AsyncSession) -> list[str]:
    """Every scope that has entries."""
    return list(await session.scalars(select(AuditEntry.scope).distinct().order_by(AuditEntry.scope)))


async def list_entries(
    session: AsyncSession, *, scope: str, limit: int, before_seq: int | None = None
) -> list[AuditEntry]:
    """A scope's entries, newest first, at most `limit`; `before_seq` pages back to older ones."""
    query = select(AuditEntry).where(AuditEntry.scope == scope)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    entries = await session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit))
    return list(entries)
