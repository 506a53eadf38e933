"""What each person's event stream hears, read-receipt policies, quiet hours and do-not-disturb."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from chat_world import Person, open_direct, open_group, person

from helpers import next_event
from zhengtong.core.caller import Caller
from zhengtong.core.context import AppContext
from zhengtong.im import realtime_actions
from zhengtong.im.models import ChatPreference, ConversationMember
from zhengtong.im.preferences import in_quiet_hours, should_notify
from zhengtong.platform.eventlog import Listener


async def _drain(context: AppContext, listener: Listener) -> list[dict[str, Any]]:
    """Everything the listener has heard so far. A barrier event sent after it marks the end, so
    that with Redis (asynchronous delivery) nothing still on its way is missed."""
    await context.events.append([listener.account_id], {"type": "barrier"})
    events = []
    while (event := await next_event(listener))["type"] != "barrier":
        events.append(event)
    return events


async def test_a_new_message_reaches_every_member_once(context: AppContext, make_client: Any) -> None:
    owner = await person(context, make_client, "群主")
    members = [await person(context, make_client, f"成员{n}") for n in range(2)]
    group_id = await open_group(owner, *members)
    async with (
        context.events.listen(owner.member.account_id) as mine,
        context.events.listen(members[0].member.account_id) as theirs,
        context.events.listen(members[0].member.account_id) as their_phone,
    ):
        sent = await owner.send(group_id, "大家好")
        for listener in (mine, theirs, their_phone):
            event = await next_event(listener)
            assert event["type"] == "message.new" and event["message"]["id"] == sent["id"]
            assert event["message"]["text"] == "大家好" and event["message"]["unread_count"] is None
        assert await _drain(context, theirs) == []


async def test_read_moves_reach_the_reader_and_the_senders_only(
    context: AppContext, make_client: Any
) -> None:
    sender = await person(context, make_client, "发送者")
    reader = await person(context, make_client, "读者")
    bystander = await person(context, make_client, "旁观者")
    group_id = await open_group(sender, reader, bystander)
    sent = await sender.send(group_id, "请阅")
    async with (
        context.events.listen(sender.member.account_id) as to_sender,
        context.events.listen(reader.member.account_id) as to_reader,
        context.events.listen(bystander.member.account_id) as to_bystander,
    ):
        await reader.post(f"/im/conversations/{group_id}/read", {"seq": sent["seq"]})
        expected = {
            "type": "read.moved",
            "conversation_id": group_id,
            "membership_id": reader.id,
            "read_seq": sent["seq"],
            "previous_read_seq": sent["seq"] - 1,
        }
        assert await next_event(to_sender) == expected
        assert await next_event(to_reader) == expected
        assert await _drain(context, to_bystander) == []


async def _set_policy(admin: Person, **values: Any) -> None:
    answer = await admin.patch("/im/policy", values)
    assert answer.status_code == 200, answer.text


async def _admin(context: AppContext, make_client: Any) -> Person:
    from helpers import login_admin
    from zhengtong.org.models import MemberRole

    admin = await person(context, make_client, "管理员", role=MemberRole.MAIN_ADMIN)
    admin.http.cookies.clear()
    await login_admin(admin.http, context, admin.member.mobile)
    return admin


async def test_read_receipts_off_hides_counts_and_lists(context: AppContext, make_client: Any) -> None:
    admin = await _admin(context, make_client)
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    await _set_policy(admin, read_receipts="off")
    conversation_id = await open_direct(one, two)
    sent = await one.send(conversation_id, "不显示已读")
    assert sent["unread_count"] is None
    refused = await one.get(f"/im/messages/{sent['id']}/reads")
    assert (refused.status_code, refused.json()["code"]) == (409, "im.read_receipts_off")
    async with context.events.listen(one.member.account_id) as to_sender:
        await two.post(f"/im/conversations/{conversation_id}/read", {"seq": sent["seq"]})
        assert await _drain(context, to_sender) == []


async def test_opt_out_hides_a_persons_reading(context: AppContext, make_client: Any) -> None:
    admin = await _admin(context, make_client)
    sender = await person(context, make_client, "发送者")
    shy = await person(context, make_client, "不公开")
    open_reader = await person(context, make_client, "公开")
    await _set_policy(admin, read_receipts="opt_out")
    hidden = await shy.patch("/im/preferences", {"hide_read_status": True})
    assert hidden.json()["hide_read_status"] is True
    group_id = await open_group(sender, shy, open_reader)
    sent = await sender.send(group_id, "请确认")
    assert sent["unread_count"] == 1  # only the member who shows their status counts
    async with context.events.listen(sender.member.account_id) as to_sender:
        await shy.post(f"/im/conversations/{group_id}/read", {"seq": sent["seq"]})
        assert await _drain(context, to_sender) == []
    # The hidden member is counted apart and listed in neither tab.
    for tab, listed in (("unread", [open_reader.id]), ("read", [])):
        reads = (await sender.get(f"/im/messages/{sent['id']}/reads", tab=tab)).json()
        assert [item["membership_id"] for item in reads["items"]] == listed
        assert (reads["read_count"], reads["unread_count"], reads["hidden_count"]) == (0, 1, 1)


def _preference(**values: Any) -> ChatPreference:
    defaults: dict[str, Any] = {
        "quiet_hours_enabled": True,
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "timezone": "Asia/Shanghai",
    }
    return ChatPreference(**{**defaults, **values})


@pytest.mark.parametrize(
    ("utc_hour", "quiet"),
    [(13, False), (14, True), (23, True), (0, False), (23 - 8, True), (1, False)],
)
def test_quiet_hours_cross_midnight_in_the_persons_timezone(utc_hour: int, quiet: bool) -> None:
    # 22:00–08:00 in Shanghai is 14:00–24:00 UTC.
    moment = datetime(2026, 11, 30, utc_hour, 30, tzinfo=UTC)
    assert in_quiet_hours(_preference(), moment) is quiet


def test_do_not_disturb_silences_all_but_mentions() -> None:
    awake = _preference(quiet_hours_enabled=False)
    seat = ConversationMember(do_not_disturb=True)
    assert should_notify(awake, seat, mentioned=False) is False
    assert should_notify(awake, seat, mentioned=True) is True
    assert should_notify(awake, ConversationMember(do_not_disturb=False), mentioned=False) is True


async def test_do_not_disturb_keeps_delivery_and_leaves_the_total(
    context: AppContext, make_client: Any
) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    conversation_id = await open_direct(one, two)
    flagged = await two.patch(
        f"/im/conversations/{conversation_id}/me", {"do_not_disturb": True, "pinned": True}
    )
    assert flagged.json()["do_not_disturb"] is True
    async with context.events.listen(two.member.account_id) as listener:
        await one.send(conversation_id, "仍然送达")
        assert (await next_event(listener))["type"] == "message.new"
    listing = (await two.get("/im/conversations")).json()
    assert listing["items"][0]["unread"] == 1 and listing["total_unread"] == 0
    bad = await two.patch("/im/preferences", {"quiet_start": "25:00"})
    assert bad.status_code == 422
    bad_zone = await two.patch("/im/preferences", {"timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 422


async def test_typing_reaches_the_other_members(context: AppContext, make_client: Any) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    outsider = await person(context, make_client, "丙")
    conversation_id = await open_direct(one, two)
    caller = Caller(one.member.account_id, "s", one.member.org_id, "member", True, True)
    async with (
        context.events.listen(one.member.account_id) as to_self,
        context.events.listen(two.member.account_id) as to_other,
    ):
        await realtime_actions.typing(context, caller, conversation_id)
        event = await next_event(to_other)
        assert (event["type"], event["membership_id"], event["name"]) == ("typing", one.id, "甲")
        assert await _drain(context, to_self) == []
        intruder = Caller(outsider.member.account_id, "s", outsider.member.org_id, "member", True, True)
        await realtime_actions.typing(context, intruder, conversation_id)
        assert await _drain(context, to_other) == []


async def test_presence_of_visible_members_and_of_direct_peers(context: AppContext, make_client: Any) -> None:
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    stranger = await person(context, make_client, "外单位", org_name="另一单位")
    await open_direct(one, two)
    async with context.events.listen(two.member.account_id) as to_peer:
        await context.presence.connected(one.member.account_id, "c1")
        await realtime_actions.presence_changed(context, one.member.account_id, online=True)
        assert await next_event(to_peer) == {"type": "presence", "membership_id": one.id, "online": True}
    asked = await two.post("/im/presence", {"membership_ids": [one.id, two.id, stranger.id]})
    assert asked.json() == {"online": [one.id]}
    await context.presence.connected(stranger.member.account_id, "c2")
    assert (await two.post("/im/presence", {"membership_ids": [stranger.id]})).json() == {"online": []}
