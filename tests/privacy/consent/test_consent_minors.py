"""Minors: a member recorded as under 14 cannot log in (and so is not activated) until an admin
records a guardian's consent; only admins who manage the member may record either; the birth
date and the guardian's details are encrypted, and the audit log holds only ids."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from consent_world import API, MakeClient, World, count, open_world
from sqlalchemy import select

from helpers import csrf_headers, forget_send_cooldown, last_code, login
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.identity.models import AuthSession
from zhengtong.org.models import Membership
from zhengtong.platform.audit import AuditEntry
from zhengtong.privacy.consent.minors import is_under_14, today_in_china
from zhengtong.privacy.consent.models import GuardianConsent, MinorRecord
from zhengtong.privacy.scan.scanner import scan

GUARDIAN = {
    "guardian_name": "刘监护",
    "relation": "parent",
    "guardian_contact": "13911112222",
    "evidence_note": "纸质同意书存人事档案第12号",
}


def _thirteen_years_old() -> date:
    return today_in_china() - timedelta(days=13 * 365 + 30)


async def _try_login(http: httpx.AsyncClient, context: AppContext, mobile: str) -> httpx.Response:
    await forget_send_cooldown(context, mobile)
    await http.post(f"{API}/auth/sms/send", json={"mobile": mobile})
    return await http.post(
        f"{API}/auth/sms/login", json={"mobile": mobile, "code": last_code(context, mobile)}
    )


async def _status_of(world: World, membership_id: str) -> str:
    async with world.context.db.transaction() as session:
        membership = await session.get(Membership, membership_id)
        assert membership is not None
        return membership.status


async def _record_birth_date(
    admin: httpx.AsyncClient, membership_id: str, birth_date: date
) -> httpx.Response:
    return await admin.put(
        f"{API}/privacy/members/{membership_id}/minor",
        json={"birth_date": birth_date.isoformat()},
        headers=csrf_headers(admin),
    )


async def test_a_minor_cannot_log_in_until_a_guardian_consents(
    context: AppContext, make_client: MakeClient, world: World
) -> None:
    # given: 小明 is recorded as 13 years old
    membership_id = await world.member("小明")
    admin = await world.admin()
    recorded = await _record_birth_date(admin, membership_id, _thirteen_years_old())
    sessions_before = await count(context, AuthSession)

    # when
    refused = await _try_login(make_client(), context, world.mobiles["小明"])

    # then: refused with a clear code; no session, not activated
    assert recorded.status_code == 200 and recorded.json()["consent_needed"] is True
    assert (refused.status_code, refused.json()["code"]) == (403, "privacy.consent.guardian_consent_required")
    assert await count(context, AuthSession) == sessions_before
    assert await _status_of(world, membership_id) == "not_activated"

    # when: the admin records the guardian's consent
    consented = await admin.post(
        f"{API}/privacy/members/{membership_id}/guardian-consents", json=GUARDIAN, headers=csrf_headers(admin)
    )
    allowed = await _try_login(make_client(), context, world.mobiles["小明"])

    # then
    assert consented.status_code == 201, consented.text
    assert consented.json()["consent_needed"] is False
    assert consented.json()["guardian_consents"][0] | {"id": None, "recorded_at": None} == {
        "id": None,
        "guardian_name": "刘监护",
        "relation": "parent",
        "guardian_contact": "13911112222",
        "evidence_note": "纸质同意书存人事档案第12号",
        "recorded_by": world.scope.membership_id,
        "recorded_at": None,
        "withdrawn_at": None,
    }
    assert allowed.status_code == 200 and allowed.json() == {"status": "ok"}
    assert await _status_of(world, membership_id) == "active"


async def _consented_minor(world: World) -> str:
    """A member recorded as 13 years old, with their guardian's consent."""
    membership_id = await world.member("小明")
    admin = await world.admin()
    await _record_birth_date(admin, membership_id, _thirteen_years_old())
    await admin.post(
        f"{API}/privacy/members/{membership_id}/guardian-consents", json=GUARDIAN, headers=csrf_headers(admin)
    )
    return membership_id


async def test_withdrawn_guardian_consent_refuses_the_next_login_and_ends_work_in_the_organisation(
    context: AppContext, world: World
) -> None:
    # given: a consented minor, logged in
    membership_id = await _consented_minor(world)
    minor = await world.client_of("小明")
    admin = await world.admin()

    # when
    withdrawn = await admin.delete(
        f"{API}/privacy/members/{membership_id}/guardian-consents/current", headers=csrf_headers(admin)
    )
    working = await minor.get(f"{API}/directory/tree")
    again = await _try_login(world.make_client(), context, world.mobiles["小明"])

    # then
    assert withdrawn.status_code == 200 and withdrawn.json()["consent_needed"] is True
    assert withdrawn.json()["guardian_consents"][0]["withdrawn_at"] is not None
    assert working.status_code == 400 and working.json()["code"] == "org.no_current_org"
    assert again.json()["code"] == "privacy.consent.guardian_consent_required"


async def test_from_the_fourteenth_birthday_no_guardian_consent_is_needed(
    context: AppContext, world: World
) -> None:
    # given: 14 tomorrow (or the day after, when tomorrow is a 29 February)
    tomorrow = today_in_china() + timedelta(days=1)
    if (tomorrow.month, tomorrow.day) == (2, 29):
        tomorrow += timedelta(days=1)
    birth_date = tomorrow.replace(year=tomorrow.year - 14)
    membership_id = await world.member("小明")
    admin = await world.admin()
    await _record_birth_date(admin, membership_id, birth_date)
    refused = await _try_login(world.make_client(), context, world.mobiles["小明"])

    # when
    clock.advance(3 * 24 * 3600)
    allowed = await _try_login(world.make_client(), context, world.mobiles["小明"])

    # then
    assert refused.json()["code"] == "privacy.consent.guardian_consent_required"
    assert allowed.status_code == 200


async def test_a_guardian_consent_is_only_for_a_member_recorded_as_under_14(
    context: AppContext, world: World
) -> None:
    membership_id = await world.member("成年人")
    admin = await world.admin()

    answer = await admin.post(
        f"{API}/privacy/members/{membership_id}/guardian-consents", json=GUARDIAN, headers=csrf_headers(admin)
    )
    future = await _record_birth_date(admin, membership_id, today_in_china() + timedelta(days=1))

    assert (answer.status_code, answer.json()["code"]) == (409, "privacy.consent.not_a_minor")
    assert (future.status_code, future.json()["code"]) == (422, "privacy.consent.birth_date_invalid")
    assert await count(context, GuardianConsent) == 0 and await count(context, MinorRecord) == 0


@pytest.mark.parametrize(
    ("actor", "status", "code"),
    [
        ("member", 403, "org.admin_required"),
        ("other_org_admin", 404, "not_found"),
        ("anonymous", 401, "auth.required"),
    ],
)
async def test_only_the_members_admins_record_minors(
    context: AppContext, make_client: MakeClient, world: World, actor: str, status: int, code: str
) -> None:
    # given
    membership_id = await world.member("小明")
    await world.member("同事")
    if actor == "member":
        http = await world.client_of("同事")
    elif actor == "other_org_admin":
        http = await (await open_world(context, make_client, "另一单位")).admin()
    else:
        http = make_client()
    audit_before = await count(context, AuditEntry)

    # when
    answers = [
        await _record_birth_date(http, membership_id, _thirteen_years_old()),
        await http.get(f"{API}/privacy/members/{membership_id}/minor"),
        await http.post(
            f"{API}/privacy/members/{membership_id}/guardian-consents",
            json=GUARDIAN,
            headers=csrf_headers(http),
        ),
    ]

    # then
    assert [(answer.status_code, answer.json()["code"]) for answer in answers] == [(status, code)] * 3
    assert await count(context, MinorRecord) == 0 and await count(context, GuardianConsent) == 0
    assert await count(context, AuditEntry) == audit_before


async def test_the_birth_date_and_the_guardian_are_encrypted_and_never_audited(
    context: AppContext, world: World
) -> None:
    # given
    membership_id = await world.member("小明")
    admin = await world.admin()
    birth_date = _thirteen_years_old()

    # when
    await _record_birth_date(admin, membership_id, birth_date)
    await admin.post(
        f"{API}/privacy/members/{membership_id}/guardian-consents", json=GUARDIAN, headers=csrf_headers(admin)
    )
    read = await admin.get(f"{API}/privacy/members/{membership_id}/minor")

    # then
    assert read.json()["birth_date"] == birth_date.isoformat() and read.json()["under_14"] is True
    async with context.db.transaction() as session:
        record = (await session.execute(select(MinorRecord))).scalar_one()
        consent = (await session.execute(select(GuardianConsent))).scalar_one()
        audited = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action.like("privacy.%")).order_by(AuditEntry.seq)
                )
            )
            .scalars()
            .all()
        )
    stored = (
        record.birth_date_encrypted + consent.guardian_name_encrypted + consent.guardian_contact_encrypted
    )
    assert birth_date.isoformat().encode() not in stored
    assert "刘监护".encode() not in stored and b"13911112222" not in stored
    assert [(entry.action, entry.object_id) for entry in audited] == [
        ("privacy.minor_recorded", membership_id),
        ("privacy.guardian_consent_recorded", membership_id),
    ]
    assert all(
        "刘监护" not in repr(entry.detail) and "1391111" not in repr(entry.detail) for entry in audited
    )


async def test_the_privacy_scan_opens_the_minor_fields_and_finds_the_guardian(
    context: AppContext, world: World
) -> None:
    # given
    await _consented_minor(world)

    # when
    report = await scan(context, ["刘监护", "13911112222"])

    # then: found inside the sealed columns, and nothing was left unopened
    decrypted = {
        hit.location.split(" row ")[0] for hit in report.hits if hit.location.endswith("(decrypted)")
    }
    assert decrypted == {
        "guardian_consents.guardian_name_encrypted",
        "guardian_consents.guardian_contact_encrypted",
    }
    assert report.unopened == []


def test_under_14_counts_birthdays_including_29_february() -> None:
    assert is_under_14(date(2012, 2, 29), date(2026, 2, 28)) is True
    assert is_under_14(date(2012, 2, 29), date(2026, 3, 1)) is False
    assert is_under_14(date(2012, 6, 1), date(2026, 5, 31)) is True
    assert is_under_14(date(2012, 6, 1), date(2026, 6, 1)) is False


async def test_an_adult_logs_in_as_before(context: AppContext, world: World) -> None:
    await world.member("成年人")

    answer = await login(world.make_client(), context, world.mobiles["成年人"])

    assert answer == {"status": "ok"}
