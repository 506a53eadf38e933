"""SCIM tokens, the authenticated client, and what Users and Groups share: list responses,
paging, resource metadata and auditing.

A token provisions one whole organisation. It is issued by an admin who holds the security duty
over the whole organisation (function "scim"), shown once, and stored only as a keyed hash.
Services never commit; every change is audited.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import Keyring
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.org import errors as org_errors
from zhengtong.org.access import AdminScope
from zhengtong.org.models import Organization, OrgStatus
from zhengtong.platform import audit
from zhengtong.scim.errors import invalid_value, unauthorized
from zhengtong.scim.models import ScimToken
from zhengtong.scim.patch import canonical
from zhengtong.scim.schemas import LIST_SCHEMA

TOKEN_PREFIX = "scim_"
LAST_USED_INTERVAL = timedelta(minutes=1)  # how often last_used_at is written, at most
DEFAULT_COUNT = 100
MAX_COUNT = 200
ALWAYS_RETURNED = frozenset({"schemas", "id", "meta"})
RESOURCE_PATHS = {"User": "Users", "Group": "Groups"}


@dataclass(frozen=True)
class ScimClient:
    """Who a SCIM request acts for: one organisation, through one token."""

    org_id: str
    token_id: str
    ip: str
    base_url: str  # where /scim/v2 is reachable, for meta.location

    @property
    def scope(self) -> AdminScope:
        """The organisation controls its directory, so its provisioning client acts for the whole
        organisation, as the system duty does."""
        return AdminScope(self.org_id, "scim", whole_org=True, subtree_paths=(), functions=frozenset())

    def location(self, resource_type: str, resource_id: str) -> str:
        return f"{self.base_url}/{RESOURCE_PATHS[resource_type]}/{resource_id}"


# Tokens -------------------------------------------------------------------------------------
def token_hash(keyring: Keyring, token: str) -> bytes:
    return keyring.blind_index("scim-token", token)


def _require_whole_org(scope: AdminScope) -> None:
    # A token provisions the whole organisation: a sub-admin of part of it may not issue one.
    if not scope.whole_org:
        raise AppError(org_errors.OUT_OF_SCOPE)


async def create_token(
    session: AsyncSession, context: AppContext, scope: AdminScope, *, name: str, actor_id: str, ip: str
) -> tuple[ScimToken, str]:
    """A new token for the admin's organisation, returned with its secret (shown once, never stored)."""
    _require_whole_org(scope)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ScimToken(
        org_id=scope.org_id,
        token_hash=token_hash(context.keyring, secret),
        name=name,
        created_by_account_id=actor_id,
    )
    session.add(token)
    await session.flush()
    await _audit_admin(session, context, scope, "scim.token_created", token.id, actor_id, ip)
    return token, secret


async def list_tokens(session: AsyncSession, scope: AdminScope) -> Sequence[ScimToken]:
    """The organisation's tokens, newest first, revoked ones included (with when)."""
    _require_whole_org(scope)
    result = await session.execute(
        select(ScimToken).where(ScimToken.org_id == scope.org_id).order_by(ScimToken.id.desc())
    )
    return result.scalars().all()


async def revoke_token(
    session: AsyncSession, context: AppContext, scope: AdminScope, *, token_id: str, actor_id: str, ip: str
) -> None:
    """Stops a token working at once. Revoking a revoked token changes nothing."""
    _require_whole_org(scope)
    token = await session.get(ScimToken, token_id)
    if token is None or token.org_id != scope.org_id:
        raise AppError(NOT_FOUND)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await _audit_admin(session, context, scope, "scim.token_revoked", token.id, actor_id, ip)


async def _audit_admin(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    action: str,
    token_id: str,
    actor_id: str,
    ip: str,
) -> None:
    await audit.record(
        session,
        context.keyring,
        action=action,
        org_id=scope.org_id,
        actor_id=actor_id,
        object_type="scim_token",
        object_id=token_id,
        ip=ip,
    )


async def authenticate(
    session: AsyncSession, context: AppContext, token: str, *, ip: str, base_url: str
) -> ScimClient:
    """The client behind a bearer token: a live token of an active organisation, else 401."""
    if not token.startswith(TOKEN_PREFIX):
        raise unauthorized()
    result = await session.execute(
        select(ScimToken)
        .join(Organization, Organization.id == ScimToken.org_id)
        .where(
            ScimToken.token_hash == token_hash(context.keyring, token),
            ScimToken.revoked_at.is_(None),
            Organization.status == OrgStatus.ACTIVE,
        )
    )
    found = result.scalars().first()
    if found is None:
        raise unauthorized()
    now = utcnow()
    if found.last_used_at is None or now - found.last_used_at > LAST_USED_INTERVAL:
        found.last_used_at = now
    return ScimClient(found.org_id, found.id, ip, base_url)


async def record(
    session: AsyncSession,
    context: AppContext,
    client: ScimClient,
    action: str,
    object_type: str,
    object_id: str,
) -> None:
    """Audits a change a provisioning client made. No person acted, so there is no actor; the
    token is named instead. The org.* entries of the same change say what changed."""
    await audit.record(
        session,
        context.keyring,
        action=action,
        org_id=client.org_id,
        actor_id=None,
        object_type=object_type,
        object_id=object_id,
        ip=client.ip,
        detail={"token_id": client.token_id},
    )


# Lists and resources ------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    start_index: int  # 1-based, as SCIM counts
    count: int

    @property
    def offset(self) -> int:
        return self.start_index - 1


def _integer(text: str | None, name: str, default: int) -> int:
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise invalid_value(f"{name} must be an integer") from None


def page_of(start_index: str | None, count: str | None) -> Page:
    """RFC 7644 §3.4.2.4: a startIndex below 1 means 1, a negative count means 0; count is capped."""
    start = _integer(start_index, "startIndex", 1)
    size = _integer(count, "count", DEFAULT_COUNT)
    return Page(max(start, 1), min(max(size, 0), MAX_COUNT))


def list_response(resources: list[dict[str, Any]], total: int, page: Page) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": page.start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def meta(client: ScimClient, resource_type: str, resource_id: str, created: datetime) -> dict[str, Any]:
    # No lastModified: members and departments do not record when they last changed.
    return {
        "resourceType": resource_type,
        "created": created.isoformat(),
        "location": client.location(resource_type, resource_id),
    }


def excluded_attributes(text: str | None) -> frozenset[str]:
    """Top-level attributes named in `excludedAttributes` (`members` is the one clients use)."""
    names = {canonical(name.strip()) for name in (text or "").split(",") if name.strip()}
    return frozenset(names - ALWAYS_RETURNED)


def without(resource: dict[str, Any], excluded: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in resource.items() if key not in excluded}
