"""The operator does not read business data (policy: "我们不会查看或者使用您通过政务钉钉…的业务数据").

Every route of the application is called with the credentials of an operator who is a member of no
organisation, with path parameters naming real objects of a seeded organisation (its message, its
file, its conversation, its member, its jobs …) and a body that passes validation. No answer may
carry the message text, the file's bytes or name, or a member's name, mobile or e-mail; and every
route that is not listed in OPERATOR_MAY_SUCCEED must refuse the operator. A route added later
is swept too: if it answers the operator, it fails here until someone decides it belongs on the list.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
from operator_world import MakeClient, admin_client, logged_in, operator, organisation, outbox
from route_sweep import Examples, RouteEntry, every_route, fill_path
from sqlalchemy import func, select

from helpers import csrf_headers, next_mobile
from zhengtong.core.context import AppContext
from zhengtong.im.models import ChatFile, Conversation, Message
from zhengtong.notifications.notices import notify_people
from zhengtong.org.models import Department, Membership

ORG_NAME = "某市税务局"
PEOPLE = ["张明", "李华"]
MESSAGE_TEXT = "绝密会议纪要：拟于下月调整处室编制 CANARY-MSG-7788"
FILE_NAME = "预算草案CANARY-FILE-5566.txt"
FILE_BYTES = "FILE-BYTES-CANARY-9911 第三季度预算明细".encode()

# Routes the operator may use successfully, each with the reason it shows no business content.
# Everything else must answer the operator with a refusal (4xx).
OPERATOR_MAY_SUCCEED: dict[tuple[str, str], str] = {
    # public, the same for everyone
    ("GET", "/healthz"): "health check",
    ("GET", "/api/openapi.json"): "the API's description",
    ("GET", "/api/docs"): "the API's documentation page",
    ("GET", "/docs/oauth2-redirect"): "part of the documentation page",
    ("GET", "/{path:path}"): "the web client's files",
    ("POST", "/api/v1/auth/sms/send"): "login: the same answer whether or not a number is registered",
    ("POST", "/api/v1/auth/qr"): "login: a new QR for this browser",
    ("GET", "/api/v1/auth/qr/{qr_id}"): "login: the status of a QR, needs its poll secret",
    ("GET", "/api/v1/join/{token}"): "an invitation: the organisation's and department's names only",
    ("POST", "/api/v1/join/{token}/code"): "an invitation: sends a code to the number given",
    # the operator's own account
    ("GET", "/api/v1/me"): "the operator's own account",
    ("GET", "/api/v1/me/sessions"): "the operator's own sessions",
    ("PUT", "/api/v1/me/password"): "the operator's own password",
    ("PUT", "/api/v1/me/language"): "the operator's own language",
    ("POST", "/api/v1/me/tokens"): "the operator's own API token",
    ("POST", "/api/v1/auth/totp/setup"): "the operator's own second factor",
    ("POST", "/api/v1/auth/logout"): "the operator's own session",
    ("GET", "/api/v1/notices"): "the operator's own notices",
    ("POST", "/api/v1/notices/read-all"): "the operator's own notices",
    ("GET", "/api/v1/notifications/preferences"): "the operator's own channels and quiet hours",
    ("PUT", "/api/v1/notifications/preferences"): "the operator's own channels and quiet hours",
    ("GET", "/api/v1/push/vapid-public-key"): "the installation's public push key",
    ("DELETE", "/api/v1/push/subscriptions/current"): "the operator's own browser",
    # the console: organisations, numbers, incidents, letters by number, the shutdown
    ("GET", "/api/v1/operator/organizations"): "names, status, member counts",
    ("POST", "/api/v1/operator/organizations"): "opens an organisation",
    ("GET", "/api/v1/operator/usage"): "counts and bytes per organisation",
    ("GET", "/api/v1/operator/incidents"): "the operator's incident records and counts",
    ("POST", "/api/v1/operator/incidents"): "records an incident",
    ("GET", "/api/v1/operator/incidents/{incident_id}"): "an incident, its organisations and counts",
    ("POST", "/api/v1/operator/incidents/{incident_id}/affected"): "adds people by id",
    ("POST", "/api/v1/operator/incidents/{incident_id}/notify"): "sends the incident's notice",
    ("POST", "/api/v1/operator/incidents/{incident_id}/close"): "closes an incident",
    ("GET", "/api/v1/operator/letters"): "letters by number and organisation",
    ("GET", "/api/v1/operator/letters/print"): "letters addressed to organisations, by number",
    ("POST", "/api/v1/operator/letters/posted"): "marks letters posted",
    ("GET", "/api/v1/operator/shutdown"): "the shutdown's schedule and counts",
    ("POST", "/api/v1/operator/shutdown"): "schedules the shutdown",
    ("POST", "/api/v1/operator/shutdown/cancel"): "cancels the shutdown",
    ("GET", "/api/v1/operator/privacy/policy-versions"): "the policy versions the operator published",
    ("POST", "/api/v1/operator/privacy/policy-versions"): "publishes a policy version",
    # the privacy policy and the privacy centre: the operator's own rights over their own data
    ("GET", "/api/v1/privacy/policy/current"): "the published policy",
    ("GET", "/api/v1/privacy/policy/versions/{version}"): "a published policy version",
    ("GET", "/api/v1/privacy/policy/status"): "the operator's own acknowledgement",
    ("POST", "/api/v1/privacy/policy/acknowledge"): "the operator's own acknowledgement",
    ("GET", "/api/v1/privacy/policy/acknowledgements"): "the operator's own acknowledgements",
    ("GET", "/api/v1/privacy/cookies"): "the list of cookies and their purposes",
    ("GET", "/api/v1/privacy/notices/first-login"): "what organisations provided about the operator",
    ("POST", "/api/v1/privacy/notices/first-login/seen"): "the operator's own first-login notice",
    ("GET", "/api/v1/privacy/my-data"): "the operator's own data",
    ("GET", "/api/v1/privacy/exports"): "the operator's own exports",
    ("POST", "/api/v1/privacy/exports"): "exports the operator's own data",
    ("GET", "/api/v1/privacy/requests"): "the operator's own requests",
    ("GET", "/api/v1/privacy/request-notices"): "the operator's own request notices",
    ("POST", "/api/v1/privacy/request-notices/read"): "the operator's own request notices",
    ("GET", "/api/v1/privacy/disclosures"): "what was disclosed about the operator",
    ("GET", "/api/v1/privacy/account/cancellation"): "whether the operator's own account can be cancelled",
}
# Not HTTP routes: considered one by one.
WEBSOCKETS = {"/api/v1/ws": "the caller's own event stream: only events addressed to the operator's account"}
MOUNTS = {"/assets": "the web client's static files"}
LAST = ("/api/v1/auth/logout",)  # ends the operator's session: swept after everything else


WORK_NOTICE_TEXT = "CANARY-WORK-NOTICE-4411 督办事项"


async def _seed(context: AppContext, make_client: MakeClient) -> tuple[dict[str, Any], list[str]]:
    """An organisation with a group chat, a message, a file, a department, an invitation and a
    join request, an export job, a SCIM token, sessions and a notice. Returns the values to put
    into requests, by parameter name, and the needles no answer may contain."""
    org = await organisation(context, ORG_NAME, PEOPLE)
    zhang_member, li_member = org.members
    admin = await admin_client(context, make_client, org)
    zhang = await logged_in(context, make_client, zhang_member)
    await logged_in(context, make_client, li_member)

    group = (
        await zhang.post(
            "/im/conversations/group", {"name": "专项工作组", "member_ids": [li_member.membership_id]}
        )
    ).json()
    message = (await zhang.post(f"/im/conversations/{group['id']}/messages", {"text": MESSAGE_TEXT})).json()
    uploaded = await zhang.http.post(
        f"/api/v1/im/conversations/{group['id']}/files/upload",
        files={"file": (FILE_NAME, FILE_BYTES, "text/plain")},
        data={"kind": "file"},
        headers=csrf_headers(zhang.http),
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    sent = await zhang.post(f"/im/conversations/{group['id']}/messages", {"kind": "file", "file_id": file_id})
    assert sent.status_code == 200, sent.text
    ding = await zhang.post("/ding", {"text": MESSAGE_TEXT, "recipient_ids": [li_member.membership_id]})
    assert ding.status_code == 201, ding.text
    robot = (await zhang.post(f"/im/conversations/{group['id']}/robots", {"name": "告警机器人"})).json()

    root = next(d for d in (await admin.get("/org/departments")).json() if d["parent_id"] is None)
    department = (await admin.post("/org/departments", {"name": "督查科", "parent_id": root["id"]})).json()
    invite = (await admin.post("/org/invites", {"department_id": department["id"]})).json()
    applicant, applicant_mobile = make_client(), next_mobile()
    await applicant.post(f"/api/v1/join/{invite['token']}/code", json={"mobile": applicant_mobile})
    code = next(m.params["code"] for m in reversed(outbox(context, template="join_code")))
    joined = await applicant.post(
        f"/api/v1/join/{invite['token']}", json={"mobile": applicant_mobile, "code": code, "name": "申请人"}
    )
    assert joined.status_code == 202, joined.text
    [join_request] = (await admin.get("/org/join-requests")).json()
    export = (await admin.post("/org/export")).json()
    scim_token = (await admin.post("/org/scim-tokens", {"name": "人事系统"})).json()
    app = (await admin.post("/org/apps", {"name": "督办系统"})).json()
    work_notice = (
        await admin.post(
            "/org/work-notices",
            {"to_all": True, "msg": {"msgtype": "text", "text": {"content": WORK_NOTICE_TEXT}}},
        )
    ).json()
    [zhang_session] = (await zhang.get("/me/sessions")).json()
    qr = (await applicant.post("/api/v1/auth/qr")).json()
    async with context.db.transaction() as session:
        [delivery] = await notify_people(
            session,
            context,
            [zhang_member.account_id],
            kind="test",
            subject={"zh-CN": "通知"},
            body={"zh-CN": "正文"},
            channels=[],
        )

    values = {
        "conversation_id": group["id"],
        "message_id": message["id"],
        "message_ids": [message["id"]],
        "file_id": file_id,
        "membership_id": zhang_member.membership_id,
        "member_ids": [zhang_member.membership_id],
        "user_id": zhang_member.membership_id,  # SCIM
        "account_ids": [zhang_member.account_id],
        "department_id": department["id"],
        "parent_id": department["id"],
        "group_id": department["id"],  # SCIM
        "org_id": org.org_id,
        "org_ids": [org.org_id],
        "session_id": zhang_session["id"],
        "job_id": export["job_id"],
        "invite_id": invite["id"],
        "token": invite["token"],
        "request_id": join_request["id"],
        "token_id": scim_token["id"],
        "qr_id": qr["id"],
        "notice_id": delivery.notice_id,
        "app_id": app["id"],
        "work_notice_id": work_notice["id"],
        "ding_id": ding.json()["id"],
        "robot_id": robot["id"],
        "name": "User",
        "urn": "urn:ietf:params:scim:schemas:core:2.0:User",
        "path": "chat",
        "q": "CANARY",
        "purpose": "contact_matching",
        "version": 1,
        "code": "123456",
    }
    needles = [
        "CANARY-MSG-7788",
        WORK_NOTICE_TEXT,
        app.get("app_secret", "?"),
        robot["secret"],
        robot["webhook_url"].split("access_token=")[1],
        "绝密会议纪要",
        FILE_NAME,
        quote(FILE_NAME),
        FILE_BYTES.decode(),
        *PEOPLE,
        *(member.mobile for member in org.members),
        *org.emails.values(),
    ]
    return values, needles


async def _org_state(context: AppContext, org_id: str) -> dict[str, int]:
    async with context.db.transaction() as session:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model).where(model.org_id == org_id))
                or 0
            )
            for model in (Membership, Department, Conversation, Message, ChatFile)
        } | {
            "recalled": int(
                await session.scalar(
                    select(func.count())
                    .select_from(Message)
                    .where(Message.org_id == org_id, Message.recalled_at.is_not(None))
                )
                or 0
            )
        }


async def _call(
    http: httpx.AsyncClient, method: str, url: str, examples: Examples, template: str
) -> httpx.Response:
    """One request; when the operator's own policy acknowledgement is owed (a major version was
    published during the sweep), acknowledge it and ask again, so that the route itself answers."""
    for _ in range(2):
        answer = await http.request(
            method,
            url,
            params=examples.query(template, method),
            headers=csrf_headers(http),
            **examples.body(template, method),
        )
        if _error_code(answer) != "privacy.consent.policy_ack_required":
            return answer
        version = answer.json()["detail"]["version"]
        acknowledged = await http.post(
            "/api/v1/privacy/policy/acknowledge", json={"version": version}, headers=csrf_headers(http)
        )
        assert acknowledged.status_code == 200, acknowledged.text
    return answer


def _error_code(answer: httpx.Response) -> str:
    if not answer.headers.get("content-type", "").startswith("application/json"):
        return ""
    body = answer.json()
    if isinstance(body, dict) and "errcode" in body:  # the DingTalk-compatible /oapi: 200 and an errcode
        return f"errcode:{body['errcode']}"
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def _refused(status: int, code: str) -> bool:
    return 400 <= status < 500 or (code.startswith("errcode:") and code != "errcode:0")


def _order(entry: RouteEntry) -> tuple[bool, str]:
    return (entry.path in LAST, entry.path)


async def test_every_route_refuses_the_operator_or_shows_no_content(
    app: Any, context: AppContext, make_client: MakeClient
) -> None:
    # given
    values, needles = await _seed(context, make_client)
    staff = await operator(context, make_client)
    incident = await staff.post(
        "/operator/incidents",
        {
            "discovered_at": "2020-01-01T00:00:00+00:00",
            "data_categories": ["contact"],
            "texts": {
                "zh-CN": {
                    "title": "演练",
                    "what_happened": "演练",
                    "possible_impact": "无",
                    "measures_taken": "无",
                    "person_can_do": "无",
                    "contact": "无",
                }
            },
            "org_ids": [values["org_id"]],
        },
    )
    values["incident_id"] = incident.json()["id"]
    org_before = await _org_state(context, str(values["org_id"]))
    examples = Examples(by_name=values, openapi=app.openapi(), fresh_mobile=next_mobile)
    routes = sorted(every_route(app), key=_order)

    # when
    answers: list[tuple[str, str, int, str, str]] = []  # method, template, status, code, everything shown
    for entry in (r for r in routes if r.kind == "http"):
        url = fill_path(entry.path, lambda name: str(values[name]) if name in values else f"<{name}?>")
        for method in entry.methods:
            answer = await _call(staff.http, method, url, examples, entry.path)
            shown = answer.content.decode("utf-8", "replace") + json.dumps(
                dict(answer.headers), ensure_ascii=False
            )
            answers.append((method, entry.path, answer.status_code, _error_code(answer), shown))

    # then: no answer shows content
    leaks = [
        (method, path, needle)
        for method, path, _, _, shown in answers
        for needle in needles
        if needle in shown or json.dumps(needle)[1:-1] in shown
    ]
    assert leaks == [], f"the operator saw business or personal data: {leaks}"
    # every route is considered: a path parameter the sweep cannot fill, a body it cannot build
    unfilled = sorted(
        {path for _, path, *_ in answers if "?>" in fill_path(path, lambda n: str(values.get(n, f"<{n}?>")))}
    )
    assert unfilled == [], f"tell the sweep which seeded object these parameters name: {unfilled}"
    invalid = [(method, path) for method, path, _, code, _ in answers if code == "request.invalid"]
    assert invalid == [], f"give the sweep a valid body or query for these, so the handler decides: {invalid}"
    # outside the list, the operator is refused
    allowed_anyway = [
        (method, path, status, code)
        for method, path, status, code, _ in answers
        if (method, path) not in OPERATOR_MAY_SUCCEED and not _refused(status, code)
    ]
    assert allowed_anyway == [], (
        "these routes answered the operator without refusing; if they show nothing of an organisation's "
        f"business or people, add them to OPERATOR_MAY_SUCCEED with the reason: {allowed_anyway}"
    )
    # the list names only routes that exist, and the other kinds of route are known
    http_routes = {(method, r.path) for r in routes if r.kind == "http" for method in r.methods}
    assert set(OPERATOR_MAY_SUCCEED) - http_routes == set(), "OPERATOR_MAY_SUCCEED lists a route that is gone"
    assert {r.path for r in routes if r.kind == "websocket"} == set(WEBSOCKETS)
    assert {r.path for r in routes if r.kind == "mount"} <= set(MOUNTS)
    # and the organisation is as it was
    assert await _org_state(context, str(values["org_id"])) == org_before
