"""Work notices through the DingTalk-compatible open API (/oapi): gettoken, asyncsend_v2,
getsendprogress, getsendresult and recall, with DingTalk's errcode envelope; and what the people
it went to see."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from notice_world import NoticeWorld, access_token, build_world, member_client, oapi, run_jobs
from sqlalchemy import func, select

from helpers import csrf_headers
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.notifications.models import Notice
from zhengtong.privacy.rights.models import Disclosure, DisclosureSubject
from zhengtong.worknotices.models import WorkNotice, WorkNoticeRecipient

TEXT = {"msgtype": "text", "text": {"content": "请于周五前报送第四季度督办事项进展。"}}


@pytest.fixture
async def world(app: object, context: AppContext) -> NoticeWorld:
    return await build_world(context)


async def _count(context: AppContext, table: Any) -> int:
    async with context.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_an_app_sends_follows_and_recalls_a_work_notice(
    client: httpx.AsyncClient, context: AppContext, world: NoticeWorld, make_client: Any
) -> None:
    # given: the app's token
    token = await access_token(client, world)

    # when: it sends to 张三 by id and to 办公室 (李四, and 赵六 below it), naming one nobody
    sent = await oapi(
        client,
        token,
        "asyncsend_v2",
        {
            "agent_id": world.agent_id,
            "userid_list": f"{world['张三'].membership_id},nobody",
            "dept_id_list": world.office_id,
            "msg": TEXT,
        },
    )
    assert sent["errcode"] == 0 and isinstance(sent["task_id"], int) and sent["task_id"] < 2**53
    task = {"agent_id": world.agent_id, "task_id": sent["task_id"]}
    before = await oapi(client, token, "getsendprogress", task)
    await run_jobs(context)

    # then: progress and results as DingTalk gives them
    assert before["progress"] == {"progress_in_percent": 0, "status": 0}
    assert (await oapi(client, token, "getsendprogress", task))["progress"] == {
        "progress_in_percent": 100,
        "status": 2,
    }
    everyone = sorted(world[name].membership_id for name in ("张三", "李四", "赵六"))
    result = (await oapi(client, token, "getsendresult", task))["send_result"]
    assert result["unread_user_id_list"] == everyone and result["read_user_id_list"] == []
    assert result["invalid_user_id_list"] == ["nobody"]

    # and 李四 finds it under the bell, opens it and reads it
    li = await member_client(make_client, context, world["李四"])
    [bell] = (await li.get("/api/v1/notices")).json()["items"]
    assert bell["link"].startswith("/work-notices/") and "督办系统" in bell["subject"]["zh-CN"]
    assert "周五" not in str(bell)  # the content stays sealed; the bell only says who sent one
    opened = (await li.get(f"/api/v1{bell['link']}")).json()
    assert opened["msg"] == TEXT and opened["read_at"] is None
    assert (await li.post(f"/api/v1{bell['link']}/read", headers=csrf_headers(li))).json()["read_at"]
    assert (await li.get("/api/v1/notices")).json()["unread"] == 0
    result = (await oapi(client, token, "getsendresult", task))["send_result"]
    assert result["read_user_id_list"] == [world["李四"].membership_id]

    # the ledger shows, once, that the app learnt whether they read it
    async with context.db.transaction() as session:
        disclosures = (await session.scalars(select(Disclosure))).all()
        subjects = set(await session.scalars(select(DisclosureSubject.membership_id)))
    assert [(d.recipient, d.source) for d in disclosures] == [("督办系统", "open_api")]
    assert subjects == set(everyone)

    # when: the app recalls it
    recalled = await oapi(
        client, token, "recall", {"agent_id": world.agent_id, "msg_task_id": sent["task_id"]}
    )

    # then: the content is erased, the bells are empty, 李四 sees a marker
    assert recalled["errcode"] == 0
    async with context.db.transaction() as session:
        notice = await session.scalar(select(WorkNotice))
        assert notice is not None and notice.content_sealed is None and notice.status == "recalled"
    assert await _count(context, Notice) == 0
    marker = (await li.get(f"/api/v1{bell['link']}")).json()
    assert (marker["recalled"], marker["msg"]) == (True, None)
    again = await oapi(client, token, "recall", {"agent_id": world.agent_id, "msg_task_id": sent["task_id"]})
    assert again["errcode"] == 400005


async def test_only_the_people_it_went_to_open_it(
    client: httpx.AsyncClient, context: AppContext, world: NoticeWorld, make_client: Any
) -> None:
    token = await access_token(client, world)
    await oapi(
        client,
        token,
        "asyncsend_v2",
        {"agent_id": world.agent_id, "userid_list": world["张三"].membership_id, "msg": TEXT},
    )
    await run_jobs(context)
    async with context.db.transaction() as session:
        notice_id = await session.scalar(select(WorkNotice.id))
    li = await member_client(make_client, context, world["李四"])

    assert (await li.get(f"/api/v1/work-notices/{notice_id}")).status_code == 404
    assert (
        await li.post(f"/api/v1/work-notices/{notice_id}/read", headers=csrf_headers(li))
    ).status_code == 404
    assert (await li.get("/api/v1/work-notices")).json() == []
    async with context.db.transaction() as session:
        assert await session.scalar(select(func.count(WorkNoticeRecipient.read_at))) == 0


@pytest.mark.parametrize(
    ("change", "errcode"),
    [
        ({"agent_id": 1}, 40056),
        ({"msg": {"msgtype": "image", "image": {"media_id": "x"}}}, 40035),
        (
            {
                "msg": {
                    "msgtype": "link",
                    "link": {"title": "t", "text": "x", "messageUrl": "javascript:alert(1)"},
                }
            },
            40035,
        ),
        ({"msg": "{not json"}, 40035),
        ({"msg": None}, 40035),
        ({"userid_list": ""}, 40035),
    ],
)
async def test_bad_calls_get_the_compatible_errcode_and_send_nothing(
    client: httpx.AsyncClient, context: AppContext, world: NoticeWorld, change: dict[str, Any], errcode: int
) -> None:
    token = await access_token(client, world)
    body = {"agent_id": world.agent_id, "userid_list": world["张三"].membership_id, "msg": TEXT, **change}
    body = {key: value for key, value in body.items() if value is not None}

    answer = await oapi(client, token, "asyncsend_v2", body)

    assert answer["errcode"] == errcode and answer["errmsg"]
    assert await _count(context, WorkNotice) == 0


async def test_credentials_and_tokens_are_checked(
    client: httpx.AsyncClient, context: AppContext, world: NoticeWorld
) -> None:
    wrong = (await client.get("/oapi/gettoken", params={"appkey": world.app_key, "appsecret": "x"})).json()
    missing = (await client.get("/oapi/gettoken", params={"appkey": world.app_key})).json()
    unknown = await oapi(client, "not-a-token", "asyncsend_v2", {"agent_id": world.agent_id, "msg": TEXT})
    token = await access_token(client, world)
    clock.advance(7200)
    expired = await oapi(
        client, token, "asyncsend_v2", {"agent_id": world.agent_id, "to_all_user": True, "msg": TEXT}
    )

    assert (wrong["errcode"], missing["errcode"], unknown["errcode"], expired["errcode"]) == (
        40089,
        40035,
        40014,
        40014,
    )
    assert await _count(context, WorkNotice) == 0


async def test_an_app_follows_only_its_own_notices(
    client: httpx.AsyncClient, context: AppContext, world: NoticeWorld
) -> None:
    other = await build_world(context, org_name="某区教育局")
    mine = await access_token(client, world)
    theirs = await access_token(client, other)
    sent = await oapi(
        client, theirs, "asyncsend_v2", {"agent_id": other.agent_id, "to_all_user": True, "msg": TEXT}
    )
    await run_jobs(context)

    for call, field in (
        ("getsendprogress", "task_id"),
        ("getsendresult", "task_id"),
        ("recall", "msg_task_id"),
    ):
        answer = await oapi(client, mine, call, {"agent_id": world.agent_id, field: sent["task_id"]})
        assert answer["errcode"] == 400004, (call, answer)
    async with context.db.transaction() as session:
        notice = await session.scalar(select(WorkNotice))
        assert notice is not None and notice.status == "sent" and notice.content_sealed is not None


async def test_form_encoded_calls_with_the_message_as_a_json_string_work(
    client: httpx.AsyncClient, context: AppContext, world: NoticeWorld
) -> None:
    token = await access_token(client, world)

    answer = await client.post(
        "/oapi/topapi/message/corpconversation/asyncsend_v2",
        params={"access_token": token},
        data={
            "agent_id": str(world.agent_id),
            "to_all_user": "true",
            "msg": '{"msgtype":"text","text":{"content":"通知"}}',
        },
    )
    await run_jobs(context)

    assert answer.json()["errcode"] == 0
    assert await _count(context, WorkNoticeRecipient) == 4  # the admin and the three members
