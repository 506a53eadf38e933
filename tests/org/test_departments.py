"""Organisation admin API, departments: create, rename, reorder, move, delete; and who may.

Every denied request is checked against a full copy of the tables an admin can change, taken
before the request: a refusal must leave no trace."""

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
)
from sqlalchemy import func, select

from helpers import csrf_headers
from zhengtong.core.context import AppContext
from zhengtong.org.models import Department, VisibilityRule
from zhengtong.platform.audit import AuditEntry


async def department(context: AppContext, department_id: str) -> Department | None:
    async with context.db.transaction() as session:
        return await session.get(Department, department_id)


def department_request(action: str, org: Org) -> tuple[str, str, dict[str, Any] | None]:
    return {
        "create": ("POST", f"{API}/departments", {"parent_id": org.section_id, "name": "新科室"}),
        "rename": ("PATCH", f"{API}/departments/{org.section_id}", {"name": "综合一科"}),
        "reorder": ("PATCH", f"{API}/departments/{org.section_id}", {"sort_order": 5}),
        "move": ("PATCH", f"{API}/departments/{org.section_id}", {"parent_id": org.finance_id}),
        "delete": ("DELETE", f"{API}/departments/{org.archive_id}", None),
    }[action]


# Who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", REFUSED)
@pytest.mark.parametrize("action", ["create", "rename", "reorder", "move", "delete"])
async def test_refused_department_change_changes_nothing(
    action: str, actor: str, context: AppContext, make_client: MakeClient
) -> None:
    # given
    org = await open_org(context)
    http = await client_of(actor, context, make_client, org)
    method, path, body = department_request(action, org)
    before = await database_state(context)

    # when
    answer = await http.request(method, path, json=body, headers=csrf_headers(http))

    # then
    assert (answer.status_code, answer.json()["code"]) == REFUSED[actor]
    assert await database_state(context) == before


@pytest.mark.parametrize(
    "actor", ["anonymous", "member", "security_admin", "audit_admin", "roles_only_admin"]
)
async def test_department_list_refused(actor: str, context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    http = await client_of(actor, context, make_client, org)

    answer = await http.get(f"{API}/departments")

    assert (answer.status_code, answer.json()["code"]) == REFUSED[actor]


async def test_department_list_of_another_organisation_admin_shows_only_their_own(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    http = await client_of("other_org_admin", context, make_client, org)

    answer = await http.get(f"{API}/departments")

    assert answer.status_code == 200
    assert sorted(d["name"] for d in answer.json()) == sorted(
        ["另一单位", "办公室", "综合科", "档案组", "财务处"]
    )
    assert not {org.root_id, org.office_id, org.section_id, org.finance_id} & {d["id"] for d in answer.json()}


async def test_scoped_admin_cannot_move_a_department_out_of_their_scope(
    context: AppContext, make_client: MakeClient
) -> None:
    # given an admin of 办公室
    org = await open_org(context)
    http = await client_of("office_admin", context, make_client, org)
    before = await database_state(context)

    # when they move 综合科 under 财务处, or create a department there
    moved = await http.patch(
        f"{API}/departments/{org.section_id}", json={"parent_id": org.finance_id}, headers=csrf_headers(http)
    )
    created = await http.post(
        f"{API}/departments", json={"parent_id": org.finance_id, "name": "预算科"}, headers=csrf_headers(http)
    )

    # then
    assert (moved.status_code, moved.json()["code"]) == (403, "org.admin_out_of_scope")
    assert (created.status_code, created.json()["code"]) == (403, "org.admin_out_of_scope")
    assert await database_state(context) == before


async def test_scoped_admin_manages_departments_inside_their_scope(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    http = await client_of("office_admin", context, make_client, org)

    created = await http.post(
        f"{API}/departments", json={"parent_id": org.section_id, "name": "文印组"}, headers=csrf_headers(http)
    )
    moved = await http.patch(
        f"{API}/departments/{org.archive_id}", json={"parent_id": org.office_id}, headers=csrf_headers(http)
    )
    deleted = await http.delete(f"{API}/departments/{created.json()['id']}", headers=csrf_headers(http))

    assert created.status_code == 201
    assert moved.status_code == 200 and moved.json()["parent_id"] == org.office_id
    assert deleted.status_code == 204
    assert await department(context, created.json()["id"]) is None


# What it does ------------------------------------------------------------------------------------


async def test_create_department(context: AppContext, make_client: MakeClient) -> None:
    # given
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)

    # when
    answer = await admin.post(
        f"{API}/departments",
        json={"parent_id": org.section_id, "name": "文印组", "sort_order": 3},
        headers=csrf_headers(admin),
    )

    # then
    assert answer.status_code == 201
    body = answer.json()
    assert body == {
        "id": body["id"],
        "parent_id": org.section_id,
        "name": "文印组",
        "sort_order": 3,
        "hidden": False,
        "hidden_whitelist": {},
    }
    stored = await department(context, body["id"])
    assert stored is not None
    assert stored.path == f"/{org.root_id}/{org.office_id}/{org.section_id}/{body['id']}/"
    assert (await audit_actions(context, org.id))[-1] == "org.department_created"


async def test_sibling_names_must_differ(context: AppContext, make_client: MakeClient) -> None:
    # given a second 档案组 under 办公室 (the first is under 综合科: not a sibling, so allowed)
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    second = await admin.post(
        f"{API}/departments", json={"parent_id": org.office_id, "name": "档案组"}, headers=csrf_headers(admin)
    )
    assert second.status_code == 201
    before = await database_state(context)

    # when
    created = await admin.post(
        f"{API}/departments", json={"parent_id": org.root_id, "name": "财务处"}, headers=csrf_headers(admin)
    )
    renamed = await admin.patch(
        f"{API}/departments/{org.office_id}", json={"name": "财务处"}, headers=csrf_headers(admin)
    )
    moved = await admin.patch(
        f"{API}/departments/{org.archive_id}", json={"parent_id": org.office_id}, headers=csrf_headers(admin)
    )

    # then
    for answer in (created, renamed, moved):
        assert (answer.status_code, answer.json()["code"]) == (409, "org.department_name_taken")
    assert await database_state(context) == before


async def test_rename_and_reorder(context: AppContext, make_client: MakeClient) -> None:
    # given
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)

    # when
    renamed = await admin.patch(
        f"{API}/departments/{org.office_id}",
        json={"name": "党政办公室", "sort_order": 9},
        headers=csrf_headers(admin),
    )
    reordered = await admin.patch(
        f"{API}/departments/{org.finance_id}", json={"sort_order": -1}, headers=csrf_headers(admin)
    )

    # then
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["sort_order"]) == ("党政办公室", 9)
    assert reordered.status_code == 200 and reordered.json()["sort_order"] == -1
    listed = [d["name"] for d in (await admin.get(f"{API}/departments")).json()]
    assert (listed[0], listed[-1]) == ("财务处", "党政办公室")
    assert (await audit_actions(context, org.id))[-2:] == ["org.department_updated", "org.department_updated"]
    async with context.db.transaction() as session:
        entry = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.scope == org.id).order_by(AuditEntry.seq)
                )
            )
            .scalars()
            .all()[-2]
        )
    assert (entry.object_id, entry.detail) == (org.office_id, {"fields": ["name", "sort_order"]})


async def test_move_rewrites_the_paths_of_the_whole_subtree(
    context: AppContext, make_client: MakeClient
) -> None:
    # given 办公室 ─ 综合科 ─ 档案组
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)

    # when 办公室 moves under 财务处
    answer = await admin.patch(
        f"{API}/departments/{org.office_id}", json={"parent_id": org.finance_id}, headers=csrf_headers(admin)
    )

    # then
    assert answer.status_code == 200 and answer.json()["parent_id"] == org.finance_id
    office = await department(context, org.office_id)
    section = await department(context, org.section_id)
    archive = await department(context, org.archive_id)
    assert office is not None and section is not None and archive is not None
    prefix = f"/{org.root_id}/{org.finance_id}/{org.office_id}/"
    assert office.path == prefix
    assert section.path == f"{prefix}{org.section_id}/"
    assert archive.path == f"{prefix}{org.section_id}/{org.archive_id}/"
    assert section.parent_id == org.office_id and archive.parent_id == org.section_id


async def test_a_department_cannot_move_under_itself_or_its_descendants(
    context: AppContext, make_client: MakeClient
) -> None:
    # given
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    # when
    answers = [
        await admin.patch(
            f"{API}/departments/{org.office_id}", json={"parent_id": target}, headers=csrf_headers(admin)
        )
        for target in (org.office_id, org.section_id, org.archive_id)
    ]

    # then
    for answer in answers:
        assert (answer.status_code, answer.json()["code"]) == (409, "org.department_cycle")
    assert await database_state(context) == before


async def test_the_root_cannot_be_moved_or_deleted(context: AppContext, make_client: MakeClient) -> None:
    # given
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    # when
    moved = await admin.patch(
        f"{API}/departments/{org.root_id}", json={"parent_id": org.finance_id}, headers=csrf_headers(admin)
    )
    deleted = await admin.delete(f"{API}/departments/{org.root_id}", headers=csrf_headers(admin))

    # then
    assert (moved.status_code, moved.json()["code"]) == (400, "org.root_department")
    assert (deleted.status_code, deleted.json()["code"]) == (400, "org.root_department")
    assert await database_state(context) == before


async def test_only_an_empty_department_can_be_deleted(context: AppContext, make_client: MakeClient) -> None:
    # given 办公室 has a sub-department, 综合科 a member (and a sub-department), 档案组 nothing
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    moved = await admin.patch(
        f"{API}/departments/{org.archive_id}", json={"parent_id": org.office_id}, headers=csrf_headers(admin)
    )
    assert moved.status_code == 200
    before = await database_state(context)

    # when
    with_children = await admin.delete(f"{API}/departments/{org.office_id}", headers=csrf_headers(admin))
    with_members = await admin.delete(f"{API}/departments/{org.section_id}", headers=csrf_headers(admin))

    # then
    for answer in (with_children, with_members):
        assert (answer.status_code, answer.json()["code"]) == (409, "org.department_not_empty")
    assert await database_state(context) == before

    # when the empty one goes
    deleted = await admin.delete(f"{API}/departments/{org.archive_id}", headers=csrf_headers(admin))

    # then
    assert deleted.status_code == 204
    assert await department(context, org.archive_id) is None
    assert (await audit_actions(context, org.id))[-1] == "org.department_deleted"


async def test_deleting_a_department_deletes_its_visibility_rule(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    ruled = await admin.put(
        f"{API}/visibility-rules/{org.archive_id}", json={"mode": "self"}, headers=csrf_headers(admin)
    )
    assert ruled.status_code == 200

    deleted = await admin.delete(f"{API}/departments/{org.archive_id}", headers=csrf_headers(admin))

    assert deleted.status_code == 204
    async with context.db.transaction() as session:
        count = await session.scalar(select(func.count()).select_from(VisibilityRule))
    assert count == 0


async def test_unknown_department_is_not_found(context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    renamed = await admin.patch(
        f"{API}/departments/01UNKNOWN", json={"name": "x"}, headers=csrf_headers(admin)
    )
    created = await admin.post(
        f"{API}/departments", json={"parent_id": "01UNKNOWN", "name": "x"}, headers=csrf_headers(admin)
    )
    moved = await admin.patch(
        f"{API}/departments/{org.section_id}", json={"parent_id": "01UNKNOWN"}, headers=csrf_headers(admin)
    )

    for answer in (renamed, created, moved):
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert await database_state(context) == before
