"""DING and privacy by construction: the text and the attachment are sealed, and the privacy scan
opens them; a removed recipient's row and attempts go while the DING stays the organisation's
record; a removed sender is shown as a removed member; the purge leaves nothing."""

from __future__ import annotations

from typing import Any

from ding_world import person, run_jobs
from sqlalchemy import func, select

from zhengtong.core.context import AppContext
from zhengtong.ding.models import Ding, DingAttempt, DingFile, DingRecipient
from zhengtong.org.models import Membership
from zhengtong.privacy.erasure.service import erase_member, purge_organization
from zhengtong.privacy.scan.scanner import scan

CANARY_TEXT = "金丝雀暗号七八九"
CANARY_FILE = "canary-7788.txt"


async def _count(context: AppContext, model: Any, *where: Any) -> int:
    async with context.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _erase(context: AppContext, membership_id: str) -> None:
    async with context.db.transaction() as session:
        membership = await session.get(Membership, membership_id)
        assert membership is not None
        await erase_member(session, context, membership)


async def test_the_scan_opens_the_sealed_text_and_attachment(context: AppContext, make_client: Any) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    uploaded = (await sender.upload(CANARY_FILE, f"{CANARY_TEXT} in a file".encode())).json()
    await sender.ding(other, text=f"请看：{CANARY_TEXT}", channel="sms", attachment_id=uploaded["id"])
    await run_jobs(context)

    report = await scan(context, [CANARY_TEXT, CANARY_FILE])

    locations = {hit.location.split(" row ")[0] for hit in report.hits if hit.place == "column"}
    assert "dings.text_sealed" in locations and "ding_files.name_sealed" in locations
    assert any(hit.place == "file" and hit.location.startswith("storage ding/") for hit in report.hits)
    assert report.unopened == []


async def test_a_removed_recipient_loses_their_rows_and_the_ding_stays(
    context: AppContext, make_client: Any
) -> None:
    sender = await person(context, make_client, "发送人")
    leaving, staying = await person(context, make_client, "离职"), await person(context, make_client, "在职")
    created = await sender.ding(leaving, staying, channel="sms")
    await run_jobs(context)

    await _erase(context, leaving.id)

    assert await _count(context, DingRecipient, DingRecipient.membership_id == leaving.id) == 0
    assert await _count(context, DingAttempt) == 2  # the staying recipient's in-app and SMS
    listed = (await sender.get(f"/ding/{created['id']}/recipients")).json()
    assert [r["membership_id"] for r in listed["items"]] == [staying.id] and listed["unconfirmed_count"] == 1


async def test_a_removed_sender_is_shown_as_a_removed_member(context: AppContext, make_client: Any) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    created = await sender.ding(other, text="交接事项")
    await run_jobs(context)

    await _erase(context, sender.id)

    shown = (await other.get(f"/ding/{created['id']}")).json()
    assert shown["sender_membership_id"] is None and shown["sender_name"] == "已移除成员"
    assert shown["text"] == "交接事项"


async def test_the_purge_leaves_no_ding_row_or_file(context: AppContext, make_client: Any) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    uploaded = (await sender.upload("notes.txt", b"notes")).json()
    await sender.ding(other, channel="call", attachment_id=uploaded["id"])
    await run_jobs(context)

    await purge_organization(context, sender.member.org_id)

    for model in (Ding, DingRecipient, DingAttempt, DingFile):
        assert await _count(context, model) == 0, model.__tablename__
    assert list(context.storage.keys("ding/")) == []
