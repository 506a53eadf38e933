"""SCIM tokens in the admin console: issued by security admins of the whole organisation, shown
once, stored as a keyed hash, revoked at once; and who may not."""

from __future__ import annotations

import httpx
from scim_setup import BASE, ScimOrg, assert_scim_error, audit_entries, open_scim_org
from sqlalchemy import select

from helpers import create_member, csrf_headers, login, login_admin, next_mobile
from zhengtong.core.context import AppContext
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import AdminGrant, Department, Membership
from zhengtong.scim.models import ScimToken

TOKENS = "/api/v1/org/scim-tokens"


async def _admin_client(make_client, context: AppContext, org: ScimOrg) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    http: httpx.AsyncClient = make_client()
    await login_admin(http, context, org.admin_mobile)
    return http


async def _tokens(context: AppContext) -> list[ScimToken]:
    async with context.db.transaction() as session:
        return list((await session.execute(select(ScimToken).order_by(ScimToken.id))).scalars().all())


async def test_admin_issues_lists_and_revokes_a_token(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    org = await open_scim_org(context)
    admin = await _admin_client(make_client, context, org)

    created = await admin.post(TOKENS, json={"name": "人事系统 HR"}, headers=csrf_headers(admin))

    assert created.status_code == 201, created.text
    issued = created.json()
    assert issued["name"] == "人事系统 HR" and issued["token"].startswith("scim_")
    stored = next(token for token in await _tokens(context) if token.id == issued["id"])
    assert stored.token_hash == context.keyring.blind_index("scim-token", issued["token"])
    assert issued["token"].encode() not in repr(vars(stored)).encode()  # only the hash is kept
    listed = (await admin.get(TOKENS)).json()
    assert [token["id"] for token in listed][:1] == [issued["id"]]  # newest first
    assert all("token" not in token for token in listed)
    works = await client.get(
        f"{BASE}/ServiceProviderConfig", headers={"Authorization": f"Bearer {issued['token']}"}
    )
    assert works.status_code == 200
    assert next(t for t in await _tokens(context) if t.id == issued["id"]).last_used_at is not None

    revoked = await admin.delete(f"{TOKENS}/{issued['id']}", headers=csrf_headers(admin))

    again = await admin.delete(f"{TOKENS}/{issued['id']}", headers=csrf_headers(admin))
    assert (revoked.status_code, again.status_code) == (204, 204)  # revoking is idempotent
    refused = await client.get(f"{BASE}/Users", headers={"Authorization": f"Bearer {issued['token']}"})
    assert_scim_error(refused, 401)
    assert next(t for t in (await admin.get(TOKENS)).json() if t["id"] == issued["id"])["revoked_at"]
    entries = [e for e in await audit_entries(context, org.id) if e.object_id == issued["id"]]
    assert [e.action for e in entries] == ["scim.token_created", "scim.token_revoked"]
    assert {e.actor_account_id for e in entries} == {org.admin_account_id}


async def test_a_plain_member_gets_admin_required_and_nothing_changes(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    org = await open_scim_org(context)
    member = await create_member(context, org_name="测试单位", name="李科员")
    await login(client, context, member.mobile)
    existing = (await _tokens(context))[0]

    answers = [
        await client.post(TOKENS, json={"name": "x"}, headers=csrf_headers(client)),
        await client.get(TOKENS),
        await client.delete(f"{TOKENS}/{existing.id}", headers=csrf_headers(client)),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(403, "org.admin_required")] * 3
    assert [(t.id, t.revoked_at) for t in await _tokens(context)] == [(existing.id, None)]
    assert (await client.get(f"{BASE}/Users", headers=org.headers)).status_code == 200


async def test_anonymous_callers_and_browser_sessions_do_not_reach_scim(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    org = await open_scim_org(context)
    assert (await client.get(TOKENS)).json()["code"] == "auth.required"
    admin = await _admin_client(make_client, context, org)

    answer = await admin.get(f"{BASE}/Users")  # a logged-in browser, without a SCIM token

    assert_scim_error(answer, 401)
    assert answer.headers["www-authenticate"] == "Bearer"
    session_token = admin.cookies.get("zt_session")
    assert_scim_error(
        await client.get(f"{BASE}/Users", headers={"Authorization": f"Bearer {session_token}"}), 401
    )


async def test_a_security_admin_of_part_of_the_organisation_may_not_issue_tokens(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    org = await open_scim_org(context)
    mobile = next_mobile()
    async with context.db.transaction() as session:
        scope = AdminScope(org.id, org.admin_id, True, (), frozenset())
        department = await org_service.create_department(
            session, context, scope, parent_id=org.root_id, name="财务处", actor_id=None, ip="192.0.2.1"
        )
        sub_admin = await org_service.add_member(
            session,
            context,
            scope,
            mobile=mobile,
            profile=org_service.MemberProfile(name="赵管理"),
            actor_id=None,
            ip="192.0.2.1",
        )
        grant = AdminGrant(duty="security", department_ids=[department.id], functions=[])
        await org_service.set_admin_grants(
            session, context, scope, sub_admin, [grant], actor_id=None, ip="192.0.2.1"
        )
    await login_admin(client, context, mobile)

    answer = await client.post(TOKENS, json={"name": "x"}, headers=csrf_headers(client))

    assert (answer.status_code, answer.json()["code"]) == (403, "org.admin_out_of_scope")
    assert len(await _tokens(context)) == 1
    async with context.db.transaction() as session:
        assert await session.get(Department, department.id) is not None
        assert (await session.get(Membership, sub_admin.id)) is not None


async def test_another_organisations_admin_cannot_revoke_a_token(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    org = await open_scim_org(context)
    other = await open_scim_org(context, "另一单位")
    other_admin = await _admin_client(make_client, context, other)
    token_id = next(t.id for t in await _tokens(context) if t.org_id == org.id)

    answer = await other_admin.delete(f"{TOKENS}/{token_id}", headers=csrf_headers(other_admin))

    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert (await client.get(f"{BASE}/Users", headers=org.headers)).status_code == 200
    assert token_id not in [t["id"] for t in (await other_admin.get(TOKENS)).json()]
