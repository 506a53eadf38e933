"""Robots belong to their group and organisation: deregistering the organisation purges them and
their call records, and the webhook stops answering; removing the member who added one leaves the
group its robot."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from robot_world import MakeClient, RobotWorld, build_world, run_jobs
from sqlalchemy import select

from zhengtong.core.context import AppContext
from zhengtong.privacy.erasure.service import purge_organization
from zhengtong.robots.models import Robot, RobotDelivery

TEXT = {"msgtype": "text", "text": {"content": "告警：磁盘将满"}}


@pytest.fixture
async def world(app: object, context: AppContext, make_client: MakeClient) -> RobotWorld:
    return await build_world(context, make_client)


async def _rows(context: AppContext, model: Any) -> list[Any]:
    async with context.db.transaction() as session:
        return list(await session.scalars(select(model)))


async def test_deregistering_the_organisation_purges_its_robots(
    client: httpx.AsyncClient, context: AppContext, world: RobotWorld
) -> None:
    # given: a robot with a call record (refused: localhost is not allowed) and another
    # organisation's robot
    robot = await world.add_robot(
        keywords=["告警"], signature=False, outgoing_enabled=True, outgoing_url="http://localhost:9/"
    )
    await world["李四"].call(
        "POST", f"/im/conversations/{world.group_id}/messages", {"text": "@告警机器人 在吗"}
    )
    await run_jobs(context)
    theirs = await world["他单位成员"].call(
        "POST", "/im/conversations/group", {"name": "财务群", "member_ids": []}
    )
    elsewhere = await world["他单位成员"].call(
        "POST", f"/im/conversations/{theirs.json()['id']}/robots", {"name": "报表机器人"}
    )
    assert len(await _rows(context, RobotDelivery)) == 1

    # when
    await purge_organization(context, world["张三"].member.org_id)

    # then
    assert [r.id for r in await _rows(context, Robot)] == [elsewhere.json()["id"]]
    assert await _rows(context, RobotDelivery) == []
    token = robot["webhook_url"].split("access_token=")[1]
    answer = await client.post("/robot/send", params={"access_token": token}, json=TEXT)
    assert answer.json()["errcode"] == 300001


async def test_removing_the_member_who_added_a_robot_leaves_it_to_the_group(
    client: httpx.AsyncClient, context: AppContext, world: RobotWorld
) -> None:
    robot = await world.add_robot(by="张三", keywords=["告警"], signature=False)

    removed = await world["管理员"].call("DELETE", f"/org/members/{world['张三'].id}")

    assert removed.status_code == 204, removed.text
    [kept] = await _rows(context, Robot)
    assert kept.id == robot["id"] and kept.created_by_membership_id is None
    token = robot["webhook_url"].split("access_token=")[1]
    assert (await client.post("/robot/send", params={"access_token": token}, json=TEXT)).json()[
        "errcode"
    ] == 0
