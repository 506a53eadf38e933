"""Identity endpoints: thin handlers that parse, call one service function and answer."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response

from zhengtong.identity import schemas, service
from zhengtong.identity.models import AuthSession
from zhengtong.web.auth import CSRF_COOKIE, SESSION_COOKIE, CurrentCaller, PartialCaller
from zhengtong.web.deps import ClientIp, Context, DbSession
from zhengtong.web.gates import Gate, open_through

router = APIRouter(tags=["identity"])

DEVICE_COOKIE = "zt_device"
_DEVICE_COOKIE_SECONDS = 2 * 365 * 24 * 3600


def _device_label(user_agent: str) -> str:
    """A readable label such as "Chrome · Windows"; the raw user agent is not kept."""
    agent = user_agent.lower()
    browser = next(
        (
            name
            for key, name in (
                ("edg/", "Edge"),
                ("firefox", "Firefox"),
                ("chrome", "Chrome"),
                ("safari", "Safari"),
            )
            if key in agent
        ),
        "",
    )
    system = next(
        (
            name
            for key, name in (
                ("android", "Android"),
                ("iphone", "iOS"),
                ("ipad", "iPadOS"),
                ("windows", "Windows"),
                ("mac os", "macOS"),
                ("linux", "Linux"),
            )
            if key in agent
        ),
        "",
    )
    label = " · ".join(part for part in (browser, system) if part)
    return label or "API client"


def _device(request: Request, ip: str) -> service.DeviceInfo:
    return service.DeviceInfo(
        label=_device_label(request.headers.get("user-agent", "")),
        ip=ip,
        device_id=request.cookies.get(DEVICE_COOKIE),
    )


def _secure(request: Request, context_public_url: str) -> bool:
    return request.url.scheme == "https" or context_public_url.startswith("https://")


def _set_login_cookies(
    request: Request, response: Response, token: str, csrf: str, public_url: str, max_age: int
) -> None:
    secure = _secure(request, public_url)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure, samesite="lax", path="/"
    )
    # Readable by the page's script, which echoes it in the X-CSRF-Token header.
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure, samesite="strict", path="/"
    )
    if DEVICE_COOKIE not in request.cookies:
        response.set_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(16),
            max_age=_DEVICE_COOKIE_SECONDS,
            httponly=True,
            secure=secure,
            samesite="lax",
            path="/",
        )


def _answer_login(
    request: Request, response: Response, context: Context, outcome: service.LoginOutcome
) -> schemas.LoginResult:
    csrf = service.csrf_token_for(context.keyring, outcome.token)
    max_age = context.settings.session_days * 24 * 3600
    _set_login_cookies(request, response, outcome.token, csrf, context.settings.public_url, max_age)
    return schemas.LoginResult(status=outcome.status)


# Login ---------------------------------------------------------------------------------------
@open_through(Gate.COLLECTION)
@router.post("/auth/sms/send", response_model=schemas.SmsSendOut)
async def send_sms_code(
    body: schemas.SmsSendIn, session: DbSession, context: Context, ip: ClientIp
) -> schemas.SmsSendOut:
    sent = await service.send_login_code(session, context, mobile=body.mobile, ip=ip)
    return schemas.SmsSendOut(
        cooldown_seconds=sent.cooldown_seconds, expires_in_seconds=sent.expires_in_seconds
    )


@open_through(Gate.COLLECTION)
@router.post("/auth/sms/login", response_model=schemas.LoginResult)
async def login_with_sms_code(
    body: schemas.SmsLoginIn,
    request: Request,
    response: Response,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.LoginResult:
    outcome = await service.login_with_code(
        session, context, mobile=body.mobile, code=body.code, device=_device(request, ip)
    )
    return _answer_login(request, response, context, outcome)


@open_through(Gate.COLLECTION)
@router.post("/auth/password/login", response_model=schemas.LoginResult)
async def login_with_password(
    body: schemas.PasswordLoginIn,
    request: Request,
    response: Response,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.LoginResult:
    outcome = await service.login_with_password(
        session, context, mobile=body.mobile, password=body.password, device=_device(request, ip)
    )
    return _answer_login(request, response, context, outcome)


@open_through(Gate.POLICY, Gate.COLLECTION)
@router.post("/auth/logout", status_code=204)
async def logout(caller: PartialCaller, session: DbSession, context: Context, ip: ClientIp) -> Response:
    await service.revoke_session(session, context, caller, session_id=caller.session_id, ip=ip)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


# Second factor -------------------------------------------------------------------------------
@open_through(Gate.COLLECTION)
@router.post("/auth/totp/setup", response_model=schemas.TotpSetupOut)
async def begin_totp_setup(
    caller: PartialCaller, session: DbSession, context: Context
) -> schemas.TotpSetupOut:
    setup = await service.begin_totp_setup(session, context, caller)
    return schemas.TotpSetupOut(secret=setup.secret, otpauth_uri=setup.otpauth_uri)


@open_through(Gate.COLLECTION)
@router.post("/auth/totp/enable", response_model=schemas.LoginResult)
async def enable_totp(
    body: schemas.TotpCodeIn,
    request: Request,
    caller: PartialCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.LoginResult:
    await service.enable_totp(session, context, caller, code=body.code, device=_device(request, ip))
    return schemas.LoginResult(status="ok")


@open_through(Gate.COLLECTION)
@router.post("/auth/totp/verify", response_model=schemas.LoginResult)
async def verify_totp(
    body: schemas.TotpCodeIn,
    request: Request,
    caller: PartialCaller,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.LoginResult:
    await service.verify_totp(session, context, caller, code=body.code, device=_device(request, ip))
    return schemas.LoginResult(status="ok")


@open_through(Gate.COLLECTION)
@router.post("/auth/totp/disable", status_code=204)
async def disable_totp(
    body: schemas.TotpCodeIn, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> Response:
    await service.disable_totp(session, context, caller, code=body.code, ip=ip)
    return Response(status_code=204)


# QR login ------------------------------------------------------------------------------------
@open_through(Gate.COLLECTION)
@router.post("/auth/qr", response_model=schemas.QrCreateOut)
async def create_qr_login(
    request: Request, session: DbSession, context: Context, ip: ClientIp
) -> schemas.QrCreateOut:
    created = await service.create_qr_login(session, context, device=_device(request, ip))
    return schemas.QrCreateOut(
        id=created.qr.id,
        poll_secret=created.poll_secret,
        qr_text=created.qr_text,
        expires_at=created.qr.expires_at,
    )


@router.get("/auth/qr/{qr_id}", response_model=schemas.QrPollOut)
async def poll_qr_login(
    qr_id: str,
    secret: str,
    request: Request,
    response: Response,
    session: DbSession,
    context: Context,
    ip: ClientIp,
) -> schemas.QrPollOut:
    status, outcome = await service.poll_qr_login(
        session, context, qr_id=qr_id, poll_secret=secret, device=_device(request, ip)
    )
    if outcome is not None:
        _answer_login(request, response, context, outcome)
    return schemas.QrPollOut(status=status)


@open_through(Gate.COLLECTION)
@router.post("/auth/qr/scan", response_model=schemas.QrScanOut)
async def scan_qr_login(
    body: schemas.QrTextIn, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.QrScanOut:
    qr = await service.scan_qr_login(session, context, caller, qr_text=body.qr_text)
    return schemas.QrScanOut(device_label=qr.device_label)


@open_through(Gate.COLLECTION)
@router.post("/auth/qr/confirm", status_code=204)
async def confirm_qr_login(
    body: schemas.QrConfirmIn, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> Response:
    await service.confirm_qr_login(
        session, context, caller, qr_text=body.qr_text, approve=body.approve, ip=ip
    )
    return Response(status_code=204)


# The signed-in person ------------------------------------------------------------------------
async def _me_out(session: DbSession, context: Context, caller: CurrentCaller) -> schemas.MeOut:
    me = await service.get_me(session, context, caller)
    return schemas.MeOut(
        account_id=me.account.id,
        mobile_masked=me.mobile_masked,
        name=me.name,
        language=me.account.language,
        totp_enabled=me.account.totp_enabled,
        has_password=me.account.password_hash is not None,
        organizations=[
            schemas.OrganizationBrief(
                id=org.id, name=org.name, role=membership.role, membership_id=membership.id
            )
            for membership, org in me.organizations
        ],
        current_org_id=me.current_org_id,
        current_membership_id=next(
            (membership.id for membership, org in me.organizations if org.id == me.current_org_id), None
        ),
        is_operator=me.account.is_operator,
    )


@open_through(Gate.POLICY)
@router.get("/me", response_model=schemas.MeOut)
async def get_me(caller: CurrentCaller, session: DbSession, context: Context) -> schemas.MeOut:
    return await _me_out(session, context, caller)


@open_through(Gate.COLLECTION)
@router.put("/me/current-org", response_model=schemas.MeOut)
async def switch_organization(
    body: schemas.SwitchOrgIn, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.MeOut:
    switched = await service.switch_organization(session, caller, org_id=body.org_id)
    return await _me_out(session, context, switched)


@router.put("/me/password", status_code=204)
async def set_password(
    body: schemas.PasswordSetIn, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> Response:
    await service.set_password(
        session,
        context,
        caller,
        new_password=body.new_password,
        current_password=body.current_password,
        ip=ip,
    )
    return Response(status_code=204)


@open_through(Gate.POLICY, Gate.COLLECTION)
@router.put("/me/language", status_code=204)
async def set_language(body: schemas.LanguageIn, caller: CurrentCaller, session: DbSession) -> Response:
    await service.set_language(session, caller, language=body.language)
    return Response(status_code=204)


def _session_out(auth_session: AuthSession, current_session_id: str) -> schemas.SessionOut:
    return schemas.SessionOut(
        id=auth_session.id,
        kind=auth_session.kind,
        device_label=auth_session.device_label,
        ip_prefix=auth_session.ip_prefix,
        created_at=auth_session.created_at,
        last_seen_at=auth_session.last_seen_at,
        current=auth_session.id == current_session_id,
    )


@router.get("/me/sessions", response_model=list[schemas.SessionOut])
async def list_sessions(caller: CurrentCaller, session: DbSession) -> list[schemas.SessionOut]:
    return [_session_out(item, caller.session_id) for item in await service.list_sessions(session, caller)]


@router.delete("/me/sessions/{session_id}", status_code=204)
async def revoke_session(
    session_id: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> Response:
    await service.revoke_session(session, context, caller, session_id=session_id, ip=ip)
    return Response(status_code=204)


@router.post("/me/tokens", response_model=schemas.TokenCreateOut, status_code=201)
async def create_api_token(
    body: schemas.TokenCreateIn, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.TokenCreateOut:
    outcome = await service.create_api_token(session, context, caller, name=body.name, ip=ip)
    return schemas.TokenCreateOut(
        token=outcome.token, session=_session_out(outcome.auth_session, caller.session_id)
    )
