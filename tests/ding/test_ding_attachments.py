"""A DING's one attachment (uploaded first, downloaded by the sender and the recipients only) and
"DING 一下" from a chat message the sender can see, which takes its text and its attachment."""

from __future__ import annotations

from typing import Any

import pytest
from ding_world import Person, person, run_jobs
from sqlalchemy import select

from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.ding.models import DingFile

NOTES = "第三季度防汛值班表：张三、李四".encode()


async def _group(owner: Person, *others: Person) -> str:
    answer = await owner.post(
        "/im/conversations/group", {"name": "值班群", "member_ids": [p.id for p in others]}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def test_an_attachment_goes_with_the_ding_to_its_people_only(
    context: AppContext, make_client: Any
) -> None:
    # given
    sender = await person(context, make_client, "发送人")
    other, bystander = await person(context, make_client, "同事"), await person(context, make_client, "旁人")
    uploaded = await sender.upload("值班表.txt", NOTES)

    # when
    created = await sender.ding(other, attachment_id=uploaded.json()["id"])
    await run_jobs(context)
    reused = await sender.post(
        "/ding", {"text": "再发", "recipient_ids": [other.id], "attachment_id": created["attachment"]["id"]}
    )
    by_other = await other.get(f"/ding/{created['id']}/attachment")
    by_sender = await sender.get(f"/ding/{created['id']}/attachment")
    by_bystander = await bystander.get(f"/ding/{created['id']}/attachment")

    # then
    assert uploaded.status_code == 201 and uploaded.json()["name"] == "值班表.txt"
    assert created["attachment"] == uploaded.json()
    assert (reused.status_code, reused.json()["code"]) == (404, "ding.attachment_not_found")
    assert by_other.content == NOTES and by_sender.content == NOTES
    assert "%E5%80%BC%E7%8F%AD%E8%A1%A8.txt" in by_other.headers["content-disposition"]
    assert by_bystander.json()["code"] == "ding.not_found"
    async with context.db.transaction() as session:
        stored = await session.scalar(select(DingFile))
    assert stored is not None and NOTES not in await context.storage.get(stored.storage_key)  # sealed


async def test_someone_elses_upload_cannot_be_attached(context: AppContext, make_client: Any) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    theirs = (await other.upload("notes.txt", NOTES)).json()

    answer = await sender.post(
        "/ding", {"text": "hi", "recipient_ids": [other.id], "attachment_id": theirs["id"]}
    )

    assert (answer.status_code, answer.json()["code"]) == (404, "ding.attachment_not_found")


@pytest.mark.parametrize(
    ("name", "data"), [("run.exe", b"MZ\x90\x00"), ("notes.txt", b"#!/bin/sh\nrm -rf /")]
)
async def test_executables_are_refused(context: AppContext, make_client: Any, name: str, data: bytes) -> None:
    sender = await person(context, make_client, "发送人")

    answer = await sender.upload(name, data)

    assert (answer.status_code, answer.json()["code"]) == (415, "ding.file_type_forbidden")


async def test_an_upload_no_ding_took_is_removed_after_a_day(context: AppContext, make_client: Any) -> None:
    sender = await person(context, make_client, "发送人")
    uploaded = (await sender.upload("草稿.txt", NOTES)).json()

    clock.advance(25 * 3600)
    await run_jobs(context)

    async with context.db.transaction() as session:
        assert await session.get(DingFile, uploaded["id"]) is None
    assert list(context.storage.keys("ding/")) == []


async def test_ding_from_a_chat_message_takes_its_text_and_attachment(
    context: AppContext, make_client: Any
) -> None:
    # given: a file message in a group
    sender = await person(context, make_client, "发送人")
    member = await person(context, make_client, "群成员")
    group_id = await _group(sender, member)
    chat_upload = await sender.http.post(
        f"/api/v1/im/conversations/{group_id}/files/upload",
        files={"file": ("值班表.txt", NOTES)},
        data={"kind": "file"},
        headers={"X-CSRF-Token": sender.http.cookies.get("zt_csrf") or ""},
    )
    message = (
        await sender.post(
            f"/im/conversations/{group_id}/messages",
            {"kind": "file", "file_id": chat_upload.json()["id"], "text": "请查收值班表"},
        )
    ).json()

    # when
    created = await sender.ding(member, text="", source_message_id=message["id"])
    recalled = await sender.post(f"/im/messages/{message['id']}/recall")
    await run_jobs(context)

    # then: the DING keeps its own copy when the message is recalled
    assert created["text"] == "请查收值班表" and created["source_message_id"] == message["id"]
    assert created["attachment"]["name"] == "值班表.txt"
    assert recalled.status_code == 200
    assert (await member.get(f"/ding/{created['id']}/attachment")).content == NOTES
    again = await sender.post(
        "/ding", {"text": "", "recipient_ids": [member.id], "source_message_id": message["id"]}
    )
    assert again.json()["code"] == "ding.message_not_found"


async def test_only_a_message_the_sender_can_see_can_be_dinged(context: AppContext, make_client: Any) -> None:
    owner = await person(context, make_client, "群主")
    member = await person(context, make_client, "群成员")
    outsider = await person(context, make_client, "群外")
    group_id = await _group(owner, member)
    message = (await owner.post(f"/im/conversations/{group_id}/messages", {"text": "内部消息"})).json()

    answer = await outsider.post(
        "/ding", {"text": "", "recipient_ids": [member.id], "source_message_id": message["id"]}
    )

    assert (answer.status_code, answer.json()["code"]) == (404, "ding.message_not_found")
