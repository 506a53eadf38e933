"""Organisation admin API, members: add by mobile (or link an existing account), edit the
organisation-controlled profile, seats in several departments, remove; and who may."""

from __future__ import annotations

from typing import Any

import pytest
from org_world import (
    API,
    REFUSED,
    MakeClient,
    Org,
    audit_actions,
    client_of,
    database_state,
    main_admin,
    open_org,
    sub_admin,
)
from sqlalchemy import func, select

from helpers import csrf_headers, login, next_mobile
from zhengtong.core.context import AppContext
from zhengtong.directory.models import MemberSearchToken
from zhengtong.identity.models import Account, AuthSession
from zhengtong.org.models import MemberDepartment, MemberRoleLink, Membership
from zhengtong.platform.audit import AuditEntry


async def count(context: AppContext, model: Any, *conditions: Any) -> int:
    async with context.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


async def membership(context: AppContext, membership_id: str) -> Membership | None:
    async with context.db.transaction() as session:
        return await session.get(Membership, membership_id)


def member_request(action: str, org: Org) -> tuple[str, str, dict[str, Any] | None]:
    return {
        "add": (
            "POST",
            f"{API}/members",
            {"mobile": "13700000099", "name": "新成员", "seats": [{"department_id": org.section_id}]},
        ),
        "read": ("GET", f"{API}/members/{org.clerk_id}", None),
        "edit": ("PATCH", f"{API}/members/{org.clerk_id}", {"title": "副科长"}),
        "remove": ("DELETE", f"{API}/members/{org.clerk_id}", None),
        "list_department": ("GET", f"{API}/members?department_id={org.section_id}", None),
    }[action]


# Who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", REFUSED)
@pytest.mark.parametrize("action", ["add", "read", "edit", "remove", "list_department"])
async def test_refused_member_request_changes_nothing(
    action: str, actor: str, context: AppContext, make_client: MakeClient
) -> None:
    # given 李科员 in 综合科 (in 办公室)
    org = await open_org(context)
    http = await client_of(actor, context, make_client, org)
    method, path, body = member_request(action, org)
    before = await database_state(context)

    # when
    answer = await http.request(method, path, json=body, headers=csrf_headers(http))

    # then
    assert (answer.status_code, answer.json()["code"]) == REFUSED[actor]
    assert await database_state(context) == before


@pytest.mark.parametrize(
    "actor", ["anonymous", "member", "security_admin", "audit_admin", "roles_only_admin"]
)
async def test_member_list_refused(actor: str, context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    http = await client_of(actor, context, make_client, org)

    answer = await http.get(f"{API}/members")

    assert (answer.status_code, answer.json()["code"]) == REFUSED[actor]


async def test_member_list_of_another_organisations_admin_holds_only_their_members(
    context: AppContext, make_client: MakeClient
) -> None:
    await open_org(context)
    http = await client_of("other_org_admin", context, make_client, await open_org(context, "乙单位"))

    answer = await http.get(f"{API}/members")

    assert answer.status_code == 200
    assert answer.json()["total"] == 2
    assert sorted(m["name"] for m in answer.json()["items"]) == ["李科员", "王主管"]


async def test_scoped_admin_lists_only_members_of_their_subtree(
    context: AppContext, make_client: MakeClient
) -> None:
    # given an admin of 办公室 (who sits at the root themself) and a member of 财务处
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    added = await admin.post(
        f"{API}/members",
        json={"mobile": next_mobile(), "name": "钱会计", "seats": [{"department_id": org.finance_id}]},
        headers=csrf_headers(admin),
    )
    assert added.status_code == 201
    http = await client_of("office_admin", context, make_client, org)

    # when
    everyone = await http.get(f"{API}/members")
    section = await http.get(f"{API}/members", params={"department_id": org.section_id})
    finance = await http.get(f"{API}/members", params={"department_id": org.finance_id})
    accountant = await http.get(f"{API}/members/{added.json()['id']}")

    # then
    assert everyone.status_code == 200
    assert [m["name"] for m in everyone.json()["items"]] == ["李科员"]
    assert everyone.json()["total"] == 1
    assert [m["name"] for m in section.json()["items"]] == ["李科员"]
    assert (finance.status_code, finance.json()["code"]) == (403, "org.admin_out_of_scope")
    assert (accountant.status_code, accountant.json()["code"]) == (403, "org.admin_out_of_scope")


async def test_scoped_admin_whose_departments_are_gone_manages_nobody(
    context: AppContext, make_client: MakeClient
) -> None:
    # given an admin of 档案组, and then 档案组 (empty) is deleted
    org = await open_org(context)
    http = await sub_admin(
        context, make_client, org, [{"duty": "system", "department_ids": [org.archive_id]}]
    )
    admin = await main_admin(context, make_client, org)
    deleted = await admin.delete(f"{API}/departments/{org.archive_id}", headers=csrf_headers(admin))
    assert deleted.status_code == 204

    # when
    listed = await http.get(f"{API}/members")
    read = await http.get(f"{API}/members/{org.clerk_id}")

    # then
    assert listed.status_code == 200
    assert listed.json() == {"total": 0, "items": []}
    assert (read.status_code, read.json()["code"]) == (403, "org.admin_out_of_scope")


async def test_scoped_admin_cannot_take_a_member_out_of_a_department_outside_their_scope(
    context: AppContext, make_client: MakeClient
) -> None:
    # given 李科员 sits in 综合科 and in 财务处; an admin of 办公室
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    seats = [{"department_id": org.section_id, "title": "科员"}, {"department_id": org.finance_id}]
    seated = await admin.patch(
        f"{API}/members/{org.clerk_id}", json={"seats": seats}, headers=csrf_headers(admin)
    )
    assert seated.status_code == 200
    http = await client_of("office_admin", context, make_client, org)
    before = await database_state(context)

    # when the 办公室 admin leaves only the 综合科 seat
    answer = await http.patch(
        f"{API}/members/{org.clerk_id}",
        json={"seats": [{"department_id": org.section_id, "title": "副科长"}]},
        headers=csrf_headers(http),
    )

    # then
    assert (answer.status_code, answer.json()["code"]) == (403, "org.admin_out_of_scope")
    assert await database_state(context) == before


async def test_scoped_admin_edits_seats_inside_their_scope_and_keeps_the_others(
    context: AppContext, make_client: MakeClient
) -> None:
    # given 李科员 sits in 综合科 and in 财务处; an admin of 办公室
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    seats = [{"department_id": org.section_id, "title": "科员"}, {"department_id": org.finance_id}]
    seated = await admin.patch(
        f"{API}/members/{org.clerk_id}", json={"seats": seats}, headers=csrf_headers(admin)
    )
    assert seated.status_code == 200
    http = await client_of("office_admin", context, make_client, org)

    # when the 办公室 admin moves the 综合科 seat to 档案组 and keeps 财务处 as it was
    answer = await http.patch(
        f"{API}/members/{org.clerk_id}",
        json={"seats": [{"department_id": org.archive_id, "title": "组长", "is_head": True}, seats[1]]},
        headers=csrf_headers(http),
    )

    # then
    assert answer.status_code == 200, answer.text
    assert answer.json()["seats"] == [
        {"department_id": org.archive_id, "title": "组长", "is_head": True},
        {"department_id": org.finance_id, "title": "", "is_head": False},
    ]


# Adding ----------------------------------------------------------------------------------------


async def test_add_member_opens_an_account_that_activates_at_first_login(
    context: AppContext, make_client: MakeClient
) -> None:
    # given
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    accounts_before = await count(context, Account)
    mobile = next_mobile()

    # when: a member with a seat in two departments, head of one
    added = await admin.post(
        f"{API}/members",
        json={
            "mobile": mobile,
            "name": "张三",
            "job_number": "A-001",
            "title": "科长",
            "org_email": "zhangsan@example.gov.cn",
            "office_phone": "010-12345678",
            "work_place": "3 号楼 201",
            "hired_date": "2020-07-01",
            "seats": [
                {"department_id": org.section_id, "title": "科长", "is_head": True},
                {"department_id": org.finance_id, "title": "兼职会计"},
            ],
        },
        headers=csrf_headers(admin),
    )

    # then
    assert added.status_code == 201, added.text
    body = added.json()
    assert body == {
        "id": body["id"],
        "account_id": body["account_id"],
        "name": "张三",
        "mobile_masked": f"{mobile[:3]}****{mobile[-4:]}",
        "role": "member",
        "status": "not_activated",
        "job_number": "A-001",
        "title": "科长",
        "org_email": "zhangsan@example.gov.cn",
        "office_phone": "010-12345678",
        "work_place": "3 号楼 201",
        "hired_date": "2020-07-01",
        "manager_id": None,
        "hide_mobile": False,
        "executive": False,
        "custom_fields": {},
        "seats": [
            {"department_id": org.section_id, "title": "科长", "is_head": True},
            {"department_id": org.finance_id, "title": "兼职会计", "is_head": False},
        ],
        "created_at": body["created_at"],
        "activated_at": None,
    }
    assert await count(context, Account) == accounts_before + 1
    assert await count(context, MemberSearchToken, MemberSearchToken.membership_id == body["id"]) > 0
    assert (await audit_actions(context, org.id))[-1] == "org.member_added"
    waiting = await admin.get(f"{API}/members", params={"status": "not_activated"})
    assert sorted(m["name"] for m in waiting.json()["items"]) == ["张三", "李科员"]

    # when they log in for the first time
    await login(make_client(), context, mobile)

    # then
    after = (await admin.get(f"{API}/members/{body['id']}")).json()
    assert after["status"] == "active" and after["activated_at"] is not None
    assert (await admin.get(f"{API}/members", params={"status": "not_activated"})).json()["total"] == 1


async def test_add_member_without_seats_sits_at_the_root(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)

    added = await admin.post(
        f"{API}/members", json={"mobile": next_mobile(), "name": "赵六"}, headers=csrf_headers(admin)
    )

    assert added.status_code == 201
    assert added.json()["seats"] == [{"department_id": org.root_id, "title": "", "is_head": False}]


async def test_add_member_of_another_organisation_links_their_account(
    context: AppContext, make_client: MakeClient
) -> None:
    # given 李科员 of 甲单位
    first = await open_org(context, "甲单位")
    second = await open_org(context, "乙单位")
    admin = await main_admin(context, make_client, second)
    accounts_before = await count(context, Account)
    original = await membership(context, first.clerk_id)
    assert original is not None

    # when 乙单位 adds the same number (written another way)
    added = await admin.post(
        f"{API}/members",
        json={"mobile": f"+86 {first.clerk_mobile}", "name": "李科员(乙)"},
        headers=csrf_headers(admin),
    )

    # then one account, two memberships
    assert added.status_code == 201
    assert added.json()["account_id"] == original.account_id
    assert await count(context, Account) == accounts_before
    assert await count(context, Membership, Membership.account_id == original.account_id) == 2
    unchanged = await membership(context, first.clerk_id)
    assert unchanged is not None and unchanged.name == "李科员"


async def test_adding_a_member_twice_is_refused(context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    again = await admin.post(
        f"{API}/members", json={"mobile": org.clerk_mobile, "name": "李科员"}, headers=csrf_headers(admin)
    )

    assert (again.status_code, again.json()["code"]) == (409, "org.member_exists")
    assert await database_state(context) == before


async def test_job_numbers_are_unique_in_an_organisation(
    context: AppContext, make_client: MakeClient
) -> None:
    # given 李科员 holds A-001
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    numbered = await admin.patch(
        f"{API}/members/{org.clerk_id}", json={"job_number": "A-001"}, headers=csrf_headers(admin)
    )
    assert numbered.status_code == 200
    other = await admin.post(
        f"{API}/members",
        json={"mobile": next_mobile(), "name": "周七", "job_number": "B-002"},
        headers=csrf_headers(admin),
    )
    assert other.status_code == 201
    before = await database_state(context)

    # when
    added = await admin.post(
        f"{API}/members",
        json={"mobile": next_mobile(), "name": "吴八", "job_number": "A-001"},
        headers=csrf_headers(admin),
    )
    edited = await admin.patch(
        f"{API}/members/{other.json()['id']}", json={"job_number": "A-001"}, headers=csrf_headers(admin)
    )
    kept = await admin.patch(
        f"{API}/members/{org.clerk_id}", json={"job_number": "A-001"}, headers=csrf_headers(admin)
    )

    # then
    for answer in (added, edited):
        assert (answer.status_code, answer.json()["code"]) == (409, "org.job_number_taken")
    assert kept.status_code == 200  # one's own number is no clash
    after = await database_state(context)
    assert after["memberships"] == before["memberships"]
    assert len(after["audit_log"]) == len(before["audit_log"]) + 1  # the harmless re-save only


async def test_another_organisation_may_use_the_same_job_number(
    context: AppContext, make_client: MakeClient
) -> None:
    first = await open_org(context, "甲单位")
    second = await open_org(context, "乙单位")
    for org in (first, second):
        admin = await main_admin(context, make_client, org)
        answer = await admin.patch(
            f"{API}/members/{org.clerk_id}", json={"job_number": "A-001"}, headers=csrf_headers(admin)
        )
        assert answer.status_code == 200


async def test_manager_of_another_organisation_is_not_found(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    stranger = await open_org(context, "乙单位")
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    answer = await admin.patch(
        f"{API}/members/{org.clerk_id}", json={"manager_id": stranger.clerk_id}, headers=csrf_headers(admin)
    )

    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert await database_state(context) == before


async def test_seat_in_another_organisations_department_is_not_found(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    stranger = await open_org(context, "乙单位")
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    added = await admin.post(
        f"{API}/members",
        json={"mobile": next_mobile(), "name": "孙九", "seats": [{"department_id": stranger.section_id}]},
        headers=csrf_headers(admin),
    )

    assert (added.status_code, added.json()["code"]) == (404, "not_found")
    assert await database_state(context) == before


# Editing ---------------------------------------------------------------------------------------


async def test_edit_the_profile_the_organisation_controls(
    context: AppContext, make_client: MakeClient
) -> None:
    # given
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    defined = await admin.post(
        f"{API}/custom-fields", json={"key": "rank", "label": "职级"}, headers=csrf_headers(admin)
    )
    assert defined.status_code == 201

    # when
    answer = await admin.patch(
        f"{API}/members/{org.clerk_id}",
        json={
            "name": "李文书",
            "job_number": "C-100",
            "title": "文书",
            "org_email": "li@example.gov.cn",
            "office_phone": "010-87654321",
            "work_place": "1 号楼 101",
            "hired_date": "2019-03-15",
            "manager_id": org.admin_id,
            "hide_mobile": True,
            "executive": True,
            "custom_fields": {"rank": "一级科员"},
            "seats": [{"department_id": org.archive_id, "title": "档案员", "is_head": True}],
        },
        headers=csrf_headers(admin),
    )

    # then
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {
        key: body[key] for key in body if key not in ("id", "account_id", "created_at", "mobile_masked")
    } == {
        "name": "李文书",
        "role": "member",
        "status": "not_activated",
        "job_number": "C-100",
        "title": "文书",
        "org_email": "li@example.gov.cn",
        "office_phone": "010-87654321",
        "work_place": "1 号楼 101",
        "hired_date": "2019-03-15",
        "manager_id": org.admin_id,
        "hide_mobile": True,
        "executive": True,
        "custom_fields": {"rank": "一级科员"},
        "seats": [{"department_id": org.archive_id, "title": "档案员", "is_head": True}],
        "activated_at": None,
    }
    async with context.db.transaction() as session:
        seats = await session.execute(
            select(MemberDepartment.department_id).where(MemberDepartment.membership_id == org.clerk_id)
        )
        tokens = set(
            (
                await session.execute(
                    select(MemberSearchToken.token).where(MemberSearchToken.membership_id == org.clerk_id)
                )
            ).scalars()
        )
        entry = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.scope == org.id).order_by(AuditEntry.seq.desc()).limit(1)
            )
        ).scalar_one()
    assert list(seats.scalars()) == [org.archive_id]
    assert {"李文书", "文书", "liwenshu", "lws", "c-100"} <= tokens
    assert "李科员" not in tokens and "likeyuan" not in tokens
    assert (entry.action, entry.object_id) == ("org.member_updated", org.clerk_id)
    assert entry.detail == {
        "fields": sorted(
            [
                "name",
                "job_number",
                "title",
                "org_email",
                "office_phone",
                "work_place",
                "hired_date",
                "manager_id",
                "hide_mobile",
                "executive",
                "custom_fields",
                "seats",
            ]
        )
    }


async def test_an_empty_job_number_clears_it(context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    await admin.patch(
        f"{API}/members/{org.clerk_id}", json={"job_number": "A-1"}, headers=csrf_headers(admin)
    )

    answer = await admin.patch(
        f"{API}/members/{org.clerk_id}", json={"job_number": ""}, headers=csrf_headers(admin)
    )

    assert answer.status_code == 200 and answer.json()["job_number"] is None


async def test_undefined_custom_field_is_refused(context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    answer = await admin.patch(
        f"{API}/members/{org.clerk_id}",
        json={"custom_fields": {"shoe_size": "42"}},
        headers=csrf_headers(admin),
    )

    assert answer.status_code == 422
    assert answer.json()["code"] == "org.unknown_custom_field"
    assert answer.json()["detail"] == {"fields": ["shoe_size"]}
    assert await database_state(context) == before


async def test_list_members_by_name_pinyin_and_department(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)

    by_name = await admin.get(f"{API}/members", params={"q": "科员"})
    by_pinyin = await admin.get(f"{API}/members", params={"q": "likeyuan"})
    by_subtree = await admin.get(f"{API}/members", params={"department_id": org.office_id})
    by_other = await admin.get(f"{API}/members", params={"department_id": org.finance_id})
    paged = await admin.get(f"{API}/members", params={"limit": 1, "offset": 1})

    assert [m["name"] for m in by_name.json()["items"]] == ["李科员"]
    assert [m["name"] for m in by_pinyin.json()["items"]] == ["李科员"]
    assert [m["name"] for m in by_subtree.json()["items"]] == ["李科员"]
    assert by_other.json() == {"total": 0, "items": []}
    assert paged.json()["total"] == 2 and len(paged.json()["items"]) == 1


# Removing --------------------------------------------------------------------------------------


async def test_remove_member_deletes_their_data_and_their_account(
    context: AppContext, make_client: MakeClient
) -> None:
    # given 李科员, logged in, in no other organisation
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    clerk = make_client()
    await login(clerk, context, org.clerk_mobile)
    clerk_account = (await membership(context, org.clerk_id)).account_id  # type: ignore[union-attr]

    # when
    answer = await admin.delete(f"{API}/members/{org.clerk_id}", headers=csrf_headers(admin))

    # then
    assert answer.status_code == 204
    assert await membership(context, org.clerk_id) is None
    assert await count(context, MemberDepartment, MemberDepartment.membership_id == org.clerk_id) == 0
    assert await count(context, MemberSearchToken, MemberSearchToken.membership_id == org.clerk_id) == 0
    assert await count(context, Account, Account.id == clerk_account) == 0
    assert await count(context, AuthSession, AuthSession.account_id == clerk_account) == 0
    assert (await clerk.get("/api/v1/me")).status_code == 401
    assert (await audit_actions(context, org.id))[-1] == "org.member_removed"


async def test_remove_member_keeps_an_account_other_organisations_still_use(
    context: AppContext, make_client: MakeClient
) -> None:
    # given 李科员 of 甲单位 also belongs to 乙单位 and works in 甲单位 right now
    first = await open_org(context, "甲单位")
    second = await open_org(context, "乙单位")
    second_admin = await main_admin(context, make_client, second)
    linked = await second_admin.post(
        f"{API}/members",
        json={"mobile": first.clerk_mobile, "name": "李科员"},
        headers=csrf_headers(second_admin),
    )
    assert linked.status_code == 201
    clerk = make_client()
    await login(clerk, context, first.clerk_mobile)
    switched = await clerk.put(
        "/api/v1/me/current-org", json={"org_id": first.id}, headers=csrf_headers(clerk)
    )
    assert switched.status_code == 200
    admin = await main_admin(context, make_client, first)

    # when 甲单位 removes them
    answer = await admin.delete(f"{API}/members/{first.clerk_id}", headers=csrf_headers(admin))

    # then the account and the 乙单位 membership stay; the session no longer works in 甲单位
    assert answer.status_code == 204
    assert await membership(context, first.clerk_id) is None
    assert await membership(context, linked.json()["id"]) is not None
    assert await count(context, Account, Account.id == linked.json()["account_id"]) == 1
    tree = await clerk.get("/api/v1/directory/tree")
    assert (tree.status_code, tree.json()["code"]) == (400, "org.no_current_org")
    me = (await clerk.get("/api/v1/me")).json()
    assert me["current_org_id"] is None
    assert [o["name"] for o in me["organizations"]] == ["乙单位"]
    back = await clerk.put("/api/v1/me/current-org", json={"org_id": first.id}, headers=csrf_headers(clerk))
    assert (back.status_code, back.json()["code"]) == (403, "org.not_a_member")


async def test_the_last_main_admin_cannot_be_removed(context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    answer = await admin.delete(f"{API}/members/{org.admin_id}", headers=csrf_headers(admin))

    assert (answer.status_code, answer.json()["code"]) == (409, "org.last_main_admin")
    assert await database_state(context) == before


async def test_removing_a_manager_leaves_their_reports_without_one(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    manager = await admin.post(
        f"{API}/members", json={"mobile": next_mobile(), "name": "刘处长"}, headers=csrf_headers(admin)
    )
    await admin.patch(
        f"{API}/members/{org.clerk_id}",
        json={"manager_id": manager.json()["id"]},
        headers=csrf_headers(admin),
    )

    answer = await admin.delete(f"{API}/members/{manager.json()['id']}", headers=csrf_headers(admin))

    assert answer.status_code == 204
    assert (await admin.get(f"{API}/members/{org.clerk_id}")).json()["manager_id"] is None


# Roles and custom fields -----------------------------------------------------------------------


async def test_roles_are_created_and_given_under_the_roles_function(
    context: AppContext, make_client: MakeClient
) -> None:
    # given an admin limited to roles
    org = await open_org(context)
    http = await client_of("roles_only_admin", context, make_client, org)

    # when
    created = await http.post(
        f"{API}/roles", json={"name": "值班员", "group_name": "值班"}, headers=csrf_headers(http)
    )
    given = await http.put(
        f"{API}/members/{org.clerk_id}/roles",
        json={"role_ids": [created.json()["id"]]},
        headers=csrf_headers(http),
    )
    again = await http.post(f"{API}/roles", json={"name": "值班员"}, headers=csrf_headers(http))

    # then
    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], "name": "值班员", "group_name": "值班"}
    assert given.status_code == 204
    assert (await http.get(f"{API}/roles")).json() == [created.json()]
    assert (again.status_code, again.json()["code"]) == (409, "org.role_name_taken")
    async with context.db.transaction() as session:
        links = (
            (
                await session.execute(
                    select(MemberRoleLink.role_id).where(MemberRoleLink.membership_id == org.clerk_id)
                )
            )
            .scalars()
            .all()
        )
    assert links == [created.json()["id"]]


async def test_role_of_another_organisation_is_not_found(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    stranger = await open_org(context, "乙单位")
    stranger_admin = await main_admin(context, make_client, stranger)
    foreign = await stranger_admin.post(
        f"{API}/roles", json={"name": "财务"}, headers=csrf_headers(stranger_admin)
    )
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    answer = await admin.put(
        f"{API}/members/{org.clerk_id}/roles",
        json={"role_ids": [foreign.json()["id"]]},
        headers=csrf_headers(admin),
    )

    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert await database_state(context) == before


@pytest.mark.parametrize(
    "actor", ["anonymous", "member", "security_admin", "audit_admin", "members_only_admin"]
)
async def test_roles_refused(actor: str, context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    http = await client_of(actor, context, make_client, org)
    before = await database_state(context)

    created = await http.post(f"{API}/roles", json={"name": "值班员"}, headers=csrf_headers(http))
    given = await http.put(
        f"{API}/members/{org.clerk_id}/roles", json={"role_ids": []}, headers=csrf_headers(http)
    )

    expected = REFUSED.get(actor, (403, "org.admin_required"))
    assert (created.status_code, created.json()["code"]) == expected
    assert (given.status_code, given.json()["code"]) == expected
    assert await database_state(context) == before


async def test_custom_fields_are_defined_once(context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)

    defined = await admin.post(
        f"{API}/custom-fields", json={"key": "rank", "label": "职级"}, headers=csrf_headers(admin)
    )
    again = await admin.post(
        f"{API}/custom-fields", json={"key": "rank", "label": "级别"}, headers=csrf_headers(admin)
    )
    bad_key = await admin.post(
        f"{API}/custom-fields", json={"key": "Rank!", "label": "x"}, headers=csrf_headers(admin)
    )

    assert defined.status_code == 201
    assert defined.json() == {"id": defined.json()["id"], "key": "rank", "label": "职级"}
    assert (again.status_code, again.json()["code"]) == (409, "org.custom_field_taken")
    assert bad_key.status_code == 422
    assert (await admin.get(f"{API}/custom-fields")).json() == [defined.json()]
