"""Optional password login (argon2) and web login by QR code."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from helpers import create_member, csrf_headers, login, next_mobile
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.identity.models import Account


async def test_password_login(client: httpx.AsyncClient, context: AppContext, make_client) -> None:  # type: ignore[no-untyped-def]
    member = await create_member(context)
    await login(client, context, member.mobile)
    weak = await client.put(
        "/api/v1/me/password", json={"new_password": "12345678"}, headers=csrf_headers(client)
    )
    assert weak.status_code == 422 and weak.json()["code"] == "auth.password_weak"
    ok = await client.put(
        "/api/v1/me/password", json={"new_password": "zhengtong2026"}, headers=csrf_headers(client)
    )
    assert ok.status_code == 204
    async with context.db.transaction() as session:
        stored = (await session.execute(select(Account.password_hash))).scalar_one()
        assert stored is not None and stored.startswith("$argon2id$")

    browser = make_client()
    wrong = await browser.post(
        "/api/v1/auth/password/login", json={"mobile": member.mobile, "password": "nope"}
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "auth.password_invalid"
    right = await browser.post(
        "/api/v1/auth/password/login", json={"mobile": member.mobile, "password": "zhengtong2026"}
    )
    assert right.json() == {"status": "ok"}


async def test_changing_a_password_needs_the_current_one(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    member = await create_member(context)
    await login(client, context, member.mobile)
    await client.put("/api/v1/me/password", json={"new_password": "first1234"}, headers=csrf_headers(client))
    refused = await client.put(
        "/api/v1/me/password",
        json={"new_password": "second1234", "current_password": "wrong"},
        headers=csrf_headers(client),
    )
    assert refused.status_code == 400 and refused.json()["code"] == "auth.current_password_wrong"


async def test_password_login_for_unknown_number_looks_like_a_wrong_password(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(
        "/api/v1/auth/password/login", json={"mobile": next_mobile(), "password": "x1234567"}
    )
    assert answer.status_code == 400 and answer.json()["code"] == "auth.password_invalid"


async def test_qr_login_confirmed_by_a_logged_in_client(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    member = await create_member(context)
    await login(client, context, member.mobile)  # the phone
    browser = make_client()
    browser.headers["user-agent"] = "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0"
    qr = (await browser.post("/api/v1/auth/qr")).json()
    poll_url = f"/api/v1/auth/qr/{qr['id']}"
    assert (await browser.get(poll_url, params={"secret": qr["poll_secret"]})).json() == {"status": "pending"}

    scanned = await client.post(
        "/api/v1/auth/qr/scan", json={"qr_text": qr["qr_text"]}, headers=csrf_headers(client)
    )
    assert scanned.json() == {"device_label": "Chrome · Windows"}
    assert (await browser.get(poll_url, params={"secret": qr["poll_secret"]})).json() == {"status": "scanned"}
    confirmed = await client.post(
        "/api/v1/auth/qr/confirm",
        json={"qr_text": qr["qr_text"], "approve": True},
        headers=csrf_headers(client),
    )
    assert confirmed.status_code == 204

    done = await browser.get(poll_url, params={"secret": qr["poll_secret"]})
    assert done.json() == {"status": "ok"}
    assert (await browser.get("/api/v1/me")).json()["account_id"] == member.account_id
    # The QR is spent: polling again, or with a guessed secret, gets nothing.
    assert (await browser.get(poll_url, params={"secret": qr["poll_secret"]})).json()[
        "code"
    ] == "auth.qr_invalid"


async def test_qr_text_alone_does_not_log_anyone_in(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    browser = make_client()
    qr = (await browser.post("/api/v1/auth/qr")).json()
    onlooker = make_client()
    answer = await onlooker.get(f"/api/v1/auth/qr/{qr['id']}", params={"secret": qr["qr_text"]})
    assert answer.status_code == 400 and answer.json()["code"] == "auth.qr_invalid"


async def test_qr_expires(client: httpx.AsyncClient, context: AppContext, make_client) -> None:  # type: ignore[no-untyped-def]
    member = await create_member(context)
    await login(client, context, member.mobile)
    browser = make_client()
    qr = (await browser.post("/api/v1/auth/qr")).json()
    clock.advance(121)
    poll = await browser.get(f"/api/v1/auth/qr/{qr['id']}", params={"secret": qr["poll_secret"]})
    assert poll.json() == {"status": "expired"}
    late = await client.post(
        "/api/v1/auth/qr/scan", json={"qr_text": qr["qr_text"]}, headers=csrf_headers(client)
    )
    assert late.status_code == 410 and late.json()["code"] == "auth.qr_expired"


async def test_qr_declined(client: httpx.AsyncClient, context: AppContext, make_client) -> None:  # type: ignore[no-untyped-def]
    member = await create_member(context)
    await login(client, context, member.mobile)
    browser = make_client()
    qr = (await browser.post("/api/v1/auth/qr")).json()
    await client.post("/api/v1/auth/qr/scan", json={"qr_text": qr["qr_text"]}, headers=csrf_headers(client))
    await client.post(
        "/api/v1/auth/qr/confirm",
        json={"qr_text": qr["qr_text"], "approve": False},
        headers=csrf_headers(client),
    )
    poll = await browser.get(f"/api/v1/auth/qr/{qr['id']}", params={"secret": qr["poll_secret"]})
    assert poll.json() == {"status": "cancelled"}
    assert "zt_session" not in browser.cookies
