"""Groups: ranks, settings, mutes, membership changes, department and all-staff groups that
follow the organisation chart, and members leaving the organisation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chat_world import Person, open_direct, open_group, person
from sqlalchemy import select

from helpers import next_event
from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.im.models import Conversation
from zhengtong.org import service as org_service
from zhengtong.org.access import AdminScope
from zhengtong.org.models import MemberRole, Membership


async def _codes(*answers: Any) -> list[tuple[int, str]]:
    return [(a.status_code, a.json().get("code", "")) for a in answers]


async def test_owner_and_admins_manage_members_and_ranks(context: AppContext, make_client: Any) -> None:
    owner = await person(context, make_client, "群主")
    admin = await person(context, make_client, "管理员")
    member = await person(context, make_client, "成员")
    late = await person(context, make_client, "后来者")
    group_id = await open_group(owner, admin, member)

    refused = await member.put(f"/im/conversations/{group_id}/members/{admin.id}/rank", {"rank": "member"})
    assert refused.json()["code"] == "im.owner_required"
    assert (
        await owner.put(f"/im/conversations/{group_id}/members/{admin.id}/rank", {"rank": "admin"})
    ).status_code == 204

    # An admin adds and removes ordinary members, but not the owner.
    added = await admin.post(f"/im/conversations/{group_id}/members", {"member_ids": [late.id]})
    assert added.json()["member_count"] == 4
    assert (await admin.delete(f"/im/conversations/{group_id}/members/{owner.id}")).json()["code"] == (
        "im.owner_required"
    )
    assert (await admin.delete(f"/im/conversations/{group_id}/members/{late.id}")).status_code == 204
    removed_view = await late.get(f"/im/conversations/{group_id}/messages")
    assert removed_view.json()["code"] == "im.not_in_conversation"
    refused_send = await late.post(f"/im/conversations/{group_id}/messages", {"text": "我还在吗"})
    assert (refused_send.status_code, refused_send.json()["code"]) == (403, "im.not_in_conversation")

    # Transferring ownership: the old owner becomes an admin and may then leave.
    assert (await owner.delete(f"/im/conversations/{group_id}/members/{owner.id}")).json()["code"] == (
        "im.owner_cannot_leave"
    )
    await owner.put(f"/im/conversations/{group_id}/members/{member.id}/rank", {"rank": "owner"})
    members = (await member.get(f"/im/conversations/{group_id}/members")).json()["items"]
    ranks = {m["name"]: m["rank"] for m in members}
    assert ranks == {"群主": "admin", "管理员": "admin", "成员": "owner"}
    assert (await owner.delete(f"/im/conversations/{group_id}/members/{owner.id}")).status_code == 204
    lines = [m["system"]["action"] for m in (await member.history(group_id))["items"] if m["system"]]
    assert lines == ["created", "joined", "removed", "owner_changed", "left"]


async def test_mute_all_mute_member_and_mention_all(context: AppContext, make_client: Any) -> None:
    owner = await person(context, make_client, "群主")
    member = await person(context, make_client, "成员")
    group_id = await open_group(owner, member)

    too_long = await owner.put(f"/im/conversations/{group_id}/members/{member.id}/mute", {"minutes": 3})
    assert too_long.json()["code"] == "im.mute_duration_invalid"
    await owner.put(f"/im/conversations/{group_id}/members/{member.id}/mute", {"minutes": 5})
    muted = await member.post(f"/im/conversations/{group_id}/messages", {"text": "说话"})
    assert (muted.status_code, muted.json()["code"]) == (403, "im.muted")
    clock.advance(timedelta(minutes=6).total_seconds())
    await member.send(group_id, "禁言结束了")

    await owner.patch(f"/im/conversations/{group_id}/settings", {"mute_all": True})
    silenced = await member.post(f"/im/conversations/{group_id}/messages", {"text": "说话"})
    assert silenced.json()["code"] == "im.mute_all"
    await owner.send(group_id, "群主仍可发言")
    await owner.patch(f"/im/conversations/{group_id}/settings", {"mute_all": False})

    everyone = await member.post(
        f"/im/conversations/{group_id}/messages", {"text": "大家好", "mention_all": True}
    )
    assert everyone.json()["code"] == "im.mention_all_forbidden"
    sent = await owner.send(group_id, "@所有人 开会", mention_all=True, mentions=[member.id, "not-a-member"])
    assert sent["mention_all"] is True and sent["mentions"] == [member.id]


async def test_settings_are_for_managers_and_some_for_the_owner(
    context: AppContext, make_client: Any
) -> None:
    owner = await person(context, make_client, "群主")
    admin = await person(context, make_client, "管理员")
    group_id = await open_group(owner, admin)
    await owner.put(f"/im/conversations/{group_id}/members/{admin.id}/rank", {"rank": "admin"})
    renamed = await admin.patch(
        f"/im/conversations/{group_id}/settings", {"name": "新名字", "searchable": True}
    )
    assert renamed.json()["settings"]["name"] == "新名字" and renamed.json()["title"] == "新名字"
    owner_only = await admin.patch(f"/im/conversations/{group_id}/settings", {"only_owner_manages": True})
    assert owner_only.json()["code"] == "im.owner_required"
    await owner.patch(f"/im/conversations/{group_id}/settings", {"only_owner_manages": True})
    now_refused = await admin.patch(f"/im/conversations/{group_id}/settings", {"name": "再改"})
    assert now_refused.json()["code"] == "im.manager_required"
    announcement = await owner.put(f"/im/conversations/{group_id}/announcement", {"text": "本周五下午大扫除"})
    assert announcement.json()["announcement"] == "本周五下午大扫除"
    async with context.db.transaction() as session:
        stored = await session.get(Conversation, group_id)
        assert stored is not None and "大扫除".encode() not in (stored.announcement_sealed or b"")


async def test_history_visible_to_new_members(context: AppContext, make_client: Any) -> None:
    owner = await person(context, make_client, "群主")
    first = await person(context, make_client, "甲")
    none_seen = await person(context, make_client, "乙")
    last_two = await person(context, make_client, "丙")
    group_id = await open_group(owner, first)
    for n in range(5):
        await owner.send(group_id, f"旧消息{n}")
    await owner.patch(f"/im/conversations/{group_id}/settings", {"history_visible_count": 0})
    await owner.post(f"/im/conversations/{group_id}/members", {"member_ids": [none_seen.id]})
    await owner.patch(f"/im/conversations/{group_id}/settings", {"history_visible_count": 2})
    await owner.post(f"/im/conversations/{group_id}/members", {"member_ids": [last_two.id]})

    texts = [m["text"] for m in (await none_seen.history(group_id))["items"] if not m["system"]]
    assert texts == []
    page = await last_two.history(group_id)
    assert next(m["seq"] for m in page["items"]) > page["visible_after_seq"]
    assert not any(
        m["text"].startswith("旧消息") and m["seq"] <= page["visible_after_seq"] for m in page["items"]
    )
    assert (await last_two.conversation(group_id))["unread"] == 0
    old = next(m for m in (await first.history(group_id))["items"] if m["text"] == "旧消息0")
    hidden = await last_two.post(f"/im/messages/{old['id']}/reactions", {"emoji": "👍"})
    assert hidden.json()["code"] == "im.message_not_found"


async def test_forbid_private_chat_from_the_group(context: AppContext, make_client: Any) -> None:
    owner = await person(context, make_client, "群主")
    one = await person(context, make_client, "甲")
    two = await person(context, make_client, "乙")
    group_id = await open_group(owner, one, two)
    await owner.patch(f"/im/conversations/{group_id}/settings", {"forbid_private_chat": True})
    refused = await one.post("/im/conversations/direct", {"membership_id": two.id, "via_group_id": group_id})
    assert (refused.status_code, refused.json()["code"]) == (403, "im.private_chat_forbidden")
    allowed = await owner.post(
        "/im/conversations/direct", {"membership_id": two.id, "via_group_id": group_id}
    )
    assert allowed.status_code == 200


async def test_group_size_limit_comes_from_the_policy(context: AppContext, make_client: Any) -> None:
    admin = await person(context, make_client, "管理员", role=MemberRole.MAIN_ADMIN)
    await _login_as_admin(admin, context)
    owner = await person(context, make_client, "群主")
    others = [await person(context, make_client, f"成员{n}") for n in range(3)]
    refused = await owner.patch("/im/policy", {"max_group_members": 3})
    assert refused.status_code == 403
    policy = await admin.patch("/im/policy", {"max_group_members": 3})
    assert policy.json()["max_group_members"] == 3 and policy.json()["read_receipts"] == "on"
    full = await owner.post("/im/conversations/group", {"name": "大群", "member_ids": [p.id for p in others]})
    assert (full.status_code, full.json()["code"]) == (409, "im.group_full")
    group_id = await open_group(owner, others[0])
    await owner.post(f"/im/conversations/{group_id}/members", {"member_ids": [others[1].id]})
    over = await owner.post(f"/im/conversations/{group_id}/members", {"member_ids": [others[2].id]})
    assert over.json()["code"] == "im.group_full"


async def test_disbanded_group_is_gone_for_everyone(context: AppContext, make_client: Any) -> None:
    owner = await person(context, make_client, "群主")
    member = await person(context, make_client, "成员")
    group_id = await open_group(owner, member)
    assert (await member.delete(f"/im/conversations/{group_id}")).json()["code"] == "im.owner_required"
    async with context.events.listen(member.member.account_id) as listener:
        assert (await owner.delete(f"/im/conversations/{group_id}")).status_code == 204
        assert (await next_event(listener)) == {"type": "conversation.removed", "conversation_id": group_id}
    assert (await member.get("/im/conversations")).json()["items"] == []


async def _admin_scope(context: AppContext, admin: Person) -> AdminScope:
    return AdminScope(admin.member.org_id, admin.id, True, (), frozenset())


async def test_department_and_all_staff_groups_follow_the_chart(
    context: AppContext, make_client: Any
) -> None:
    admin = await person(context, make_client, "管理员", role=MemberRole.MAIN_ADMIN)
    await _login_as_admin(admin, context)
    staff = await person(context, make_client, "职员")
    scope = await _admin_scope(context, admin)
    async with context.db.transaction() as session:
        root = await org_service.root_department(session, scope.org_id)
        office = await org_service.create_department(
            session, context, scope, parent_id=root.id, name="办公室", actor_id=None, ip=""
        )
    department_group = (await admin.post("/im/conversations/synced", {"department_id": office.id})).json()
    all_staff = (await admin.post("/im/conversations/synced", {})).json()
    assert department_group["kind"] == "department" and department_group["member_count"] == 0
    assert all_staff["kind"] == "all_staff" and all_staff["member_count"] == 2
    refused = await staff.post("/im/conversations/synced", {})
    assert refused.status_code == 403

    # Seating the member in the department puts them in its group; moving them out takes them out.
    async with context.db.transaction() as session:
        membership = await session.get(Membership, staff.id)
        assert membership is not None
        await org_service.update_member(
            session,
            context,
            scope,
            membership,
            org_service.MemberProfile(seats=[org_service.Seat(office.id)]),
            actor_id=None,
            ip="",
        )
    assert (await staff.conversation(department_group["id"]))["member_count"] == 1
    manual = await admin.post(
        f"/im/conversations/{department_group['id']}/members", {"member_ids": [admin.id]}
    )
    assert manual.json()["code"] in ("im.managed_membership", "im.not_in_conversation")
    async with context.db.transaction() as session:
        membership = await session.get(Membership, staff.id)
        assert membership is not None
        await org_service.update_member(
            session,
            context,
            scope,
            membership,
            org_service.MemberProfile(seats=[org_service.Seat(root.id)]),
            actor_id=None,
            ip="",
        )
    gone = await staff.get(f"/im/conversations/{department_group['id']}")
    assert gone.json()["code"] == "im.not_in_conversation"

    # A new member joins the all-staff group; deleting the department disbands its group.
    newcomer = await person(context, make_client, "新人")
    async with context.db.transaction() as session:
        await org_service.update_member(
            session,
            context,
            scope,
            (await session.get(Membership, newcomer.id)),  # type: ignore[arg-type]
            org_service.MemberProfile(seats=[org_service.Seat(root.id)]),
            actor_id=None,
            ip="",
        )
    assert (await newcomer.conversation(all_staff["id"]))["member_count"] == 3
    async with context.db.transaction() as session:
        department = await org_service.get_department(session, scope.org_id, office.id)
        await org_service.delete_department(session, context, scope, department, actor_id=None, ip="")
    async with context.db.transaction() as session:
        stored = await session.get(Conversation, department_group["id"])
        assert stored is not None and stored.disbanded_at is not None


async def _login_as_admin(admin: Person, context: AppContext) -> None:
    """Admins need a second factor on the web; the chat tests call admin endpoints too."""
    from helpers import login_admin

    admin.http.cookies.clear()
    await login_admin(admin.http, context, admin.member.mobile)


async def test_a_member_leaving_the_organisation_hands_groups_on(
    context: AppContext, make_client: Any
) -> None:
    admin = await person(context, make_client, "管理员", role=MemberRole.MAIN_ADMIN)
    owner = await person(context, make_client, "即将离职")
    heir = await person(context, make_client, "继任者")
    other = await person(context, make_client, "同事")
    group_id = await open_group(owner, heir, other)
    await owner.put(f"/im/conversations/{group_id}/members/{heir.id}/rank", {"rank": "admin"})
    direct_id = await open_direct(owner, other)
    await owner.send(direct_id, "交接材料在云盘")
    async with context.db.transaction() as session:
        membership = await session.get(Membership, owner.id)
        assert membership is not None
        scope = await _admin_scope(context, admin)
        await org_service.remove_member(session, context, scope, membership, actor_id=None, ip="")
    group = await heir.conversation(group_id)
    assert (group["rank"], group["member_count"]) == ("owner", 2)
    last = (await heir.history(group_id))["items"][-1]
    assert last["system"] == {"action": "departed", "actor_name": "", "names": []}
    kept = (await other.history(direct_id))["items"][-1]
    assert (kept["text"], kept["sender_membership_id"], kept["sender_name"]) == ("交接材料在云盘", None, "")
    async with context.db.transaction() as session:
        stored = (await session.execute(select(Conversation).where(Conversation.id == group_id))).scalar_one()
        assert stored.owner_membership_id == heir.id


async def test_a_department_created_with_its_group(context: AppContext, make_client: Any) -> None:
    admin = await person(context, make_client, "管理员", role=MemberRole.MAIN_ADMIN)
    await _login_as_admin(admin, context)
    async with context.db.transaction() as session:
        root = await org_service.root_department(session, admin.member.org_id)
    created = await admin.post(
        "/org/departments", {"parent_id": root.id, "name": "财务科", "chat_group": True}
    )
    assert created.status_code == 201, created.text
    async with context.db.transaction() as session:
        group = (
            await session.execute(
                select(Conversation).where(Conversation.department_id == created.json()["id"])
            )
        ).scalar_one()
        assert (group.kind, group.name) == ("department", "财务科")


async def test_joining_a_searchable_group_with_and_without_approval(
    context: AppContext, make_client: Any
) -> None:
    owner = await person(context, make_client, "群主")
    member = await person(context, make_client, "成员")
    seeker = await person(context, make_client, "求入群者")
    friend = await person(context, make_client, "被邀请者")
    group_id = await open_group(owner, member, name="篮球兴趣小组")
    assert (await seeker.get("/im/groups/search", q="篮球")).json() == []
    closed = await seeker.post(f"/im/conversations/{group_id}/join")
    assert (closed.status_code, closed.json()["code"]) == (403, "im.group_not_joinable")

    await owner.patch(f"/im/conversations/{group_id}/settings", {"searchable": True})
    found = (await seeker.get("/im/groups/search", q="篮球")).json()
    assert [(g["id"], g["member_count"]) for g in found] == [(group_id, 2)]
    assert (await seeker.post(f"/im/conversations/{group_id}/join")).json() == {"status": "joined"}
    await seeker.delete(f"/im/conversations/{group_id}/members/{seeker.id}")

    # With approval, both a request and a member's invitation wait for a manager.
    await owner.patch(f"/im/conversations/{group_id}/settings", {"join_approval": True})
    async with context.events.listen(owner.member.account_id) as to_owner:
        assert (await seeker.post(f"/im/conversations/{group_id}/join")).json() == {"status": "requested"}
        assert await next_event(to_owner) == {"type": "join.requested", "conversation_id": group_id}
    await member.post(f"/im/conversations/{group_id}/members", {"member_ids": [friend.id]})
    assert (await friend.get(f"/im/conversations/{group_id}")).status_code == 403
    refused = await member.get(f"/im/conversations/{group_id}/join-requests")
    assert refused.json()["code"] == "im.manager_required"
    pending = (await owner.get(f"/im/conversations/{group_id}/join-requests")).json()
    by_name = {p["name"]: p for p in pending}
    assert set(by_name) == {"求入群者", "被邀请者"} and by_name["被邀请者"]["invited_by_name"] == "成员"
    assert (await owner.post(f"/im/join-requests/{by_name['求入群者']['id']}/approve")).status_code == 204
    assert (await owner.post(f"/im/join-requests/{by_name['被邀请者']['id']}/reject")).status_code == 204
    again = await owner.post(f"/im/join-requests/{by_name['被邀请者']['id']}/approve")
    assert again.json()["code"] == "im.join_request_not_found"
    assert (await seeker.conversation(group_id))["member_count"] == 3
    assert (await friend.get(f"/im/conversations/{group_id}")).status_code == 403
