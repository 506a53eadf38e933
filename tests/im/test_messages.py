"""Sending, history, read watermarks and the read list, recall, idempotent retries."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import replace
from datetime import timedelta
from typing import Any

from chat_world import Person, open_direct, open_group, person
from sqlalchemy import func, select, update

from helpers import create_member, next_event
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.im.models import ConversationMember, Message


async def test_direct_chat_send_history_and_unread(context: AppContext, make_client: Any) -> None:
    zhang = await person(context, make_client, "张三")
    li = await person(context, make_client, "李四")
    conversation_id = await open_direct(zhang, li)
    assert await open_direct(li, zhang) == conversation_id  # one conversation per pair

    first = await zhang.send(conversation_id, "明天上午九点开会")
    await zhang.send(conversation_id, "请准时参加")
    assert first["seq"] == 1 and first["sender_name"] == "张三"
    assert first["unread_count"] == 1  # 李四 has not read it

    seen_by_li = await li.conversation(conversation_id)
    assert (seen_by_li["title"], seen_by_li["unread"]) == ("张三", 2)
    listing = (await li.get("/im/conversations")).json()
    assert listing["total_unread"] == 2
    assert listing["items"][0]["last_message"]["text"] == "请准时参加"

    page = await li.history(conversation_id)
    assert [m["text"] for m in page["items"]] == ["明天上午九点开会", "请准时参加"]
    read = await li.post(f"/im/conversations/{conversation_id}/read", {"seq": 2})
    assert read.json()["unread"] == 0
    mine = (await zhang.history(conversation_id))["items"]
    assert [m["unread_count"] for m in mine] == [0, 0]


async def _reads(sender: Person, message_id: str, **params: Any) -> dict[str, Any]:
    answer = await sender.get(f"/im/messages/{message_id}/reads", **params)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def _whole_tab(sender: Person, message_id: str, tab: str, limit: int) -> list[tuple[str, str]]:
    """(name, membership id) of everyone in one tab, page by page as a scrolling client asks."""
    people: list[tuple[str, str]] = []
    cursor = None
    while True:
        page = await _reads(
            sender, message_id, tab=tab, limit=limit, **({"cursor": cursor} if cursor else {})
        )
        assert page["tab"] == tab and len(page["items"]) <= limit
        people += [(item["name"], item["membership_id"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return people


async def _set_read_seq(
    context: AppContext, conversation_id: str, membership_ids: list[str], seq: int
) -> None:
    """Watermarks moved as the members' own reading would (they are not logged in here)."""
    async with context.db.transaction() as session:
        await session.execute(
            update(ConversationMember)
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.membership_id.in_(membership_ids),
            )
            .values(read_seq=seq)
        )


async def test_read_list_counts_both_tabs_and_lists_one_tab_by_name(
    context: AppContext, make_client: Any
) -> None:
    owner = await person(context, make_client, "王五")
    readers = [await person(context, make_client, f"成员{n}") for n in (2, 0, 1)]
    group_id = await open_group(owner, *readers)
    sent = await owner.send(group_id, "请大家确认")
    assert sent["unread_count"] == 3
    await readers[1].post(f"/im/conversations/{group_id}/read", {"seq": sent["seq"]})

    unread = await _reads(owner, sent["id"])  # 未读 first, as DingTalk opens the list
    assert (unread["tab"], unread["read_count"], unread["unread_count"], unread["hidden_count"]) == (
        "unread",
        1,
        2,
        0,
    )
    assert unread["items"] == [
        {"membership_id": readers[2].id, "name": "成员1"},
        {"membership_id": readers[0].id, "name": "成员2"},
    ]
    assert unread["next_cursor"] is None
    read = await _reads(owner, sent["id"], tab="read")
    assert read["items"] == [{"membership_id": readers[1].id, "name": "成员0"}]
    assert (read["read_count"], read["unread_count"]) == (1, 2)

    # Only the sender sees the read list of a message.
    refused = await readers[1].get(f"/im/messages/{sent['id']}/reads")
    assert (refused.status_code, refused.json()["code"]) == (403, "im.not_own_message")


async def test_paging_through_both_tabs_lists_everyone_present_once_in_order(
    context: AppContext, make_client: Any
) -> None:
    owner = await person(context, make_client, "发送人")
    # Out of alphabetical order, with namesakes (ordered by id) and a name that sorts first.
    names = ["赵六", "成员", "李四", "成员", "Alice", "张三", "成员", "钱七", "孙八"]
    members = [await create_member(context, name=name) for name in names]
    group_id = await open_group(owner)
    added = await owner.post(
        f"/im/conversations/{group_id}/members", {"member_ids": [m.membership_id for m in members]}
    )
    assert added.status_code == 200, added.text
    sent = await owner.send(group_id, "周五前提交材料")
    late = await create_member(context, name="后来者")  # joined after the message: not about them
    assert (
        await owner.post(f"/im/conversations/{group_id}/members", {"member_ids": [late.membership_id]})
    ).status_code == 200
    readers = [m.membership_id for m in members[::2]]
    await _set_read_seq(context, group_id, [*readers, late.membership_id], sent["seq"])

    everyone = sorted((m.name, m.membership_id) for m in members)
    for limit in (1, 2, 4, 200):
        read = await _whole_tab(owner, sent["id"], "read", limit)
        unread = await _whole_tab(owner, sent["id"], "unread", limit)
        assert read == sorted(p for p in everyone if p[1] in readers)
        assert unread == sorted(p for p in everyone if p[1] not in readers)
        assert sorted(read + unread) == everyone  # each member exactly once, the sender in neither
    counts = await _reads(owner, sent["id"], limit=1)
    assert (counts["read_count"], counts["unread_count"], counts["hidden_count"]) == (5, 4, 0)


async def test_bad_read_list_requests_are_refused(context: AppContext, make_client: Any) -> None:
    owner = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    stranger = await person(context, make_client, "外单位", org_name="另一单位")
    conversation_id = await open_direct(owner, other)
    sent = await owner.send(conversation_id, "请查收")
    path = f"/im/messages/{sent['id']}/reads"
    before = await _reads(owner, sent["id"])

    def encoded(value: str) -> str:
        return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")

    for cursor in (
        "",
        "不是游标",
        "%%%",
        encoded("not json"),
        encoded("[1, 2]"),
        encoded('["x"]'),
        encoded("{}"),
        encoded('{"name": "x", "id": "y"}'),
        encoded('["x", 1]'),
    ):
        answer = await owner.get(path, cursor=cursor)
        assert (answer.status_code, answer.json()["code"]) == (422, "im.read_cursor_invalid"), cursor
    refused = await owner.http.get(
        f"/api/v1{path}", params={"cursor": "%%%"}, headers={"Accept-Language": "en"}
    )
    assert refused.json()["message"] == "This position in the read list is not valid; open the list again"
    for params in ({"limit": 0}, {"limit": 201}, {"limit": "many"}, {"tab": "all"}):
        answer = await owner.get(path, **params)
        assert (answer.status_code, answer.json()["code"]) == (422, "request.invalid"), params

    # A member of another organisation learns nothing, whatever they ask, and changes nothing.
    for params in ({}, {"tab": "read"}, {"cursor": before["next_cursor"] or encoded('["", ""]')}):
        answer = await stranger.get(path, **params)
        assert (answer.status_code, answer.json()["code"]) == (404, "im.message_not_found"), params
    assert await _reads(owner, sent["id"]) == before
    assert (await other.conversation(conversation_id))["read_seq"] == 0


async def test_watermark_stores_one_row_per_member_whatever_is_read(
    context: AppContext, make_client: Any
) -> None:
    owner = await person(context, make_client, "甲")
    other = await person(context, make_client, "乙")
    group_id = await open_group(owner, other)
    for n in range(20):
        await owner.send(group_id, f"消息{n}")
    await other.post(f"/im/conversations/{group_id}/read", {"seq": 999})  # capped at the last message
    async with context.db.transaction() as session:
        rows = await session.execute(
            select(func.count()).where(ConversationMember.conversation_id == group_id)
        )
        assert rows.scalar_one() == 2
    assert (await other.conversation(group_id))["read_seq"] == 21  # 20 messages and the "created" line
    # A watermark never moves back.
    await other.post(f"/im/conversations/{group_id}/read", {"seq": 3})
    assert (await other.conversation(group_id))["read_seq"] == 21


async def test_retrying_a_send_with_the_same_client_id_stores_it_once(
    context: AppContext, make_client: Any
) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    first = await one.send(conversation_id, "只发一次", client_msg_id="c-1")
    again = await one.send(conversation_id, "只发一次", client_msg_id="c-1")
    assert again["id"] == first["id"] and again["client_msg_id"] == "c-1"
    async with context.db.transaction() as session:
        count = await session.execute(select(func.count()).where(Message.conversation_id == conversation_id))
        assert count.scalar_one() == 1


async def test_recall_erases_content_and_respects_the_window(context: AppContext, make_client: Any) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    sent = await one.send(conversation_id, "发错了")
    recalled = await one.post(f"/im/messages/{sent['id']}/recall")
    assert recalled.status_code == 200
    assert recalled.json()["recalled"] is True and recalled.json()["text"] == ""
    async with context.db.transaction() as session:
        stored = await session.get(Message, sent["id"])
        assert stored is not None and stored.content_sealed is None
    assert (await one.post(f"/im/messages/{sent['id']}/recall")).json()["code"] == "im.already_recalled"

    old = await one.send(conversation_id, "一天以前")
    clock.advance(timedelta(hours=25).total_seconds())
    late = await one.post(f"/im/messages/{old['id']}/recall")
    assert (late.status_code, late.json()["code"]) == (409, "im.recall_window_passed")
    other = await two.post(f"/im/messages/{old['id']}/recall")
    assert other.json()["code"] == "im.recall_not_allowed"
    assert (await two.history(conversation_id))["items"][-1]["text"] == "一天以前"


async def test_group_owner_recalls_anyones_message(context: AppContext, make_client: Any) -> None:
    owner = await person(context, make_client, "群主")
    member = await person(context, make_client, "成员")
    group_id = await open_group(owner, member)
    sent = await member.send(group_id, "不当言论")
    clock.advance(timedelta(days=3).total_seconds())
    assert (await owner.post(f"/im/messages/{sent['id']}/recall")).status_code == 200


async def test_bad_messages_get_clear_errors_and_change_nothing(
    context: AppContext, make_client: Any
) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    path = f"/im/conversations/{conversation_id}/messages"
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"text": "   "}, 422, "im.message_empty"),
        ({"text": "长" * 5001}, 422, "im.message_too_long"),
        ({"text": "x", "unknown": 1}, 422, "request.invalid"),
        ({"kind": "image", "file_id": "01HXXXXXXXXXXXXXXXXXXXXXXX"}, 404, "im.file_not_found"),
    ]
    for body, status, code in cases:
        answer = await one.post(path, body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body
    assert (await one.conversation(conversation_id))["last_seq"] == 0


async def test_outsiders_and_other_organisations_cannot_read_or_send(
    context: AppContext, make_client: Any
) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    outsider = await person(context, make_client, "丙")
    stranger = await person(context, make_client, "外单位", org_name="另一单位")
    conversation_id = await open_direct(one, two)
    sent = await one.send(conversation_id, "机密")
    for intruder in (outsider, stranger):
        for answer in (
            await intruder.get(f"/im/conversations/{conversation_id}/messages"),
            await intruder.post(f"/im/conversations/{conversation_id}/messages", {"text": "hi"}),
            await intruder.post(f"/im/messages/{sent['id']}/recall"),
            await intruder.get(f"/im/messages/{sent['id']}/reads"),
        ):
            assert answer.status_code in (403, 404), answer.text
    # Another organisation's member is not even a contact.
    refused = await stranger.post("/im/conversations/direct", {"membership_id": one.id})
    assert refused.status_code == 404
    assert (await one.conversation(conversation_id))["last_seq"] == 1


async def test_sending_is_rate_limited(context: AppContext, make_client: Any) -> None:
    context.settings = replace(context.settings, chat_sends_per_minute=3)
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    for n in range(3):
        await one.send(conversation_id, str(n))
    flooded = await one.post(f"/im/conversations/{conversation_id}/messages", {"text": "4"})
    assert (flooded.status_code, flooded.json()["code"]) == (429, "rate_limited")


async def test_catching_up_after_a_disconnect_pages_forward(context: AppContext, make_client: Any) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    for n in range(5):
        await one.send(conversation_id, f"第{n}条")
    first = await two.history(conversation_id, after_seq=1, limit=2)
    assert [m["seq"] for m in first["items"]] == [2, 3] and first["has_more_after"] is True
    rest = await two.history(conversation_id, after_seq=3, limit=2)
    assert [m["seq"] for m in rest["items"]] == [4, 5] and rest["has_more_after"] is False
    older = await two.history(conversation_id, before_seq=3, limit=1)
    assert [m["seq"] for m in older["items"]] == [2] and older["has_more_before"] is True


async def test_jumping_to_a_message_loads_the_page_around_it(context: AppContext, make_client: Any) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    for n in range(10):
        await one.send(conversation_id, f"第{n}条")
    page = await two.history(conversation_id, around_seq=5, limit=4)
    assert [m["seq"] for m in page["items"]] == [3, 4, 5, 6]
    assert page["has_more_before"] is True and page["has_more_after"] is True
    edge = await two.history(conversation_id, around_seq=10, limit=4)
    assert [m["seq"] for m in edge["items"]] == [8, 9, 10] and edge["has_more_after"] is False


async def test_me_names_my_membership_and_a_recall_names_who(context: AppContext, make_client: Any) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    me = (await one.get("/me")).json()
    assert me["current_membership_id"] == one.id
    assert me["organizations"][0]["membership_id"] == one.id
    conversation_id = await open_direct(one, two)
    sent = await one.send(conversation_id, "撤回我")
    recalled = (await one.post(f"/im/messages/{sent['id']}/recall")).json()
    assert recalled["recalled_by_membership_id"] == one.id
    policy = (await two.get("/im/policy")).json()
    assert (
        policy["max_upload_bytes"] == context.settings.max_upload_bytes and policy["max_text_chars"] == 5000
    )


async def test_concurrent_sends_with_one_client_id_store_one_message(
    context: AppContext, make_client: Any
) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    path = f"/im/conversations/{conversation_id}/messages"
    answers = await asyncio.gather(
        *(one.post(path, {"text": "并发", "client_msg_id": "same"}) for _ in range(4))
    )
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert (await one.conversation(conversation_id))["last_seq"] == 1
    elsewhere = await open_direct(one, await person(context, make_client, "丙"))
    reused = await one.post(f"/im/conversations/{elsewhere}/messages", {"text": "x", "client_msg_id": "same"})
    assert (reused.status_code, reused.json()["code"]) == (409, "im.client_msg_id_reused")


async def test_a_retried_send_tells_the_members_again(context: AppContext, make_client: Any) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    first = await one.send(conversation_id, "再说一遍", client_msg_id="retry-1")
    async with context.events.listen(two.member.account_id) as listener:
        again = await one.send(conversation_id, "再说一遍", client_msg_id="retry-1")
        event = await next_event(listener)
    assert again["id"] == first["id"] and event["message"]["id"] == first["id"]
