"""Managing a group's robots: the owner and admins of the group and the organisation's admins add,
change, reset and remove them; a member who does not manage the group is refused; anyone of
another organisation is told the group does not exist, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from robot_world import MakeClient, RobotWorld, build_world
from sqlalchemy import func, select

from zhengtong.core.context import AppContext
from zhengtong.platform.audit import AuditEntry
from zhengtong.robots.models import Robot


@pytest.fixture
async def world(app: object, context: AppContext, make_client: MakeClient) -> RobotWorld:
    return await build_world(context, make_client)


async def _robots(context: AppContext) -> list[tuple[str, int]]:
    async with context.db.transaction() as session:
        return [
            (r.name, r.rate_limit_per_minute)
            for r in await session.scalars(select(Robot).order_by(Robot.name))
        ]


async def test_the_owner_adds_a_robot_and_sees_its_webhook_and_secret_again(
    context: AppContext, world: RobotWorld
) -> None:
    # when
    added = await world.add_robot(keywords=["告警", "告警", " 巡检 "], ip_allowlist=["203.0.113.9"])
    listed = (await world["张三"].call("GET", world.robots)).json()

    # then: a webhook URL with a 64-digit token, a SEC… secret; defaults as DingTalk's
    token = added["webhook_url"].split("access_token=")[1]
    assert added["webhook_url"] == f"http://testserver/robot/send?access_token={token}" and len(token) == 64
    assert added["secret"].startswith("SEC") and added["signature"] is True
    assert (added["keywords"], added["ip_allowlist"]) == (["告警", "巡检"], ["203.0.113.9/32"])
    assert added["rate_limit_per_minute"] == 60 and added["outgoing_enabled"] is False
    assert listed == [added]

    # and the credentials are stored sealed: neither the token nor the secret is in the row
    async with context.db.transaction() as session:
        row = await session.scalar(select(Robot))
        assert row is not None
        stored = b"".join(v for v in (row.token_sealed, row.secret_sealed, row.token_index) if v)
        assert token.encode() not in stored and added["secret"].encode() not in stored
        assert await session.scalar(select(func.count()).where(AuditEntry.action == "robots.created")) == 1


async def test_changing_resetting_and_removing(world: RobotWorld, context: AppContext) -> None:
    robot = await world.add_robot()
    path = f"{world.robots}/{robot['id']}"

    changed = (
        await world["张三"].call("PATCH", path, {"rate_limit_per_minute": 20, "keywords": ["告警"]})
    ).json()
    no_signature = (await world["张三"].call("PATCH", path, {"signature": False})).json()
    reset = (await world["张三"].call("POST", f"{path}/reset", {"token": True})).json()
    nothing_left = await world["张三"].call("PATCH", path, {"keywords": []})

    assert (changed["rate_limit_per_minute"], changed["keywords"]) == (20, ["告警"])
    assert (no_signature["signature"], no_signature["secret"]) == (False, None)
    assert reset["webhook_url"] != robot["webhook_url"]
    assert nothing_left.status_code == 422 and nothing_left.json()["code"] == "robots.security_required"
    assert (await world["张三"].call("DELETE", path)).status_code == 204
    assert await _robots(context) == []


async def test_names_are_unique_in_a_group_and_some_settings_refused(world: RobotWorld) -> None:
    await world.add_robot()

    answers = {
        "robots.name_taken": await world["张三"].call("POST", world.robots, {"name": "告警机器人"}),
        "robots.security_required": await world["张三"].call(
            "POST", world.robots, {"name": "无防护", "signature": False}
        ),
        "robots.ip_range_invalid": await world["张三"].call(
            "POST", world.robots, {"name": "IP", "ip_allowlist": ["300.1.2.3"]}
        ),
        "robots.outgoing_url_invalid": await world["张三"].call(
            "POST",
            world.robots,
            {"name": "出站", "outgoing_enabled": True, "outgoing_url": "ftp://a.example/"},
        ),
        "robots.outgoing_url_refused": await world["张三"].call(
            "POST",
            world.robots,
            {"name": "内网", "outgoing_enabled": True, "outgoing_url": "http://127.0.0.1:8080/"},
        ),
    }

    assert {code: answer.json()["code"] for code, answer in answers.items()} == {
        code: code for code in answers
    }


async def test_the_organisations_admin_manages_a_group_they_are_not_in(world: RobotWorld) -> None:
    added = await world["管理员"].call("POST", world.robots, {"name": "通知机器人"})

    assert added.status_code == 201, added.text
    assert [r["name"] for r in (await world["张三"].call("GET", world.robots)).json()] == ["通知机器人"]


async def test_a_member_who_does_not_manage_the_group_is_refused(
    world: RobotWorld, context: AppContext
) -> None:
    robot = await world.add_robot()
    path = f"{world.robots}/{robot['id']}"

    answers = [
        await world["李四"].call("GET", world.robots),
        await world["李四"].call("POST", world.robots, {"name": "我的机器人"}),
        await world["李四"].call("PATCH", path, {"rate_limit_per_minute": 1}),
        await world["李四"].call("DELETE", path),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(403, "robots.not_manager")] * 4
    assert await _robots(context) == [("告警机器人", 60)]


@pytest.mark.parametrize("who", ["赵六", "他单位管理员", "他单位成员"])
async def test_outsiders_are_told_the_group_does_not_exist(
    world: RobotWorld, context: AppContext, who: str
) -> None:
    robot = await world.add_robot()
    path = f"{world.robots}/{robot['id']}"
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", world.robots, None),
        ("POST", world.robots, {"name": "外来机器人"}),
        ("PATCH", path, {"rate_limit_per_minute": 1}),
        ("POST", f"{path}/reset", {"token": True}),
        ("GET", f"{path}/deliveries", None),
        ("DELETE", path, None),
    ]

    answers = [await world[who].call(method, url, body) for method, url, body in calls]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "not_found")] * len(calls)
    assert await _robots(context) == [("告警机器人", 60)]
    assert robot["webhook_url"] == (await world["张三"].call("GET", world.robots)).json()[0]["webhook_url"]


async def test_a_robot_of_another_group_is_not_found_through_this_one(world: RobotWorld) -> None:
    robot = await world.add_robot()
    other = await world["李四"].call(
        "POST", "/im/conversations/group", {"name": "另一个群", "member_ids": []}
    )
    elsewhere = f"/im/conversations/{other.json()['id']}/robots/{robot['id']}"

    answer = await world["李四"].call("PATCH", elsewhere, {"rate_limit_per_minute": 1})

    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
