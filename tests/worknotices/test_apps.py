"""An organisation's apps in the admin console: made with a key and a secret shown once, the
secret rotated or the app disabled (every token it bought stops at once); who may not."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from notice_world import NoticeWorld, admin_client, build_world, member_client
from sqlalchemy import select

from helpers import csrf_headers
from zhengtong.apps.models import App
from zhengtong.core.context import AppContext

API = "/api/v1/org/apps"


@pytest.fixture
async def world(app: object, context: AppContext) -> NoticeWorld:
    return await build_world(context)


async def _token(client: httpx.AsyncClient, key: str, secret: str) -> dict[str, Any]:
    answer: dict[str, Any] = (
        await client.get("/oapi/gettoken", params={"appkey": key, "appsecret": secret})
    ).json()
    return answer


async def _send(client: httpx.AsyncClient, token: str, agent_id: int) -> int:
    answer = await client.post(
        "/oapi/topapi/message/corpconversation/asyncsend_v2",
        params={"access_token": token},
        json={
            "agent_id": agent_id,
            "to_all_user": True,
            "msg": {"msgtype": "text", "text": {"content": "x"}},
        },
    )
    return int(answer.json()["errcode"])


async def test_an_admin_makes_an_app_whose_secret_is_shown_once(
    client: httpx.AsyncClient, context: AppContext, world: NoticeWorld, make_client: Any
) -> None:
    admin = await admin_client(make_client, context, world)

    made = await admin.post(
        API, json={"name": "公文交换", "description": "收发文"}, headers=csrf_headers(admin)
    )

    assert made.status_code == 201, made.text
    app = made.json()
    assert app["app_key"].startswith("ding") and app["agent_id"] == world.agent_id + 1
    listed = (await admin.get(API)).json()
    assert [a["name"] for a in listed] == ["督办系统", "公文交换"] and "app_secret" not in listed[1]
    async with context.db.transaction() as session:
        stored = await session.scalar(select(App).where(App.id == app["id"]))
        assert stored is not None and app["app_secret"].encode() not in stored.secret_hash
    assert (await _token(client, app["app_key"], app["app_secret"]))["errcode"] == 0
    taken = await admin.post(API, json={"name": "公文交换"}, headers=csrf_headers(admin))
    assert taken.json()["code"] == "apps.name_taken"


async def test_rotating_the_secret_or_disabling_the_app_stops_its_tokens_at_once(
    client: httpx.AsyncClient, context: AppContext, world: NoticeWorld, make_client: Any
) -> None:
    admin = await admin_client(make_client, context, world)
    old_token = (await _token(client, world.app_key, world.app_secret))["access_token"]

    rotated = (await admin.post(f"{API}/{world.app_id}/secret", headers=csrf_headers(admin))).json()

    assert await _send(client, old_token, world.agent_id) == 40014
    assert (await _token(client, world.app_key, world.app_secret))["errcode"] == 40089
    new_token = (await _token(client, world.app_key, rotated["app_secret"]))["access_token"]
    assert await _send(client, new_token, world.agent_id) == 0

    disabled = await admin.put(
        f"{API}/{world.app_id}/disabled", json={"disabled": True}, headers=csrf_headers(admin)
    )
    assert disabled.json()["disabled_at"] is not None
    assert await _send(client, new_token, world.agent_id) == 40014
    assert (await _token(client, world.app_key, rotated["app_secret"]))["errcode"] == 60011
    await admin.put(f"{API}/{world.app_id}/disabled", json={"disabled": False}, headers=csrf_headers(admin))
    assert (await _token(client, world.app_key, rotated["app_secret"]))["errcode"] == 0


async def test_members_and_other_organisations_cannot_touch_an_app(
    client: httpx.AsyncClient, context: AppContext, world: NoticeWorld, make_client: Any
) -> None:
    member = await member_client(make_client, context, world["张三"])
    other = await build_world(context, org_name="某区教育局")
    stranger = await admin_client(make_client, context, other)

    assert (await member.get(API)).status_code == 403
    assert (await member.post(API, json={"name": "x"}, headers=csrf_headers(member))).status_code == 403
    assert (
        await stranger.post(f"{API}/{world.app_id}/secret", headers=csrf_headers(stranger))
    ).status_code == 404
    assert (
        await stranger.put(
            f"{API}/{world.app_id}/disabled", json={"disabled": True}, headers=csrf_headers(stranger)
        )
    ).status_code == 404
    assert (await _token(client, world.app_key, world.app_secret))["errcode"] == 0  # unchanged
