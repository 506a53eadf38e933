"""The scanner finds every canary value in every kind of place, and nothing that was never stored."""

from __future__ import annotations

import asyncio
import json

import pytest
from canary_world import CanaryWorld, id_number
from click.testing import CliRunner
from sqlalchemy import update

from helpers import create_member
from zhengtong.cli import main
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.org.models import Organization
from zhengtong.privacy.scan.errors import NEEDLE_TOO_SHORT
from zhengtong.privacy.scan.scanner import PLACES, ScanReport, compact, prepare_needle, scan


async def test_every_canary_needle_is_found_and_every_kind_of_place_is_covered(
    context: AppContext, canary_world: CanaryWorld
) -> None:
    log_dir = context.settings.data_dir / "old-logs"
    log_dir.mkdir(parents=True)
    shinobu = canary_world.canary("胡蝶忍")
    (log_dir / "app-2024-01-01.log").write_text(f"an old line that named {shinobu.email}\n")

    report = await scan(context, canary_world.all_needles, log_dirs=[log_dir])

    missing = [needle for needle in canary_world.all_needles if not report.hits_for(needle)]
    assert missing == []
    assert report.places() == set(PLACES)
    assert report.unopened == []


async def test_needles_never_stored_are_not_found(context: AppContext, canary_world: CanaryWorld) -> None:
    never = ["13712345678", "不死川玄弥", "genya@canary.example.cn", id_number("110105", "19981207", 42)]

    report = await scan(context, never)

    assert report.hits == []
    assert report.clean and report.unopened == []
    assert report.looked_at["column"] > 1000 and report.looked_at["file"] > 0


def test_a_mobile_matches_in_any_written_form_but_not_masked(context: AppContext) -> None:
    needle = prepare_needle(context.keyring, "+86 137-6688-0001")

    for written in ("13766880001", "+8613766880001", "电话 137 6688 0001", "(+86) 137-6688-0001"):
        assert needle.found_in(compact(written)), written
    for other in ("137****0001", "1376688000", "13766880002"):
        assert not needle.found_in(compact(other)), other


def test_e_mail_and_id_numbers_match_whatever_their_case(context: AppContext) -> None:
    email = prepare_needle(context.keyring, "Mitsuri.1@Canary.Example.CN")
    identity = prepare_needle(context.keyring, "11010519930601103x")

    assert email.found_in(compact("邮箱：mitsuri.1@canary.example.cn。"))
    assert identity.found_in(compact("身份证 11010519930601103X"))


def test_a_needle_needs_two_characters(context: AppContext) -> None:
    with pytest.raises(AppError) as raised:
        prepare_needle(context.keyring, " 张 ")
    assert raised.value.error is NEEDLE_TOO_SHORT


async def test_the_command_exits_1_and_names_the_place_when_something_is_found(
    context: AppContext, settings: Settings
) -> None:
    member = await create_member(context, name="伊黑小芭内")
    env = {
        "ZT_DATA_DIR": str(settings.data_dir),
        "ZT_DATABASE_URL": settings.database_url,
        "ZT_REDIS_URL": settings.redis_url or "",
        "ZT_REDIS_PREFIX": settings.redis_prefix,
    }

    found = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["privacy", "scan", "--needle", member.mobile, "--needle", "伊黑小芭内"],
        env=env,
    )
    clean = await asyncio.to_thread(
        CliRunner().invoke, main, ["privacy", "scan", "--needle", "13712345678", "--json"], env=env
    )

    assert found.exit_code == 1, found.output
    assert f"FOUND  {member.mobile}  [column]  accounts.mobile_index row {member.account_id}" in found.output
    assert f"FOUND  伊黑小芭内  [column]  memberships.name row {member.membership_id}" in found.output
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.output)["clean"] is True


async def test_each_kind_of_value_is_found_where_the_platform_keeps_it(
    context: AppContext, canary_world: CanaryWorld
) -> None:
    report = await scan(context, canary_world.all_needles)

    for canary in canary_world.canaries.values():
        assert {
            ("column", "memberships.name"),
            ("search_index", "member_search_tokens.token"),
            ("search_index", "im_message_tokens"),
            ("column", "im_messages.content_sealed"),
            ("column", "im_files.name_sealed"),
            ("file", "storage"),
            ("cache", "redis"),
        } <= _where(report, canary.name)
        assert {
            ("column", "accounts.mobile_index"),
            ("column", "accounts.mobile_encrypted"),
            ("search_index", "im_message_tokens"),
            ("file", "storage"),
        } <= _where(report, canary.mobile)
        assert {("column", "memberships.org_email"), ("column", "im_messages.content_sealed")} <= _where(
            report, canary.email
        )
        assert {("column", "memberships.custom_fields"), ("file", "storage")} <= _where(
            report, canary.id_number
        )


def _where(report: ScanReport, needle: str) -> set[tuple[str, str]]:
    """(place, table.column or the kind of location) of each hit of `needle`."""
    return {(hit.place, hit.location.split(" row ")[0].split(" ")[0]) for hit in report.hits_for(needle)}


async def test_after_an_organisation_key_is_destroyed_its_sealed_data_no_longer_opens(
    context: AppContext, canary_world: CanaryWorld
) -> None:
    shredded = canary_world.orgs[0]
    async with context.db.transaction() as session:
        await session.execute(
            update(Organization).where(Organization.id == shredded.id).values(data_key_wrapped=None)
        )
    context.keyring.destroy_org_key(shredded.id)

    only_there = [n for c in shredded.canaries if len(c.memberships) == 1 for n in c.needles]
    report = await scan(context, only_there)

    assert report.hits_for(shredded.canaries[0].name)  # the rows in the clear are still there
    # What the organisation's key sealed (messages, file names, files, the chat index) is gone.
    assert [h for h in report.hits if h.location.startswith("im_") or h.place == "file"] == []
    assert any(
        "im_messages.content_sealed" in u and "organisation key destroyed" in u for u in report.unopened
    )


def test_a_number_outside_the_mainland_is_matched_in_international_form(context: AppContext) -> None:
    needle = prepare_needle(context.keyring, "+852 9123 4567")

    assert needle.found_in(compact("+85291234567")) and needle.found_in(compact("852-9123-4567"))
    assert context.keyring.blind_index("mobile", "+85291234567") in needle.hashes
