"""Login by SMS code: the happy path, and every way a code can be wrong."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from helpers import create_member, csrf_headers, last_code, login, next_mobile
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.identity.models import Account, AuthSession
from zhengtong.org.models import Membership
from zhengtong.platform.audit import AuditEntry
from zhengtong.platform.notify import DeliveryFailed, read_outbox


async def _count(context: AppContext, model: type, *where: object) -> int:
    async with context.db.transaction() as session:
        return int(
            (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
        )


async def test_member_logs_in_with_a_code_from_the_outbox(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    member = await create_member(context, name="李华")

    result = await login(client, context, member.mobile)

    assert result == {"status": "ok"}
    assert client.cookies.get("zt_session", "").startswith("zt_")
    me = (await client.get("/api/v1/me")).json()
    assert me["name"] == "李华"
    assert me["mobile_masked"] == member.mobile[:3] + "****" + member.mobile[-4:]
    assert me["current_org_id"] == member.org_id
    async with context.db.transaction() as session:
        membership = (await session.execute(select(Membership))).scalars().one()
        assert membership.status == "active" and membership.activated_at is not None
    actions = [e.action for e in await _audit(context)]
    assert "auth.login" in actions


async def _audit(context: AppContext) -> list[AuditEntry]:
    async with context.db.transaction() as session:
        return list((await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars())


async def test_the_code_is_sent_to_the_normalised_number(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    member = await create_member(context)
    await client.post("/api/v1/auth/sms/send", json={"mobile": f"+86 {member.mobile}"})
    [message] = read_outbox(context.settings.outbox_path)
    assert message.to == f"+86{member.mobile}"
    assert message.params["code"] in message.text and len(message.params["code"]) == 6


async def test_unknown_number_gets_the_same_answer_and_no_code(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    known = await create_member(context)
    answer_known = await client.post("/api/v1/auth/sms/send", json={"mobile": known.mobile})
    answer_unknown = await client.post("/api/v1/auth/sms/send", json={"mobile": next_mobile()})
    assert answer_known.status_code == answer_unknown.status_code == 200
    assert answer_known.json() == answer_unknown.json()
    assert [m.to for m in read_outbox(context.settings.outbox_path)] == [f"+86{known.mobile}"]


@pytest.mark.parametrize("mobile", ["12345", "abc", "+86 1380000", "010-12345678", "+86 138 0000 00001"])
async def test_malformed_mobile_is_refused(
    client: httpx.AsyncClient, context: AppContext, mobile: str
) -> None:
    answer = await client.post("/api/v1/auth/sms/send", json={"mobile": mobile})
    assert answer.status_code == 422
    assert answer.json()["code"] == "auth.mobile_invalid"
    assert read_outbox(context.settings.outbox_path) == []


async def test_wrong_code_is_refused_and_counted(client: httpx.AsyncClient, context: AppContext) -> None:
    member = await create_member(context)
    await client.post("/api/v1/auth/sms/send", json={"mobile": member.mobile})
    wrong = "000000" if last_code(context, member.mobile) != "000000" else "111111"

    answer = await client.post("/api/v1/auth/sms/login", json={"mobile": member.mobile, "code": wrong})

    assert answer.status_code == 400 and answer.json()["code"] == "auth.code_invalid"
    assert "zt_session" not in client.cookies
    assert await _count(context, AuthSession) == 0
    async with context.db.transaction() as session:
        account = (await session.execute(select(Account))).scalars().one()
        assert account.failed_attempts == 1  # survived the request's rollback
    assert "auth.login_failed" in [e.action for e in await _audit(context)]


async def test_expired_code_is_refused(client: httpx.AsyncClient, context: AppContext) -> None:
    member = await create_member(context)
    await client.post("/api/v1/auth/sms/send", json={"mobile": member.mobile})
    clock.advance(5 * 60 + 1)
    answer = await client.post(
        "/api/v1/auth/sms/login", json={"mobile": member.mobile, "code": last_code(context, member.mobile)}
    )
    assert answer.status_code == 400 and answer.json()["code"] == "auth.code_expired"


async def test_a_code_works_once(client: httpx.AsyncClient, context: AppContext, make_client) -> None:  # type: ignore[no-untyped-def]
    member = await create_member(context)
    await login(client, context, member.mobile)
    second = make_client()
    answer = await second.post(
        "/api/v1/auth/sms/login", json={"mobile": member.mobile, "code": last_code(context, member.mobile)}
    )
    assert answer.status_code == 400 and answer.json()["code"] == "auth.code_used"


async def test_brute_force_exhausts_the_code_then_locks_the_account(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    member = await create_member(context)
    await client.post("/api/v1/auth/sms/send", json={"mobile": member.mobile})
    code = last_code(context, member.mobile)
    guesses = [f"{n:06d}" for n in range(10) if f"{n:06d}" != code]
    codes = []
    for guess in guesses[:6]:
        answer = await client.post("/api/v1/auth/sms/login", json={"mobile": member.mobile, "code": guess})
        codes.append(answer.json()["code"])
    assert codes[:4] == ["auth.code_invalid"] * 4
    assert codes[4] == "auth.account_locked"  # the fifth failure locks
    assert codes[5] == "auth.account_locked"
    # Even the right code is refused while locked, and it opens no session.
    answer = await client.post("/api/v1/auth/sms/login", json={"mobile": member.mobile, "code": code})
    assert answer.status_code == 423
    assert await _count(context, AuthSession) == 0
    # After the lock ends, a fresh code works.
    clock.advance(16 * 60)
    result = await login(client, context, member.mobile)
    assert result["status"] == "ok"


async def test_resend_cooldown(client: httpx.AsyncClient, context: AppContext) -> None:
    member = await create_member(context)
    first = await client.post("/api/v1/auth/sms/send", json={"mobile": member.mobile})
    again = await client.post("/api/v1/auth/sms/send", json={"mobile": member.mobile})
    assert first.status_code == 200
    assert again.status_code == 429 and again.json()["code"] == "auth.send_cooldown"
    assert 0 < int(again.headers["retry-after"]) <= 60
    assert len(read_outbox(context.settings.outbox_path)) == 1


async def test_per_ip_send_limit(client: httpx.AsyncClient, context: AppContext) -> None:
    statuses = []
    for _ in range(31):
        answer = await client.post("/api/v1/auth/sms/send", json={"mobile": next_mobile()})
        statuses.append(answer.status_code)
    assert statuses[:30] == [200] * 30 and statuses[30] == 429


async def test_the_send_limits_follow_the_settings(
    client: httpx.AsyncClient, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an agency behind one NAT address raises the per-address limit; the per-number one stays
    monkeypatch.setattr(context, "settings", context.settings.with_overrides(sms_sends_per_ip_per_hour=2))

    statuses = [
        (await client.post("/api/v1/auth/sms/send", json={"mobile": next_mobile()})).status_code
        for _ in range(3)
    ]

    assert statuses == [200, 200, 429]


async def test_new_device_login_sends_a_notice(
    client: httpx.AsyncClient, context: AppContext, make_client
) -> None:  # type: ignore[no-untyped-def]
    member = await create_member(context)
    await login(client, context, member.mobile)  # first device: no warning
    other = make_client()
    other.headers["user-agent"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1"
    await login(other, context, member.mobile)
    notices = [m for m in read_outbox(context.settings.outbox_path) if m.template == "new_device_login"]
    assert len(notices) == 1 and "Safari · iOS" in notices[0].text
    assert "auth.new_device" in [e.action for e in await _audit(context)]


async def test_logout_ends_the_session(client: httpx.AsyncClient, context: AppContext) -> None:
    member = await create_member(context)
    await login(client, context, member.mobile)
    token = client.cookies.get("zt_session")
    answer = await client.post("/api/v1/auth/logout", headers=csrf_headers(client))
    assert answer.status_code == 204
    assert "zt_session" not in client.cookies
    replayed = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert replayed.status_code == 401 and replayed.json()["code"] == "auth.required"
    assert "auth.logout" in [e.action for e in await _audit(context)]


class _RefusingCarrier:
    async def send_sms(self, mobile: str, template: str, text: str, params: dict[str, object]) -> None:
        raise DeliveryFailed("http 503")


async def test_a_carrier_that_refuses_the_code_gets_a_clear_answer(
    client: httpx.AsyncClient, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await create_member(context)
    monkeypatch.setattr(context, "sms", _RefusingCarrier())

    answer = await client.post(
        "/api/v1/auth/sms/send", json={"mobile": member.mobile}, headers={"Accept-Language": "en"}
    )

    assert answer.status_code == 503
    assert answer.json()["code"] == "auth.sms_unavailable" and answer.json()["message"].isascii()
