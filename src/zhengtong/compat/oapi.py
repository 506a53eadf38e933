"""/oapi: DingTalk's server API as OPENAPI-COMPAT.md describes it — `gettoken` and the work
notices (`asyncsend_v2`, `getsendprogress`, `getsendresult`, `recall`).

Apps authenticate with `?access_token=` from `gettoken`; no browser session reaches these routes,
and they stay out of the OpenAPI document (which describes the web client's API). Bodies may be
JSON or form-encoded, and `msg` may come as an object or a JSON string, as DingTalk's SDKs send
them. Each call owns its transaction: a refused call changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.apps import service as apps
from zhengtong.apps.service import AppCaller
from zhengtong.compat.envelope import CompatError, failure, from_app_error, ok
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.core.inventory import DataClass
from zhengtong.privacy.rights.disclosures import already_disclosed, record_disclosure
from zhengtong.privacy.rights.models import DisclosureSource, LegalBasis, RecipientKind
from zhengtong.worknotices import service as worknotices
from zhengtong.worknotices.models import NoticeStatus, WorkNotice

router = APIRouter(prefix="/oapi", include_in_schema=False)
_WORK_NOTICES = "/topapi/message/corpconversation"

Handler = Callable[[AsyncSession, AppContext], Awaitable[JSONResponse]]


async def _answer(request: Request, handle: Handler) -> JSONResponse:
    """Runs `handle` in one transaction; any refusal rolls it back and leaves as an errcode."""
    context: AppContext = request.app.state.context
    try:
        async with context.db.transaction() as session:
            return await handle(session, context)
    except AppError as error:
        return from_app_error(error)
    except CompatError as error:
        return failure(error.code, error.field)


async def _fields(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict((await request.form()).items())
    raw = await request.body()
    if not raw:
        return {}
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise CompatError("worknotices.message_invalid", "body") from error
    if not isinstance(parsed, dict):
        raise CompatError("worknotices.message_invalid", "body")
    return parsed


def _required(fields: dict[str, Any], name: str) -> Any:
    value = fields.get(name)
    if value is None or value == "":
        raise CompatError("compat.missing_parameter", name)
    return value


def _ids(value: Any) -> list[str]:
    """ "a,b,c" or ["a", "b"] → ["a", "b"]."""
    parts = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    return [str(part).strip() for part in parts if str(part).strip()]


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


async def _app(
    request: Request, session: AsyncSession, context: AppContext, fields: dict[str, Any]
) -> AppCaller:
    caller = await apps.authenticate(session, context, request.query_params.get("access_token", ""))
    agent_id = str(_required(fields, "agent_id"))
    if agent_id != str(caller.agent_id):
        raise CompatError("compat.agent_id_invalid", agent_id)
    return caller


def _task_id(fields: dict[str, Any], name: str) -> int:
    value = str(_required(fields, name))
    if not value.isdigit():
        raise CompatError("compat.missing_parameter", name)
    return int(value)


def _progress_status(notice: WorkNotice) -> int:
    """getsendprogress's status: 0 not started (the people not yet counted), 1 sending, 2 done."""
    if notice.status != NoticeStatus.SENDING:
        return 2
    return 1 if notice.total else 0


@router.get("/gettoken")
async def gettoken(request: Request, appkey: str = "", appsecret: str = "") -> JSONResponse:
    async def handle(session: AsyncSession, context: AppContext) -> JSONResponse:
        if not appkey or not appsecret:
            raise CompatError("compat.missing_parameter", "appkey" if not appkey else "appsecret")
        token = await apps.issue_token(session, context, app_key=appkey, app_secret=appsecret)
        return ok(access_token=token, expires_in=apps.TOKEN_SECONDS)

    return await _answer(request, handle)


@router.post(f"{_WORK_NOTICES}/asyncsend_v2")
async def asyncsend_v2(request: Request) -> JSONResponse:
    async def handle(session: AsyncSession, context: AppContext) -> JSONResponse:
        fields = await _fields(request)
        caller = await _app(request, session, context, fields)
        sender = worknotices.Sender(org_id=caller.org_id, name=caller.name, app_id=caller.app_id)
        targets = worknotices.Targets(
            _ids(fields.get("userid_list")),
            _ids(fields.get("dept_id_list")),
            _flag(fields.get("to_all_user")),
        )
        notice = await worknotices.send(session, context, sender, targets, _required(fields, "msg"))
        return ok(task_id=notice.task_id)

    return await _answer(request, handle)


async def _own_notice(
    request: Request, session: AsyncSession, context: AppContext, id_field: str
) -> tuple[AppCaller, WorkNotice]:
    fields = await _fields(request)
    caller = await _app(request, session, context, fields)
    return caller, await worknotices.sent_by_app(session, caller.app_id, _task_id(fields, id_field))


@router.post(f"{_WORK_NOTICES}/getsendprogress")
async def getsendprogress(request: Request) -> JSONResponse:
    async def handle(session: AsyncSession, context: AppContext) -> JSONResponse:
        _, notice = await _own_notice(request, session, context, "task_id")
        progress = worknotices.progress_of(notice)
        return ok(progress={"progress_in_percent": progress.percent, "status": _progress_status(notice)})

    return await _answer(request, handle)


@router.post(f"{_WORK_NOTICES}/getsendresult")
async def getsendresult(request: Request) -> JSONResponse:
    async def handle(session: AsyncSession, context: AppContext) -> JSONResponse:
        caller, notice = await _own_notice(request, session, context, "task_id")
        results = await worknotices.results_of(session, notice)
        await _record_disclosure(session, context, caller, notice, results.read + results.unread)
        return ok(
            send_result={
                "invalid_user_id_list": results.invalid_user_ids,
                "forbidden_user_id_list": [],
                "failed_user_id_list": [],
                "read_user_id_list": results.read,
                "unread_user_id_list": results.unread,
                "invalid_dept_id_list": results.invalid_department_ids,
                "forbidden_list": [],
            }
        )

    return await _answer(request, handle)


async def _record_disclosure(
    session: AsyncSession, context: AppContext, caller: AppCaller, notice: WorkNotice, people: list[str]
) -> None:
    """Whether each person read the app's notice is data about them that leaves for the app: the
    disclosure ledger records it once per notice (apps poll; the ledger need not grow with that)."""
    reference = worknotices.reference_of(notice.id)
    if not people or await already_disclosed(
        session, org_id=caller.org_id, source_ref=caller.app_id, reference=reference
    ):
        return
    await record_disclosure(
        session,
        context,
        org_id=caller.org_id,
        recipient_kind=RecipientKind.APP,
        recipient=caller.name,
        data_categories=[DataClass.IDENTITY],
        legal_basis=LegalBasis.CONTRACT,
        membership_ids=people,
        reference=reference,
        purpose="工作通知的送达与阅读状态 / whether a work notice was delivered and read",
        source=DisclosureSource.OPEN_API,
        source_ref=caller.app_id,
    )


@router.post(f"{_WORK_NOTICES}/recall")
async def recall(request: Request) -> JSONResponse:
    async def handle(session: AsyncSession, context: AppContext) -> JSONResponse:
        _, notice = await _own_notice(request, session, context, "msg_task_id")
        await worknotices.recall(session, context, notice, actor_id=None)
        return ok()

    return await _answer(request, handle)
