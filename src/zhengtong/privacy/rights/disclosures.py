"""The disclosure ledger (对外提供记录): every hand-off of personal data to a third party, with its
recipient, the data categories, the legal basis and the people concerned.

Admins record legal requests (an authority's or a court's); later domains (apps, the open API)
call `record_disclosure` whenever they hand personal data out. Each person sees the entries
about them, except while the law requires secrecy (`withhold_until`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.core.inventory import DataClass
from zhengtong.org.access import AdminScope, access_member
from zhengtong.org.models import Membership, Organization
from zhengtong.platform import audit
from zhengtong.privacy.rights import errors
from zhengtong.privacy.rights.models import (
    Disclosure,
    DisclosureSource,
    DisclosureSubject,
    LegalBasis,
    RecipientKind,
)
from zhengtong.privacy.rights.requests import in_admin_scope
from zhengtong.privacy.rights.workdays import local_date

# The categories of data a disclosure names: the inventory's classes of personal data.
DATA_CATEGORIES = tuple(data_class.value for data_class in DataClass if data_class is not DataClass.NONE)


async def record_disclosure(
    session: AsyncSession,
    context: AppContext,
    *,
    org_id: str,
    recipient_kind: RecipientKind,
    recipient: str,
    data_categories: Sequence[DataClass],
    legal_basis: LegalBasis,
    membership_ids: Sequence[str],
    reference: str = "",
    purpose: str = "",
    source: DisclosureSource = DisclosureSource.SYSTEM,
    source_ref: str = "",
    recorded_by_membership_id: str | None = None,
    actor_id: str | None = None,
    ip: str = "",
    disclosed_at: datetime | None = None,
    withhold_until: date | None = None,
) -> Disclosure:
    """Records that personal data of `membership_ids` (members of `org_id`) went to `recipient`,
    in the caller's transaction, and audits it. Every domain that hands data to a third party
    calls this; the people concerned then see it in their privacy centre."""
    subjects = sorted(set(membership_ids))
    if not subjects:
        raise AppError(errors.NO_SUBJECTS)
    known = set(
        await session.scalars(
            select(Membership.id).where(Membership.org_id == org_id, Membership.id.in_(subjects))
        )
    )
    if known != set(subjects):
        raise AppError(errors.UNKNOWN_SUBJECT)
    disclosure = Disclosure(
        org_id=org_id,
        recipient_kind=recipient_kind,
        recipient=recipient,
        data_categories=sorted({DataClass(category).value for category in data_categories}),
        legal_basis=legal_basis,
        reference=reference,
        purpose=purpose,
        source=source,
        source_ref=source_ref,
        recorded_by_membership_id=recorded_by_membership_id,
        disclosed_at=disclosed_at or utcnow(),
        withhold_until=withhold_until,
        created_at=utcnow(),
    )
    session.add(disclosure)
    await session.flush()
    session.add_all(
        DisclosureSubject(org_id=org_id, disclosure_id=disclosure.id, membership_id=membership_id)
        for membership_id in subjects
    )
    await audit.record(
        session,
        context.keyring,
        action="privacy.disclosure_recorded",
        org_id=org_id,
        actor_id=actor_id,
        object_type="disclosure",
        object_id=disclosure.id,
        ip=ip,
        detail={
            "source": source.value,
            "legal_basis": legal_basis.value,
            "recipient_kind": recipient_kind.value,
            "people": len(subjects),
        },
    )
    return disclosure


async def already_disclosed(session: AsyncSession, *, org_id: str, source_ref: str, reference: str) -> bool:
    """Whether a disclosure from `source_ref` (an app) about `reference` was recorded already."""
    found = await session.scalar(
        select(Disclosure.id).where(
            Disclosure.org_id == org_id,
            Disclosure.source_ref == source_ref,
            Disclosure.reference == reference,
        )
    )
    return found is not None


async def record_legal_request(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    recipient_kind: RecipientKind,
    recipient: str,
    data_categories: Sequence[DataClass],
    legal_basis: LegalBasis,
    membership_ids: Sequence[str],
    reference: str,
    purpose: str,
    disclosed_at: datetime | None,
    withhold_until: date | None,
    actor_id: str,
    ip: str,
) -> Disclosure:
    """An admin records a disclosure (typically to an authority); each person concerned must be
    a member the admin manages."""
    for membership_id in set(membership_ids):
        await access_member(session, scope, membership_id)
    return await record_disclosure(
        session,
        context,
        org_id=scope.org_id,
        recipient_kind=recipient_kind,
        recipient=recipient,
        data_categories=data_categories,
        legal_basis=legal_basis,
        membership_ids=membership_ids,
        reference=reference,
        purpose=purpose,
        source=DisclosureSource.ADMIN,
        recorded_by_membership_id=scope.membership_id,
        actor_id=actor_id,
        ip=ip,
        disclosed_at=disclosed_at,
        withhold_until=withhold_until,
    )


@dataclass(frozen=True)
class LedgerEntry:
    disclosure: Disclosure
    organization_name: str
    subject_ids: Sequence[str]  # membership ids (for the admin view), empty for the person
    subject_names: Sequence[str]


async def _subjects_in_scope(
    session: AsyncSession, scope: AdminScope, disclosure_id: str | None = None
) -> dict[str, list[tuple[str, str]]]:
    """disclosure id → [(membership id, name)] of the people concerned the admin manages."""
    query = (
        select(DisclosureSubject.disclosure_id, Membership.id, Membership.name)
        .join(Membership, Membership.id == DisclosureSubject.membership_id)
        .where(
            DisclosureSubject.org_id == scope.org_id, in_admin_scope(scope, DisclosureSubject.membership_id)
        )
        .order_by(Membership.name, Membership.id)
    )
    if disclosure_id is not None:
        query = query.where(DisclosureSubject.disclosure_id == disclosure_id)
    subjects: dict[str, list[tuple[str, str]]] = {}
    for found_id, membership_id, name in (await session.execute(query)).all():
        subjects.setdefault(found_id, []).append((membership_id, name))
    return subjects


def _entry(disclosure: Disclosure, subjects: Sequence[tuple[str, str]]) -> LedgerEntry:
    return LedgerEntry(
        disclosure,
        "",
        [membership_id for membership_id, _ in subjects],
        [name for _, name in subjects],
    )


async def list_org_disclosures(
    session: AsyncSession, scope: AdminScope, *, limit: int = 200
) -> list[LedgerEntry]:
    """The organisation's ledger, newest first; a sub-admin sees the entries about members they
    manage, and only those members among the people concerned."""
    subjects = await _subjects_in_scope(session, scope)
    query = select(Disclosure).where(Disclosure.org_id == scope.org_id)
    if not scope.whole_org:
        query = query.where(Disclosure.id.in_(list(subjects)))
    found = await session.scalars(
        query.order_by(Disclosure.disclosed_at.desc(), Disclosure.id.desc()).limit(limit)
    )
    return [_entry(disclosure, subjects.get(disclosure.id, [])) for disclosure in found]


async def ledger_entry(session: AsyncSession, scope: AdminScope, disclosure: Disclosure) -> LedgerEntry:
    subjects = await _subjects_in_scope(session, scope, disclosure.id)
    return _entry(disclosure, subjects.get(disclosure.id, []))


async def list_own_disclosures(session: AsyncSession, caller: Caller) -> list[LedgerEntry]:
    """What was disclosed about the caller, in every organisation they belong to, newest first;
    entries under legal secrecy appear once their `withhold_until` date has passed."""
    today = local_date(utcnow())
    rows = await session.execute(
        select(Disclosure, Organization.name)
        .join(DisclosureSubject, DisclosureSubject.disclosure_id == Disclosure.id)
        .join(Membership, Membership.id == DisclosureSubject.membership_id)
        .join(Organization, Organization.id == Disclosure.org_id)
        .where(Membership.account_id == caller.account_id)
        .order_by(Disclosure.disclosed_at.desc(), Disclosure.id.desc())
    )
    return [
        LedgerEntry(disclosure, organization_name, [], [])
        for disclosure, organization_name in rows.all()
        if disclosure.withhold_until is None or disclosure.withhold_until <= today
    ]
