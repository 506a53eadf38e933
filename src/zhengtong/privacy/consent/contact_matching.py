"""Phone-contact matching: which numbers in my phone contacts belong to colleagues I may see.

The numbers never reach the server. The server gives a member who consented a key derived from
their organisation's data key; the client computes HMAC-SHA256(key, number in E.164 form, e.g.
"+8613800000001") for each contact and uploads only those hashes. The server computes the same
hash of every member's mobile that the caller may see (directory visibility, hidden mobiles
respected) and answers the matches. The uploaded hashes are stored, so colleagues who join
later can be suggested, only while the consent stands: withdrawing deletes them.

Privacy trade-off, said plainly: mobile numbers are few (about 10⁹ in the mainland), so whoever
holds the key can test every number against a hash. The key protects the hashes from anyone
without it (a stolen database, another organisation: keys differ per organisation, and
destroying the organisation's data key makes stored hashes meaningless), but it is given to the
consenting members of the organisation, and the server can compute it. The hashes are therefore
pseudonymised contact data, declared as such in the inventory, not anonymous data. HMAC-SHA256
is used also under national crypto, because browsers offer no SM3.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.directory.service import mobile_hidden_from
from zhengtong.directory.visibility import viewer_for, visible_members_condition
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org.access import current_membership
from zhengtong.org.models import Membership, MemberStatus, Organization
from zhengtong.privacy.consent import errors
from zhengtong.privacy.consent.models import ContactMatchHash
from zhengtong.privacy.consent.purposes import CONTACT_MATCHING, require_consent

HASH_BYTES = 32
MAX_HASHES = 5000  # a large phone book; more is not a person's contacts


@dataclass(frozen=True)
class ContactMatch:
    membership_id: str
    name: str
    contact_hash: bytes


async def _organization(session: AsyncSession, org_id: str) -> Organization:
    organization = await session.get(Organization, org_id)
    assert organization is not None
    return organization


def _matching_key(context: AppContext, organization: Organization) -> bytes:
    cipher = context.keyring.org_cipher(organization.id, organization.data_key_wrapped)
    return cipher.keyed_hash("contact-matching-key", b"v1", length=32)


def contact_hash(key: bytes, e164: str) -> bytes:
    """What the client computes for one number."""
    return hmac.new(key, e164.encode(), hashlib.sha256).digest()


async def matching_key(session: AsyncSession, context: AppContext, caller: Caller) -> bytes:
    """The key the caller's client hashes numbers with; only for a member who consented."""
    membership = await current_membership(session, caller)
    await require_consent(session, membership.id, CONTACT_MATCHING)
    return _matching_key(context, await _organization(session, membership.org_id))


def parse_hashes(hex_hashes: Sequence[str]) -> set[bytes]:
    if len(hex_hashes) > MAX_HASHES:
        raise AppError(errors.CONTACT_HASHES_INVALID, {"max": MAX_HASHES})
    try:
        parsed = {bytes.fromhex(value) for value in hex_hashes}
    except ValueError as error:
        raise AppError(errors.CONTACT_HASHES_INVALID) from error
    if any(len(value) != HASH_BYTES for value in parsed):
        raise AppError(errors.CONTACT_HASHES_INVALID)
    return parsed


async def upload_contacts(
    session: AsyncSession, context: AppContext, caller: Caller, *, hashes: set[bytes]
) -> list[ContactMatch]:
    """Replaces the member's stored contact hashes with `hashes` and answers the matches.
    Refused, with nothing stored, without a standing consent."""
    membership = await current_membership(session, caller)
    await require_consent(session, membership.id, CONTACT_MATCHING)
    await forget_contacts(session, context, membership)
    session.add_all(
        ContactMatchHash(org_id=membership.org_id, membership_id=membership.id, contact_hash=value)
        for value in sorted(hashes)
    )
    await session.flush()
    return await _match(session, context, caller, membership, hashes)


async def current_matches(
    session: AsyncSession, context: AppContext, caller: Caller
) -> tuple[list[ContactMatch], int]:
    """The matches of the stored hashes now (colleagues who joined since the upload included),
    and how many hashes are stored."""
    membership = await current_membership(session, caller)
    await require_consent(session, membership.id, CONTACT_MATCHING)
    stored = await session.execute(
        select(ContactMatchHash.contact_hash).where(ContactMatchHash.membership_id == membership.id)
    )
    hashes = set(stored.scalars())
    return await _match(session, context, caller, membership, hashes), len(hashes)


async def _match(
    session: AsyncSession, context: AppContext, caller: Caller, membership: Membership, hashes: set[bytes]
) -> list[ContactMatch]:
    if not hashes:
        return []
    key = _matching_key(context, await _organization(session, membership.org_id))
    viewer = await viewer_for(session, caller)
    rows = await session.execute(
        select(Membership, Account)
        .join(Account, Account.id == Membership.account_id)
        .where(
            Membership.org_id == membership.org_id,
            Membership.id != membership.id,
            Membership.status == MemberStatus.ACTIVE,
            visible_members_condition(viewer),
        )
        .order_by(Membership.name, Membership.id)
    )
    matches = []
    for colleague, account in rows.all():
        if mobile_hidden_from(viewer, colleague):
            continue  # a hidden number is not confirmed by matching either
        value = contact_hash(key, identity.decrypt_mobile(context.keyring, account))
        if value in hashes:
            matches.append(ContactMatch(colleague.id, colleague.name, value))
    return matches


async def forget_contacts(session: AsyncSession, context: AppContext, membership: Membership) -> int:
    """Deletes every contact hash the member uploaded; returns how many."""
    result = await session.execute(
        delete(ContactMatchHash).where(ContactMatchHash.membership_id == membership.id)
    )
    await session.flush()
    return int(getattr(result, "rowcount", 0) or 0)
