"""Granting and withdrawing separate consents, with their history.

A grant opens a record for the member's current organisation; a withdrawal calls the purpose's
withdraw handler (which stops the processing and deletes the data that depended on the consent)
and closes the record, keeping it as history with how many rows were deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.org.access import current_membership
from zhengtong.platform import audit
from zhengtong.privacy.consent import contact_matching, errors
from zhengtong.privacy.consent.models import ConsentRecord
from zhengtong.privacy.consent.purposes import (
    CONTACT_MATCHING,
    PURPOSES,
    Purpose,
    WithdrawHandler,
    get_purpose,
    open_consent,
)

# What withdrawing each offered purpose runs. A purpose offered without one would keep its data
# after a withdrawal: a test requires every offered purpose to be here.
WITHDRAW_HANDLERS: dict[str, WithdrawHandler] = {
    CONTACT_MATCHING: contact_matching.forget_contacts,
}


@dataclass(frozen=True)
class PurposeState:
    purpose: Purpose
    consent: ConsentRecord | None  # the standing consent, if any


async def states(session: AsyncSession, caller: Caller) -> list[PurposeState]:
    """Every purpose with the caller's standing consent in their current organisation."""
    membership = await current_membership(session, caller)
    result = await session.execute(
        select(ConsentRecord).where(
            ConsentRecord.membership_id == membership.id, ConsentRecord.withdrawn_at.is_(None)
        )
    )
    standing = {record.purpose: record for record in result.scalars()}
    return [PurposeState(purpose, standing.get(purpose.key)) for purpose in PURPOSES.values()]


async def history(session: AsyncSession, caller: Caller) -> Sequence[ConsentRecord]:
    """Every grant (and its withdrawal) in the caller's current organisation, newest first."""
    membership = await current_membership(session, caller)
    result = await session.execute(
        select(ConsentRecord)
        .where(ConsentRecord.membership_id == membership.id)
        .order_by(ConsentRecord.granted_at.desc(), ConsentRecord.id.desc())
    )
    return result.scalars().all()


async def grant(
    session: AsyncSession, context: AppContext, caller: Caller, *, purpose_key: str, ip: str
) -> ConsentRecord:
    """Opens the caller's consent to an offered purpose (a standing one is returned as it is)."""
    purpose = get_purpose(purpose_key)
    if not purpose.offered:
        raise AppError(errors.PURPOSE_UNAVAILABLE)
    membership = await current_membership(session, caller)
    standing = await open_consent(session, membership.id, purpose.key)
    if standing is not None:
        return standing
    record = ConsentRecord(
        org_id=membership.org_id,
        membership_id=membership.id,
        purpose=purpose.key,
        purpose_version=purpose.version,
        granted_at=utcnow(),
    )
    session.add(record)
    await session.flush()
    await _audit(session, context, caller, record, "privacy.consent_granted", ip)
    return record


async def withdraw(
    session: AsyncSession, context: AppContext, caller: Caller, *, purpose_key: str, ip: str
) -> ConsentRecord | None:
    """Withdraws the caller's consent: the purpose's handler stops the processing and deletes
    its data, in this transaction. Returns the closed record, or None when none stood."""
    purpose = get_purpose(purpose_key)
    membership = await current_membership(session, caller)
    record = await open_consent(session, membership.id, purpose.key)
    if record is None:
        return None
    handler = WITHDRAW_HANDLERS.get(purpose.key)
    record.deleted_rows = await handler(session, context, membership) if handler else 0
    record.withdrawn_at = utcnow()
    await session.flush()
    await _audit(session, context, caller, record, "privacy.consent_withdrawn", ip)
    return record


async def _audit(
    session: AsyncSession, context: AppContext, caller: Caller, record: ConsentRecord, action: str, ip: str
) -> None:
    await audit.record(
        session,
        context.keyring,
        action=action,
        org_id=record.org_id,
        actor_id=caller.account_id,
        object_type="consent",
        object_id=record.id,
        ip=ip,
        detail={"purpose": record.purpose, "deleted_rows": record.deleted_rows},
    )
