"""Outgoing robots: a member @mentions the robot, a job POSTs DingTalk's outgoing payload, signed,
to the robot's server (a real one here), which answers on the session webhook and with a message
body of its own. Calls never reach private or loopback addresses unless the operator allowed
them, a redirect there is refused too, and failures are tried again and recorded."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from ipaddress import ip_address

import pytest
from robot_peer import Peer, running_peer
from robot_world import MakeClient, RobotWorld, build_world, message_count, run_jobs
from sqlalchemy import select

from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.platform.jobs import Job
from zhengtong.privacy.rights.models import Disclosure, DisclosureSubject
from zhengtong.robots import egress

QUESTION = "@值班机器人 今天谁值班？"


@pytest.fixture
async def world(app: object, context: AppContext, make_client: MakeClient) -> RobotWorld:
    return await build_world(context, make_client)


@pytest.fixture
def peer() -> Iterator[Peer]:
    with running_peer() as running:
        yield running


def _allow(context: AppContext, *networks: str, public_url: str = "") -> None:
    """What the operator configures (ZT_ROBOT_ALLOWED_NETWORKS, ZT_PUBLIC_URL)."""
    context.settings = context.settings.with_overrides(robot_allowed_networks=networks, public_url=public_url)


async def _outgoing_robot(world: RobotWorld, url: str) -> dict[str, object]:
    return await world.add_robot(name="值班机器人", outgoing_enabled=True, outgoing_url=url)


async def _deliveries(world: RobotWorld, robot: dict[str, object]) -> list[dict[str, object]]:
    answer = await world["张三"].call("GET", f"{world.robots}/{robot['id']}/deliveries")
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, object]] = answer.json()
    return rows


async def _ask(world: RobotWorld, text: str = QUESTION) -> str:
    answer = await world["李四"].call("POST", f"/im/conversations/{world.group_id}/messages", {"text": text})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


async def test_a_mentioned_robot_gets_the_signed_message_and_answers(
    live_url: str, context: AppContext, world: RobotWorld, peer: Peer
) -> None:
    # given: the operator lets robots reach this machine; the robot's server answers twice
    _allow(context, "127.0.0.1/32", public_url=f"http://{live_url}")
    robot = await _outgoing_robot(world, peer.url)
    peer.session_reply = {"msgtype": "text", "text": {"content": "今天值班：王五"}}
    peer.answer = {
        "msgtype": "markdown",
        "markdown": {"title": "值班表", "text": "- 白班：王五\n- 夜班：李四"},
    }

    # when: 李四 @mentions it, and also writes without mentioning it
    question_id = await _ask(world)
    await _ask(world, "值班机器人 不在这里被提及")
    await run_jobs(context)

    # then: one call, DingTalk's payload, signed with the robot's outgoing token
    [call] = peer.received
    token, timestamp = str(robot["outgoing_token"]), call.headers["timestamp"]
    expected = base64.b64encode(
        hmac.new(token.encode(), f"{timestamp}\n{token}".encode(), hashlib.sha256).digest()
    )
    assert call.headers["sign"] == expected.decode()
    li = world["李四"]
    body = call.body
    assert body["text"] == {"content": "今天谁值班？"} and body["msgtype"] == "text"
    assert (body["msgId"], body["conversationId"], body["conversationTitle"]) == (
        question_id,
        world.group_id,
        "值班群",
    )
    assert (body["senderNick"], body["senderStaffId"], body["chatbotUserId"]) == ("李四", li.id, robot["id"])
    assert body["conversationType"] == "2" and body["isInAtList"] is True and body["isAdmin"] is False
    assert body["sessionWebhook"].startswith(f"http://{live_url}/robot/sendBySession?session=")
    assert body["sessionWebhookExpiredTime"] - body["createAt"] >= 89 * 60 * 1000

    # and both answers are in the group, from the robot
    assert peer.session_result == {"errcode": 0, "errmsg": "ok"}
    robot_messages = [m for m in await world.history() if m["kind"] == "robot"]
    assert [(m["sender_name"], m["robot"]["msgtype"], m["text"]) for m in robot_messages] == [
        ("值班机器人", "text", "今天值班：王五"),
        ("值班机器人", "markdown", "值班表"),
    ]
    [delivery] = await _deliveries(world, robot)
    assert (delivery["outcome"], delivery["http_status"], delivery["replied"], delivery["attempt"]) == (
        "delivered", 200, True, 1
    )  # fmt: skip

    # the robot's own messages are never sent to robots; the disclosure ledger names 李四
    await run_jobs(context)
    assert len(peer.received) == 1
    async with context.db.transaction() as session:
        disclosure = await session.scalar(select(Disclosure))
        subjects = list(await session.scalars(select(DisclosureSubject.membership_id)))
    assert disclosure is not None and (disclosure.recipient, disclosure.source_ref) == (
        "值班机器人",
        robot["id"],
    )
    assert subjects == [li.id]


async def test_a_session_webhook_expires(
    live_url: str, context: AppContext, world: RobotWorld, peer: Peer
) -> None:
    _allow(context, "127.0.0.1/32", public_url=f"http://{live_url}")
    await _outgoing_robot(world, peer.url)
    await _ask(world)
    await run_jobs(context)
    webhook = str(peer.received[0].body["sessionWebhook"]).replace(f"http://{live_url}", "")
    reply = {"msgtype": "text", "text": {"content": "迟到的回复"}}
    before = await message_count(context)

    clock.advance(91 * 60)
    late = await world["李四"].http.post(webhook, json=reply)
    forged = await world["李四"].http.post(webhook[:-4] + "AAAA", json=reply)

    assert late.json()["errcode"] == 300001 and forged.json()["errcode"] == 300001
    assert await message_count(context) == before


async def test_loopback_is_refused_unless_the_operator_allows_it(
    context: AppContext, world: RobotWorld, peer: Peer
) -> None:
    # given: a name that resolves to this machine (a literal loopback address is refused at once)
    robot = await _outgoing_robot(world, f"http://localhost:{peer.port}/robot")

    # when
    await _ask(world)
    await run_jobs(context)

    # then: nothing was sent; the refusal is recorded once, never retried
    assert peer.received == []
    [refused] = await _deliveries(world, robot)
    assert refused["outcome"] == "refused" and "refused" in str(refused["detail"])
    async with context.db.transaction() as session:
        job = await session.scalar(select(Job).where(Job.kind == "robots.outgoing"))
    assert job is not None and job.status == "succeeded" and job.attempts == 1

    # when: the operator allows loopback
    _allow(context, "127.0.0.0/8", "::1/128")
    await _ask(world)
    await run_jobs(context)

    # then
    assert len(peer.received) == 1
    assert [d["outcome"] for d in await _deliveries(world, robot)] == ["delivered", "refused"]


async def test_a_redirect_to_a_private_address_is_not_followed(
    context: AppContext, world: RobotWorld, peer: Peer
) -> None:
    _allow(context, "127.0.0.1/32")
    robot = await _outgoing_robot(world, peer.url)
    peer.status, peer.redirect_to = 307, f"http://127.0.0.2:{peer.port}/inside"

    await _ask(world)
    await run_jobs(context)

    assert [r.path for r in peer.received] == ["/robot"]
    [refused] = await _deliveries(world, robot)
    assert (refused["outcome"], refused["detail"]) == ("refused", "address 127.0.0.2 refused")


async def test_timeouts_are_retried_with_backoff_and_each_attempt_recorded(
    context: AppContext, world: RobotWorld, peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a robot's server slower than the timeout
    _allow(context, "127.0.0.1/32")
    monkeypatch.setattr(egress, "TIMEOUT_SECONDS", 0.2)
    peer.delay_seconds = 0.6
    robot = await _outgoing_robot(world, peer.url)

    # when: the job runs, and runs again each time its backoff has passed
    await _ask(world)
    for _ in range(3):
        await run_jobs(context)
        clock.advance(60)

    # then: three attempts, each recorded as failed; the job gave up
    assert len(peer.received) == 3
    rows = await _deliveries(world, robot)
    assert [(d["attempt"], d["outcome"], d["detail"]) for d in rows] == [
        (3, "failed", "timeout"),
        (2, "failed", "timeout"),
        (1, "failed", "timeout"),
    ]
    async with context.db.transaction() as session:
        job = await session.scalar(select(Job).where(Job.kind == "robots.outgoing"))
    assert job is not None and job.status == "failed"


async def test_a_server_error_is_retried_a_client_error_is_not(
    context: AppContext, world: RobotWorld, peer: Peer
) -> None:
    _allow(context, "127.0.0.1/32")
    robot = await _outgoing_robot(world, peer.url)
    peer.status = 503
    await _ask(world)
    await run_jobs(context)
    peer.status = 200
    clock.advance(60)
    await run_jobs(context)

    assert [(d["attempt"], d["outcome"], d["http_status"]) for d in await _deliveries(world, robot)] == [
        (2, "delivered", 200),
        (1, "failed", 503),
    ]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # a cloud's metadata service
        "100.64.0.1",
        "224.0.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
    ],
)
def test_private_loopback_link_local_and_multicast_addresses_are_refused(address: str) -> None:
    assert egress.address_refused(ip_address(address), ())
    assert not egress.address_refused(ip_address(address), ("0.0.0.0/0", "::/0"))


def test_public_addresses_are_called() -> None:
    assert not egress.address_refused(ip_address("8.8.8.8"), ())
    assert not egress.address_refused(ip_address("2001:4860:4860::8888"), ())
