"""Security incidents: the operator records one, the people affected are told through every channel
with what the law requires, the 30-day deadline is tracked, and the incident cannot be closed while
someone has not been reached. People of other organisations hear nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from operator_world import (
    Client,
    MakeClient,
    admin_client,
    logged_in,
    operator,
    organisation,
    outbox,
    run_jobs,
)
from sqlalchemy import func, select

from zhengtong.core.clock import clock, utcnow
from zhengtong.core.context import AppContext
from zhengtong.notifications.models import Notice
from zhengtong.platform.audit import PLATFORM_SCOPE, AuditEntry
from zhengtong.privacy.operator.models import SecurityIncident

TEXTS = {
    "title": "短信网关日志外泄",
    "what_happened": "11月20日，短信网关的调试日志被错误地公开访问约两小时。",
    "data_concerned": "部分登录验证码的发送记录",
    "possible_impact": "他人可能得知您的手机号码曾接收验证码。",
    "measures_taken": "已关闭公开访问，轮换了全部密钥，并报告主管部门。",
    "person_can_do": "警惕冒充客服的来电，不要向任何人透露验证码。",
    "contact": "安全事件热线 400-000-0000，security@zhengtong.example",
}
TEXTS_EN = {
    "title": "SMS gateway log exposed",
    "what_happened": "On 20 November the SMS gateway's debug log was publicly readable for about two hours.",
    "data_concerned": "records of some login codes being sent",
    "possible_impact": "Others may learn that your mobile number received login codes.",
    "measures_taken": "Public access was closed, all keys were rotated and the authority was informed.",
    "person_can_do": "Beware of calls pretending to be support; never tell anyone a code.",
    "contact": "Incident line 400-000-0000, security@zhengtong.example",
}


def incident_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "discovered_at": (utcnow() - timedelta(days=2)).isoformat(),
        "data_categories": ["contact", "sensitive"],
        "texts": {"zh-CN": TEXTS, "en": TEXTS_EN},
        "org_ids": [],
        "account_ids": [],
    }
    return {**body, **overrides}


async def record(staff: Client, **overrides: Any) -> dict[str, Any]:
    answer = await staff.post("/operator/incidents", incident_body(**overrides))
    assert answer.status_code == 201, answer.text
    recorded: dict[str, Any] = answer.json()
    return recorded


async def test_notices_go_through_every_channel_to_the_affected_organisation_only(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    # given
    staff = await operator(context, make_client)
    affected = await organisation(context, "某市税务局", ["张明", "李华"])
    bystander = await organisation(context, "某区教育局", ["赵丽"])
    await logged_in(context, make_client, affected.members[0])  # a client that receives pushes

    # when
    incident = await record(staff, org_ids=[affected.org_id])
    notified = await staff.post(
        f"/operator/incidents/{incident['id']}/notify", {"channels": ["sms", "email", "push"]}
    )
    await run_jobs(context)

    # then
    assert notified.json() == {"people": 2}
    detail = (await staff.get(f"/operator/incidents/{incident['id']}")).json()
    assert detail["organizations"] == [{"id": affected.org_id, "name": "某市税务局", "people": 2}]
    assert detail["progress"]["deliveries"] == {
        "in_app": {"unread": 2, "read": 0},
        "sms": {"sent": 2},
        "email": {"sent": 2},
        "push": {"sent": 1, "no_address": 1},
    }
    assert (
        detail["progress"]["affected"],
        detail["progress"]["reached"],
        detail["progress"]["not_reached"],
    ) == (
        2,
        2,
        0,
    )
    messages = outbox(context, template="notice.security_incident")
    recipients = {(m.channel, m.to) for m in messages}
    zhang, li = affected.members
    assert recipients == {
        ("sms", f"+86{zhang.mobile}"),
        ("sms", f"+86{li.mobile}"),
        ("email", affected.emails[zhang.account_id]),
        ("email", affected.emails[li.account_id]),
        ("push", zhang.account_id),
    }
    # the other organisation's people got nothing
    async with context.db.transaction() as session:
        theirs = await session.scalar(
            select(func.count()).select_from(Notice).where(Notice.account_id.in_(bystander.account_ids))
        )
    assert theirs == 0
    assert not any(bystander.members[0].mobile in m.to for m in messages)


async def test_the_notice_says_what_the_law_requires_in_the_persons_language(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    staff = await operator(context, make_client)
    org = await organisation(context, "某市税务局", ["张明"])
    incident = await record(staff, org_ids=[org.org_id])
    await staff.post(f"/operator/incidents/{incident['id']}/notify", {"channels": ["sms"]})
    await run_jobs(context)
    reader = await logged_in(context, make_client, org.members[0])

    [notice] = (await reader.get("/notices")).json()["items"]

    assert notice["subject"]["zh-CN"] == "个人信息安全事件告知：短信网关日志外泄"
    body = notice["body"]["zh-CN"]
    for heading, text in (
        ("发生了什么", TEXTS["what_happened"]),
        ("涉及的个人信息种类", "联系方式（手机号码、邮箱等）；敏感个人信息；部分登录验证码的发送记录"),
        ("可能造成的影响", TEXTS["possible_impact"]),
        ("我们已采取的补救措施", TEXTS["measures_taken"]),
        ("您可以采取的措施", TEXTS["person_can_do"]),
        ("联系我们", TEXTS["contact"]),
    ):
        assert f"{heading}：{text}" in body
    assert "What you can do: Beware of calls" in notice["body"]["en"]
    [sms] = outbox(context, template="notice.security_incident")
    assert TEXTS["person_can_do"] in sms.text and TEXTS["contact"] in sms.text


async def test_people_picked_from_a_list_are_told_through_their_own_organisation(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    staff = await operator(context, make_client)
    tax = await organisation(context, "某市税务局", ["张明", "李华"])
    school = await organisation(context, "某区教育局", ["赵丽", "钱伟"])
    picked = school.members[0]

    incident = await record(staff, org_ids=[tax.org_id], account_ids=[picked.account_id])
    await staff.post(f"/operator/incidents/{incident['id']}/notify", {"channels": ["sms"]})

    detail = (await staff.get(f"/operator/incidents/{incident['id']}")).json()
    assert sorted((o["name"], o["people"]) for o in detail["organizations"]) == [
        ("某区教育局", 1),
        ("某市税务局", 2),
    ]
    async with context.db.transaction() as session:
        told = dict((await session.execute(select(Notice.account_id, Notice.org_id))).all())
    assert told == {
        tax.members[0].account_id: tax.org_id,
        tax.members[1].account_id: tax.org_id,
        picked.account_id: school.org_id,
    }
    unknown = await staff.post(f"/operator/incidents/{incident['id']}/affected", {"account_ids": ["NOPE"]})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "privacy.operator.unknown_accounts")


async def test_the_thirty_day_deadline_runs_from_discovery(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    staff = await operator(context, make_client)
    org = await organisation(context, "某市税务局", ["张明"])
    discovered = utcnow() - timedelta(days=10)
    incident = await record(staff, org_ids=[org.org_id], discovered_at=discovered.isoformat())

    progress = incident["progress"]
    assert progress["deadline_at"].startswith((discovered + timedelta(days=30)).isoformat()[:16])
    assert 20 * 86400 - 60 <= progress["seconds_left"] <= 20 * 86400
    assert progress["overdue"] is False

    clock.advance(21 * 86400)  # day 31: nobody has been told
    late = (await staff.get(f"/operator/incidents/{incident['id']}")).json()["progress"]
    assert late["seconds_left"] < 0 and late["overdue"] is True

    await staff.post(f"/operator/incidents/{incident['id']}/notify", {"channels": ["sms"]})
    await run_jobs(context)
    told = (await staff.get(f"/operator/incidents/{incident['id']}")).json()["progress"]
    assert (told["overdue"], told["not_reached"]) == (False, 0)

    future = await staff.post(
        "/operator/incidents", incident_body(discovered_at=(utcnow() + timedelta(days=1)).isoformat())
    )
    assert future.json()["code"] == "privacy.operator.incident_discovered_in_future"


async def test_an_incident_closes_only_once_everyone_was_reached(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    staff = await operator(context, make_client)
    org = await organisation(context, "某市税务局", ["张明", "李华"])
    zhang, li = org.members
    incident = await record(staff, org_ids=[org.org_id])
    close = f"/operator/incidents/{incident['id']}/close"

    # nobody told yet
    refused = await staff.post(close)
    assert (refused.status_code, refused.json()["code"]) == (
        409,
        "privacy.operator.incident_people_not_notified",
    )
    assert refused.json()["detail"] == {"not_reached": 2}

    # in-app and by letter: an unread notice and a letter not yet posted have reached nobody
    await staff.post(f"/operator/incidents/{incident['id']}/notify", {"channels": ["letter"]})
    assert (await staff.post(close)).json()["detail"] == {"not_reached": 2}

    # 张明 reads it in the client; 李华's letter is posted
    reader = await logged_in(context, make_client, zhang)
    [notice] = (await reader.get("/notices")).json()["items"]
    await reader.post(f"/notices/{notice['id']}/read")
    assert (await staff.post(close)).json()["detail"] == {"not_reached": 1}
    letters = (await staff.get("/operator/letters", reference=f"incident:{incident['id']}")).json()
    li_letter = [letter["id"] for letter in letters if letter["account_id"] == li.account_id]
    assert len(letters) == 2 and len(li_letter) == 1
    await staff.post("/operator/letters/posted", {"letter_ids": li_letter})

    closed = await staff.post(close)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"] is not None
    again = await staff.post(f"/operator/incidents/{incident['id']}/affected", {"org_ids": [org.org_id]})
    assert (again.status_code, again.json()["code"]) == (409, "privacy.operator.incident_closed")


async def test_incident_steps_are_audited_by_id_only(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    staff = await operator(context, make_client)
    org = await organisation(context, "某市税务局", ["张明"])
    incident = await record(staff, org_ids=[org.org_id])
    await staff.post(f"/operator/incidents/{incident['id']}/notify", {"channels": ["sms"]})
    await run_jobs(context)
    await staff.post(f"/operator/incidents/{incident['id']}/close")

    async with context.db.transaction() as session:
        platform = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.actor_account_id, AuditEntry.detail)
                .where(AuditEntry.scope == PLATFORM_SCOPE, AuditEntry.object_id == incident["id"])
                .order_by(AuditEntry.seq)
            )
        ).all()
        theirs = (
            await session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.scope == org.org_id, AuditEntry.object_id == incident["id"]
                )
            )
        ).all()
    assert [action for action, _, _ in platform] == [
        "privacy.incident.recorded",
        "privacy.incident.people_added",
        "privacy.incident.notified",
        "privacy.incident.closed",
    ]
    assert {actor for _, actor, _ in platform} == {staff.account_id}
    assert theirs == ["privacy.incident.organization_affected"]
    written = str([detail for _, _, detail in platform])
    assert org.members[0].mobile not in written and "张明" not in written


async def test_only_the_operator_handles_incidents(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org = await organisation(context, "某市税务局", ["张明"])
    admin = await admin_client(context, make_client, org)
    member = await logged_in(context, make_client, org.members[0])

    for caller in (admin, member):
        refused = await caller.post("/operator/incidents", incident_body(org_ids=[org.org_id]))
        assert (refused.status_code, refused.json()["code"]) == (403, "org.operator_required")
        assert (await caller.get("/operator/incidents")).status_code == 403
    async with context.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(SecurityIncident)) == 0
