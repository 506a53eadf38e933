"""The webhook's refusals, in DingTalk's envelope: unknown tokens, bad or stale signatures,
missing keywords, IPs outside the allow-list, malformed and oversized bodies, too many messages;
none of them posts anything."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from robot_world import MakeClient, RobotWorld, build_world, message_count

from zhengtong.core.context import AppContext

TEXT = {"msgtype": "text", "text": {"content": "【告警】数据库主库 CPU 使用率 95%"}}


@pytest.fixture
async def world(app: object, context: AppContext, make_client: MakeClient) -> RobotWorld:
    return await build_world(context, make_client)


def _sign(secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _token(robot: dict[str, Any]) -> str:
    return urlsplit(robot["webhook_url"]).query.removeprefix("access_token=")


async def _post(
    client: httpx.AsyncClient, robot: dict[str, Any], body: Any, *, at_ms: int | None = None, **params: str
) -> dict[str, Any]:
    query = {"access_token": _token(robot), **params}
    if robot["secret"] and "sign" not in params:
        timestamp = at_ms or int(time.time() * 1000)
        query |= {"timestamp": str(timestamp), "sign": _sign(robot["secret"], timestamp)}
    content = body if isinstance(body, bytes) else None
    answer = await client.post("/robot/send", params=query, content=content, json=None if content else body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_a_signed_message_is_posted(
    client: httpx.AsyncClient, context: AppContext, world: RobotWorld
) -> None:
    robot = await world.add_robot()

    answer = await _post(client, robot, TEXT)

    assert answer == {"errcode": 0, "errmsg": "ok"}
    [message] = [m for m in await world.history() if m["kind"] == "robot"]
    assert message["sender_name"] == "告警机器人" and message["sender_membership_id"] is None
    assert message["robot"]["msgtype"] == "text" and message["robot"]["text"] == TEXT["text"]["content"]


async def test_every_refusal_has_its_code_and_posts_nothing(
    client: httpx.AsyncClient, make_client: MakeClient, context: AppContext, world: RobotWorld
) -> None:
    signed = await world.add_robot()
    keyword = await world.add_robot(name="关键词机器人", signature=False, keywords=["告警"])
    listed = await world.add_robot(name="白名单机器人", signature=False, ip_allowlist=["198.51.100.0/24"])
    before = await message_count(context)
    two_hours_ago = int(time.time() * 1000) - 2 * 3600 * 1000
    link = {"msgtype": "link", "link": {"title": "t", "text": "x", "messageUrl": "javascript:alert(1)"}}

    refusals = [
        (await _post(client, {**signed, "webhook_url": "?access_token=nope"}, TEXT), 300001),
        (await _post(client, signed, TEXT, timestamp=str(int(time.time() * 1000)), sign="bm90IGl0"), 310000),
        (await _post(client, signed, TEXT, at_ms=two_hours_ago), 310000),
        (await _post(client, keyword, {"msgtype": "text", "text": {"content": "今日值班表"}}), 310000),
        (await _post(client, listed, TEXT), 310000),  # the test client is 203.0.113.7
        (await _post(client, signed, b"{not json"), 40035),
        (
            await _post(client, signed, {"msgtype": "image", "image": {"picURL": "https://a.example/1.png"}}),
            40035,
        ),
        (await _post(client, signed, {"msgtype": "text", "text": {}}), 40035),
        (await _post(client, signed, link), 40035),
        (await _post(client, signed, {"msgtype": "text", "text": {"content": "长" * 7000}}), 460101),
    ]

    assert [(answer["errcode"], expected) for answer, expected in refusals] == [
        (expected, expected) for _, expected in refusals
    ]
    assert refusals[0][0]["errmsg"] == "token is not exist"
    assert refusals[1][0]["errmsg"] == "sign not match"
    assert refusals[2][0]["errmsg"] == "invalid timestamp"
    assert refusals[3][0]["errmsg"] == "keywords not in content"
    assert refusals[4][0]["errmsg"] == "ip 203.0.113.7 not in whitelist"
    assert await message_count(context) == before

    # and from an address in the list, or with the keyword, they are posted
    inside = make_client("198.51.100.20")
    assert (await _post(inside, listed, TEXT))["errcode"] == 0
    assert (await _post(client, keyword, TEXT))["errcode"] == 0
    assert await message_count(context) == before + 2


async def test_over_the_rate_limit_the_robot_is_told_to_slow_down(
    client: httpx.AsyncClient, context: AppContext, world: RobotWorld
) -> None:
    robot = await world.add_robot(rate_limit_per_minute=2)
    before = await message_count(context)

    answers = [await _post(client, robot, TEXT) for _ in range(3)]

    assert [a["errcode"] for a in answers] == [0, 0, 130101]
    assert answers[2]["errmsg"] == "send too fast, exceed 2 times per minute"
    assert await message_count(context) == before + 2


async def test_a_disabled_robot_or_a_removed_one_posts_nothing(
    client: httpx.AsyncClient, context: AppContext, world: RobotWorld
) -> None:
    robot = await world.add_robot()
    other = await world.add_robot(name="巡检机器人")
    before = await message_count(context)

    await world["张三"].call("PATCH", f"{world.robots}/{robot['id']}", {"disabled": True})
    await world["张三"].call("DELETE", f"{world.robots}/{other['id']}")

    assert (await _post(client, robot, TEXT))["errcode"] == 400102
    assert (await _post(client, other, TEXT))["errcode"] == 300001
    assert await message_count(context) == before
