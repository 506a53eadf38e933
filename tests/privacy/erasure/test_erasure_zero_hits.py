"""The proof that nothing is left: canary members with data everywhere (canary_world.py) are
removed, or their organisation is deregistered, and the whole-store scan (privacy.scan) looks
for their mobile number, name, e-mail and ID number in every column, file, search index, cache
and log.

Removing a member leaves only the organisation's business records (messages and files in its
chats, which the inventory declares ORGANISATION_RECORD: they stay, with the author shown as a
removed member). Deregistering the organisation leaves nothing at all, while the other
organisation's canaries, including the one who belonged to both, are all still found."""

from __future__ import annotations

from datetime import timedelta

import orjson
from canary_world import Canary, CanaryOrg, CanaryWorld
from erasure_world import count_rows, last_sms, rows_of, run_jobs
from redis.asyncio import Redis

from helpers import csrf_headers, forget_send_cooldown
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.core.inventory import Action, declaration_of
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.models import metadata
from zhengtong.privacy.scan.scanner import Hit, ScanReport, compact, prepare_needle, scan

ORG_A, ORG_B = "鬼杀队甲府", "鬼杀队乙府"
SHARED = "宇髄天元"


async def _remove(org: CanaryOrg, canary: Canary) -> None:
    answer = await org.admin_client.delete(
        f"/api/v1/org/members/{canary.memberships[org.id]}", headers=csrf_headers(org.admin_client)
    )
    assert answer.status_code == 204, answer.text


def _table_and_column(hit: Hit) -> tuple[str, str | None]:
    where = hit.location.split(" ")[0]
    table, _, column = where.partition(".")
    return table, column or None


def _row_id(hit: Hit) -> str:
    return hit.location.split(" ")[2]


async def _is_organisation_record(context: AppContext, hit: Hit) -> bool:
    """The hit is in the organisation's business record: a column the inventory declares
    ORGANISATION_RECORD, a chat attachment's bytes, or a chat message in an event stream."""
    if hit.place in ("column", "search_index"):
        table, column = _table_and_column(hit)
        columns = [metadata.tables[table].columns[column]] if column else list(metadata.tables[table].columns)
        declared = [declaration_of(c) for c in columns]
        return any(d is not None and d.lifecycle.action is Action.ORGANISATION_RECORD for d in declared)
    if hit.place == "file":
        key = hit.location.split(" ")[-1]
        return bool(await rows_of(context, "im_files", storage_key=key)) or bool(
            await rows_of(context, "im_files", thumbnail_key=key)
        )
    if hit.place == "cache":
        return await _only_messages_name_it(context, hit)
    return False


def _redis_key(hit: Hit) -> str:
    return hit.location.removeprefix("redis key ").removeprefix("redis ")


async def _redis_type(context: AppContext, hit: Hit) -> str:
    redis = Redis.from_url(context.settings.redis_url or "")
    try:
        return str((await redis.type(_redis_key(hit))).decode())
    finally:
        await redis.aclose()


async def _only_messages_name_it(context: AppContext, hit: Hit) -> bool:
    """Every event of the stream that holds the needle carries a chat message (a copy of the
    organisation's record on its way to a member's devices)."""
    key = _redis_key(hit)
    needle = prepare_needle(context.keyring, hit.needle)
    redis = Redis.from_url(context.settings.redis_url or "")
    try:
        if (await redis.type(key)).decode() != "stream":
            return False
        events = [orjson.loads(fields[b"e"]) for _, fields in await redis.xrange(key)]
    finally:
        await redis.aclose()
    naming = [event for event in events if needle.found_in(compact(orjson.dumps(event).decode()))]
    return bool(naming) and all(str(event.get("type", "")).startswith("message.") for event in naming)


def _missing(report: ScanReport, needles: list[str]) -> list[str]:
    return [needle for needle in needles if not report.hits_for(needle)]


async def test_a_removed_canary_is_found_only_in_the_organisations_records(
    context: AppContext, canary_world: CanaryWorld
) -> None:
    org = canary_world.org(ORG_A)
    shinobu = canary_world.canary("胡蝶忍")
    others = [
        needle
        for name, needles in canary_world.needles_by_canary.items()
        if name != shinobu.name
        for needle in needles
    ]

    await _remove(org, shinobu)

    report = await scan(context, canary_world.all_needles)
    theirs = [hit for hit in report.hits if hit.needle in shinobu.needles]
    left = [hit for hit in theirs if not await _is_organisation_record(context, hit)]
    assert left == []
    # the messages she wrote and the file she shared stay, as the organisation's records
    assert {hit.place for hit in theirs} >= {"column", "file"}
    assert _missing(report, others) == []
    assert await count_rows(context, "accounts", id=shinobu.account_id) == 0


async def test_a_canary_removed_from_one_of_two_organisations_stays_only_in_the_other(
    context: AppContext, canary_world: CanaryWorld
) -> None:
    org, other = canary_world.org(ORG_A), canary_world.org(ORG_B)
    shared = canary_world.canary(SHARED)

    await _remove(org, shared)

    report = await scan(context, shared.needles)
    left = []
    for hit in report.hits:
        if await _is_organisation_record(context, hit):
            continue
        if await _org_of(context, hit) not in (other.id, None):  # None: their account's own rows
            left.append(hit)
    assert left == []
    assert _missing(report, shared.needles) == []  # still in 乙府
    assert await count_rows(context, "memberships", id=shared.memberships[other.id]) == 1


async def _org_of(context: AppContext, hit: Hit) -> str | None:
    """The organisation whose row or file holds the hit; None for a row outside any."""
    if hit.place == "file":
        return hit.location.split(" ")[-1].split("/")[1]
    if hit.place == "cache":
        # Rate-limit windows name the account's number and stay with it; an event stream that
        # names the person with anything but chat messages belongs to no one it may.
        return "event stream" if await _redis_type(context, hit) == "stream" else None
    table, _ = _table_and_column(hit)
    if table == "im_message_tokens":
        table, row_id = "im_messages", hit.location.split(" ")[2]
    else:
        row_id = _row_id(hit)
    if "org_id" not in metadata.tables[table].columns:
        return None
    [row] = await rows_of(context, table, id=row_id)
    return str(row["org_id"])


async def _deregister(context: AppContext, org: CanaryOrg) -> None:
    async with context.db.transaction() as session:
        account = await session.get(Account, org.admin_account_id)
        assert account is not None
        mobile = identity.decrypt_mobile(context.keyring, account)
    admin = org.admin_client
    await forget_send_cooldown(context, mobile)
    sent = await admin.post("/api/v1/org/deregistration/code", headers=csrf_headers(admin))
    assert sent.status_code == 200, sent.text
    code = last_sms(context, mobile, "deregister_code")["code"]
    asked = await admin.post(
        "/api/v1/org/deregistration", json={"org_name": org.name, "code": code}, headers=csrf_headers(admin)
    )
    assert asked.status_code == 201, asked.text
    clock.advance(timedelta(days=context.settings.deregistration_cooling_days, minutes=1).total_seconds())
    await run_jobs(context)


async def test_a_deregistered_organisation_leaves_nothing_and_the_other_keeps_everything(
    context: AppContext, canary_world: CanaryWorld
) -> None:
    org, other = canary_world.org(ORG_A), canary_world.org(ORG_B)
    only_a = [needle for canary in org.canaries if canary.name != SHARED for needle in canary.needles]
    kept = other.needles  # 乙府's canaries, the shared one among them

    await _deregister(context, org)

    report = await scan(context, canary_world.all_needles)
    assert [hit for hit in report.hits if hit.needle in only_a] == []
    assert _missing(report, kept) == []
    assert [hit for hit in report.hits if await _org_of(context, hit) == org.id] == []
    assert report.unopened == []  # no ciphertext of the organisation is left to open
    # the organisation's key is gone with it; the tombstone names no one
    assert await count_rows(context, "organizations", id=org.id) == 0
    [tombstone] = await rows_of(context, "privacy_deregistrations", org_id=org.id)
    assert tombstone["state"] == "purged"
    assert await count_rows(context, "accounts", id=canary_world.canary(SHARED).account_id) == 1
