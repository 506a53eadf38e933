"""Accounts, login and sessions.

Verbs follow the project's vocabulary: `get_*` reads; `send_*`, `login_*`, `start_*`, `revoke_*`
change state inside the caller's transaction. Failed login attempts are counted in a separate
short transaction, because the request's own transaction rolls back with the error it raises.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import phonenumbers
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import Keyring
from zhengtong.core.db import after_commit
from zhengtong.core.errors import CSRF_FAILED, NOT_FOUND, AppError
from zhengtong.core.ids import new_id
from zhengtong.core.netaddr import truncate_ip
from zhengtong.identity import errors
from zhengtong.identity.models import (
    Account,
    AuthSession,
    KnownDevice,
    QrLogin,
    QrLoginStatus,
    SessionKind,
    SmsCode,
)
from zhengtong.org import errors as org_errors
from zhengtong.org import service as org_service
from zhengtong.org.access import remember_current_membership
from zhengtong.org.models import Membership, Organization
from zhengtong.platform import audit
from zhengtong.platform.notify import DeliveryFailed
from zhengtong.platform.ratelimit import enforce

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=5)
CODE_LENGTH = 6
CODE_MAX_ATTEMPTS = 5
SEND_COOLDOWN_SECONDS = 60
LOGINS_PER_IP_PER_10_MINUTES = 60
LOCK_AFTER_FAILURES = 5
LOCK_DURATION = timedelta(minutes=15)
QR_TTL = timedelta(minutes=2)
API_TOKEN_TTL = timedelta(days=365)
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
TOTP_ISSUER = "政通 Zhengtong"
QR_PREFIX = "zhengtong:qr-login:"

_password_hasher = PasswordHasher()


# Mobile numbers ------------------------------------------------------------------------------
def normalise_mobile(raw: str) -> str:
    """E.164 form of a mobile number; mainland numbers may omit +86."""
    try:
        parsed = phonenumbers.parse(raw.strip(), "CN")
    except phonenumbers.NumberParseException as error:
        raise AppError(errors.MOBILE_INVALID) from error
    mobile_types = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.number_type(parsed) not in mobile_types:
        raise AppError(errors.MOBILE_INVALID)
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def mask_mobile(e164: str) -> str:
    """138****5678: enough to recognise one's own number, not enough to call it."""
    national = e164[3:] if e164.startswith("+86") else e164.lstrip("+")
    return national[:3] + "****" + national[-4:] if len(national) >= 8 else "****"


def mobile_index(keyring: Keyring, e164: str) -> bytes:
    return keyring.blind_index("mobile", e164)


def _mobile_aad(account_id: str) -> bytes:
    # Binds the ciphertext to its account: copied into another row it does not decrypt.
    return b"account-mobile:" + account_id.encode()


def decrypt_mobile(keyring: Keyring, account: Account) -> str:
    return keyring.platform.decrypt_text(account.mobile_encrypted, aad=_mobile_aad(account.id))


# Accounts ------------------------------------------------------------------------------------
async def get_account_by_mobile(session: AsyncSession, keyring: Keyring, e164: str) -> Account | None:
    result = await session.execute(select(Account).where(Account.mobile_index == mobile_index(keyring, e164)))
    return result.scalars().first()


async def get_or_create_account(session: AsyncSession, keyring: Keyring, mobile: str) -> tuple[Account, bool]:
    """The account for a mobile number, opened when absent (only organisation admins call this)."""
    e164 = normalise_mobile(mobile)
    existing = await get_account_by_mobile(session, keyring, e164)
    if existing is not None:
        return existing, False
    account = Account(mobile_index=mobile_index(keyring, e164), mobile_encrypted=b"")
    session.add(account)
    await session.flush()  # assigns the id the ciphertext is bound to
    account.mobile_encrypted = keyring.platform.encrypt_text(e164, aad=_mobile_aad(account.id))
    return account, True


def new_account_row(keyring: Keyring, e164: str) -> dict[str, Any]:
    """An account as `get_or_create_account` opens it, as a row for a multi-row insert (bulk
    import); insert the rows with `insert_account_rows`."""
    account_id = new_id()
    return {
        "id": account_id,
        "mobile_index": mobile_index(keyring, e164),
        "mobile_encrypted": keyring.platform.encrypt_text(e164, aad=_mobile_aad(account_id)),
        "created_at": utcnow(),
    }


async def insert_account_rows(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Account), list(rows))


async def account_ids_by_mobile_index(session: AsyncSession, indexes: Sequence[bytes]) -> dict[bytes, str]:
    """Existing accounts' ids by the blind index of their mobile number (at most 1,000 at a time)."""
    result = await session.execute(
        select(Account.mobile_index, Account.id).where(Account.mobile_index.in_(indexes))
    )
    return {bytes(index): account_id for index, account_id in result.all()}


def _is_locked(account: Account) -> bool:
    return account.locked_until is not None and account.locked_until > utcnow()


def _raise_if_locked(account: Account) -> None:
    if _is_locked(account):
        assert account.locked_until is not None
        raise AppError(errors.ACCOUNT_LOCKED, {"locked_until": account.locked_until.isoformat()})


async def _record_failure(
    context: AppContext, *, account_id: str | None, action: str, ip: str, sms_code_id: str | None = None
) -> bool:
    """Counts a failed attempt in its own transaction so that it survives the request's rollback.
    Returns True when this failure locked the account."""
    locked = False
    async with context.db.transaction() as session:
        if sms_code_id is not None:
            code = await session.get(SmsCode, sms_code_id)
            if code is not None:
                code.attempts += 1
        if account_id is not None:
            account = await session.get(Account, account_id)
            if account is not None:
                account.failed_attempts += 1
                if account.failed_attempts >= LOCK_AFTER_FAILURES:
                    account.locked_until = utcnow() + LOCK_DURATION
                    account.failed_attempts = 0
                    locked = True
        await audit.record(
            session,
            context.keyring,
            action=action,
            actor_id=account_id,
            object_type="account",
            object_id=account_id or "",
            ip=ip,
            detail={"locked": locked},
        )
    return locked


async def _audit_account(
    session: AsyncSession,
    context: AppContext,
    action: str,
    account_id: str,
    ip: str,
    detail: dict[str, object] | None = None,
) -> None:
    """An audit entry about the account's own security (its actor and object are the account)."""
    await audit.record(
        session,
        context.keyring,
        action=action,
        actor_id=account_id,
        object_type="account",
        object_id=account_id,
        ip=ip,
        detail=detail,
    )


# SMS codes -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CodeSent:
    cooldown_seconds: int
    expires_in_seconds: int


def _code_hash(keyring: Keyring, code_id: str, code: str) -> bytes:
    return keyring.blind_index("sms-code", f"{code_id}:{code}")


async def _throttle_code_send(context: AppContext, index: bytes, ip: str) -> None:
    settings = context.settings
    await enforce(context.limiter, f"sms-send-ip:{ip}", settings.sms_sends_per_ip_per_hour, 3600)
    cooldown = await context.limiter.hit(f"sms-cooldown:{index.hex()}", 1, SEND_COOLDOWN_SECONDS)
    if not cooldown.allowed:
        raise AppError(
            errors.SEND_COOLDOWN,
            {"retry_after": cooldown.retry_after},
            headers={"Retry-After": str(cooldown.retry_after)},
        )
    number = f"sms-send-number:{index.hex()}"
    await enforce(context.limiter, number, settings.sms_sends_per_number_per_hour, 3600)


async def _issue_code(
    session: AsyncSession, context: AppContext, *, e164: str, purpose: str, template: str, text: str
) -> None:
    """Stores a fresh code (replacing older ones of the number) and sends it after commit.
    `text` holds "{code}" where the code goes."""
    index = mobile_index(context.keyring, e164)
    await session.execute(delete(SmsCode).where(SmsCode.mobile_index == index))
    await session.execute(delete(SmsCode).where(SmsCode.expires_at < utcnow() - timedelta(days=1)))
    code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
    row = SmsCode(mobile_index=index, code_hash=b"", purpose=purpose, expires_at=utcnow() + CODE_TTL)
    session.add(row)
    await session.flush()
    row.code_hash = _code_hash(context.keyring, row.id, code)

    async def deliver() -> None:
        try:
            await context.sms.send_sms(e164, template, text.format(code=code), {"code": code})
        except DeliveryFailed as error:  # the carrier refused: say so, the person retries later
            raise AppError(errors.SMS_UNAVAILABLE, {"reason": error.reason}) from error

    after_commit(session, deliver)


async def send_login_code(session: AsyncSession, context: AppContext, *, mobile: str, ip: str) -> CodeSent:
    """Sends a login code when the number has an account. The answer is the same either way,
    so the endpoint does not tell strangers which numbers are registered."""
    e164 = normalise_mobile(mobile)
    await _throttle_code_send(context, mobile_index(context.keyring, e164), ip)
    account = await get_account_by_mobile(session, context.keyring, e164)
    if account is not None and not _is_locked(account):
        text = "【政通】您的登录验证码是 {code},5 分钟内有效。请勿告诉他人。"
        await _issue_code(session, context, e164=e164, purpose="login", template="login_code", text=text)
    return CodeSent(SEND_COOLDOWN_SECONDS, int(CODE_TTL.total_seconds()))


async def send_verification_code(
    session: AsyncSession, context: AppContext, *, mobile: str, purpose: str, ip: str, text: str | None = None
) -> CodeSent:
    """A code that proves someone holds a number which may have no account yet (joining an
    organisation by invitation), or confirms a grave step (deregistering an organisation: `text`
    says what for, with "{code}" where the code goes). Same limits as login codes."""
    e164 = normalise_mobile(mobile)
    await _throttle_code_send(context, mobile_index(context.keyring, e164), ip)
    text = text or "【政通】您的验证码是 {code},5 分钟内有效，用于申请加入组织。请勿告诉他人。"
    await _issue_code(session, context, e164=e164, purpose=purpose, template=f"{purpose}_code", text=text)
    return CodeSent(SEND_COOLDOWN_SECONDS, int(CODE_TTL.total_seconds()))


async def _latest_code(session: AsyncSession, index: bytes, purpose: str) -> SmsCode | None:
    result = await session.execute(
        select(SmsCode)
        .where(SmsCode.mobile_index == index, SmsCode.purpose == purpose)
        .order_by(SmsCode.created_at.desc())
        .limit(1)
    )
    return result.scalars().first()


async def _consume_code(
    session: AsyncSession,
    context: AppContext,
    *,
    e164: str,
    code: str,
    purpose: str,
    account_id: str | None,
    ip: str,
) -> None:
    """Checks and spends the latest code of `purpose` for the number; a wrong guess is counted
    against the code (and the account, which may lock) before the error is raised."""
    stored = await _latest_code(session, mobile_index(context.keyring, e164), purpose)
    if stored is None:
        raise AppError(errors.CODE_INVALID)
    if stored.consumed_at is not None:
        raise AppError(errors.CODE_USED)
    if stored.expires_at <= utcnow():
        raise AppError(errors.CODE_EXPIRED)
    if stored.attempts >= CODE_MAX_ATTEMPTS:
        raise AppError(errors.CODE_ATTEMPTS_EXCEEDED)
    if not hmac.compare_digest(stored.code_hash, _code_hash(context.keyring, stored.id, code.strip())):
        locked = await _record_failure(
            context, account_id=account_id, action=f"auth.{purpose}_failed", ip=ip, sms_code_id=stored.id
        )
        raise AppError(errors.ACCOUNT_LOCKED if locked else errors.CODE_INVALID)
    stored.consumed_at = utcnow()


async def verify_code(
    session: AsyncSession, context: AppContext, *, mobile: str, code: str, purpose: str, ip: str
) -> str:
    """Spends a code sent by `send_verification_code`; returns the number in E.164."""
    await enforce(context.limiter, f"login-ip:{ip}", LOGINS_PER_IP_PER_10_MINUTES, 600)
    e164 = normalise_mobile(mobile)
    await _consume_code(session, context, e164=e164, code=code, purpose=purpose, account_id=None, ip=ip)
    return e164


@dataclass(frozen=True)
class DeviceInfo:
    label: str  # "Chrome · Windows"
    ip: str
    device_id: str | None  # long-lived random id from the device cookie


@dataclass(frozen=True)
class LoginOutcome:
    status: str  # ok | totp_required | totp_setup_required
    token: str
    auth_session: AuthSession


async def login_with_code(
    session: AsyncSession, context: AppContext, *, mobile: str, code: str, device: DeviceInfo
) -> LoginOutcome:
    await enforce(context.limiter, f"login-ip:{device.ip}", LOGINS_PER_IP_PER_10_MINUTES, 600)
    e164 = normalise_mobile(mobile)
    account = await get_account_by_mobile(session, context.keyring, e164)
    if account is None:
        raise AppError(errors.CODE_INVALID)
    _raise_if_locked(account)
    await _consume_code(
        session, context, e164=e164, code=code, purpose="login", account_id=account.id, ip=device.ip
    )
    return await start_session(session, context, account=account, device=device, method="sms")


async def login_with_password(
    session: AsyncSession, context: AppContext, *, mobile: str, password: str, device: DeviceInfo
) -> LoginOutcome:
    await enforce(context.limiter, f"login-ip:{device.ip}", LOGINS_PER_IP_PER_10_MINUTES, 600)
    e164 = normalise_mobile(mobile)
    account = await get_account_by_mobile(session, context.keyring, e164)
    if account is not None:
        _raise_if_locked(account)
    if (
        account is None
        or account.password_hash is None
        or not _password_matches(account.password_hash, password)
    ):
        if account is None:
            _password_hasher.hash(password)  # same work either way: timing does not reveal the account
        locked = await _record_failure(
            context, account_id=account.id if account else None, action="auth.login_failed", ip=device.ip
        )
        raise AppError(errors.ACCOUNT_LOCKED if locked else errors.PASSWORD_INVALID)
    return await start_session(session, context, account=account, device=device, method="password")


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def delete_account(session: AsyncSession, account_id: str) -> None:
    """Deletes an account that belongs to no organisation any more, with its sessions, devices,
    QR logins and pending codes (codes are found by the mobile's index). Everything other
    domains hold about the account goes first, through privacy.erasure.service.erase_account."""
    account = await session.get(Account, account_id)
    if account is None:
        return
    for table in (AuthSession, KnownDevice, QrLogin):
        await session.execute(delete(table).where(table.account_id == account_id))
    await session.execute(delete(SmsCode).where(SmsCode.mobile_index == account.mobile_index))
    await session.delete(account)
    await session.flush()


async def end_sessions_in_org(session: AsyncSession, *, account_id: str, org_id: str) -> None:
    """After a membership ends, the account's sessions no longer work inside that organisation."""
    await session.execute(
        update(AuthSession)
        .where(AuthSession.account_id == account_id, AuthSession.current_org_id == org_id)
        .values(current_org_id=None)
    )


# Sessions ------------------------------------------------------------------------------------
def session_token_hash(keyring: Keyring, token: str) -> bytes:
    return keyring.blind_index("session-token", token)


def csrf_token_for(keyring: Keyring, session_token: str) -> str:
    """The CSRF token is derived from the session token, so a cookie planted by another site
    cannot pair with a header it chose."""
    return keyring.blind_index("csrf", session_token).hex()[:32]


def check_csrf(context: AppContext, session_token: str, presented: str) -> None:
    if not hmac.compare_digest(csrf_token_for(context.keyring, session_token), presented):
        raise AppError(CSRF_FAILED)


async def _admin_anywhere(session: AsyncSession, account: Account) -> bool:
    return any(
        org_service.is_admin_role(membership.role)
        for membership, _org in await org_service.memberships_of(session, account.id)
    )


async def _needs_second_factor(session: AsyncSession, context: AppContext, account: Account) -> bool:
    if account.totp_enabled:
        return True
    return context.settings.admin_totp_required and await _admin_anywhere(session, account)


async def start_session(
    session: AsyncSession,
    context: AppContext,
    *,
    account: Account,
    device: DeviceInfo,
    method: str,
    kind: SessionKind = SessionKind.BROWSER,
    second_factor_done: bool | None = None,
) -> LoginOutcome:
    """Opens a session after the first factor; the second factor may still be owed."""
    from zhengtong.privacy.consent import minors

    await minors.require_guardian_consent(session, context, account.id)  # a minor needs a guardian's consent
    if second_factor_done is None:
        second_factor_done = not await _needs_second_factor(session, context, account)
    memberships = await org_service.memberships_of(session, account.id)
    token = "zt_" + secrets.token_urlsafe(32)
    now = utcnow()
    lifetime = API_TOKEN_TTL if kind == SessionKind.API else timedelta(days=context.settings.session_days)
    auth_session = AuthSession(
        account_id=account.id,
        token_hash=session_token_hash(context.keyring, token),
        kind=kind,
        device_label=device.label[:120],
        ip_prefix=truncate_ip(device.ip),
        last_seen_at=now,
        expires_at=now + lifetime,
        second_factor_done=second_factor_done,
        current_org_id=memberships[0][1].id if memberships else None,
    )
    session.add(auth_session)
    account.failed_attempts = 0
    await session.flush()
    await audit.record(
        session,
        context.keyring,
        action="auth.login" if kind == SessionKind.BROWSER else "auth.token_created",
        actor_id=account.id,
        object_type="session",
        object_id=auth_session.id,
        ip=device.ip,
        detail={"method": method, "second_factor_pending": not second_factor_done},
    )
    if second_factor_done:
        await _complete_login(session, context, account, auth_session, device)
    return LoginOutcome(_login_status(account, second_factor_done), token, auth_session)


def _login_status(account: Account, second_factor_done: bool) -> str:
    if second_factor_done:
        return "ok"
    return "totp_required" if account.totp_enabled else "totp_setup_required"


async def _complete_login(
    session: AsyncSession,
    context: AppContext,
    account: Account,
    auth_session: AuthSession,
    device: DeviceInfo,
) -> None:
    """Both factors done: activate memberships, remember the device, warn about a new one."""
    from zhengtong.privacy.consent import policy

    first_login = account.last_login_at is None
    account.last_login_at = utcnow()
    await org_service.activate_memberships(session, account.id)
    if first_login:  # the login page says: the first login means you have read the policy
        await policy.acknowledge_at_first_login(session, account.id)
    if auth_session.kind == SessionKind.BROWSER:
        await _remember_device(session, context, account, device)


async def _remember_device(
    session: AsyncSession, context: AppContext, account: Account, device: DeviceInfo
) -> None:
    index = context.keyring.blind_index("device", f"{account.id}:{device.device_id or device.label}")
    result = await session.execute(
        select(KnownDevice).where(KnownDevice.account_id == account.id, KnownDevice.device_index == index)
    )
    known = result.scalars().first()
    if known is not None:
        known.last_seen_at = utcnow()
        return
    first_device = (
        await session.execute(select(KnownDevice.id).where(KnownDevice.account_id == account.id).limit(1))
    ).first() is None
    session.add(
        KnownDevice(account_id=account.id, device_index=index, label=device.label, last_seen_at=utcnow())
    )
    if first_device:
        return  # the very first login is not a "new device" worth a warning
    await _audit_account(session, context, "auth.new_device", account.id, device.ip, {"device": device.label})
    e164 = decrypt_mobile(context.keyring, account)
    text = (
        f"【政通】您的账号于 {utcnow():%Y-%m-%d %H:%M} (UTC) 在新设备“{device.label}”登录。"
        "如非本人操作，请立即在“设置-登录设备”中退出该设备。"
    )

    async def notify() -> None:
        try:
            await context.sms.send_sms(e164, "new_device_login", text, {"device": device.label})
        except DeliveryFailed as error:  # a courtesy warning: the login itself stands
            log.warning("new-device SMS not sent (%s)", error.reason)

    after_commit(session, notify)


async def authenticate(
    session: AsyncSession, context: AppContext, token: str, *, via_cookie: bool
) -> Caller | None:
    """The caller behind a session token, or None when it is unknown, revoked or expired."""
    # The session, the caller's membership in its current organisation and that organisation, in
    # one statement: nearly every handler needs the organisation (its policy, its data key), and
    # `session.get` then finds it in the unit of work instead of asking the database again.
    result = await session.execute(
        select(AuthSession, Membership, Organization)
        .outerjoin(
            Membership,
            and_(
                Membership.org_id == AuthSession.current_org_id,
                Membership.account_id == AuthSession.account_id,
            ),
        )
        .outerjoin(Organization, Organization.id == Membership.org_id)
        .where(AuthSession.token_hash == session_token_hash(context.keyring, token))
    )
    row = result.first()
    now = utcnow()
    if row is None:
        return None
    auth_session, membership, _organization = row
    if auth_session.revoked_at is not None or auth_session.expires_at <= now:
        return None
    if now - auth_session.last_seen_at > SESSION_TOUCH_INTERVAL:
        auth_session.last_seen_at = now
    if membership is not None:
        remember_current_membership(session, membership)
    role = membership.role if membership else None
    return Caller(
        account_id=auth_session.account_id,
        session_id=auth_session.id,
        org_id=auth_session.current_org_id if role else None,
        role=role,
        second_factor_done=auth_session.second_factor_done,
        via_cookie=via_cookie,
        second_factor_stage=None
        if auth_session.second_factor_done
        else await _second_factor_stage(session, auth_session.account_id),
    )


async def _second_factor_stage(session: AsyncSession, account_id: str) -> str:
    """What a half-logged-in caller still owes: "verify" a code, or "setup" an authenticator."""
    account = await session.get(Account, account_id)
    return "verify" if account is not None and account.totp_enabled else "setup"


async def _own_session(session: AsyncSession, caller: Caller, session_id: str) -> AuthSession:
    auth_session = await session.get(AuthSession, session_id)
    if auth_session is None or auth_session.account_id != caller.account_id or auth_session.revoked_at:
        raise AppError(NOT_FOUND)
    return auth_session


async def list_sessions(session: AsyncSession, caller: Caller) -> Sequence[AuthSession]:
    result = await session.execute(
        select(AuthSession)
        .where(
            AuthSession.account_id == caller.account_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
        .order_by(AuthSession.last_seen_at.desc())
    )
    return result.scalars().all()


async def revoke_session(
    session: AsyncSession, context: AppContext, caller: Caller, *, session_id: str, ip: str
) -> None:
    """Logs one of the caller's own sessions out (remote logout, or logout of this one)."""
    auth_session = await _own_session(session, caller, session_id)
    auth_session.revoked_at = utcnow()
    await audit.record(
        session,
        context.keyring,
        action="auth.logout" if session_id == caller.session_id else "auth.session_revoked",
        actor_id=caller.account_id,
        object_type="session",
        object_id=session_id,
        ip=ip,
    )


async def create_api_token(
    session: AsyncSession, context: AppContext, caller: Caller, *, name: str, ip: str
) -> LoginOutcome:
    account = await _get_account(session, caller)
    device = DeviceInfo(label=name, ip=ip, device_id=None)
    return await start_session(
        session,
        context,
        account=account,
        device=device,
        method="token",
        kind=SessionKind.API,
        second_factor_done=True,
    )


async def _get_account(session: AsyncSession, caller: Caller) -> Account:
    account = await session.get(Account, caller.account_id)
    if account is None:
        raise AppError(NOT_FOUND)
    return account


# Second factor (TOTP) ------------------------------------------------------------------------
def _totp_aad(account: Account) -> bytes:
    return b"account-totp:" + account.id.encode()


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    otpauth_uri: str


async def begin_totp_setup(session: AsyncSession, context: AppContext, caller: Caller) -> TotpSetup:
    """A new secret, not yet in force until `enable_totp` proves the authenticator has it."""
    account = await _get_account(session, caller)
    secret = pyotp.random_base32()
    account.totp_secret_encrypted = context.keyring.platform.encrypt_text(secret, aad=_totp_aad(account))
    account.totp_enabled = False
    label = mask_mobile(decrypt_mobile(context.keyring, account))
    uri = pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=TOTP_ISSUER)
    return TotpSetup(secret, uri)


def _totp_step_matching(secret: str, code: str) -> int | None:
    """The time step whose code matches (one step of clock drift allowed), or None."""
    totp = pyotp.TOTP(secret)
    now = utcnow()
    for drift in (0, -1, 1):
        moment = now + timedelta(seconds=30 * drift)
        if hmac.compare_digest(totp.at(moment), code.strip()):
            return int(moment.timestamp()) // 30
    return None


async def _check_totp(
    session: AsyncSession, context: AppContext, account: Account, code: str, ip: str
) -> None:
    _raise_if_locked(account)
    if account.totp_secret_encrypted is None:
        raise AppError(errors.TOTP_NOT_SET_UP)
    secret = context.keyring.platform.decrypt_text(account.totp_secret_encrypted, aad=_totp_aad(account))
    step = _totp_step_matching(secret, code)
    if step is None or step <= account.totp_last_step:  # a code is good once
        locked = await _record_failure(context, account_id=account.id, action="auth.totp_failed", ip=ip)
        raise AppError(errors.ACCOUNT_LOCKED if locked else errors.TOTP_INVALID)
    account.totp_last_step = step


async def _finish_second_factor(
    session: AsyncSession, context: AppContext, caller: Caller, account: Account, ip: str, device_label: str
) -> None:
    auth_session = await _own_session(session, caller, caller.session_id)
    if not auth_session.second_factor_done:
        auth_session.second_factor_done = True
        device = DeviceInfo(label=device_label, ip=ip, device_id=None)
        await _complete_login(session, context, account, auth_session, device)


async def enable_totp(
    session: AsyncSession, context: AppContext, caller: Caller, *, code: str, device: DeviceInfo
) -> None:
    account = await _get_account(session, caller)
    await _check_totp(session, context, account, code, device.ip)
    account.totp_enabled = True
    await _audit_account(session, context, "auth.totp_enabled", account.id, device.ip)
    await _finish_second_factor(session, context, caller, account, device.ip, device.label)


async def verify_totp(
    session: AsyncSession, context: AppContext, caller: Caller, *, code: str, device: DeviceInfo
) -> None:
    account = await _get_account(session, caller)
    if not account.totp_enabled:
        raise AppError(errors.TOTP_NOT_SET_UP)
    await _check_totp(session, context, account, code, device.ip)
    await _finish_second_factor(session, context, caller, account, device.ip, device.label)


async def disable_totp(
    session: AsyncSession, context: AppContext, caller: Caller, *, code: str, ip: str
) -> None:
    account = await _get_account(session, caller)
    if not account.totp_enabled:
        raise AppError(errors.TOTP_NOT_SET_UP)
    if context.settings.admin_totp_required and await _admin_anywhere(session, account):
        raise AppError(errors.TOTP_REQUIRED_FOR_ADMIN)
    await _check_totp(session, context, account, code, ip)
    account.totp_enabled = False
    account.totp_secret_encrypted = None
    await _audit_account(session, context, "auth.totp_disabled", account.id, ip)


# Password ------------------------------------------------------------------------------------
def _check_password_strength(password: str) -> None:
    if len(password) < 8 or not any(c.isdigit() for c in password) or not any(c.isalpha() for c in password):
        raise AppError(errors.PASSWORD_WEAK)


async def set_password(
    session: AsyncSession,
    context: AppContext,
    caller: Caller,
    *,
    new_password: str,
    current_password: str | None,
    ip: str,
) -> None:
    account = await _get_account(session, caller)
    if account.password_hash is not None and not _password_matches(
        account.password_hash, current_password or ""
    ):
        locked = await _record_failure(
            context, account_id=account.id, action="auth.password_change_failed", ip=ip
        )
        raise AppError(errors.ACCOUNT_LOCKED if locked else errors.CURRENT_PASSWORD_WRONG)
    _check_password_strength(new_password)
    account.password_hash = _password_hasher.hash(new_password)
    await _audit_account(session, context, "auth.password_set", account.id, ip)


# The signed-in person ------------------------------------------------------------------------
@dataclass(frozen=True)
class Me:
    account: Account
    mobile_masked: str
    name: str
    organizations: Sequence[tuple[Membership, Organization]]
    current_org_id: str | None


async def get_me(session: AsyncSession, context: AppContext, caller: Caller) -> Me:
    account = await _get_account(session, caller)
    memberships = await org_service.memberships_of(session, account.id)
    name = next((m.name for m, org in memberships if org.id == caller.org_id), "")
    return Me(
        account=account,
        mobile_masked=mask_mobile(decrypt_mobile(context.keyring, account)),
        name=name,
        organizations=memberships,
        current_org_id=caller.org_id,
    )


async def switch_organization(session: AsyncSession, caller: Caller, *, org_id: str) -> Caller:
    """Makes `org_id` the session's current organisation; returns the caller as seen from there."""
    membership = await org_service.get_membership(session, org_id=org_id, account_id=caller.account_id)
    if membership is None:
        raise AppError(org_errors.NOT_A_MEMBER)
    auth_session = await _own_session(session, caller, caller.session_id)
    auth_session.current_org_id = org_id
    return replace(caller, org_id=org_id, role=membership.role)


async def set_language(session: AsyncSession, caller: Caller, *, language: str) -> None:
    account = await _get_account(session, caller)
    account.language = language


# QR login ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QrCreated:
    qr: QrLogin
    poll_secret: str  # stays in the browser that shows the QR
    qr_text: str  # what the QR encodes; lets a logged-in client confirm, not log in


def _qr_scan_hash(keyring: Keyring, qr_id: str, nonce: str) -> bytes:
    return keyring.blind_index("qr-scan", f"{qr_id}:{nonce}")


async def create_qr_login(session: AsyncSession, context: AppContext, *, device: DeviceInfo) -> QrCreated:
    await enforce(context.limiter, f"qr-create-ip:{device.ip}", 30, 600)
    await session.execute(delete(QrLogin).where(QrLogin.expires_at < utcnow() - timedelta(days=1)))
    poll_secret = secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(18)
    qr = QrLogin(
        secret_hash=b"", scan_hash=b"", device_label=device.label[:120], expires_at=utcnow() + QR_TTL
    )
    session.add(qr)
    await session.flush()
    qr.secret_hash = context.keyring.blind_index("qr-poll", f"{qr.id}:{poll_secret}")
    qr.scan_hash = _qr_scan_hash(context.keyring, qr.id, nonce)
    return QrCreated(qr, poll_secret, f"{QR_PREFIX}{qr.id}:{nonce}")


async def poll_qr_login(
    session: AsyncSession, context: AppContext, *, qr_id: str, poll_secret: str, device: DeviceInfo
) -> tuple[str, LoginOutcome | None]:
    """The QR's state for the browser showing it; logs that browser in once confirmed."""
    qr = await session.get(QrLogin, qr_id)
    expected = context.keyring.blind_index("qr-poll", f"{qr_id}:{poll_secret}")
    if qr is None or not hmac.compare_digest(qr.secret_hash, expected) or qr.status == QrLoginStatus.USED:
        raise AppError(errors.QR_INVALID)
    if qr.status == QrLoginStatus.CONFIRMED and qr.account_id is not None:
        account = await session.get(Account, qr.account_id)
        if account is None:
            raise AppError(errors.QR_INVALID)
        qr.status = QrLoginStatus.USED
        # The confirming client was fully signed in, second factor included: that is the proof.
        outcome = await start_session(
            session, context, account=account, device=device, method="qr", second_factor_done=True
        )
        return "ok", outcome
    if qr.expires_at <= utcnow():
        return "expired", None
    return str(qr.status), None


async def _qr_from_text(session: AsyncSession, context: AppContext, qr_text: str) -> QrLogin:
    if not qr_text.startswith(QR_PREFIX) or qr_text.count(":") != 3:
        raise AppError(errors.QR_INVALID)
    qr_id, nonce = qr_text[len(QR_PREFIX) :].split(":", 1)
    qr = await session.get(QrLogin, qr_id)
    if qr is None or not hmac.compare_digest(qr.scan_hash, _qr_scan_hash(context.keyring, qr_id, nonce)):
        raise AppError(errors.QR_INVALID)
    if qr.expires_at <= utcnow():
        raise AppError(errors.QR_EXPIRED)
    return qr


async def scan_qr_login(
    session: AsyncSession, context: AppContext, caller: Caller, *, qr_text: str
) -> QrLogin:
    """A logged-in client has scanned the QR: show its owner which browser asks to log in."""
    qr = await _qr_from_text(session, context, qr_text)
    if qr.status not in (QrLoginStatus.PENDING, QrLoginStatus.SCANNED) or (
        qr.account_id not in (None, caller.account_id)
    ):
        raise AppError(errors.QR_INVALID)
    qr.status = QrLoginStatus.SCANNED
    qr.account_id = caller.account_id
    return qr


async def confirm_qr_login(
    session: AsyncSession, context: AppContext, caller: Caller, *, qr_text: str, approve: bool, ip: str
) -> None:
    qr = await _qr_from_text(session, context, qr_text)
    if qr.status != QrLoginStatus.SCANNED or qr.account_id != caller.account_id:
        raise AppError(errors.QR_INVALID)
    qr.status = QrLoginStatus.CONFIRMED if approve else QrLoginStatus.CANCELLED
    await audit.record(
        session,
        context.keyring,
        action="auth.qr_confirmed" if approve else "auth.qr_cancelled",
        actor_id=caller.account_id,
        object_type="qr_login",
        object_id=qr.id,
        ip=ip,
    )
