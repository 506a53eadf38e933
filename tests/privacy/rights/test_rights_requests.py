"""Requests of the person to their organisation: filing, the admins' tracker, the 15-working-day
deadline both sides see, notices to the person, and isolation between organisations."""

from __future__ import annotations

from datetime import date, timedelta

from rights_world import IP, MakeClient, add_person, open_org
from sqlalchemy import func, select

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.org import service as org_service
from zhengtong.org.models import AdminDuty, AdminGrant, Membership
from zhengtong.platform.audit import AuditEntry
from zhengtong.platform.notify import read_outbox
from zhengtong.privacy.rights.models import PrivacyRequest, PrivacyRequestEvent
from zhengtong.privacy.rights.workdays import NATIONAL_HOLIDAYS, WorkCalendar, local_date

PLAIN_WEEKS = WorkCalendar(holidays=frozenset(), workdays=frozenset())


# The deadline -----------------------------------------------------------------------------------
def test_fifteen_working_days_skip_saturdays_and_sundays() -> None:
    friday, saturday, sunday = date(2025, 3, 7), date(2025, 3, 8), date(2025, 3, 9)

    assert PLAIN_WEEKS.add_working_days(friday, 15) == date(2025, 3, 28)
    # Filed over the weekend: the count starts on Monday, and ends on the same Friday.
    assert PLAIN_WEEKS.add_working_days(saturday, 15) == date(2025, 3, 28)
    assert PLAIN_WEEKS.add_working_days(sunday, 15) == date(2025, 3, 28)
    # Filed on a Monday: three full weeks.
    assert PLAIN_WEEKS.add_working_days(date(2025, 3, 10), 15) == date(2025, 3, 31)


def test_public_holidays_and_make_up_working_days_count_as_the_state_council_set_them() -> None:
    national = WorkCalendar()

    # Filed on Friday 26 September 2025: Sunday 28 September is a working day (调休), 1–8 October
    # are holidays, Saturday 11 October is a working day again.
    due = national.add_working_days(date(2025, 9, 26), 15)

    assert due == date(2025, 10, 23)
    assert not national.is_working_day(date(2025, 10, 1))
    assert national.is_working_day(date(2025, 9, 28))
    assert national.is_working_day(date(2025, 10, 11))
    assert date(2026, 2, 17) in NATIONAL_HOLIDAYS  # 春节 2026


def test_the_operator_adds_holidays_and_working_days_in_the_settings() -> None:
    calendar = WorkCalendar.from_settings(
        {"privacy_holidays": ["2027-03-08"], "privacy_workdays": ["2027-03-06"]}
    )

    assert not calendar.is_working_day(date(2027, 3, 8))  # a Monday made a holiday
    assert calendar.is_working_day(date(2027, 3, 6))  # a Saturday made a working day


def test_remaining_days_count_down_and_go_negative_when_overdue() -> None:
    due = date(2025, 3, 28)  # a Friday

    assert PLAIN_WEEKS.working_days_between(date(2025, 3, 21), due) == 5
    assert PLAIN_WEEKS.working_days_between(due, due) == 0
    assert PLAIN_WEEKS.working_days_between(date(2025, 3, 29), due) == 0  # the Saturday after
    assert PLAIN_WEEKS.working_days_between(date(2025, 4, 1), due) == -2  # Monday and Tuesday


# Filing and handling ----------------------------------------------------------------------------
async def test_person_files_a_request_and_the_admin_handles_it_with_the_deadline_on_both_sides(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context, make_client, "申请单位")
    person = await add_person(context, make_client, org, "张申请")

    filed = await person.post(
        "/privacy/requests", {"kind": "correction", "details": "我的办公电话应为 010-88886666"}
    )

    assert filed.status_code == 201, filed.text
    request = filed.json()
    expected_due = WorkCalendar().add_working_days(local_date(utcnow()), 15)
    assert request["status"] == "open"
    assert request["organization_name"] == "申请单位"
    assert request["deadline"] == {
        "due_on": expected_due.isoformat(),
        "working_days_left": 15,
        "overdue": False,
    }
    assert [event["kind"] for event in request["events"]] == ["filed"]

    tracker = await org.admin.get("/privacy/admin/requests")
    assert tracker.status_code == 200, tracker.text
    [seen] = tracker.json()
    assert seen["id"] == request["id"]
    assert seen["requester_name"] == "张申请"
    assert seen["membership_id"] == person.membership_id
    assert seen["details"] == "我的办公电话应为 010-88886666"
    assert seen["deadline"]["due_on"] == expected_due.isoformat()

    started = await org.admin.post(
        f"/privacy/admin/requests/{request['id']}/status", {"status": "in_progress"}
    )
    assert started.status_code == 200, started.text
    replied = await org.admin.post(
        f"/privacy/admin/requests/{request['id']}/replies", {"text": "已核实，正在更正"}
    )
    assert replied.status_code == 200, replied.text
    done = await org.admin.post(
        f"/privacy/admin/requests/{request['id']}/status", {"status": "done", "note": "办公电话已更正"}
    )
    assert done.status_code == 200, done.text

    mine = (await person.get("/privacy/requests")).json()
    [handled] = mine
    assert handled["status"] == "done"
    assert handled["resolution"] == "办公电话已更正"
    assert handled["closed_at"] is not None
    assert [(event["kind"], event["status"], event["from_organization"]) for event in handled["events"]] == [
        ("filed", None, False),
        ("status", "in_progress", True),
        ("reply", None, True),
        ("status", "done", True),
    ]
    assert handled["events"][2]["text"] == "已核实，正在更正"
    # The person was told of each change: in the app, and by SMS (which names no detail).
    notices = (await person.get("/privacy/request-notices")).json()
    assert sorted(notice["event_kind"] for notice in notices) == ["reply", "status", "status"]
    assert all(notice["read_at"] is None for notice in notices)
    texts = [
        message.text
        for message in read_outbox(context.settings.outbox_path)
        if message.template == "privacy_request_updated"
    ]
    assert len(texts) == 3
    assert all("办公电话" not in text for text in texts)
    read = await person.post("/privacy/request-notices/read")
    assert read.status_code == 204
    assert all(notice["read_at"] for notice in (await person.get("/privacy/request-notices")).json())

    # A closed request stays closed.
    again = await org.admin.post(
        f"/privacy/admin/requests/{request['id']}/status", {"status": "refused", "note": "x"}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "privacy.rights.request_closed"
    async with context.db.transaction() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_id == request["id"])
                .order_by(AuditEntry.seq)
            )
        )
    assert actions == [
        "privacy.request_filed",
        "privacy.request_status_changed",
        "privacy.request_answered",
        "privacy.request_status_changed",
    ]


async def test_an_open_request_past_its_deadline_is_flagged_overdue_for_both_sides(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context, make_client, "逾期单位")
    person = await add_person(context, make_client, org, "李逾期")
    open_one = (
        await person.post("/privacy/requests", {"kind": "deletion", "details": "请删除我的工号"})
    ).json()
    closed_one = (await person.post("/privacy/requests", {"kind": "access", "details": "查阅"})).json()
    await org.admin.post(
        f"/privacy/admin/requests/{closed_one['id']}/status", {"status": "done", "note": "已提供"}
    )

    # Time passes beyond the deadline (moving the due date back stays inside the sessions' life).
    async with context.db.transaction() as session:
        for request_id in (open_one["id"], closed_one["id"]):
            request = await session.get(PrivacyRequest, request_id)
            assert request is not None
            request.due_on = local_date(utcnow()) - timedelta(days=7)

    tracker = {item["id"]: item for item in (await org.admin.get("/privacy/admin/requests")).json()}
    mine = {item["id"]: item for item in (await person.get("/privacy/requests")).json()}
    for view in (tracker, mine):
        assert view[open_one["id"]]["deadline"]["overdue"] is True
        assert view[open_one["id"]]["deadline"]["working_days_left"] < 0
        assert view[closed_one["id"]]["deadline"]["overdue"] is False  # done in time: never overdue
    assert list(tracker) == [open_one["id"], closed_one["id"]]  # open ones first


async def test_a_refusal_needs_a_reason_and_the_person_can_withdraw(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context, make_client, "拒绝单位")
    person = await add_person(context, make_client, org, "王拒绝")
    first = (await person.post("/privacy/requests", {"kind": "deletion", "details": "删除全部"})).json()
    second = (await person.post("/privacy/requests", {"kind": "copy", "details": "复制"})).json()

    silent = await org.admin.post(f"/privacy/admin/requests/{first['id']}/status", {"status": "refused"})
    assert silent.status_code == 422
    assert silent.json()["code"] == "privacy.rights.reason_required"
    refused = await org.admin.post(
        f"/privacy/admin/requests/{first['id']}/status", {"status": "refused", "note": "考勤记录依法保存"}
    )
    assert refused.status_code == 200
    assert refused.json()["resolution"] == "考勤记录依法保存"

    withdrawn = await person.post(f"/privacy/requests/{second['id']}/withdraw")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    late_reply = await org.admin.post(f"/privacy/admin/requests/{second['id']}/replies", {"text": "好的"})
    assert late_reply.status_code == 409


# Who may see what -------------------------------------------------------------------------------
async def _request_state(context: AppContext, request_id: str) -> tuple[str, int]:
    async with context.db.transaction() as session:
        request = await session.get(PrivacyRequest, request_id)
        assert request is not None
        events = await session.scalar(
            select(func.count()).where(PrivacyRequestEvent.request_id == request_id)
        )
        return request.status, int(events or 0)


async def test_another_organisations_admin_cannot_see_or_touch_a_request(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org_a = await open_org(context, make_client, "甲单位")
    org_b = await open_org(context, make_client, "乙单位")
    person = await add_person(context, make_client, org_a, "甲成员")
    colleague = await add_person(context, make_client, org_a, "甲同事")
    request = (await person.post("/privacy/requests", {"kind": "access", "details": "我想查阅记录"})).json()
    before = await _request_state(context, request["id"])

    assert (await org_b.admin.get("/privacy/admin/requests")).json() == []
    for answer in (
        await org_b.admin.get(f"/privacy/admin/requests/{request['id']}"),
        await org_b.admin.post(f"/privacy/admin/requests/{request['id']}/status", {"status": "done"}),
        await org_b.admin.post(f"/privacy/admin/requests/{request['id']}/replies", {"text": "越权"}),
    ):
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "not_found"
    # A colleague is no admin, and never sees another person's requests as their own.
    tracker = await colleague.get("/privacy/admin/requests")
    assert tracker.status_code == 403
    assert tracker.json()["code"] == "org.admin_required"
    assert (await colleague.get("/privacy/requests")).json() == []
    for answer in (
        await colleague.post(f"/privacy/requests/{request['id']}/replies", {"text": "冒充"}),
        await colleague.post(f"/privacy/requests/{request['id']}/withdraw"),
    ):
        assert answer.status_code == 404
    # A person files only with an organisation they belong to.
    foreign = await person.post("/privacy/requests", {"kind": "access", "details": "x", "org_id": org_b.id})
    assert foreign.status_code == 403
    assert foreign.json()["code"] == "privacy.rights.not_your_organization"

    assert await _request_state(context, request["id"]) == before


async def test_a_system_sub_admin_tracks_the_requests_of_members_in_their_departments_only(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context, make_client, "分管单位")
    async with context.db.transaction() as session:
        root = await org_service.root_department(session, org.id)
        office = await org_service.create_department(
            session,
            context,
            org.scope,
            parent_id=root.id,
            name="办公室",
            actor_id=org.admin.account_id,
            ip=IP,
        )
        finance = await org_service.create_department(
            session,
            context,
            org.scope,
            parent_id=root.id,
            name="财务处",
            actor_id=org.admin.account_id,
            ip=IP,
        )
    inside = await add_person(
        context,
        make_client,
        org,
        "办公室成员",
        profile=org_service.MemberProfile(name="办公室成员", seats=[org_service.Seat(office.id)]),
    )
    outside = await add_person(
        context,
        make_client,
        org,
        "财务处成员",
        profile=org_service.MemberProfile(name="财务处成员", seats=[org_service.Seat(finance.id)]),
    )
    sub_admin = await add_person(context, make_client, org, "分管管理员", log_in=False)
    async with context.db.transaction() as session:
        membership = await session.get(Membership, sub_admin.membership_id)
        assert membership is not None
        grant = AdminGrant(duty=AdminDuty.SYSTEM, department_ids=[office.id], functions=["members"])
        await org_service.set_admin_grants(
            session, context, org.scope, membership, [grant], actor_id=org.admin.account_id, ip=IP
        )
    from helpers import login_admin

    await login_admin(sub_admin.http, context, sub_admin.mobile)
    mine = (await inside.post("/privacy/requests", {"kind": "access", "details": "办公室"})).json()
    theirs = (await outside.post("/privacy/requests", {"kind": "access", "details": "财务处"})).json()

    tracked = (await sub_admin.get("/privacy/admin/requests")).json()

    assert [item["id"] for item in tracked] == [mine["id"]]
    refused = await sub_admin.post(f"/privacy/admin/requests/{theirs['id']}/status", {"status": "done"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "org.admin_out_of_scope"
    assert await _request_state(context, theirs["id"]) == ("open", 1)
