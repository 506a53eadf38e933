"""Joining by invitation link: proof of the number by SMS code, then an admin's approval."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from helpers import create_member, csrf_headers, forget_send_cooldown, login, login_admin, next_mobile
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.org.models import JoinRequest, MemberRole, Membership
from zhengtong.platform.notify import read_outbox


async def _admin_with_invite(client: httpx.AsyncClient, context: AppContext) -> tuple[str, str]:
    admin = await create_member(context, org_name="邀请单位", role=MemberRole.MAIN_ADMIN)
    await login_admin(client, context, admin.mobile)
    departments = (await client.get("/api/v1/org/departments")).json()
    root = next(d for d in departments if d["parent_id"] is None)
    created = await client.post(
        "/api/v1/org/invites",
        json={"department_id": root["id"], "valid_days": 3},
        headers=csrf_headers(client),
    )
    assert created.status_code == 201, created.text
    return created.json()["token"], admin.org_id


def _join_code(context: AppContext, mobile: str) -> str:
    message = [m for m in read_outbox(context.settings.outbox_path) if m.template == "join_code"][-1]
    assert message.to == f"+86{mobile}"
    return str(message.params["code"])


async def _members(context: AppContext, org_id: str) -> int:
    async with context.db.transaction() as session:
        count = await session.execute(
            select(func.count()).select_from(Membership).where(Membership.org_id == org_id)
        )
        return int(count.scalar_one())


async def test_join_by_invitation_and_approval(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    token, org_id = await _admin_with_invite(client, context)
    stranger = make_client()
    mobile = next_mobile()

    page = await stranger.get(f"/api/v1/join/{token}")
    assert page.json()["organization_name"] == "邀请单位"
    await stranger.post(f"/api/v1/join/{token}/code", json={"mobile": mobile})
    asked = await stranger.post(
        f"/api/v1/join/{token}",
        json={"mobile": mobile, "code": _join_code(context, mobile), "name": "新同事"},
    )
    assert asked.status_code == 202
    assert await _members(context, org_id) == 1  # nobody joins before an admin says so

    pending = (await client.get("/api/v1/org/join-requests")).json()
    assert [(r["name"], r["mobile_masked"]) for r in pending] == [
        ("新同事", mobile[:3] + "****" + mobile[-4:])
    ]
    decided = await client.post(
        f"/api/v1/org/join-requests/{pending[0]['id']}/decision",
        json={"approve": True},
        headers=csrf_headers(client),
    )
    assert decided.status_code == 204
    assert await _members(context, org_id) == 2
    newcomer = make_client()
    await forget_send_cooldown(context, mobile)
    assert (await login(newcomer, context, mobile))["status"] == "ok"
    assert (await newcomer.get("/api/v1/me")).json()["name"] == "新同事"


async def test_wrong_code_files_no_request(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    token, _org_id = await _admin_with_invite(client, context)
    stranger = make_client()
    mobile = next_mobile()
    await stranger.post(f"/api/v1/join/{token}/code", json={"mobile": mobile})
    wrong = "000000" if _join_code(context, mobile) != "000000" else "111111"
    answer = await stranger.post(
        f"/api/v1/join/{token}", json={"mobile": mobile, "code": wrong, "name": "某人"}
    )
    assert answer.status_code == 400 and answer.json()["code"] == "auth.code_invalid"
    async with context.db.transaction() as session:
        assert (await session.execute(select(func.count()).select_from(JoinRequest))).scalar_one() == 0


async def test_expired_or_unknown_invitation(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    token, _org_id = await _admin_with_invite(client, context)
    stranger = make_client()
    assert (await stranger.get("/api/v1/join/inv_made_up")).json()["code"] == "org.invite_invalid"
    clock.advance(3 * 24 * 3600 + 1)
    assert (await stranger.get(f"/api/v1/join/{token}")).status_code == 404


async def test_rejected_request_opens_nothing(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    token, org_id = await _admin_with_invite(client, context)
    stranger = make_client()
    mobile = next_mobile()
    await stranger.post(f"/api/v1/join/{token}/code", json={"mobile": mobile})
    await stranger.post(
        f"/api/v1/join/{token}", json={"mobile": mobile, "code": _join_code(context, mobile), "name": "某人"}
    )
    request_id = (await client.get("/api/v1/org/join-requests")).json()[0]["id"]
    await client.post(
        f"/api/v1/org/join-requests/{request_id}/decision",
        json={"approve": False},
        headers=csrf_headers(client),
    )
    again = await client.post(
        f"/api/v1/org/join-requests/{request_id}/decision",
        json={"approve": True},
        headers=csrf_headers(client),
    )
    assert again.status_code == 409 and again.json()["code"] == "org.join_request_decided"
    assert await _members(context, org_id) == 1


async def test_members_cannot_manage_invitations(client: httpx.AsyncClient, context: AppContext) -> None:
    member = await create_member(context, org_name="邀请单位")
    await login(client, context, member.mobile)
    answer = await client.post(
        "/api/v1/org/invites", json={"department_id": "x", "valid_days": 3}, headers=csrf_headers(client)
    )
    assert answer.status_code == 403 and answer.json()["code"] == "org.admin_required"
    assert (await client.get("/api/v1/org/join-requests")).status_code == 403


async def test_admin_rights_tell_the_client_what_to_show(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    admin = await create_member(context, org_name="权限单位", role=MemberRole.MAIN_ADMIN)
    await login_admin(client, context, admin.mobile)
    rights = (await client.get("/api/v1/org/admin-rights")).json()
    assert rights["role"] == "main_admin"
    assert [g["duty"] for g in rights["grants"]] == ["system", "security"]
