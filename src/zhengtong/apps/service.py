"""An organisation's apps: made, listed, their secret rotated, disabled by an admin of the whole
organisation (system duty, function "apps"); and the access tokens the open API takes.

A secret is shown once and stored as a keyed hash, like SCIM tokens and sessions; so are access
tokens, which last two hours (DingTalk's `expires_in: 7200`)."""

from __future__ import annotations

import hmac
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.apps import errors
from zhengtong.apps.models import App, AppAccessToken
from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import Keyring
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.org import errors as org_errors
from zhengtong.org.access import AdminScope
from zhengtong.platform import audit

TOKEN_SECONDS = 7200
FIRST_AGENT_ID = 1_000_001
_KEY_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class AppCaller:
    """An app, authenticated by an access token, acting in its organisation."""

    app_id: str
    org_id: str
    agent_id: int
    name: str


def _hash(keyring: Keyring, purpose: str, value: str) -> bytes:
    return keyring.blind_index(purpose, value)


def _require_whole_org(scope: AdminScope) -> None:
    # An app acts for the whole organisation: an admin of part of it may not make one.
    if not scope.whole_org:
        raise AppError(org_errors.OUT_OF_SCOPE)


async def create_app(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    name: str,
    description: str,
    actor_id: str,
    ip: str,
) -> tuple[App, str]:
    """A new app with its key and secret; the secret is returned here and never again."""
    _require_whole_org(scope)
    name = name.strip()
    if not 1 <= len(name) <= 60:
        raise AppError(errors.APP_NAME_INVALID)
    if await session.scalar(select(App.id).where(App.org_id == scope.org_id, App.name == name)):
        raise AppError(errors.APP_NAME_TAKEN)
    highest = await session.scalar(select(func.max(App.agent_id)).where(App.org_id == scope.org_id))
    secret = secrets.token_urlsafe(48)
    app = App(
        org_id=scope.org_id,
        name=name,
        description=description.strip(),
        agent_id=(highest or FIRST_AGENT_ID - 1) + 1,
        app_key="ding" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
        secret_hash=_hash(context.keyring, "app-secret", secret),
        created_by_account_id=actor_id,
    )
    session.add(app)
    await session.flush()
    await _audit(session, context, scope, "apps.created", app.id, actor_id, ip)
    return app, secret


async def list_apps(session: AsyncSession, scope: AdminScope) -> Sequence[App]:
    _require_whole_org(scope)
    result = await session.execute(select(App).where(App.org_id == scope.org_id).order_by(App.agent_id))
    return result.scalars().all()


async def _own_app(session: AsyncSession, scope: AdminScope, app_id: str) -> App:
    _require_whole_org(scope)
    app = await session.get(App, app_id)
    if app is None or app.org_id != scope.org_id:
        raise AppError(NOT_FOUND)
    return app


async def rotate_secret(
    session: AsyncSession, context: AppContext, scope: AdminScope, *, app_id: str, actor_id: str, ip: str
) -> tuple[App, str]:
    """A new secret; the old one and every token it bought stop working at once."""
    app = await _own_app(session, scope, app_id)
    secret = secrets.token_urlsafe(48)
    app.secret_hash = _hash(context.keyring, "app-secret", secret)
    await session.execute(delete(AppAccessToken).where(AppAccessToken.app_id == app.id))
    await _audit(session, context, scope, "apps.secret_rotated", app.id, actor_id, ip)
    return app, secret


async def set_disabled(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    *,
    app_id: str,
    disabled: bool,
    actor_id: str,
    ip: str,
) -> App:
    app = await _own_app(session, scope, app_id)
    if disabled and app.disabled_at is None:
        app.disabled_at = utcnow()
        await session.execute(delete(AppAccessToken).where(AppAccessToken.app_id == app.id))
        await _audit(session, context, scope, "apps.disabled", app.id, actor_id, ip)
    elif not disabled and app.disabled_at is not None:
        app.disabled_at = None
        await _audit(session, context, scope, "apps.enabled", app.id, actor_id, ip)
    return app


async def _audit(
    session: AsyncSession,
    context: AppContext,
    scope: AdminScope,
    action: str,
    app_id: str,
    actor_id: str,
    ip: str,
) -> None:
    await audit.record(
        session,
        context.keyring,
        action=action,
        org_id=scope.org_id,
        actor_id=actor_id,
        object_type="app",
        object_id=app_id,
        ip=ip,
    )


# Access tokens ----------------------------------------------------------------------------------
async def issue_token(session: AsyncSession, context: AppContext, *, app_key: str, app_secret: str) -> str:
    """An access token for the app whose key and secret these are (valid TOKEN_SECONDS)."""
    app = await session.scalar(select(App).where(App.app_key == app_key))
    presented = _hash(context.keyring, "app-secret", app_secret)
    if app is None or not hmac.compare_digest(app.secret_hash, presented):
        raise AppError(errors.APP_CREDENTIALS_INVALID)
    if app.disabled_at is not None:
        raise AppError(errors.APP_DISABLED)
    now = utcnow()
    # Expired tokens of this app go now: the table holds at most a few live ones per app.
    await session.execute(
        delete(AppAccessToken).where(AppAccessToken.app_id == app.id, AppAccessToken.expires_at <= now)
    )
    token = secrets.token_hex(16)
    session.add(
        AppAccessToken(
            org_id=app.org_id,
            app_id=app.id,
            token_hash=_hash(context.keyring, "app-access-token", token),
            expires_at=now + timedelta(seconds=TOKEN_SECONDS),
        )
    )
    await session.flush()
    return token


async def authenticate(session: AsyncSession, context: AppContext, token: str) -> AppCaller:
    """The app behind a live access token, else `apps.access_token_invalid`."""
    if not token:
        raise AppError(errors.ACCESS_TOKEN_INVALID)
    row = (
        await session.execute(
            select(AppAccessToken, App)
            .join(App, App.id == AppAccessToken.app_id)
            .where(AppAccessToken.token_hash == _hash(context.keyring, "app-access-token", token))
        )
    ).first()
    if row is None or row[0].expires_at <= utcnow():
        raise AppError(errors.ACCESS_TOKEN_INVALID)
    app = row[1]
    if app.disabled_at is not None:
        raise AppError(errors.APP_DISABLED)
    return AppCaller(app_id=app.id, org_id=app.org_id, agent_id=app.agent_id, name=app.name)
