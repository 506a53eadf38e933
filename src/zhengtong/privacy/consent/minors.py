"""Minors: a member under 14 is not activated, and cannot log in, without a guardian's consent.

An admin records the member's birth date (个人敏感信息: encrypted with the organisation's data
key). The date rather than a flag, so that the requirement ends by itself on the 14th birthday.
The admin then records the guardian's consent with the evidence they hold (who, relation,
contact, where the signed form is); name, contact and note are encrypted. Login checks every
membership of the account: one that makes the person an unconsented minor refuses the login
with `privacy.consent.guardian_consent_required`, before a session or an activation happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import FieldCipher
from zhengtong.core.errors import AppError
from zhengtong.identity import service as identity
from zhengtong.org.access import AdminScope, access_member
from zhengtong.org.models import Membership, Organization
from zhengtong.platform import audit
from zhengtong.privacy.consent import errors
from zhengtong.privacy.consent.models import GuardianConsent, MinorRecord

AGE_OF_CONSENT = 14  # 《个人信息保护法》第三十一条: under 14, a guardian consents
CHINA_TIME = ZoneInfo("Asia/Shanghai")
RELATIONS = ("parent", "guardian", "other")


def today_in_china() -> date:
    return utcnow().astimezone(CHINA_TIME).date()


def _fourteenth_birthday(birth_date: date) -> date:
    try:
        return birth_date.replace(year=birth_date.year + AGE_OF_CONSENT)
    except ValueError:  # born on 29 February
        return date(birth_date.year + AGE_OF_CONSENT, 3, 1)


def is_under_14(birth_date: date, today: date) -> bool:
    return today < _fourteenth_birthday(birth_date)


async def _cipher(session: AsyncSession, context: AppContext, org_id: str) -> FieldCipher:
    organization = await session.get(Organization, org_id)
    assert organization is not None
    return context.keyring.org_cipher(org_id, organization.data_key_wrapped)


def _aad(field: str, membership_id: str) -> bytes:
    # Binds each value to its field and member: copied elsewhere it does not decrypt.
    return f"privacy-minor:{field}:{membership_id}".encode()


# The sealed columns and the field each is bound to, for the privacy scan (which opens them).
SEALED_COLUMNS = {
    "minor_records.birth_date_encrypted": "birth_date",
    "guardian_consents.guardian_name_encrypted": "guardian_name",
    "guardian_consents.guardian_contact_encrypted": "guardian_contact",
    "guardian_consents.evidence_note_encrypted": "evidence_note",
}


def sealed_column_aad(column: str, membership_id: str) -> bytes:
    """The AAD a value of one of `SEALED_COLUMNS` was sealed with (rows name their member)."""
    return _aad(SEALED_COLUMNS[column], membership_id)


async def _minor_record(session: AsyncSession, membership_id: str) -> MinorRecord | None:
    result = await session.execute(select(MinorRecord).where(MinorRecord.membership_id == membership_id))
    return result.scalars().first()


async def _open_guardian_consent(session: AsyncSession, membership_id: str) -> GuardianConsent | None:
    result = await session.execute(
        select(GuardianConsent).where(
            GuardianConsent.membership_id == membership_id, GuardianConsent.withdrawn_at.is_(None)
        )
    )
    return result.scalars().first()


# What an admin sees -------------------------------------------------------------------------
@dataclass(frozen=True)
class GuardianConsentView:
    id: str
    guardian_name: str
    relation: str
    guardian_contact: str
    evidence_note: str
    recorded_by: str | None
    recorded_at: datetime
    withdrawn_at: datetime | None


@dataclass(frozen=True)
class MinorStatus:
    membership_id: str
    birth_date: date | None
    under_14: bool
    consent_needed: bool  # under 14 and no standing guardian consent: cannot log in
    guardian_consents: list[GuardianConsentView]  # newest first, withdrawn ones included


async def minor_status(
    session: AsyncSession, context: AppContext, scope: AdminScope, *, membership_id: str
) -> MinorStatus:
    membership = await access_member(session, scope, membership_id)
    return await _status(session, context, membership)


async def _status(session: AsyncSession, context: AppContext, membership: Membership) -> MinorStatus:
    cipher = await _cipher(session, context, membership.org_id)
    record = await _minor_record(session, membership.id)
    birth_date = (
        date.fromisoformat(
            cipher.decrypt_text(record.birth_date_encrypted, _aad("birth_date", membership.id))
        )
        if record
        else None
    )
    under_14 = birth_date is not None and is_under_14(birth_date, today_in_china())
    consents = await _guardian_consents(session, membership.id)
    views = [_consent_view(cipher, consent) for consent in consents]
    standing = any(view.withdrawn_at is None for view in views)
    return MinorStatus(membership.id, birth_date, under_14, under_14 and not standing, views)


async def _guardian_consents(session: AsyncSession, membership_id: str) -> Sequence[GuardianConsent]:
    result = await session.execute(
        select(GuardianConsent)
        .where(GuardianConsent.membership_id == membership_id)
        .order_by(GuardianConsent.recorded_at.desc(), GuardianConsent.id.desc())
    )
    return result.scalars().all()


def _consent_view(cipher: FieldCipher, consent: GuardianConsent) -> GuardianConsentView:
    def clear(field: str, token: bytes) -> str:
        return cipher.decrypt_text(token, _aad(field, consent.membership_id))

    return GuardianConsentView(
        id=consent.id,
        guardian_name=clear("guardian_name", consent.guardian_name_encrypted),
        relation=consent.relation,
        guardian_contact=clear("guardian_contact", consent.guardian_contact_encrypted),
        evidence_note=clear("evidence_note", consent.evidence_note_encrypted),
        recorded_by=consent.recorded_by,
        recorded_at=consent.recorded_at,
        withdrawn_at=consent.withdrawn_at,
    )


# What an admin records ----------------------------------------------------------------------
async def record_birth_date(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    membership_id: str,
    birth_date: date,
    actor_id: str,
    ip: str,
) -> MinorStatus:
    """Records (or corrects) a member's birth date. A member it makes an unconsented minor loses
    their place in the organisation's sessions at once and cannot log in again until a guardian
    consents."""
    membership = await access_member(session, scope, membership_id)
    if birth_date > today_in_china():
        raise AppError(errors.BIRTH_DATE_INVALID)
    cipher = await _cipher(session, context, membership.org_id)
    sealed = cipher.encrypt_text(birth_date.isoformat(), _aad("birth_date", membership.id))
    record = await _minor_record(session, membership.id)
    if record is None:
        record = MinorRecord(
            org_id=membership.org_id, membership_id=membership.id, birth_date_encrypted=sealed
        )
        session.add(record)
    record.birth_date_encrypted = sealed
    record.recorded_by = scope.membership_id
    record.recorded_at = utcnow()
    await session.flush()
    status = await _status(session, context, membership)
    if status.consent_needed:
        await identity.end_sessions_in_org(
            session, account_id=membership.account_id, org_id=membership.org_id
        )
    await _audit(session, context, membership, "privacy.minor_recorded", actor_id, ip)
    return status


async def remove_birth_date(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    membership_id: str,
    actor_id: str,
    ip: str,
) -> None:
    """Removes a birth date recorded by mistake."""
    membership = await access_member(session, scope, membership_id)
    record = await _minor_record(session, membership.id)
    if record is not None:
        await session.delete(record)
        await session.flush()
        await _audit(session, context, membership, "privacy.minor_record_removed", actor_id, ip)


async def record_guardian_consent(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    membership_id: str,
    guardian_name: str,
    relation: str,
    guardian_contact: str,
    evidence_note: str,
    actor_id: str,
    ip: str,
) -> MinorStatus:
    """Records a guardian's consent for a member recorded as under 14 (it replaces a standing one)."""
    membership = await access_member(session, scope, membership_id)
    if not (await _status(session, context, membership)).under_14:
        raise AppError(errors.NOT_A_MINOR)
    now = utcnow()
    previous = await _open_guardian_consent(session, membership.id)
    if previous is not None:
        previous.withdrawn_at = now
    cipher = await _cipher(session, context, membership.org_id)

    def seal(field: str, value: str) -> bytes:
        return cipher.encrypt_text(value, _aad(field, membership.id))

    session.add(
        GuardianConsent(
            org_id=membership.org_id,
            membership_id=membership.id,
            guardian_name_encrypted=seal("guardian_name", guardian_name),
            relation=relation,
            guardian_contact_encrypted=seal("guardian_contact", guardian_contact),
            evidence_note_encrypted=seal("evidence_note", evidence_note),
            recorded_by=scope.membership_id,
            recorded_at=now,
        )
    )
    await session.flush()
    await _audit(session, context, membership, "privacy.guardian_consent_recorded", actor_id, ip)
    return await _status(session, context, membership)


async def withdraw_guardian_consent(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    membership_id: str,
    actor_id: str,
    ip: str,
) -> MinorStatus:
    """The guardian withdrew their consent: the member cannot log in again while under 14."""
    membership = await access_member(session, scope, membership_id)
    consent = await _open_guardian_consent(session, membership.id)
    if consent is None:
        raise AppError(errors.GUARDIAN_CONSENT_MISSING)
    consent.withdrawn_at = utcnow()
    await session.flush()
    status = await _status(session, context, membership)
    if status.consent_needed:
        await identity.end_sessions_in_org(
            session, account_id=membership.account_id, org_id=membership.org_id
        )
    await _audit(session, context, membership, "privacy.guardian_consent_withdrawn", actor_id, ip)
    return status


async def _audit(
    session: AsyncSession, context: AppContext, membership: Membership, action: str, actor_id: str, ip: str
) -> None:
    await audit.record(
        session,
        context.keyring,
        action=action,
        org_id=membership.org_id,
        actor_id=actor_id,
        object_type="membership",
        object_id=membership.id,
        ip=ip,
    )


# Login ---------------------------------------------------------------------------------------
async def require_guardian_consent(session: AsyncSession, context: AppContext, account_id: str) -> None:
    """Refuses the login of a person recorded as under 14 in any of their organisations without
    a standing guardian consent there. Called by identity before a session is opened."""
    result = await session.execute(
        select(Membership)
        .join(MinorRecord, MinorRecord.membership_id == Membership.id)
        .where(Membership.account_id == account_id)
    )
    for membership in result.scalars():
        if (await _status(session, context, membership)).consent_needed:
            raise AppError(errors.GUARDIAN_CONSENT_REQUIRED)
