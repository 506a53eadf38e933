"""Separate consents (单独同意): contact matching is refused without consent and stores nothing;
with consent it answers the visible colleagues among the uploaded hashes; withdrawing deletes
them. Consents belong to one organisation and keep their history."""

from __future__ import annotations

import base64
import hashlib
import hmac

import httpx
from consent_world import API, MakeClient, World, count, open_world
from sqlalchemy import select, update

from helpers import csrf_headers, next_mobile
from zhengtong.core.context import AppContext
from zhengtong.identity import service as identity
from zhengtong.org.models import Membership
from zhengtong.platform.audit import AuditEntry
from zhengtong.privacy.consent.consents import WITHDRAW_HANDLERS
from zhengtong.privacy.consent.models import ConsentRecord, ContactMatchHash
from zhengtong.privacy.consent.purposes import PURPOSES

CONTACTS = f"{API}/privacy/contact-matching/contacts"


def _hash(key: bytes, mobile: str) -> str:
    """What a client computes for one number in its contacts."""
    return hmac.new(key, identity.normalise_mobile(mobile).encode(), hashlib.sha256).hexdigest()


async def _key(http: httpx.AsyncClient) -> bytes:
    answer = await http.get(f"{API}/privacy/contact-matching/key")
    assert answer.status_code == 200, answer.text
    assert answer.json()["algorithm"] == "HMAC-SHA256" and answer.json()["number_format"] == "E.164"
    return base64.b64decode(answer.json()["key"])


async def _grant(http: httpx.AsyncClient, purpose: str = "contact_matching") -> httpx.Response:
    return await http.put(f"{API}/privacy/consents/{purpose}", headers=csrf_headers(http))


async def _colleagues(world: World) -> httpx.AsyncClient:
    """李科员 (logged in) and three colleagues who have logged in once; 赵保密 hides the number."""
    for name in ("李科员", "张同事", "钱同事", "赵保密"):
        await world.member(name)
    for name in ("张同事", "钱同事", "赵保密"):
        await world.client_of(name)  # activates them
    async with world.context.db.transaction() as session:
        await session.execute(
            update(Membership).where(Membership.id == world.members["赵保密"]).values(hide_mobile=True)
        )
    return await world.client_of("李科员")


async def test_every_offered_purpose_has_a_withdraw_handler() -> None:
    offered = [purpose.key for purpose in PURPOSES.values() if purpose.offered]

    assert offered == ["contact_matching"]
    assert all(key in WITHDRAW_HANDLERS for key in offered)


async def test_the_purposes_are_listed_with_their_state(world: World) -> None:
    await world.member("李科员")
    member = await world.client_of("李科员")

    before = (await member.get(f"{API}/privacy/consents")).json()
    await _grant(member)
    after = (await member.get(f"{API}/privacy/consents")).json()

    assert [(item["key"], item["offered"], item["granted"]) for item in before] == [
        ("contact_matching", True, False),
        ("biometrics", False, False),
        ("location", False, False),
    ]
    assert after[0]["granted"] is True and after[0]["granted_at"] is not None
    assert "删除" in after[0]["on_withdraw_zh"] and "deletes" in after[0]["on_withdraw_en"]


async def test_contact_matching_without_consent_is_refused_and_stores_nothing(
    context: AppContext, world: World
) -> None:
    # given
    member = await _colleagues(world)
    stranger_key = b"\x00" * 32

    # when
    key = await member.get(f"{API}/privacy/contact-matching/key")
    upload = await member.put(
        CONTACTS,
        json={"hashes": [_hash(stranger_key, world.mobiles["张同事"])]},
        headers=csrf_headers(member),
    )
    matches = await member.get(f"{API}/privacy/contact-matching/matches")

    # then
    for refused in (key, upload, matches):
        assert (refused.status_code, refused.json()["code"]) == (403, "privacy.consent.consent_required")
        assert refused.json()["detail"] == {"purpose": "contact_matching"}
    assert await count(context, ContactMatchHash) == 0


async def test_with_consent_the_visible_colleagues_among_the_contacts_are_found(
    context: AppContext, world: World
) -> None:
    # given
    member = await _colleagues(world)
    granted = await _grant(member)
    key = await _key(member)
    contacts = [world.mobiles[name] for name in ("张同事", "赵保密")] + [next_mobile(), world.admin_mobile]

    # when
    answer = await member.put(
        CONTACTS, json={"hashes": [_hash(key, mobile) for mobile in contacts]}, headers=csrf_headers(member)
    )

    # then: only 张同事: 赵保密 hides the number, the admin never logged in, the third is nobody's
    assert granted.status_code == 200 and granted.json()["purpose"] == "contact_matching"
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "stored": 4,
        "matches": [
            {
                "membership_id": world.members["张同事"],
                "name": "张同事",
                "hash": _hash(key, world.mobiles["张同事"]),
            }
        ],
    }
    assert (
        await count(context, ContactMatchHash, ContactMatchHash.membership_id == world.members["李科员"]) == 4
    )

    # when: the owner of the unknown number joins later and logs in
    await world.member("孙新人", mobile=contacts[2])
    await world.client_of("孙新人")
    later = await member.get(f"{API}/privacy/contact-matching/matches")

    # then: the stored hashes find them
    assert [match["name"] for match in later.json()["matches"]] == ["孙新人", "张同事"]


async def test_withdrawing_deletes_the_stored_hashes_and_stops_matching(
    context: AppContext, world: World
) -> None:
    # given
    member = await _colleagues(world)
    await _grant(member)
    key = await _key(member)
    await member.put(
        CONTACTS,
        json={"hashes": [_hash(key, world.mobiles[name]) for name in ("张同事", "钱同事")]},
        headers=csrf_headers(member),
    )

    # when
    withdrawn = await member.delete(f"{API}/privacy/consents/contact_matching", headers=csrf_headers(member))
    again = await member.get(f"{API}/privacy/contact-matching/matches")
    history = await member.get(f"{API}/privacy/consents/history")

    # then
    assert withdrawn.status_code == 200 and withdrawn.json()["deleted_rows"] == 2
    assert withdrawn.json()["withdrawn_at"] is not None
    assert await count(context, ContactMatchHash) == 0
    assert again.json()["code"] == "privacy.consent.consent_required"
    assert [(item["purpose"], item["withdrawn_at"] is not None) for item in history.json()] == [
        ("contact_matching", True)
    ]
    async with context.db.transaction() as session:
        actions = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.detail)
                .where(AuditEntry.action.like("privacy.consent_%"))
                .order_by(AuditEntry.seq)
            )
        ).all()
    assert [tuple(row) for row in actions] == [
        ("privacy.consent_granted", {"purpose": "contact_matching", "deleted_rows": 0}),
        ("privacy.consent_withdrawn", {"purpose": "contact_matching", "deleted_rows": 2}),
    ]

    # when: granted again, a new record opens; withdrawing twice is harmless
    await _grant(member)
    await member.delete(f"{API}/privacy/consents/contact_matching", headers=csrf_headers(member))
    nothing = await member.delete(f"{API}/privacy/consents/contact_matching", headers=csrf_headers(member))

    # then
    assert nothing.status_code == 200 and nothing.json() is None
    assert await count(context, ConsentRecord) == 2


async def test_a_purpose_not_offered_yet_or_unknown_cannot_be_granted(
    context: AppContext, world: World
) -> None:
    await world.member("李科员")
    member = await world.client_of("李科员")

    biometrics = await _grant(member, "biometrics")
    unknown = await _grant(member, "telepathy")

    assert (biometrics.status_code, biometrics.json()["code"]) == (409, "privacy.consent.purpose_unavailable")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "privacy.consent.purpose_unknown")
    assert await count(context, ConsentRecord) == 0


async def test_a_consent_belongs_to_one_organisation(
    context: AppContext, make_client: MakeClient, world: World
) -> None:
    # given: 李科员 belongs to two organisations and consents in the first only
    other = await open_world(context, make_client, "另一单位")
    await world.member("李科员")
    await other.member("李科员", mobile=world.mobiles["李科员"])
    await other.member("外单位同事")
    await other.client_of("外单位同事")
    member = await world.client_of("李科员")
    await _grant(member)
    first_key = await _key(member)

    # when: they switch to the other organisation
    await member.put(f"{API}/me/current-org", json={"org_id": other.org_id}, headers=csrf_headers(member))
    refused = await member.get(f"{API}/privacy/contact-matching/key")
    states = (await member.get(f"{API}/privacy/consents")).json()
    await _grant(member)
    second_key = await _key(member)
    found = await member.put(
        CONTACTS,
        json={
            "hashes": [
                _hash(first_key, other.mobiles["外单位同事"]),
                _hash(second_key, other.mobiles["外单位同事"]),
            ]
        },
        headers=csrf_headers(member),
    )

    # then: no consent there until given; each organisation has its own key
    assert refused.json()["code"] == "privacy.consent.consent_required"
    assert states[0]["granted"] is False
    assert first_key != second_key
    assert [match["name"] for match in found.json()["matches"]] == ["外单位同事"]
    assert found.json()["matches"][0]["hash"] == _hash(second_key, other.mobiles["外单位同事"])
