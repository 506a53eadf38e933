"""Policy versions: the operator publishes; a major version blocks every call of an account that
has not acknowledged it (and the call changes nothing), a minor one is only a notice; the first
login counts as acknowledging the version current then."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from click.testing import CliRunner
from consent_world import API, MakeClient, World, count, operator_client, publish
from sqlalchemy import select

from helpers import csrf_headers, login
from zhengtong.cli import main
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext, build_context
from zhengtong.core.errors import AppError
from zhengtong.identity.models import AuthSession
from zhengtong.platform.audit import AuditEntry
from zhengtong.privacy.consent import gate, policy
from zhengtong.privacy.consent.models import PolicyAcknowledgement, PolicyVersion


async def _status(http: httpx.AsyncClient) -> dict[str, Any]:
    answer = await http.get(f"{API}/privacy/policy/status")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_only_the_operator_publishes_and_a_refusal_stores_nothing(
    context: AppContext, make_client: MakeClient, world: World
) -> None:
    # given
    operator = await operator_client(context, make_client)
    await world.member("李科员")
    member = await world.client_of("李科员")
    body = {"kind": "major", "text_zh": "正文", "text_en": "Text"}

    # when
    refused = await member.post(
        f"{API}/operator/privacy/policy-versions", json=body, headers=csrf_headers(member)
    )
    anonymous = await make_client().post(f"{API}/operator/privacy/policy-versions", json=body)
    published = await operator.post(
        f"{API}/operator/privacy/policy-versions",
        json=body | {"summary_zh": "首版", "summary_en": "First"},
        headers=csrf_headers(operator),
    )

    # then
    assert (refused.status_code, refused.json()["code"]) == (403, "org.operator_required")
    assert anonymous.status_code == 401
    assert published.status_code == 201, published.text
    assert published.json() | {"published_at": None} == {
        "version": 1,
        "kind": "major",
        "text_zh": "正文",
        "text_en": "Text",
        "summary_zh": "首版",
        "summary_en": "First",
        "published_at": None,
    }
    assert await count(context, PolicyVersion) == 1
    listed = await operator.get(f"{API}/operator/privacy/policy-versions")
    assert [item["version"] for item in listed.json()] == [1]
    async with context.db.transaction() as session:
        audited = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "privacy.policy_published"))
        ).scalar_one()
    assert audited.detail == {"version": 1, "kind": "major"}


async def test_the_current_policy_is_public(context: AppContext, make_client: MakeClient) -> None:
    # given
    anonymous = make_client()
    before = await anonymous.get(f"{API}/privacy/policy/current")
    operator = await operator_client(context, make_client)
    await publish(operator, "major", "一")
    await publish(operator, "minor", "二")

    # when
    current = await anonymous.get(f"{API}/privacy/policy/current")
    first = await anonymous.get(f"{API}/privacy/policy/versions/1", headers={"Accept-Language": "en"})
    missing = await anonymous.get(f"{API}/privacy/policy/versions/9")

    # then
    assert (before.status_code, before.json()["code"]) == (404, "privacy.consent.policy_not_published")
    assert current.status_code == 200 and current.json()["version"] == 2
    assert current.json()["text_zh"] == "隐私政策正文二" and current.json()["kind"] == "minor"
    assert first.json()["text_en"] == "Privacy policy text一"
    assert missing.json()["code"] == "privacy.consent.policy_version_unknown"


async def test_a_major_version_blocks_every_call_until_acknowledged(
    context: AppContext, make_client: MakeClient, world: World
) -> None:
    # given: a member who logged in before any policy was published
    await world.member("李科员")
    member = await world.client_of("李科员")
    operator = await operator_client(context, make_client)
    version = await publish(operator, "major")
    sessions_before = await count(context, AuthSession)

    # when: the member goes on working
    blocked = await member.post(f"{API}/me/tokens", json={"name": "脚本"}, headers=csrf_headers(member))
    directory = await member.get(f"{API}/directory/tree")
    me = await member.get(f"{API}/me")
    status = await _status(member)

    # then: refused with the code and the version, and nothing changed
    assert blocked.status_code == 428
    assert blocked.json()["code"] == "privacy.consent.policy_ack_required"
    assert blocked.json()["detail"] == {"version": version}
    assert directory.status_code == 428
    assert await count(context, AuthSession) == sessions_before
    assert me.status_code == 200
    assert status["required"]["version"] == version and status["acknowledged_version"] is None

    # when: the member acknowledges it
    acknowledged = await member.post(
        f"{API}/privacy/policy/acknowledge", json={"version": version}, headers=csrf_headers(member)
    )
    allowed = await member.post(f"{API}/me/tokens", json={"name": "脚本"}, headers=csrf_headers(member))

    # then
    assert acknowledged.status_code == 200 and acknowledged.json()["required"] is None
    assert acknowledged.json()["acknowledged_version"] == version
    assert allowed.status_code == 201, allowed.text
    history = await member.get(f"{API}/privacy/policy/acknowledgements")
    assert [(item["version"], item["kind"], item["channel"]) for item in history.json()] == [
        (version, "major", "web")
    ]


async def test_an_api_token_is_gated_too_and_acknowledges_through_the_api(
    context: AppContext, make_client: MakeClient, world: World
) -> None:
    # given
    await world.member("李科员")
    member = await world.client_of("李科员")
    created = await member.post(f"{API}/me/tokens", json={"name": "脚本"}, headers=csrf_headers(member))
    bearer, auth = make_client(), {"Authorization": f"Bearer {created.json()['token']}"}
    operator = await operator_client(context, make_client)
    version = await publish(operator, "major")

    # when
    blocked = await bearer.get(f"{API}/me/sessions", headers=auth)
    await bearer.post(f"{API}/privacy/policy/acknowledge", json={"version": version}, headers=auth)
    allowed = await bearer.get(f"{API}/me/sessions", headers=auth)

    # then
    assert blocked.status_code == 428 and allowed.status_code == 200
    history = await member.get(f"{API}/privacy/policy/acknowledgements")
    assert [item["channel"] for item in history.json()] == ["api"]


async def test_a_minor_version_is_a_notice_and_does_not_block(
    context: AppContext, make_client: MakeClient, world: World
) -> None:
    # given: the member accepted version 1 at their first login; version 2 is minor
    operator = await operator_client(context, make_client)
    await publish(operator, "major")
    await world.member("李科员")
    member = await world.client_of("李科员")
    minor = await publish(operator, "minor")

    # when
    working = await member.get(f"{API}/me/sessions")
    status = await _status(member)
    await member.post(
        f"{API}/privacy/policy/acknowledge", json={"version": minor}, headers=csrf_headers(member)
    )
    after = await _status(member)

    # then
    assert working.status_code == 200
    assert status["required"] is None and status["notice"]["version"] == minor
    assert status["notice"]["summary_en"] == "What changed"
    assert after["notice"] is None and after["acknowledged_version"] == minor


async def test_the_first_login_acknowledges_the_current_version_and_no_later_one(
    context: AppContext, make_client: MakeClient, world: World
) -> None:
    # given
    operator = await operator_client(context, make_client)
    first = await publish(operator, "major")
    await world.member("李科员")

    # when: the first login
    member = await world.client_of("李科员")

    # then: that version counts as read
    status = await _status(member)
    assert status["required"] is None and status["acknowledged_version"] == first
    history = (await member.get(f"{API}/privacy/policy/acknowledgements")).json()
    assert [(item["version"], item["channel"]) for item in history] == [(first, "first_login")]

    # when: a major version later, the member logs in again
    second = await publish(operator, "major")
    again = make_client()
    await login(again, context, world.mobiles["李科员"])

    # then: logging in again does not acknowledge it
    assert (await again.get(f"{API}/me/sessions")).status_code == 428
    assert (await _status(again))["required"]["version"] == second


async def test_logging_out_and_reading_the_policy_stay_open(
    context: AppContext, make_client: MakeClient, world: World
) -> None:
    # given
    await world.member("李科员")
    member = await world.client_of("李科员")
    operator = await operator_client(context, make_client)
    version = await publish(operator, "major")

    # when
    read = await member.get(f"{API}/privacy/policy/versions/{version}")
    language = await member.put(f"{API}/me/language", json={"language": "en"}, headers=csrf_headers(member))
    logout = await member.post(f"{API}/auth/logout", headers=csrf_headers(member))

    # then
    assert read.status_code == 200 and language.status_code == 204 and logout.status_code == 204
    assert (await member.get(f"{API}/me")).status_code == 401


async def test_acknowledging_an_unknown_version_is_refused(world: World, context: AppContext) -> None:
    await world.member("李科员")
    member = await world.client_of("李科员")

    answer = await member.post(
        f"{API}/privacy/policy/acknowledge", json={"version": 3}, headers=csrf_headers(member)
    )

    assert (answer.status_code, answer.json()["code"]) == (404, "privacy.consent.policy_version_unknown")
    assert await count(context, PolicyAcknowledgement) == 0


async def test_another_process_blocks_once_its_remembered_latest_version_expires(
    context: AppContext, make_client: MakeClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a second server process on the same database, which has let the admin through
    other = build_context(context.settings)
    account_id = world.admin_account_id
    admin = await world.admin()  # logged in before the new version (a first login accepts it)
    try:
        async with other.db.transaction() as session:
            await gate.require_policy_acknowledged(session, other, account_id)

        # when: a major version is published through the first process
        operator = await operator_client(context, make_client)
        version = await publish(operator, "major")

        # then: this process blocks at once; the other one within LATEST_MAJOR_SECONDS
        assert (await admin.get(f"{API}/me/sessions")).status_code == 428
        async with other.db.transaction() as session:
            await gate.require_policy_acknowledged(session, other, account_id)  # still remembered
        monkeypatch.setattr(gate, "LATEST_MAJOR_SECONDS", 0.0)
        async with other.db.transaction() as session:
            with pytest.raises(AppError) as refused:
                await gate.require_policy_acknowledged(session, other, account_id)
        assert refused.value.detail == {"version": version}
    finally:
        await other.close()


# The WebSocket -------------------------------------------------------------------------------
async def _member_with_socket_headers(
    world: World, live_url: str
) -> tuple[httpx.AsyncClient, dict[str, str]]:
    """A logged-in member, and the headers a browser of theirs opens the WebSocket with."""
    await world.member("李科员")
    member = await world.client_of("李科员")
    token = str(member.cookies.get("zt_session"))
    return member, {"Cookie": f"zt_session={token}", "Origin": f"http://{live_url}"}


async def test_the_websocket_is_refused_until_the_major_version_is_acknowledged(
    context: AppContext, make_client: MakeClient, world: World, live_url: str
) -> None:
    # given
    member, headers = await _member_with_socket_headers(world, live_url)
    operator = await operator_client(context, make_client)
    version = await publish(operator, "major")

    # when / then: refused
    with pytest.raises(websockets.exceptions.WebSocketException):
        async with websockets.connect(f"ws://{live_url}/api/v1/ws", additional_headers=headers) as refused:
            await refused.recv()

    # when / then: acknowledged, the socket opens
    await member.post(
        f"{API}/privacy/policy/acknowledge", json={"version": version}, headers=csrf_headers(member)
    )
    async with websockets.connect(f"ws://{live_url}/api/v1/ws", additional_headers=headers) as socket_:
        assert json.loads(await socket_.recv())["type"] == "hello"


async def test_a_major_version_ends_open_sockets_and_only_the_acknowledged_come_back(
    context: AppContext, make_client: MakeClient, world: World, live_url: str
) -> None:
    # given: a member's socket, opened under the current policy
    member, headers = await _member_with_socket_headers(world, live_url)
    operator = await operator_client(context, make_client)
    async with websockets.connect(f"ws://{live_url}/api/v1/ws", additional_headers=headers) as socket_:
        assert json.loads(await socket_.recv())["type"] == "hello"

        # when: the operator publishes a major version
        version = await publish(operator, "major")

        # then: the socket is ended with "try again later"
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await asyncio.wait_for(socket_.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013

    # and coming back is refused until the member acknowledges
    with pytest.raises(websockets.exceptions.WebSocketException):
        async with websockets.connect(f"ws://{live_url}/api/v1/ws", additional_headers=headers) as refused:
            await refused.recv()
    await member.post(
        f"{API}/privacy/policy/acknowledge", json={"version": version}, headers=csrf_headers(member)
    )
    async with websockets.connect(f"ws://{live_url}/api/v1/ws", additional_headers=headers) as again:
        assert json.loads(await again.recv())["type"] == "hello"


async def test_a_major_version_no_event_announced_ends_the_socket_at_its_next_ping(
    context: AppContext, world: World, live_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a member's socket, and a second process on the same database that shares no bus
    # with the server (the publish command beside a server on the in-process bus)
    _member, headers = await _member_with_socket_headers(world, live_url)
    other = build_context(context.settings.with_overrides(redis_url=None))
    try:
        async with websockets.connect(f"ws://{live_url}/api/v1/ws", additional_headers=headers) as socket_:
            assert json.loads(await socket_.recv())["type"] == "hello"
            await socket_.send(json.dumps({"type": "ping"}))
            assert json.loads(await socket_.recv())["type"] == "pong"

            # when: the other process publishes a major version, and the server's memory of the
            # latest version has expired
            async with other.db.transaction() as session:
                await policy.publish(
                    session, other, kind="major", text_zh="正文", text_en="Text", actor_id=None, ip=""
                )
            monkeypatch.setattr(gate, "LATEST_MAJOR_SECONDS", 0.0)
            await socket_.send(json.dumps({"type": "ping"}))

            # then: no pong; the socket ends with "policy violation", which makes the client
            # show the pop-up
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await asyncio.wait_for(socket_.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    finally:
        await other.close()


async def test_a_minor_version_leaves_open_sockets_alone(
    context: AppContext, make_client: MakeClient, world: World, live_url: str
) -> None:
    # given
    _member, headers = await _member_with_socket_headers(world, live_url)
    operator = await operator_client(context, make_client)
    async with websockets.connect(f"ws://{live_url}/api/v1/ws", additional_headers=headers) as socket_:
        assert json.loads(await socket_.recv())["type"] == "hello"

        # when
        await publish(operator, "minor")

        # then: still open and answering
        await socket_.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(socket_.recv(), 5))["type"] == "pong"


# The command line ----------------------------------------------------------------------------
def _run(args: list[str], env: dict[str, str]) -> str:
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


async def test_the_operator_publishes_from_the_command_line(tmp_path: Path, empty_database_url: str) -> None:
    # given
    env = {"ZT_DATA_DIR": str(tmp_path / "var"), "ZT_DATABASE_URL": empty_database_url}
    zh, en = tmp_path / "zh.txt", tmp_path / "en.txt"
    zh.write_text("第二版隐私政策", "utf-8")
    en.write_text("Privacy policy, second edition", "utf-8")
    await asyncio.to_thread(_run, ["demo"], env)  # publishes the bundled policy as version 1

    # when
    published = await asyncio.to_thread(
        _run,
        [
            "privacy",
            "policy",
            "publish",
            "--kind",
            "major",
            "--zh",
            str(zh),
            "--en",
            str(en),
            "--summary-zh",
            "修订",
        ],
        env,
    )
    listed = await asyncio.to_thread(_run, ["privacy", "policy", "list"], env)

    # then
    assert "version 2 (major) published" in published
    assert [line.split("\t")[:2] for line in listed.splitlines()] == [["2", "major"], ["1", "major"]]
    context = build_context(Settings(data_dir=tmp_path / "var", database_url=empty_database_url))
    try:
        async with context.db.transaction() as session:
            current = await policy.current_version(session)
            first = await policy.get_version(session, 1)
    finally:
        await context.close()
    assert (current.text_zh, current.text_en, current.summary_zh) == (
        "第二版隐私政策",
        "Privacy policy, second edition",
        "修订",
    )
    assert first.text_zh.startswith("法律声明及隐私权政策") and "English summary" in first.text_en
