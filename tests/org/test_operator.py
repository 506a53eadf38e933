"""The platform operator opens organisations (with their main admin) and lists them; nobody else
may, organisation admins included."""

from __future__ import annotations

import httpx
import pytest
from org_world import MakeClient, database_state, main_admin, open_org
from sqlalchemy import func, select, update

from helpers import csrf_headers, login, login_admin, next_mobile
from zhengtong.core.context import AppContext
from zhengtong.directory.models import MemberSearchToken
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.org.models import Department, MemberDepartment, Membership
from zhengtong.platform.audit import PLATFORM_SCOPE, AuditEntry

OPERATOR_API = "/api/v1/operator/organizations"


async def operator_client(context: AppContext, make_client: MakeClient) -> tuple[httpx.AsyncClient, str]:
    """An operator account (in no organisation), logged in; and its account id."""
    mobile = next_mobile()
    async with context.db.transaction() as session:
        account, _created = await identity.get_or_create_account(session, context.keyring, mobile)
        await session.execute(update(Account).where(Account.id == account.id).values(is_operator=True))
        account_id = account.id
    http = make_client()
    await login(http, context, mobile)
    return http, account_id


async def test_operator_opens_an_organisation_with_its_main_admin(
    context: AppContext, make_client: MakeClient
) -> None:
    # given
    http, operator_id = await operator_client(context, make_client)
    admin_mobile = next_mobile()

    # when
    answer = await http.post(
        OPERATOR_API,
        json={"name": "某市政务服务中心", "admin_mobile": admin_mobile, "admin_name": "陈主任"},
        headers=csrf_headers(http),
    )

    # then
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body == {
        "id": body["id"],
        "name": "某市政务服务中心",
        "status": "active",
        "created_at": body["created_at"],
        "member_count": 1,
    }
    async with context.db.transaction() as session:
        root = (await session.execute(select(Department).where(Department.org_id == body["id"]))).scalar_one()
        admin = (
            await session.execute(select(Membership).where(Membership.org_id == body["id"]))
        ).scalar_one()
        seat = (
            await session.execute(select(MemberDepartment).where(MemberDepartment.membership_id == admin.id))
        ).scalar_one()
        tokens = await session.scalar(
            select(func.count())
            .select_from(MemberSearchToken)
            .where(MemberSearchToken.membership_id == admin.id)
        )
        entry = (
            await session.execute(
                select(AuditEntry)
                .where(AuditEntry.scope == PLATFORM_SCOPE)
                .order_by(AuditEntry.seq.desc())
                .limit(1)
            )
        ).scalar_one()
    assert (root.name, root.parent_id, root.path) == ("某市政务服务中心", None, f"/{root.id}/")
    assert (admin.name, admin.role, admin.status) == ("陈主任", "main_admin", "not_activated")
    assert seat.department_id == root.id
    assert tokens and tokens > 0
    assert (entry.action, entry.actor_account_id, entry.object_id) == ("org.created", operator_id, body["id"])

    # when the new main admin logs in (two-step verification first), they administer it
    admin_client = make_client()
    await login_admin(admin_client, context, admin_mobile)
    departments = await admin_client.get("/api/v1/org/departments")
    assert [d["id"] for d in departments.json()] == [root.id]


async def test_operator_lists_organisations_with_member_counts(
    context: AppContext, make_client: MakeClient
) -> None:
    first = await open_org(context, "甲单位")
    second = await open_org(context, "乙单位")
    http, _operator_id = await operator_client(context, make_client)

    answer = await http.get(OPERATOR_API)

    assert answer.status_code == 200
    assert [(o["id"], o["name"], o["member_count"]) for o in answer.json()] == [
        (first.id, "甲单位", 2),
        (second.id, "乙单位", 2),
    ]
    assert set(answer.json()[0]) == {"id", "name", "status", "created_at", "member_count"}  # no people


async def test_opening_for_an_existing_account_links_it(context: AppContext, make_client: MakeClient) -> None:
    org = await open_org(context)
    http, _operator_id = await operator_client(context, make_client)
    async with context.db.transaction() as session:
        accounts_before = await session.scalar(select(func.count()).select_from(Account))

    answer = await http.post(
        OPERATOR_API,
        json={"name": "乙单位", "admin_mobile": org.clerk_mobile, "admin_name": "李主管"},
        headers=csrf_headers(http),
    )

    assert answer.status_code == 201
    async with context.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Account)) == accounts_before
        admin = (
            await session.execute(select(Membership).where(Membership.org_id == answer.json()["id"]))
        ).scalar_one()
        clerk = await session.get(Membership, org.clerk_id)
    assert clerk is not None and admin.account_id == clerk.account_id


@pytest.mark.parametrize("actor", ["anonymous", "member", "main_admin"])
async def test_only_the_operator_opens_and_lists_organisations(
    actor: str, context: AppContext, make_client: MakeClient
) -> None:
    # given
    org = await open_org(context)
    if actor == "main_admin":
        http = await main_admin(context, make_client, org)
    else:
        http = make_client()
        if actor == "member":
            await login(http, context, org.clerk_mobile)
    before = await database_state(context)

    # when
    opened = await http.post(
        OPERATOR_API,
        json={"name": "冒名单位", "admin_mobile": next_mobile(), "admin_name": "某人"},
        headers=csrf_headers(http),
    )
    listed = await http.get(OPERATOR_API)

    # then
    expected = (401, "auth.required") if actor == "anonymous" else (403, "org.operator_required")
    assert (opened.status_code, opened.json()["code"]) == expected
    assert (listed.status_code, listed.json()["code"]) == expected
    assert await database_state(context) == before
