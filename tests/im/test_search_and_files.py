"""Search over the keyed word index, attachments, and what is (not) stored in the clear."""

from __future__ import annotations

import io
from typing import Any

from chat_world import open_direct, open_group, person
from PIL import Image
from sqlalchemy import select

from helpers import csrf_headers
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.im.files import remove_unsent_uploads
from zhengtong.im.jobs import UNSENT_UPLOADS_KEPT
from zhengtong.im.models import ChatFile, Message, MessageSearchToken


async def test_search_finds_one_and_two_character_words(context: AppContext, make_client: Any) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    await one.send(conversation_id, "请尽快完成审批流程")
    await one.send(conversation_id, "云盘里的政务文件已经更新")
    await one.send(conversation_id, "The budget report is ready")

    async def texts(query: str) -> list[str]:
        answer = await two.get("/im/search", q=query)
        assert answer.status_code == 200, answer.text
        return [hit["message"]["text"] for hit in answer.json()["items"]]

    assert await texts("审批") == ["请尽快完成审批流程"]
    assert await texts("云盘") == ["云盘里的政务文件已经更新"]
    assert await texts("审") == ["请尽快完成审批流程"]
    assert await texts("政务 文件") == ["云盘里的政务文件已经更新"]
    assert await texts("Budget") == ["The budget report is ready"]
    assert await texts("会议") == []
    empty = await two.get("/im/search", q="，")
    assert empty.json()["code"] == "im.query_empty"


async def test_search_honours_membership_history_and_recall(context: AppContext, make_client: Any) -> None:
    owner = await person(context, make_client, "群主")
    member = await person(context, make_client, "成员")
    outsider = await person(context, make_client, "局外人")
    late = await person(context, make_client, "新成员")
    group_id = await open_group(owner, member)
    secret = await owner.send(group_id, "预算调整方案")
    assert (await outsider.get("/im/search", q="预算")).json()["items"] == []
    await owner.patch(f"/im/conversations/{group_id}/settings", {"history_visible_count": 0})
    await owner.post(f"/im/conversations/{group_id}/members", {"member_ids": [late.id]})
    assert (await late.get("/im/search", q="预算")).json()["items"] == []
    assert len((await member.get("/im/search", q="预算")).json()["items"]) == 1
    await owner.post(f"/im/messages/{secret['id']}/recall")
    assert (await member.get("/im/search", q="预算")).json()["items"] == []


async def test_no_message_text_is_stored_in_the_clear(context: AppContext, make_client: Any) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    canary = "金丝雀机密文本"
    await one.send(conversation_id, canary)
    async with context.db.transaction() as session:
        message = (await session.execute(select(Message))).scalar_one()
        tokens = list((await session.execute(select(MessageSearchToken))).scalars())
    assert message.content_sealed is not None and canary.encode() not in message.content_sealed
    assert tokens and all(canary[:2].encode() not in token.token_hash for token in tokens)
    assert all(len(token.token_hash) == 16 for token in tokens)


def _png(width: int = 800, height: int = 600) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(output, format="PNG")
    return output.getvalue()


async def test_image_upload_thumbnail_download_and_recall(context: AppContext, make_client: Any) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    outsider = await person(context, make_client, "丙")
    conversation_id = await open_direct(one, two)
    uploaded = await one.http.post(
        f"/api/v1/im/conversations/{conversation_id}/files/upload",
        files={"file": ("现场照片.png", _png(), "image/png")},
        data={"kind": "image"},
        headers=csrf_headers(one.http),
    )
    assert uploaded.status_code == 201, uploaded.text
    image = uploaded.json()
    assert (image["content_type"], image["width"], image["height"], image["has_thumbnail"]) == (
        "image/png",
        800,
        600,
        True,
    )
    sent = await one.send(conversation_id, "", kind="image", file_id=image["id"])
    assert sent["attachment"]["name"] == "现场照片.png"

    thumbnail = await two.http.get(f"/api/v1/im/files/{image['id']}", params={"thumbnail": "true"})
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) == 320
    original = await two.http.get(f"/api/v1/im/files/{image['id']}")
    assert original.content == _png()
    assert (await outsider.http.get(f"/api/v1/im/files/{image['id']}")).status_code == 403

    # Stored sealed; a recall erases the bytes.
    async with context.db.transaction() as session:
        stored = await session.get(ChatFile, image["id"])
        assert stored is not None
    assert (await context.storage.get(stored.storage_key))[:8] != _png()[:8]
    await one.post(f"/im/messages/{sent['id']}/recall")
    assert not await context.storage.exists(stored.storage_key)
    gone = await two.http.get(f"/api/v1/im/files/{image['id']}")
    assert (gone.status_code, gone.json()["code"]) == (404, "im.file_not_found")


async def test_forbidden_and_mislabelled_files_are_refused(context: AppContext, make_client: Any) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    path = f"/api/v1/im/conversations/{conversation_id}/files/upload"
    cases = [
        ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 100, "file"),  # an executable whatever its name
        ("run.sh", b"#!/bin/sh\nrm -rf /\n", "file"),
        ("photo.png", b"%PDF-1.7 not an image", "image"),  # says image, is not
        ("virus.exe", b"plain text", "file"),
    ]
    for name, data, kind in cases:
        answer = await one.http.post(
            path,
            files={"file": (name, data, "application/octet-stream")},
            data={"kind": kind},
            headers=csrf_headers(one.http),
        )
        assert (answer.status_code, answer.json()["code"]) == (415, "im.file_type_forbidden"), name
    ok = await one.http.post(
        path,
        files={"file": ("报告.pdf", b"%PDF-1.7 ...", "application/pdf")},
        data={"kind": "file"},
        headers=csrf_headers(one.http),
    )
    assert ok.status_code == 201 and ok.json()["content_type"] == "application/pdf"
    async with context.db.transaction() as session:
        assert len(list((await session.execute(select(ChatFile))).scalars())) == 1


async def test_forward_one_by_one_and_merged(context: AppContext, make_client: Any) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    three = await person(context, make_client, "丙")
    source = await open_direct(one, two)
    target = await open_direct(one, three)
    first = await two.send(source, "第一条")
    second = await one.send(source, "第二条")
    copies = await one.post(
        "/im/forward", {"message_ids": [second["id"], first["id"]], "target_conversation_ids": [target]}
    )
    assert [m["text"] for m in copies.json()] == ["第一条", "第二条"]
    merged = await one.post(
        "/im/forward",
        {"message_ids": [first["id"], second["id"]], "target_conversation_ids": [target], "merged": True},
    )
    bundle = merged.json()[0]
    assert bundle["kind"] == "forward"
    assert [(i["sender_name"], i["text"]) for i in bundle["items"]] == [("乙", "第一条"), ("甲", "第二条")]
    assert (await three.history(target))["items"][-1]["items"][0]["text"] == "第一条"
    # Forwarding from a conversation one is not in is refused.
    stolen = await three.post(
        "/im/forward", {"message_ids": [first["id"]], "target_conversation_ids": [target]}
    )
    assert stolen.json()["code"] == "im.not_in_conversation"


async def test_reply_reactions_and_pins(context: AppContext, make_client: Any) -> None:
    owner = await person(context, make_client, "群主")
    member = await person(context, make_client, "成员")
    group_id = await open_group(owner, member)
    question = await member.send(group_id, "周会几点开始？")
    answer = await owner.send(group_id, "下午三点", reply_to_id=question["id"])
    assert answer["quote"] == {
        "message_id": question["id"],
        "seq": question["seq"],
        "sender_name": "成员",
        "excerpt": "周会几点开始？",
        "recalled": False,
    }
    liked = await member.post(f"/im/messages/{answer['id']}/reactions", {"emoji": "👍"})
    assert liked.json()["reactions"] == {"👍": [member.id]}
    unliked = await member.post(f"/im/messages/{answer['id']}/reactions", {"emoji": "👍"})
    assert unliked.json()["reactions"] == {}
    assert (await member.put(f"/im/messages/{answer['id']}/pin")).json()["code"] == "im.manager_required"
    assert (await owner.put(f"/im/messages/{answer['id']}/pin")).json()["pinned"] is True
    pins = (await member.get(f"/im/conversations/{group_id}/pins")).json()
    assert [m["text"] for m in pins] == ["下午三点"]


async def _upload(http: Any, conversation_id: str, name: str) -> dict[str, Any]:
    uploaded = await http.post(
        f"/api/v1/im/conversations/{conversation_id}/files/upload",
        files={"file": (name, _png(64, 48), "image/png")},
        data={"kind": "image"},
        headers=csrf_headers(http),
    )
    assert uploaded.status_code == 201, uploaded.text
    body: dict[str, Any] = uploaded.json()
    return body


async def test_an_upload_no_message_carried_is_removed_after_a_day(
    context: AppContext, make_client: Any
) -> None:
    # given: one upload sent, another forwarded, and one left behind in the composer
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    sent = await _upload(one.http, conversation_id, "已发送.png")
    message = await one.send(conversation_id, "", kind="image", file_id=sent["id"])
    other = await open_direct(one, await person(context, make_client, "丙"))
    forwarded = await one.post(
        "/im/forward", {"message_ids": [message["id"]], "target_conversation_ids": [other]}
    )
    copy_id = forwarded.json()[0]["attachment"]["id"]
    unsent = await _upload(one.http, conversation_id, "未发送.png")
    async with context.db.transaction() as session:
        left_behind = await session.get(ChatFile, unsent["id"])
        assert left_behind is not None
        keys = (left_behind.storage_key, left_behind.thumbnail_key)

    # when: the sweep runs within the day, and after it
    early = await remove_unsent_uploads(context, older_than=UNSENT_UPLOADS_KEPT)
    clock.advance(UNSENT_UPLOADS_KEPT.total_seconds() + 60)
    late = await remove_unsent_uploads(context, older_than=UNSENT_UPLOADS_KEPT)

    # then: only the upload no message carried is gone, bytes and row
    assert (early, late) == (0, 1)
    async with context.db.transaction() as session:
        remaining = set((await session.scalars(select(ChatFile.id))).all())
    assert remaining == {sent["id"], copy_id}
    assert not any([await context.storage.exists(key) for key in keys if key])
    assert (await two.http.get(f"/api/v1/im/files/{sent['id']}")).status_code == 200
