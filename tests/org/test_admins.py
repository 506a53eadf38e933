"""Admins (三员分立): the main admin hands out system, security and audit duties, each within
department subtrees and chosen functions; the security duty owns visibility rules, hidden
departments and the directory settings; the audit admin reads the audit log and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from org_world import (
    API,
    MakeClient,
    Org,
    audit_actions,
    client_of,
    database_state,
    main_admin,
    open_org,
    sub_admin,
)
from sqlalchemy import select, update

from helpers import csrf_headers, login_admin, next_mobile
from zhengtong.core.context import AppContext
from zhengtong.org.models import AdminGrant, Department, Membership
from zhengtong.platform.audit import AuditEntry

ADMIN_REQUIRED = (403, "org.admin_required")
OUT_OF_SCOPE = (403, "org.admin_out_of_scope")
NOT_FOUND = (404, "not_found")

# Refused everywhere below.
ALWAYS_REFUSED = {
    "anonymous": (401, "auth.required"),
    "member": ADMIN_REQUIRED,
    "system_admin": ADMIN_REQUIRED,
    "audit_admin": ADMIN_REQUIRED,
}
# Security-duty requests about 综合科 (in 办公室) or its member 李科员, and who else is refused.
SECURITY_REFUSED = [
    *(
        (action, actor, expected)
        for action in ("grant", "set_rule", "delete_rule", "hide", "settings")
        for actor, expected in ALWAYS_REFUSED.items()
    ),
    ("grant", "visibility_only_admin", ADMIN_REQUIRED),
    ("grant", "finance_security_admin", OUT_OF_SCOPE),
    ("grant", "other_org_admin", NOT_FOUND),
    ("set_rule", "admins_only_admin", ADMIN_REQUIRED),
    ("set_rule", "finance_security_admin", OUT_OF_SCOPE),
    ("set_rule", "other_org_admin", NOT_FOUND),
    ("delete_rule", "admins_only_admin", ADMIN_REQUIRED),
    ("delete_rule", "finance_security_admin", OUT_OF_SCOPE),
    ("delete_rule", "other_org_admin", NOT_FOUND),
    ("hide", "admins_only_admin", ADMIN_REQUIRED),
    ("hide", "finance_security_admin", OUT_OF_SCOPE),
    ("hide", "other_org_admin", NOT_FOUND),
    ("settings", "admins_only_admin", ADMIN_REQUIRED),
    ("settings", "finance_security_admin", OUT_OF_SCOPE),
]


def security_request(action: str, org: Org) -> tuple[str, str, dict[str, Any] | None]:
    return {
        "grant": ("PUT", f"{API}/members/{org.clerk_id}/admin", {"grants": [{"duty": "system"}]}),
        "set_rule": ("PUT", f"{API}/visibility-rules/{org.section_id}", {"mode": "self"}),
        "delete_rule": ("DELETE", f"{API}/visibility-rules/{org.office_id}", None),
        "hide": ("PATCH", f"{API}/departments/{org.section_id}", {"hidden": True}),
        "settings": ("PATCH", f"{API}/settings", {"watermark": True}),
    }[action]


async def set_rule(admin: Any, department_id: str, body: dict[str, Any]) -> None:
    answer = await admin.put(
        f"{API}/visibility-rules/{department_id}", json=body, headers=csrf_headers(admin)
    )
    assert answer.status_code == 200, answer.text


# Who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "actor", "expected"), SECURITY_REFUSED)
async def test_refused_security_request_changes_nothing(
    action: str, actor: str, expected: tuple[int, str], context: AppContext, make_client: MakeClient
) -> None:
    # given a rule on 办公室 (for the request that deletes it)
    org = await open_org(context)
    await set_rule(await main_admin(context, make_client, org), org.office_id, {"mode": "own_departments"})
    http = await client_of(actor, context, make_client, org)
    method, path, body = security_request(action, org)
    before = await database_state(context)

    # when
    answer = await http.request(method, path, json=body, headers=csrf_headers(http))

    # then
    assert (answer.status_code, answer.json()["code"]) == expected
    assert await database_state(context) == before


@pytest.mark.parametrize(
    ("path", "actor"),
    [
        (path, actor)
        for path in ("/admins", "/visibility-rules", "/settings")
        for actor in ("anonymous", "member", "system_admin", "audit_admin")
    ]
    + [("/admins", "visibility_only_admin"), ("/visibility-rules", "admins_only_admin")],
)
async def test_security_reads_refused(
    path: str, actor: str, context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    http = await client_of(actor, context, make_client, org)

    answer = await http.get(f"{API}{path}")

    expected = ALWAYS_REFUSED.get(actor, ADMIN_REQUIRED)
    assert (answer.status_code, answer.json()["code"]) == expected


# Handing out duties ----------------------------------------------------------------------------


async def test_main_admin_grants_and_revokes_duties(context: AppContext, make_client: MakeClient) -> None:
    # given
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    grants = [{"duty": "system", "department_ids": [org.office_id], "functions": ["members", "departments"]}]

    # when
    granted = await admin.put(
        f"{API}/members/{org.clerk_id}/admin", json={"grants": grants}, headers=csrf_headers(admin)
    )

    # then
    assert granted.status_code == 204
    admins = (await admin.get(f"{API}/admins")).json()
    assert sorted(admins, key=lambda a: a["role"]) == [
        {"membership_id": org.clerk_id, "name": "李科员", "role": "admin", "grants": grants},
        {"membership_id": org.admin_id, "name": "王主管", "role": "main_admin", "grants": []},
    ]
    async with context.db.transaction() as session:
        entry = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.scope == org.id).order_by(AuditEntry.seq.desc()).limit(1)
            )
        ).scalar_one()
    assert (entry.action, entry.object_id, entry.detail) == (
        "org.admin_grants_set",
        org.clerk_id,
        {"duties": ["system"]},
    )

    # when the duties are taken away again
    revoked = await admin.put(
        f"{API}/members/{org.clerk_id}/admin", json={"grants": []}, headers=csrf_headers(admin)
    )

    # then
    assert revoked.status_code == 204
    assert [a["membership_id"] for a in (await admin.get(f"{API}/admins")).json()] == [org.admin_id]
    async with context.db.transaction() as session:
        clerk = await session.get(Membership, org.clerk_id)
        left = (
            await session.execute(select(AdminGrant).where(AdminGrant.membership_id == org.clerk_id))
        ).all()
    assert clerk is not None and clerk.role == "member"
    assert left == []


async def test_a_new_admin_must_set_up_two_step_verification(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)

    http = await sub_admin(context, make_client, org, [{"duty": "system"}])  # login_admin asserts the setup

    assert (await http.get(f"{API}/departments")).status_code == 200


async def test_grant_over_another_organisations_department_is_not_found(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    stranger = await open_org(context, "乙单位")
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    answer = await admin.put(
        f"{API}/members/{org.clerk_id}/admin",
        json={"grants": [{"duty": "system", "department_ids": [stranger.office_id]}]},
        headers=csrf_headers(admin),
    )

    assert (answer.status_code, answer.json()["code"]) == NOT_FOUND
    assert await database_state(context) == before


async def test_the_main_admins_duties_cannot_be_replaced(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    answer = await admin.put(
        f"{API}/members/{org.admin_id}/admin",
        json={"grants": [{"duty": "audit"}]},
        headers=csrf_headers(admin),
    )

    assert (answer.status_code, answer.json()["code"]) == (409, "org.main_admin_fixed")
    assert await database_state(context) == before


async def test_one_person_holds_one_duty(context: AppContext, make_client: MakeClient) -> None:
    """三员分立: system, security and audit duties go to different people."""
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    answer = await admin.put(
        f"{API}/members/{org.clerk_id}/admin",
        json={"grants": [{"duty": "system"}, {"duty": "audit"}]},
        headers=csrf_headers(admin),
    )

    assert (answer.status_code, answer.json()["code"]) == (422, "org.duties_separated")
    assert await database_state(context) == before


async def test_a_scoped_security_admin_cannot_hand_out_duties(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    added = await admin.post(
        f"{API}/members",
        json={"mobile": next_mobile(), "name": "钱会计", "seats": [{"department_id": org.finance_id}]},
        headers=csrf_headers(admin),
    )
    http = await client_of("finance_security_admin", context, make_client, org)
    before = await database_state(context)

    answer = await http.put(
        f"{API}/members/{added.json()['id']}/admin",
        json={"grants": [{"duty": "system", "department_ids": [org.finance_id]}]},
        headers=csrf_headers(http),
    )

    assert (answer.status_code, answer.json()["code"]) == OUT_OF_SCOPE
    assert await database_state(context) == before


# The audit duty --------------------------------------------------------------------------------


async def test_main_admin_cannot_read_the_audit_log(context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)

    answer = await admin.get(f"{API}/audit-log")

    assert (answer.status_code, answer.json()["code"]) == ADMIN_REQUIRED


@pytest.mark.parametrize("actor", ["anonymous", "member", "system_admin", "security_admin"])
async def test_only_the_audit_duty_reads_the_audit_log(
    actor: str, context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    http = await client_of(actor, context, make_client, org)

    answer = await http.get(f"{API}/audit-log")

    assert (answer.status_code, answer.json()["code"]) == ALWAYS_REFUSED.get(actor, ADMIN_REQUIRED)


async def test_audit_admin_reads_the_audit_log(context: AppContext, make_client: MakeClient) -> None:
    # given the organisation's history: opened, four departments, a member, the audit admin
    org = await open_org(context)
    http = await client_of("audit_admin", context, make_client, org)
    expected = await audit_actions(context, org.id)

    # when
    page = await http.get(f"{API}/audit-log", params={"limit": 3})
    older = await http.get(f"{API}/audit-log", params={"before_seq": page.json()["items"][-1]["seq"]})

    # then: newest first, in pages, the chain intact
    assert page.status_code == 200
    assert page.json()["chain_ok"] is True and page.json()["first_broken_seq"] is None
    actions = [entry["action"] for entry in page.json()["items"] + older.json()["items"]]
    assert actions == list(reversed(expected))
    assert actions[0] == "org.admin_grants_set"
    assert [entry["seq"] for entry in page.json()["items"]] == [
        len(expected),
        len(expected) - 1,
        len(expected) - 2,
    ]
    assert page.json()["items"][0]["actor_account_id"] == org.admin_account_id


async def test_audit_admin_sees_a_broken_chain(context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    http = await client_of("audit_admin", context, make_client, org)
    async with context.db.transaction() as session:
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.scope == org.id, AuditEntry.seq == 2)
            .values(object_id="01TAMPERED")
        )

    answer = await http.get(f"{API}/audit-log")

    assert answer.status_code == 200
    assert (answer.json()["chain_ok"], answer.json()["first_broken_seq"]) == (False, 2)


async def test_audit_admin_sees_only_their_organisations_log(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    other = await open_org(context, "乙单位")
    http = await client_of("audit_admin", context, make_client, other)

    answer = await http.get(f"{API}/audit-log", params={"limit": 200})

    assert answer.status_code == 200
    object_ids = {entry["object_id"] for entry in answer.json()["items"]}
    assert not object_ids & {org.office_id, org.section_id, org.clerk_id, org.id}
    assert len(answer.json()["items"]) == len(await audit_actions(context, other.id))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/departments", None),
        ("POST", "/departments", {"parent_id": "{root}", "name": "新部门"}),
        ("GET", "/members", None),
        ("POST", "/members", {"mobile": "13700000077", "name": "某人"}),
        ("DELETE", "/members/{clerk}", None),
        ("GET", "/roles", None),
        ("GET", "/custom-fields", None),
        ("GET", "/admins", None),
        ("PUT", "/members/{clerk}/admin", {"grants": [{"duty": "audit"}]}),
        ("GET", "/visibility-rules", None),
        ("PUT", "/visibility-rules/{root}", {"mode": "self"}),
        ("GET", "/settings", None),
        ("PATCH", "/settings", {"watermark": True}),
    ],
)
async def test_audit_admin_can_do_nothing_else(
    method: str, path: str, body: dict[str, Any] | None, context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    http = await client_of("audit_admin", context, make_client, org)
    before = await database_state(context)
    if body and body.get("parent_id") == "{root}":
        body = {**body, "parent_id": org.root_id}

    answer = await http.request(
        method,
        f"{API}{path}".format(root=org.root_id, clerk=org.clerk_id),
        json=body,
        headers=csrf_headers(http),
    )

    assert (answer.status_code, answer.json()["code"]) == ADMIN_REQUIRED
    assert await database_state(context) == before


# The security duty -----------------------------------------------------------------------------


async def test_security_admin_hides_a_department_with_a_whitelist(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    http = await client_of("visibility_only_admin", context, make_client, org)

    answer = await http.patch(
        f"{API}/departments/{org.section_id}",
        json={
            "hidden": True,
            "hidden_whitelist": {"members": [org.admin_id], "departments": [org.finance_id]},
        },
        headers=csrf_headers(http),
    )

    assert answer.status_code == 200, answer.text
    assert (answer.json()["hidden"], answer.json()["hidden_whitelist"]) == (
        True,
        {"members": [org.admin_id], "departments": [org.finance_id]},
    )
    async with context.db.transaction() as session:
        stored = await session.get(Department, org.section_id)
    assert stored is not None and stored.hidden is True


async def test_security_admin_cannot_rename_while_hiding(
    context: AppContext, make_client: MakeClient
) -> None:
    org = await open_org(context)
    http = await client_of("security_admin", context, make_client, org)
    before = await database_state(context)

    answer = await http.patch(
        f"{API}/departments/{org.section_id}",
        json={"hidden": True, "name": "保密科"},
        headers=csrf_headers(http),
    )

    assert (answer.status_code, answer.json()["code"]) == ADMIN_REQUIRED
    assert await database_state(context) == before


async def test_visibility_rules_set_list_replace_and_delete(
    context: AppContext, make_client: MakeClient
) -> None:
    # given
    org = await open_org(context)
    http = await client_of("security_admin", context, make_client, org)

    # when
    created = await http.put(
        f"{API}/visibility-rules/{org.office_id}",
        json={"mode": "listed", "listed_department_ids": [org.finance_id]},
        headers=csrf_headers(http),
    )
    replaced = await http.put(
        f"{API}/visibility-rules/{org.office_id}",
        json={"mode": "own_departments"},
        headers=csrf_headers(http),
    )
    listed = await http.get(f"{API}/visibility-rules")
    deleted = await http.delete(f"{API}/visibility-rules/{org.office_id}", headers=csrf_headers(http))

    # then
    assert created.json() == {
        "department_id": org.office_id,
        "mode": "listed",
        "listed_department_ids": [org.finance_id],
    }
    assert replaced.status_code == 200
    assert listed.json() == [
        {"department_id": org.office_id, "mode": "own_departments", "listed_department_ids": []}
    ]
    assert deleted.status_code == 204
    assert (await http.get(f"{API}/visibility-rules")).json() == []
    assert (await audit_actions(context, org.id))[-3:] == [
        "org.visibility_rule_set",
        "org.visibility_rule_set",
        "org.visibility_rule_deleted",
    ]


async def test_visibility_rule_validation(context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    stranger = await open_org(context, "乙单位")
    admin = await main_admin(context, make_client, org)
    before = await database_state(context)

    bad_mode = await admin.put(
        f"{API}/visibility-rules/{org.office_id}", json={"mode": "everyone"}, headers=csrf_headers(admin)
    )
    foreign_listed = await admin.put(
        f"{API}/visibility-rules/{org.office_id}",
        json={"mode": "listed", "listed_department_ids": [stranger.finance_id]},
        headers=csrf_headers(admin),
    )

    assert bad_mode.status_code == 422
    assert (foreign_listed.status_code, foreign_listed.json()["code"]) == NOT_FOUND
    assert await database_state(context) == before


async def test_directory_settings(context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    http = await client_of("security_admin", context, make_client, org)

    changed = await http.patch(
        f"{API}/settings",
        json={"watermark": True, "hidden_fields": ["mobile", "org_email"]},
        headers=csrf_headers(http),
    )
    partly = await http.patch(f"{API}/settings", json={"watermark": False}, headers=csrf_headers(http))
    unknown = await http.patch(
        f"{API}/settings", json={"hidden_fields": ["salary"]}, headers=csrf_headers(http)
    )

    assert changed.json() == {
        "id": org.id,
        "name": "测试单位",
        "watermark": True,
        "hidden_fields": ["mobile", "org_email"],
    }
    assert (partly.json()["watermark"], partly.json()["hidden_fields"]) == (False, ["mobile", "org_email"])
    assert unknown.status_code == 422
    assert (await http.get(f"{API}/settings")).json() == partly.json()
    assert (await audit_actions(context, org.id))[-2:] == ["org.settings_updated", "org.settings_updated"]


async def test_a_security_admin_cannot_give_themselves_duties(
    context: AppContext, make_client: MakeClient
) -> None:
    # given the clerk is a whole-organisation security admin
    org = await open_org(context)
    admin = await main_admin(context, make_client, org)
    await admin.put(
        f"{API}/members/{org.clerk_id}/admin",
        json={"grants": [{"duty": "security", "functions": ["admins"]}]},
        headers=csrf_headers(admin),
    )
    clerk = make_client()
    await login_admin(clerk, context, org.clerk_mobile)
    before = await database_state(context)

    # when they try to add the system duty to themselves
    answer = await clerk.put(
        f"{API}/members/{org.clerk_id}/admin",
        json={"grants": [{"duty": "system"}]},
        headers=csrf_headers(clerk),
    )

    # then
    assert (answer.status_code, answer.json()["code"]) == (403, "org.cannot_grant_self")
    assert await database_state(context) == before
