"""TOTP: mandatory for organisation admins, optional for members, codes good once."""

from __future__ import annotations

import httpx
import pyotp

from helpers import create_member, csrf_headers, login, login_admin
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.org.models import MemberRole


async def test_admin_must_set_up_totp_before_using_the_api(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    admin = await create_member(context, role=MemberRole.MAIN_ADMIN)
    result = await login(client, context, admin.mobile)
    assert result["status"] == "totp_setup_required"
    blocked = await client.get("/api/v1/me")
    assert blocked.status_code == 403 and blocked.json()["code"] == "auth.second_factor_required"

    setup = (await client.post("/api/v1/auth/totp/setup", headers=csrf_headers(client))).json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/")
    wrong = await client.post(
        "/api/v1/auth/totp/enable", json={"code": "000000"}, headers=csrf_headers(client)
    )
    assert wrong.json()["code"] in {"auth.totp_invalid"} or pyotp.TOTP(setup["secret"]).now() == "000000"
    enabled = await client.post(
        "/api/v1/auth/totp/enable",
        json={"code": pyotp.TOTP(setup["secret"]).now()},
        headers=csrf_headers(client),
    )
    assert enabled.json() == {"status": "ok"}
    me = (await client.get("/api/v1/me")).json()
    assert me["totp_enabled"] is True


async def test_next_login_asks_for_the_code_and_refuses_a_replay(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    admin = await create_member(context, role=MemberRole.ADMIN)
    secret = await login_admin(client, context, admin.mobile)
    again = make_client()
    result = await login(again, context, admin.mobile)
    assert result["status"] == "totp_required"
    assert (await again.get("/api/v1/me")).status_code == 403

    used_code = pyotp.TOTP(secret).at(clock.now())
    replay = await again.post(
        "/api/v1/auth/totp/verify", json={"code": used_code}, headers=csrf_headers(again)
    )
    if replay.status_code == 400:  # the enabling code is still the current one: refused as used
        assert replay.json()["code"] == "auth.totp_invalid"
        clock.advance(30)
    fresh = pyotp.TOTP(secret).at(clock.now())
    verified = await again.post("/api/v1/auth/totp/verify", json={"code": fresh}, headers=csrf_headers(again))
    assert verified.json() == {"status": "ok"}, verified.text
    assert (await again.get("/api/v1/me")).status_code == 200


async def test_admin_cannot_disable_totp(client: httpx.AsyncClient, context: AppContext) -> None:
    admin = await create_member(context, role=MemberRole.MAIN_ADMIN)
    secret = await login_admin(client, context, admin.mobile)
    clock.advance(30)
    answer = await client.post(
        "/api/v1/auth/totp/disable",
        json={"code": pyotp.TOTP(secret).at(clock.now())},
        headers=csrf_headers(client),
    )
    assert answer.status_code == 400 and answer.json()["code"] == "auth.totp_required_for_admin"
    assert (await client.get("/api/v1/me")).json()["totp_enabled"] is True


async def test_member_may_turn_totp_on_and_off(client: httpx.AsyncClient, context: AppContext) -> None:
    member = await create_member(context)
    assert (await login(client, context, member.mobile))["status"] == "ok"
    secret = (await client.post("/api/v1/auth/totp/setup", headers=csrf_headers(client))).json()["secret"]
    enabled = await client.post(
        "/api/v1/auth/totp/enable", json={"code": pyotp.TOTP(secret).now()}, headers=csrf_headers(client)
    )
    assert enabled.status_code == 200
    clock.advance(30)
    disabled = await client.post(
        "/api/v1/auth/totp/disable",
        json={"code": pyotp.TOTP(secret).at(clock.now())},
        headers=csrf_headers(client),
    )
    assert disabled.status_code == 204
    assert (await client.get("/api/v1/me")).json()["totp_enabled"] is False


async def test_malformed_totp_code_is_refused(client: httpx.AsyncClient, context: AppContext) -> None:
    member = await create_member(context, role=MemberRole.MAIN_ADMIN)
    await login(client, context, member.mobile)
    answer = await client.post("/api/v1/auth/totp/verify", json={"code": "abc"}, headers=csrf_headers(client))
    assert answer.status_code == 422 and answer.json()["code"] == "request.invalid"
    assert answer.json()["detail"][0]["field"] == "code"


async def test_the_refusal_says_which_second_factor_step_is_owed(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    admin = await create_member(context, role=MemberRole.MAIN_ADMIN)
    await login(client, context, admin.mobile)
    setup = await client.get("/api/v1/me")
    assert setup.json()["detail"] == {"stage": "setup"}
    secret = (await client.post("/api/v1/auth/totp/setup", headers=csrf_headers(client))).json()["secret"]
    await client.post(
        "/api/v1/auth/totp/enable", json={"code": pyotp.TOTP(secret).now()}, headers=csrf_headers(client)
    )
    again = make_client()
    await login(again, context, admin.mobile)
    verify = await again.get("/api/v1/me")
    assert (verify.status_code, verify.json()["detail"]) == (403, {"stage": "verify"})
