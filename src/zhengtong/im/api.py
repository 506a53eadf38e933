"""Chat endpoints. Each resolves the caller's membership — as an `Actor`, or as a `Viewer` with
what they may see of the directory where the call picks or lists people (new conversations,
invitations, member lists) — and hands it to the services, which check the caller's seat in the
conversation before anything."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Response, UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.directory.visibility import Actor, Viewer, actor_for, viewer_for
from zhengtong.im import content as sealing
from zhengtong.im import conversations, files, joining, messages, preferences, schemas, search
from zhengtong.im.conversations import ConversationSummary
from zhengtong.im.models import ChatFile, ChatPreference, ConversationKind, MemberRank
from zhengtong.im.policy import ChatPolicy
from zhengtong.org.access import admin_scope
from zhengtong.org.errors import OUT_OF_SCOPE
from zhengtong.org.models import AdminDuty, Organization
from zhengtong.platform import audit
from zhengtong.platform.ratelimit import enforce
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession

router = APIRouter(tags=["im"])


async def _viewer(session: AsyncSession, caller: Caller) -> Viewer:
    """For calls that show or pick people from the directory (member lists, invitations)."""
    return await viewer_for(session, caller)


async def _actor(session: AsyncSession, caller: Caller) -> Actor:
    """For everything else: the caller's membership, without the directory's visibility."""
    return await actor_for(session, caller)


async def _organization(session: AsyncSession, org_id: str) -> Organization:
    organization = await session.get(Organization, org_id)
    assert organization is not None
    return organization


def _conversation_read(
    context: AppContext, organization: Organization, summary: ConversationSummary
) -> schemas.ConversationRead:
    conversation, seat = summary.conversation, summary.seat
    settings = None
    announcement = None
    if conversation.kind != ConversationKind.DIRECT:
        settings = schemas.GroupSettingsRead.model_validate(conversation)
        if conversation.announcement_sealed:
            announcement = sealing.unseal_text(
                sealing.org_cipher(context, organization),
                "im-announcement",
                conversation.id,
                conversation.announcement_sealed,
            )
    return schemas.ConversationRead(
        id=conversation.id,
        kind=conversation.kind,
        title=summary.title,
        peer_membership_id=summary.peer_membership_id,
        department_id=conversation.department_id,
        member_count=conversation.member_count,
        unread=summary.unread,
        last_seq=conversation.last_seq,
        read_seq=seat.read_seq,
        visible_after_seq=seat.visible_after_seq,
        last_message_at=conversation.last_message_at,
        rank=seat.rank,
        do_not_disturb=seat.do_not_disturb,
        pinned=seat.pinned,
        muted_until=seat.muted_until,
        settings=settings,
        announcement=announcement,
    )


async def _read_one(
    session: AsyncSession, context: AppContext, viewer: Actor, conversation_id: str
) -> schemas.ConversationRead:
    summary = await conversations.summary_of(session, viewer, conversation_id)
    return _conversation_read(context, await _organization(session, viewer.org_id), summary)


async def _limit_sends(context: AppContext, caller: Caller) -> None:
    await enforce(
        context.limiter,
        f"chat-send:{caller.account_id}",
        context.settings.chat_sends_per_minute,
        60,
        open_when_unavailable=True,
    )


# -- conversations


@router.get("/im/conversations", response_model=schemas.ConversationList)
async def list_conversations(
    caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.ConversationList:
    viewer = await _actor(session, caller)
    organization = await _organization(session, viewer.org_id)
    summaries = await conversations.list_conversations(session, viewer)
    latest = await messages.latest_messages(
        session, context, viewer, [(s.conversation, s.seat) for s in summaries]
    )
    items = [
        _conversation_read(context, organization, s).model_copy(
            update={"last_message": latest.get(s.conversation.id)}
        )
        for s in summaries
    ]
    total = sum(item.unread for item in items if not item.do_not_disturb)
    return schemas.ConversationList(items=items, total_unread=total)


@router.post("/im/conversations/direct", response_model=schemas.ConversationRead)
async def open_direct(
    body: schemas.DirectIn, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.ConversationRead:
    viewer = await _viewer(session, caller)
    conversation = await conversations.open_direct(
        session, context, viewer, body.membership_id, via_group_id=body.via_group_id
    )
    return await _read_one(session, context, viewer, conversation.id)


@router.post("/im/conversations/group", response_model=schemas.ConversationRead, status_code=201)
async def create_group(
    body: schemas.GroupIn, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.ConversationRead:
    viewer = await _viewer(session, caller)
    conversation = await conversations.create_group(
        session, context, viewer, name=body.name, member_ids=body.member_ids
    )
    return await _read_one(session, context, viewer, conversation.id)


@router.post("/im/conversations/synced", response_model=schemas.SyncedGroupRead)
async def ensure_synced_group(
    body: schemas.SyncedGroupIn, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.SyncedGroupRead:
    """An admin creates the department group of a department, or the all-staff group (or gets
    the one that exists); its members then follow the organisation chart."""
    scope = await admin_scope(session, caller, AdminDuty.SYSTEM, "members")
    conversation = await conversations.ensure_synced_group(
        session, context, scope.org_id, department_id=body.department_id, owner_id=scope.membership_id
    )
    return schemas.SyncedGroupRead.model_validate(conversation)


@router.get("/im/conversations/{conversation_id}", response_model=schemas.ConversationRead)
async def get_conversation(
    conversation_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.ConversationRead:
    viewer = await _actor(session, caller)
    return await _read_one(session, context, viewer, conversation_id)


@router.patch("/im/conversations/{conversation_id}/settings", response_model=schemas.ConversationRead)
async def update_group_settings(
    conversation_id: str,
    body: schemas.GroupSettingsIn,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
) -> schemas.ConversationRead:
    viewer = await _actor(session, caller)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("history_visible_count") == -1:
        changes["history_visible_count"] = None
    await conversations.update_settings(session, context, viewer, conversation_id, changes)
    return await _read_one(session, context, viewer, conversation_id)


@router.put("/im/conversations/{conversation_id}/announcement", response_model=schemas.ConversationRead)
async def set_announcement(
    conversation_id: str,
    body: schemas.AnnouncementIn,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
) -> schemas.ConversationRead:
    viewer = await _actor(session, caller)
    await conversations.set_announcement(session, context, viewer, conversation_id, body.text)
    return await _read_one(session, context, viewer, conversation_id)


@router.patch("/im/conversations/{conversation_id}/me", response_model=schemas.ConversationRead)
async def set_personal_flags(
    conversation_id: str,
    body: schemas.PersonalFlagsIn,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
) -> schemas.ConversationRead:
    viewer = await _actor(session, caller)
    await conversations.set_personal_flags(
        session, context, viewer, conversation_id, do_not_disturb=body.do_not_disturb, pinned=body.pinned
    )
    return await _read_one(session, context, viewer, conversation_id)


@router.delete("/im/conversations/{conversation_id}", status_code=204)
async def disband(
    conversation_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> Response:
    viewer = await _actor(session, caller)
    await conversations.disband(session, context, viewer, conversation_id)
    return Response(status_code=204)


# -- members


@router.get("/im/conversations/{conversation_id}/members", response_model=schemas.ConversationMembers)
async def list_members(
    conversation_id: str, caller: CurrentCaller, session: DbSession
) -> schemas.ConversationMembers:
    viewer = await _viewer(session, caller)
    entries, hidden = await conversations.list_members(session, viewer, conversation_id)
    return schemas.ConversationMembers(
        items=[
            schemas.ConversationMemberRead(
                membership_id=e.membership.id,
                name=e.membership.name,
                avatar_key=e.membership.avatar_key,
                rank=e.seat.rank,
                muted_until=e.seat.muted_until,
            )
            for e in entries
        ],
        hidden_count=hidden,
    )


@router.post("/im/conversations/{conversation_id}/members", response_model=schemas.ConversationRead)
async def add_members(
    conversation_id: str, body: schemas.MembersIn, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.ConversationRead:
    viewer = await _viewer(session, caller)
    await conversations.add_members(session, context, viewer, conversation_id, body.member_ids)
    return await _read_one(session, context, viewer, conversation_id)


@router.delete("/im/conversations/{conversation_id}/members/{membership_id}", status_code=204)
async def remove_member(
    conversation_id: str, membership_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> Response:
    viewer = await _actor(session, caller)
    await conversations.remove_member(session, context, viewer, conversation_id, membership_id)
    return Response(status_code=204)


@router.put("/im/conversations/{conversation_id}/members/{membership_id}/rank", status_code=204)
async def set_rank(
    conversation_id: str,
    membership_id: str,
    body: schemas.RankIn,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
) -> Response:
    viewer = await _actor(session, caller)
    await conversations.set_rank(
        session, context, viewer, conversation_id, membership_id, MemberRank(body.rank)
    )
    return Response(status_code=204)


@router.put("/im/conversations/{conversation_id}/members/{membership_id}/mute", status_code=204)
async def mute_member(
    conversation_id: str,
    membership_id: str,
    body: schemas.MuteIn,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
) -> Response:
    viewer = await _actor(session, caller)
    await conversations.mute_member(session, context, viewer, conversation_id, membership_id, body.minutes)
    return Response(status_code=204)


# -- joining groups


@router.get("/im/groups/search", response_model=list[schemas.GroupFound])
async def search_groups(
    caller: CurrentCaller, session: DbSession, q: str = Query(min_length=1, max_length=100)
) -> list[schemas.GroupFound]:
    viewer = await _actor(session, caller)
    return [schemas.GroupFound.model_validate(g) for g in await joining.search_groups(session, viewer, q)]


@router.post("/im/conversations/{conversation_id}/join", response_model=schemas.JoinAnswer)
async def ask_to_join(
    conversation_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.JoinAnswer:
    viewer = await _actor(session, caller)
    status = await joining.ask_to_join(session, context, viewer, conversation_id)
    return schemas.JoinAnswer(status=status)


@router.get("/im/conversations/{conversation_id}/join-requests", response_model=list[schemas.JoinRequestRead])
async def pending_join_requests(
    conversation_id: str, caller: CurrentCaller, session: DbSession
) -> list[schemas.JoinRequestRead]:
    viewer = await _actor(session, caller)
    return [
        schemas.JoinRequestRead(
            id=p.request.id,
            membership_id=p.request.membership_id,
            name=p.name,
            invited_by_name=p.invited_by_name,
            created_at=p.request.created_at,
        )
        for p in await joining.pending_requests(session, viewer, conversation_id)
    ]


@router.post("/im/join-requests/{request_id}/approve", status_code=204)
async def approve_join_request(
    request_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> Response:
    viewer = await _actor(session, caller)
    await joining.decide(session, context, viewer, request_id, approve=True)
    return Response(status_code=204)


@router.post("/im/join-requests/{request_id}/reject", status_code=204)
async def reject_join_request(
    request_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> Response:
    viewer = await _actor(session, caller)
    await joining.decide(session, context, viewer, request_id, approve=False)
    return Response(status_code=204)


# -- messages


@router.get("/im/conversations/{conversation_id}/messages", response_model=schemas.MessagePage)
async def history(
    conversation_id: str,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    before_seq: int | None = Query(default=None, ge=1),
    after_seq: int | None = Query(default=None, ge=0),
    around_seq: int | None = Query(default=None, ge=1),
    limit: int = Query(default=50, ge=1, le=200),
) -> schemas.MessagePage:
    """The latest page, or the page before `before_seq`, after `after_seq` or around `around_seq`."""
    viewer = await _actor(session, caller)
    return await messages.history(
        session,
        context,
        viewer,
        conversation_id,
        before_seq=before_seq,
        after_seq=after_seq,
        around_seq=around_seq,
        limit=limit,
    )


@router.post("/im/conversations/{conversation_id}/messages", response_model=schemas.MessageRead)
async def send_message(
    conversation_id: str, body: schemas.MessageIn, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.MessageRead:
    await _limit_sends(context, caller)
    viewer = await _actor(session, caller)
    return await messages.send(session, context, viewer, conversation_id, body)


@router.post("/im/conversations/{conversation_id}/read", response_model=schemas.ConversationRead)
async def mark_read(
    conversation_id: str, body: schemas.ReadIn, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.ConversationRead:
    viewer = await _actor(session, caller)
    await messages.mark_read(session, context, viewer, conversation_id, body.seq)
    return await _read_one(session, context, viewer, conversation_id)


@router.get("/im/conversations/{conversation_id}/pins", response_model=list[schemas.MessageRead])
async def pinned_messages(
    conversation_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> list[schemas.MessageRead]:
    viewer = await _actor(session, caller)
    return await messages.pinned_messages(session, context, viewer, conversation_id)


@router.get("/im/messages/{message_id}/reads", response_model=schemas.ReadListRead)
async def read_list(
    message_id: str,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    tab: schemas.ReadTab = "unread",  # DingTalk opens the list on 未读
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = None,
) -> schemas.ReadListRead:
    """One page of one tab of a message's read list, with the counts of both tabs; `next_cursor`
    asks for the next page of the same tab."""
    viewer = await _actor(session, caller)
    return await messages.read_list(session, context, viewer, message_id, tab=tab, limit=limit, cursor=cursor)


@router.post("/im/messages/{message_id}/recall", response_model=schemas.MessageRead)
async def recall(
    message_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.MessageRead:
    viewer = await _actor(session, caller)
    return await messages.recall(session, context, viewer, message_id)


@router.put("/im/messages/{message_id}/pin", response_model=schemas.MessageRead)
async def pin(
    message_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.MessageRead:
    viewer = await _actor(session, caller)
    return await messages.set_pinned(session, context, viewer, message_id, True)


@router.delete("/im/messages/{message_id}/pin", response_model=schemas.MessageRead)
async def unpin(
    message_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.MessageRead:
    viewer = await _actor(session, caller)
    return await messages.set_pinned(session, context, viewer, message_id, False)


@router.post("/im/messages/{message_id}/reactions", response_model=schemas.MessageRead)
async def toggle_reaction(
    message_id: str, body: schemas.ReactionIn, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.MessageRead:
    viewer = await _actor(session, caller)
    return await messages.toggle_reaction(session, context, viewer, message_id, body.emoji)


@router.post("/im/forward", response_model=list[schemas.MessageRead])
async def forward(
    body: schemas.ForwardIn, caller: CurrentCaller, session: DbSession, context: Context
) -> list[schemas.MessageRead]:
    await _limit_sends(context, caller)
    viewer = await _actor(session, caller)
    return await messages.forward(
        session, context, viewer, body.message_ids, body.target_conversation_ids, merged=body.merged
    )


@router.get("/im/search", response_model=schemas.SearchResults)
async def search_messages(
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    q: str = Query(min_length=1, max_length=100),
    conversation_id: str | None = Query(default=None, max_length=26),
    limit: int = Query(default=20, ge=1, le=50),
) -> schemas.SearchResults:
    viewer = await _actor(session, caller)
    hits = await search.search_messages(
        session, context, viewer, q, conversation_id=conversation_id, limit=limit
    )
    return schemas.SearchResults(items=hits)


# -- files


def _file_read(context: AppContext, organization: Organization, chat_file: ChatFile) -> schemas.FileRead:
    return schemas.FileRead(
        id=chat_file.id,
        name=sealing.unseal_text(
            sealing.org_cipher(context, organization), "im-file", chat_file.id, chat_file.name_sealed
        ),
        kind=chat_file.kind,
        content_type=chat_file.content_type,
        size=chat_file.size,
        width=chat_file.width,
        height=chat_file.height,
        has_thumbnail=chat_file.thumbnail_key is not None,
    )


@router.post(
    "/im/conversations/{conversation_id}/files/upload", response_model=schemas.FileRead, status_code=201
)
async def upload_file(
    conversation_id: str,
    file: UploadFile,
    caller: CurrentCaller,
    session: DbSession,
    context: Context,
    kind: Annotated[schemas.SendableKind, Form()] = "file",
) -> schemas.FileRead:
    viewer = await _actor(session, caller)
    data = await file.read()
    chat_file = await files.upload(
        session, context, viewer, conversation_id, kind=kind, filename=file.filename or "file", data=data
    )
    return _file_read(context, await _organization(session, viewer.org_id), chat_file)


@router.get("/im/files/{file_id}")
async def download_file(
    file_id: str, caller: CurrentCaller, session: DbSession, context: Context, thumbnail: bool = False
) -> Response:
    viewer = await _actor(session, caller)
    found = await files.download(session, context, viewer, file_id, thumbnail=thumbnail)
    disposition = "inline" if found.content_type.startswith(("image/", "audio/", "video/")) else "attachment"
    return Response(
        content=found.data,
        media_type=found.content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(found.name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.post("/im/presence", response_model=schemas.PresenceRead)
async def presence(
    body: schemas.PresenceIn, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.PresenceRead:
    """Which of these members (of the caller's organisation, visible to them) are online."""
    viewer = await _viewer(session, caller)
    accounts = await conversations.visible_accounts(session, viewer, body.membership_ids)
    online = await context.presence.online(list(accounts))
    return schemas.PresenceRead(online=[accounts[a] for a in accounts if a in online])


# -- preferences and policy


def _preferences_read(found: ChatPreference) -> schemas.PreferencesRead:
    return schemas.PreferencesRead(
        hide_read_status=found.hide_read_status,
        quiet_hours_enabled=found.quiet_hours_enabled,
        quiet_start=found.quiet_start,
        quiet_end=found.quiet_end,
        timezone=found.timezone,
        in_quiet_hours=preferences.in_quiet_hours(found),
    )


@router.get("/im/preferences", response_model=schemas.PreferencesRead)
async def get_preferences(caller: CurrentCaller, session: DbSession) -> schemas.PreferencesRead:
    viewer = await _actor(session, caller)
    return _preferences_read(await preferences.preferences_of(session, viewer))


@router.patch("/im/preferences", response_model=schemas.PreferencesRead)
async def update_preferences(
    body: schemas.PreferencesIn, caller: CurrentCaller, session: DbSession
) -> schemas.PreferencesRead:
    viewer = await _actor(session, caller)
    found = await preferences.update_preferences(session, viewer, body.model_dump(exclude_none=True))
    return _preferences_read(found)


def _policy_read(context: AppContext, policy: ChatPolicy) -> schemas.ChatPolicyRead:
    return schemas.ChatPolicyRead(
        **policy.as_settings(),
        max_upload_bytes=context.settings.max_upload_bytes,
        max_text_chars=policy.max_text_chars,
    )


@router.get("/im/policy", response_model=schemas.ChatPolicyRead)
async def get_policy(caller: CurrentCaller, session: DbSession, context: Context) -> schemas.ChatPolicyRead:
    """Every member may read the policy (the client needs to know whether receipts are on)."""
    viewer = await _actor(session, caller)
    policy = ChatPolicy.of(await _organization(session, viewer.org_id))
    return _policy_read(context, policy)


@router.patch("/im/policy", response_model=schemas.ChatPolicyRead)
async def update_policy(
    body: schemas.ChatPolicyIn, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.ChatPolicyRead:
    scope = await admin_scope(session, caller, AdminDuty.SECURITY, "visibility")
    if not scope.whole_org:
        raise AppError(OUT_OF_SCOPE)  # the policy holds for the whole organisation
    organization = await _organization(session, scope.org_id)
    changes = body.model_dump(exclude_none=True)
    policy = await preferences.update_policy(session, organization, changes)
    await audit.record(
        session,
        context.keyring,
        action="im.policy_updated",
        org_id=scope.org_id,
        actor_id=caller.account_id,
        object_type="organization",
        object_id=scope.org_id,
        ip=ip,
        detail=changes,
    )
    return _policy_read(context, policy)
