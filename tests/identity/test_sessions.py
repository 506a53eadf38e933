"""Sessions and devices: list, remote logout, API tokens, CSRF, organisation switching."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from helpers import create_member, csrf_headers, login
from zhengtong.core.context import AppContext
from zhengtong.identity.models import AuthSession


async def test_devices_list_and_remote_logout(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    member = await create_member(context)
    phone = make_client(ip="198.51.100.77")
    phone.headers["user-agent"] = "Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile"
    await login(phone, context, member.mobile)
    await login(client, context, member.mobile)

    sessions = (await client.get("/api/v1/me/sessions")).json()
    assert len(sessions) == 2
    current = [s for s in sessions if s["current"]]
    other = next(s for s in sessions if not s["current"])
    assert len(current) == 1
    assert other["device_label"] == "Chrome · Android"
    assert other["ip_prefix"] == "198.51.100.0/24"  # never the full address

    answer = await client.delete(f"/api/v1/me/sessions/{other['id']}", headers=csrf_headers(client))
    assert answer.status_code == 204
    assert (await phone.get("/api/v1/me")).status_code == 401
    assert (await client.get("/api/v1/me")).status_code == 200


async def test_cannot_revoke_someone_elses_session(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    alice = await create_member(context, name="甲")
    bob = await create_member(context, name="乙", org_name="另一单位")
    bob_client = make_client()
    await login(bob_client, context, bob.mobile)
    await login(client, context, alice.mobile)
    bob_session = (await bob_client.get("/api/v1/me/sessions")).json()[0]["id"]

    answer = await client.delete(f"/api/v1/me/sessions/{bob_session}", headers=csrf_headers(client))

    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    async with context.db.transaction() as session:
        row = await session.get(AuthSession, bob_session)
        assert row is not None and row.revoked_at is None  # nothing changed
    assert (await bob_client.get("/api/v1/me")).status_code == 200


async def test_unsafe_request_without_csrf_token_changes_nothing(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    member = await create_member(context)
    await login(client, context, member.mobile)
    answer = await client.put("/api/v1/me/language", json={"language": "en"})
    assert answer.status_code == 403 and answer.json()["code"] == "auth.csrf_failed"
    forged = await client.put(
        "/api/v1/me/language", json={"language": "en"}, headers={"X-CSRF-Token": "x" * 32}
    )
    assert forged.status_code == 403
    assert (await client.get("/api/v1/me")).json()["language"] == "zh-CN"
    ok = await client.put("/api/v1/me/language", json={"language": "en"}, headers=csrf_headers(client))
    assert ok.status_code == 204
    assert (await client.get("/api/v1/me")).json()["language"] == "en"


async def test_api_token_works_as_bearer_without_csrf(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    member = await create_member(context)
    await login(client, context, member.mobile)
    created = await client.post("/api/v1/me/tokens", json={"name": "备份脚本"}, headers=csrf_headers(client))
    assert created.status_code == 201
    token = created.json()["token"]
    assert created.json()["session"]["kind"] == "api"

    script = make_client()
    me = await script.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["account_id"] == member.account_id
    changed = await script.put(
        "/api/v1/me/language", json={"language": "en"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert changed.status_code == 204
    async with context.db.transaction() as session:
        stored = (await session.execute(select(AuthSession.token_hash))).scalars().all()
        assert all(token.encode() not in value for value in stored)  # only hashes are stored


async def test_switch_organization(client: httpx.AsyncClient, context: AppContext) -> None:
    first = await create_member(context, org_name="甲单位", name="赵一")
    second = await create_member(context, mobile=first.mobile, org_name="乙单位", name="赵一(乙)")
    await create_member(context, org_name="丙单位")
    await login(client, context, first.mobile)
    me = (await client.get("/api/v1/me")).json()
    assert {o["name"] for o in me["organizations"]} == {"甲单位", "乙单位"}
    assert me["current_org_id"] == first.org_id and me["name"] == "赵一"

    switched = await client.put(
        "/api/v1/me/current-org", json={"org_id": second.org_id}, headers=csrf_headers(client)
    )
    assert switched.status_code == 200
    assert switched.json()["current_org_id"] == second.org_id and switched.json()["name"] == "赵一(乙)"
    assert (await client.get("/api/v1/me")).json()["current_org_id"] == second.org_id


async def test_cannot_switch_into_a_foreign_organization(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    member = await create_member(context, org_name="甲单位")
    stranger = await create_member(context, org_name="丙单位")
    await login(client, context, member.mobile)
    answer = await client.put(
        "/api/v1/me/current-org", json={"org_id": stranger.org_id}, headers=csrf_headers(client)
    )
    assert answer.status_code == 403 and answer.json()["code"] == "org.not_a_member"
    assert (await client.get("/api/v1/me")).json()["current_org_id"] == member.org_id


async def test_anonymous_requests_are_refused(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/me/sessions"),
        ("POST", "/api/v1/me/tokens"),
    ]:
        answer = await client.request(method, path, json={"name": "x"} if method == "POST" else None)
        assert answer.status_code == 401 and answer.json()["code"] == "auth.required", path
