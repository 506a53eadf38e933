"""An unmodified open-source DingTalk robot client (DingtalkChatbot, from PyPI) posts every message
type through the webhook of a real server, signed with the robot's secret, given only the URL
its managers were shown; the group's history and event stream carry the cards and mentions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from dingtalkchatbot.chatbot import ActionCard, CardItem, DingtalkChatbot
from robot_world import MakeClient, RobotWorld, build_world

from helpers import next_event
from zhengtong.core.context import AppContext

ALERT = "【告警】数据库主库 CPU 使用率 95%，请值班人员处理"
GRAFANA = "https://grafana.example.gov.cn/d/db?from=now-1h"
PICTURE = "https://grafana.example.gov.cn/render/db.png"


@pytest.fixture
async def world(app: object, context: AppContext, make_client: MakeClient) -> RobotWorld:
    return await build_world(context, make_client)


def _client(robot: dict[str, Any], live_url: str) -> DingtalkChatbot:
    """The library as an integration would use it: the webhook URL and the secret, nothing else."""
    return DingtalkChatbot(
        robot["webhook_url"].replace("http://testserver", f"http://{live_url}"), secret=robot["secret"]
    )


async def _sent(send: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    # The library is synchronous; the server runs in this event loop, so it waits in a thread.
    return await asyncio.to_thread(send)


async def test_an_unmodified_dingtalk_robot_client_posts_every_message_type(
    live_url: str, context: AppContext, world: RobotWorld
) -> None:
    # given: the robot's webhook, as its managers see it, pointed at the live server
    robot = await world.add_robot()
    bot = _client(robot, live_url)
    li, wang = world["李四"], world["王五"]
    outsider = world["他单位成员"]

    # when: the library sends each type, with @mentions by mobile and by user id
    async with context.events.listen(li.member.account_id) as listener:
        answers = [
            await _sent(lambda: bot.send_text(msg=ALERT, at_mobiles=[li.member.mobile, "13012345678"])),
            await _sent(lambda: bot.send_text(msg="请确认", at_dingtalk_ids=[wang.id, outsider.id])),
            await _sent(lambda: bot.send_text(msg="全员注意", is_at_all=True)),
            await _sent(lambda: bot.send_link("主库告警", "CPU 95%，持续 5 分钟", GRAFANA, PICTURE)),
            await _sent(
                lambda: bot.send_markdown("巡检报告", f"### 巡检报告\n- 主库 **正常**\n- [详情]({GRAFANA})")
            ),
            await _sent(
                lambda: bot.send_action_card(
                    ActionCard("变更审批", "### 数据库扩容\n请审批", [CardItem("查看", GRAFANA)])
                )
            ),
            await _sent(
                lambda: bot.send_action_card(
                    ActionCard(
                        "处理告警",
                        "主库 CPU 95%",
                        [CardItem("确认", GRAFANA), CardItem("忽略", GRAFANA + "&ignore=1")],
                        btn_orientation=1,
                    )
                )
            ),
            await _sent(
                lambda: bot.send_feed_card(
                    [CardItem("主库告警", GRAFANA, PICTURE), CardItem("备库正常", GRAFANA, PICTURE)]
                )
            ),
        ]
        events = [await next_event(listener) for _ in answers]

    # then: every call is answered ok, and the group's history holds the eight cards in order
    assert answers == [{"errcode": 0, "errmsg": "ok"}] * 8
    posted = [m for m in await world.history() if m["kind"] == "robot"]
    assert [m["robot"]["msgtype"] for m in posted] == [
        "text", "text", "text", "link", "markdown", "actionCard", "actionCard", "feedCard"
    ]  # fmt: skip
    assert {m["sender_name"] for m in posted} == {"告警机器人"}
    assert [e["type"] for e in events] == ["message.new"] * 8
    assert [e["message"]["id"] for e in events] == [m["id"] for m in posted]

    # the mentions: members only, by mobile or id; the number becomes the name in the text
    assert (posted[0]["mentions"], posted[1]["mentions"]) == ([li.id], [wang.id])
    assert "@李四" in posted[0]["robot"]["text"] and li.member.mobile not in posted[0]["robot"]["text"]
    assert posted[2]["mention_all"] is True and posted[0]["mention_all"] is False

    # the cards, with DingTalk's link wrapper taken off every URL
    link, markdown, single, several, feed = (m["robot"] for m in posted[3:])
    assert (link["title"], link["text"], link["url"], link["pic_url"]) == (
        "主库告警", "CPU 95%，持续 5 分钟", GRAFANA, PICTURE
    )  # fmt: skip
    assert markdown["title"] == "巡检报告" and f"[详情]({GRAFANA})" in markdown["text"]
    assert (single["single_title"], single["url"], single["buttons"]) == ("查看", GRAFANA, [])
    assert several["buttons"] == [
        {"title": "确认", "url": GRAFANA},
        {"title": "忽略", "url": GRAFANA + "&ignore=1"},
    ]
    assert several["vertical_buttons"] is False
    assert [(i["title"], i["url"], i["pic_url"]) for i in feed["links"]] == [
        ("主库告警", GRAFANA, PICTURE),
        ("备库正常", GRAFANA, PICTURE),
    ]
    # the one line previews show
    assert [m["text"] for m in posted[3:]] == ["主库告警", "巡检报告", "变更审批", "处理告警", "主库告警"]


async def test_robot_messages_are_searched_counted_unread_and_recalled_like_any_other(
    client: object, live_url: str, context: AppContext, world: RobotWorld
) -> None:
    robot = await world.add_robot()
    bot = _client(robot, live_url)
    li, zhang = world["李四"], world["张三"]
    conversation = f"/im/conversations/{world.group_id}"
    unread_before = (await li.call("GET", conversation)).json()["unread"]
    await _sent(lambda: bot.send_markdown("巡检报告", "### 机房温度\n- 三号机柜 **偏高**"))

    found = await li.call("GET", "/im/search?q=机柜")
    unread = (await li.call("GET", conversation)).json()["unread"]
    [posted] = [m for m in await world.history() if m["kind"] == "robot"]
    by_member = await li.call("POST", f"/im/messages/{posted['id']}/recall")
    by_owner = await zhang.call("POST", f"/im/messages/{posted['id']}/recall")

    assert [hit["message"]["id"] for hit in found.json()["items"]] == [posted["id"]]
    assert unread == unread_before + 1
    assert by_member.status_code == 403
    assert by_owner.status_code == 200 and by_owner.json()["recalled"] is True
    assert (await li.call("GET", "/im/search?q=机柜")).json()["items"] == []
