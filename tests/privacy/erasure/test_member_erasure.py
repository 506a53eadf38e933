"""Removing a member deletes or anonymises everything of theirs in that organisation as the
inventory says: their own rows go, the organisation's records they wrote stay without them, their
own files, jobs naming them and directory copies listing them go, and the account goes when no
organisation is left."""

from __future__ import annotations

from datetime import timedelta

from erasure_world import (
    MakeClient,
    World,
    build_world,
    count_rows,
    rows_of,
    run_jobs,
    upload,
)

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.org.access import AdminScope
from zhengtong.org.exporting import start_export
from zhengtong.platform import jobs
from zhengtong.platform.storage import account_prefix, member_prefix


async def _remove(world: World, who_membership_id: str) -> None:
    answer = await world.first_admin.delete(f"/org/members/{who_membership_id}")
    assert answer.status_code == 204, answer.text


async def test_removing_a_member_erases_their_data_and_keeps_the_organisations_records(
    context: AppContext, make_client: MakeClient
) -> None:
    # given 张三丰, who chats, owns 甲项目组, shared a file, has own files, and is named by a job
    world = await build_world(context, make_client)
    zhang = world.zhang
    shared = await upload(zhang, world.group_id, "张三丰的报告.txt", b"report")
    own_file = member_prefix("privacy", zhang.member.org_id, zhang.id) + "export.zip"
    account_file = account_prefix("privacy", zhang.member.account_id) + "export.zip"
    await context.storage.put(own_file, b"zip")
    await context.storage.put(account_file, b"zip")
    async with context.db.transaction() as session:
        naming = await jobs.enqueue(
            session,
            kind="test.follow_up",
            payload={"about": {"name": "张三丰", "mobile": zhang.member.mobile}},
            org_id=zhang.member.org_id,
            run_at=utcnow() + timedelta(days=365),
        )
        unrelated = await jobs.enqueue(
            session,
            kind="test.other",
            payload={"about": "李四海"},
            org_id=zhang.member.org_id,
            run_at=utcnow() + timedelta(days=365),
        )
        scope = AdminScope(zhang.member.org_id, world.first_admin.membership_id, True, (), frozenset())
        export = await start_export(session, scope, actor_id=world.first_admin.account_id, ip="192.0.2.1")
    await run_jobs(context)
    export_key = f"org/{zhang.member.org_id}/exports/{export.id}"
    assert await context.storage.exists(export_key)

    # when the admin removes 张三丰
    await _remove(world, zhang.id)

    # then their own rows are gone
    for table, column in (
        ("member_departments", "membership_id"),
        ("member_search_tokens", "membership_id"),
        ("im_conversation_members", "membership_id"),
        ("memberships", "id"),
    ):
        assert await count_rows(context, table, **{column: zhang.id}) == 0, table
    for table in ("accounts", "auth_sessions", "known_devices", "notices", "jobs"):
        column = "id" if table == "accounts" else "owner_account_id" if table == "jobs" else "account_id"
        assert await count_rows(context, table, **{column: zhang.member.account_id}) == 0, table
    # the organisation's records stay, written by a removed member
    messages = await rows_of(context, "im_messages", conversation_id=world.group_id)
    authored = [m for m in messages if m["kind"] == "text" and m["sender_membership_id"] is None]
    assert len(authored) == 1
    assert (await rows_of(context, "im_files", id=shared["id"]))[0]["uploader_membership_id"] is None
    assert await context.storage.exists(f"im/{zhang.member.org_id}/{shared['id']}")
    history = await world.li.get(f"/im/conversations/{world.group_id}/messages")
    assert "张三丰的手机是" in history.text
    # 甲项目组 passed to another member
    group = (await rows_of(context, "im_conversations", id=world.group_id))[0]
    assert group["owner_membership_id"] in (world.li.id, world.wang.id)
    # their own files, the job naming them and the directory copy listing them are gone
    assert not await context.storage.exists(own_file)
    assert not await context.storage.exists(account_file)
    assert not await context.storage.exists(export_key)
    assert await count_rows(context, "jobs", id=naming.id) == 0
    assert await count_rows(context, "jobs", id=unrelated.id) == 1
    assert (await rows_of(context, "jobs", id=export.id))[0]["result"]["files_removed"] is True
    # and the session no longer works
    assert (await zhang.get("/me")).status_code == 401
    # nothing of the others went
    assert await count_rows(context, "memberships", id=world.li.id) == 1
    assert await count_rows(context, "im_conversation_members", membership_id=world.li.id) == 2


async def test_removing_a_member_of_two_organisations_keeps_the_account_and_the_other_membership(
    context: AppContext, make_client: MakeClient
) -> None:
    world = await build_world(context, make_client)
    wang = world.wang
    account_id = wang.member.account_id
    second_before = await count_rows(context, "im_conversation_members", membership_id=world.wang_second.id)

    await _remove(world, wang.id)

    assert await count_rows(context, "memberships", id=wang.id) == 0
    assert await count_rows(context, "accounts", id=account_id) == 1
    assert await count_rows(context, "memberships", id=world.wang_second.id) == 1
    assert (
        await count_rows(context, "im_conversation_members", membership_id=world.wang_second.id)
        == second_before
    )
    sessions = await rows_of(context, "auth_sessions", account_id=account_id)
    assert sessions and all(s["current_org_id"] != wang.member.org_id for s in sessions)
    # the session that worked in 乙单位 still does
    assert (await world.wang_second.get(f"/im/conversations/{world.second_group_id}")).status_code == 200
    me = (await wang.get("/me")).json()
    assert [o["name"] for o in me["organizations"]] == ["乙单位"]


async def test_a_member_removed_by_a_refused_admin_keeps_everything(
    context: AppContext, make_client: MakeClient
) -> None:
    from erasure_world import whole_database

    world = await build_world(context, make_client)
    before = await whole_database(context)

    # another organisation's admin, and a member, try
    other = await world.second_admin.delete(f"/org/members/{world.zhang.id}")
    member = await world.li.http.delete(
        f"/api/v1/org/members/{world.zhang.id}",
        headers={"X-CSRF-Token": world.li.http.cookies.get("zt_csrf") or ""},
    )

    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    assert (member.status_code, member.json()["code"]) == (403, "org.admin_required")
    assert await whole_database(context) == before
