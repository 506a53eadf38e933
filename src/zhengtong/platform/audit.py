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
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Integer, String, UniqueConstraint, select, text
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
    rows = await session.stream(
        select(*AuditEntry.__table__.columns).where(AuditEntry.scope == scope).order_by(AuditEntry.seq)
    )
    expected_seq, prev_hash = 1, GENESIS_HASH
    try:
        async for row in rows:
            if row.seq != expected_seq:  # the expected entry was deleted
                return expected_seq - 1, expected_seq
            try:
                intact = row.prev_hash == prev_hash and entry_hash(keyring, row) == row.hash
            except (ValueError, TypeError):  # an unknown algorithm, or a value damaged past hashing
                intact = False
            if not intact:
                return expected_seq - 1, row.seq
            expected_seq, prev_hash = expected_seq + 1, row.hash
    finally:
        await rows.close()
    return expected_seq - 1, None


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


async def list_entries(
    session: AsyncSession, *, scope: str, limit: int, before_seq: int | None = None
) -> list[AuditEntry]:
    """A scope's entries, newest first, at most `limit`; `before_seq` pages back to older ones."""
    query = select(AuditEntry).where(AuditEntry.scope == scope)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    entries = await session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit))
    return list(entries)
