"""Conversations and who is in them: direct chats, groups, department and all-staff groups, group
ranks and settings. Every function takes the acting member and checks their right first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.clock import utcnow
from zhengtong.core.context import AppContext
from zhengtong.core.errors import NOT_FOUND, AppError
from zhengtong.directory.service import access_visible_member
from zhengtong.directory.visibility import Actor, Viewer, visible_members_condition
from zhengtong.im import errors
from zhengtong.im.events import conversation_changed, conversation_removed
from zhengtong.im.messages import REMOVED_MEMBER, post_system_message
from zhengtong.im.models import Conversation, ConversationKind, ConversationMember, MemberRank
from zhengtong.im.policy import ChatPolicy
from zhengtong.im.seats import Seat, seat_of
from zhengtong.org.models import Department, MemberDepartment, Membership, Organization
from zhengtong.platform.eventlog import append_after_commit

GROUP_KINDS = (ConversationKind.GROUP, ConversationKind.DEPARTMENT, ConversationKind.ALL_STAFF)
SYNCED_KINDS = (ConversationKind.DEPARTMENT, ConversationKind.ALL_STAFF)
MIN_MUTE = timedelta(minutes=5)
MAX_MUTE = timedelta(days=30)


def _require_group(seat: Seat) -> None:
    if seat.conversation.kind == ConversationKind.DIRECT:
        raise AppError(errors.NOT_A_GROUP)


def _require_manager(seat: Seat) -> None:
    _require_group(seat)
    if not seat.manages:
        raise AppError(errors.NOT_GROUP_MANAGER)


def _require_owner(seat: Seat) -> None:
    _require_group(seat)
    if seat.member.rank != MemberRank.OWNER:
        raise AppError(errors.NOT_GROUP_OWNER)


def _require_manual_membership(conversation: Conversation) -> None:
    if conversation.kind in SYNCED_KINDS:
        raise AppError(errors.MANAGED_MEMBERSHIP)


async def _organization(session: AsyncSession, org_id: str) -> Organization:
    organization = await session.get(Organization, org_id)
    assert organization is not None
    return organization


async def _visible_members(
    session: AsyncSession, viewer: Viewer, membership_ids: Sequence[str]
) -> list[Membership]:
    """The listed members, every one of whom the viewer must be able to see."""
    wanted = list(dict.fromkeys(membership_ids))
    rows = (
        await session.execute(
            select(Membership).where(
                Membership.org_id == viewer.org_id,
                Membership.id.in_(wanted),
                visible_members_condition(viewer),
            )
        )
    ).scalars()
    found = {membership.id: membership for membership in rows}
    missing = [membership_id for membership_id in wanted if membership_id not in found]
    if missing:
        raise AppError(errors.MEMBER_NOT_VISIBLE, detail={"membership_ids": missing})
    return [found[membership_id] for membership_id in wanted]


async def visible_accounts(
    session: AsyncSession, viewer: Viewer, membership_ids: Sequence[str]
) -> dict[str, str]:
    """account id → membership id, for those of the listed members the viewer may see."""
    rows = await session.execute(
        select(Membership.account_id, Membership.id).where(
            Membership.org_id == viewer.org_id,
            Membership.id.in_(list(membership_ids)),
            visible_members_condition(viewer),
        )
    )
    return dict(rows.all())


def _seat_row(conversation: Conversation, membership: Membership, rank: MemberRank) -> ConversationMember:
    visible_after = conversation.last_seq
    if conversation.history_visible_count is None:
        visible_after = 0
    elif conversation.history_visible_count > 0:
        visible_after = max(0, conversation.last_seq - conversation.history_visible_count)
    return ConversationMember(
        org_id=conversation.org_id,
        conversation_id=conversation.id,
        membership_id=membership.id,
        account_id=membership.account_id,
        rank=rank,
        visible_after_seq=visible_after,
        joined_seq=conversation.last_seq,
        read_seq=conversation.last_seq,
    )


async def _refresh_count(session: AsyncSession, conversation: Conversation) -> None:
    await session.flush()
    conversation.member_count = (
        await session.execute(
            select(func.count()).where(ConversationMember.conversation_id == conversation.id)
        )
    ).scalar_one()


# -- creating


async def open_direct(
    session: AsyncSession,
    context: AppContext,
    viewer: Viewer,
    other_id: str,
    *,
    via_group_id: str | None = None,
) -> Conversation:
    """The one direct conversation between the viewer and another member, created on first use.
    Started from a group that forbids private chat, only its owner and admins may."""
    other = await access_visible_member(session, viewer, other_id)
    if via_group_id is not None:
        seat = await seat_of(session, viewer, via_group_id)
        if seat.conversation.forbid_private_chat and not seat.manages:
            raise AppError(errors.PRIVATE_CHAT_FORBIDDEN)
    key = ":".join(sorted({viewer.membership_id, other.id}))
    existing = (
        await session.execute(
            select(Conversation).where(Conversation.org_id == viewer.org_id, Conversation.direct_key == key)
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    me = await session.get(Membership, viewer.membership_id)
    assert me is not None
    conversation = Conversation(org_id=viewer.org_id, kind=ConversationKind.DIRECT, direct_key=key)
    session.add(conversation)
    await session.flush()
    for membership in {me.id: me, other.id: other}.values():
        session.add(_seat_row(conversation, membership, MemberRank.MEMBER))
    await _refresh_count(session, conversation)
    return conversation


async def create_group(
    session: AsyncSession, context: AppContext, viewer: Viewer, *, name: str, member_ids: Sequence[str]
) -> Conversation:
    organization = await _organization(session, viewer.org_id)
    policy = ChatPolicy.of(organization)
    invited = await _visible_members(session, viewer, [m for m in member_ids if m != viewer.membership_id])
    if len(invited) + 1 > policy.max_group_members:
        raise AppError(errors.GROUP_FULL, detail={"max_members": policy.max_group_members})
    me = await session.get(Membership, viewer.membership_id)
    assert me is not None
    conversation = Conversation(
        org_id=viewer.org_id,
        kind=ConversationKind.GROUP,
        name=name or _default_name([me, *invited]),
        owner_membership_id=me.id,
        max_members=policy.max_group_members,
    )
    session.add(conversation)
    await session.flush()
    session.add(_seat_row(conversation, me, MemberRank.OWNER))
    for membership in invited:
        session.add(_seat_row(conversation, membership, MemberRank.MEMBER))
    await _refresh_count(session, conversation)
    line = await post_system_message(
        session, context, conversation, "created", actor=me, names=[m.name for m in invited]
    )
    await _mark_read_up_to(session, conversation.id, [me.id, *(m.id for m in invited)], line.seq)
    return conversation


def _default_name(members: Sequence[Membership]) -> str:
    return "、".join(member.name for member in members[:4])[:100]


async def ensure_synced_group(
    session: AsyncSession, context: AppContext, org_id: str, *, department_id: str | None, owner_id: str
) -> Conversation:
    """The department group of `department_id` (the all-staff group when None), created when
    absent; its members follow the organisation chart from then on."""
    kind = ConversationKind.ALL_STAFF if department_id is None else ConversationKind.DEPARTMENT
    query = select(Conversation).where(
        Conversation.org_id == org_id, Conversation.kind == kind, Conversation.disbanded_at.is_(None)
    )
    if department_id is not None:
        query = query.where(Conversation.department_id == department_id)
    existing = (await session.execute(query)).scalars().first()
    if existing is not None:
        return existing
    organization = await _organization(session, org_id)
    if department_id is None:
        name = f"{organization.name}全员群"
    else:
        department = await session.get(Department, department_id)
        if department is None or department.org_id != org_id:
            raise AppError(NOT_FOUND)
        name = department.name
    conversation = Conversation(
        org_id=org_id,
        kind=kind,
        name=name[:100],
        department_id=department_id,
        owner_membership_id=owner_id,
        max_members=1_000_000,  # follows the organisation chart, whatever its size
    )
    session.add(conversation)
    await session.flush()
    await sync_group_members(session, context, conversation)
    return conversation


async def _chart_member_ids(session: AsyncSession, conversation: Conversation) -> set[str]:
    """Who the organisation chart puts in a synced group."""
    if conversation.kind == ConversationKind.ALL_STAFF:
        query = select(Membership.id).where(Membership.org_id == conversation.org_id)
    else:
        department = await session.get(Department, conversation.department_id)
        if department is None:
            return set()
        query = (
            select(MemberDepartment.membership_id)
            .join(Department, Department.id == MemberDepartment.department_id)
            .where(
                MemberDepartment.org_id == conversation.org_id, Department.path.startswith(department.path)
            )
        )
    return set((await session.execute(query)).scalars())


async def sync_group_members(session: AsyncSession, context: AppContext, conversation: Conversation) -> None:
    """Brings a department or all-staff group's members in line with the organisation chart."""
    wanted = await _chart_member_ids(session, conversation)
    current = {
        row.membership_id: row
        for row in (
            await session.execute(
                select(ConversationMember).where(ConversationMember.conversation_id == conversation.id)
            )
        ).scalars()
    }
    joining = wanted - current.keys()
    leaving = [row for membership_id, row in current.items() if membership_id not in wanted]
    if not joining and not leaving:
        return
    if joining:
        members = (await session.execute(select(Membership).where(Membership.id.in_(joining)))).scalars()
        for membership in members:
            rank = (
                MemberRank.OWNER if membership.id == conversation.owner_membership_id else MemberRank.MEMBER
            )
            session.add(_seat_row(conversation, membership, rank))
    for row in leaving:
        await session.delete(row)
    await _refresh_count(session, conversation)
    conversation_removed(session, context, conversation.id, [row.account_id for row in leaving])
    await conversation_changed(session, context, conversation)


async def _synced_groups(session: AsyncSession, org_id: str) -> list[Conversation]:
    rows = await session.execute(
        select(Conversation).where(
            Conversation.org_id == org_id,
            Conversation.kind.in_(SYNCED_KINDS),
            Conversation.disbanded_at.is_(None),
        )
    )
    return list(rows.scalars())


async def sync_org_groups(
    session: AsyncSession, context: AppContext, org_id: str, membership_ids: Sequence[str] | None
) -> None:
    """Called when the organisation chart changed: every synced group follows it. When only
    some members' seats changed, only their places are checked (a member added by SCIM must not
    cost a pass over the whole organisation)."""
    groups = await _synced_groups(session, org_id)
    if membership_ids is not None:
        await _sync_members_places(session, context, groups, membership_ids)
        return
    for conversation in groups:
        if conversation.kind == ConversationKind.DEPARTMENT and conversation.department_id is None:
            await _disband(session, context, conversation)  # its department was deleted
        else:
            await sync_group_members(session, context, conversation)


async def _sync_members_places(
    session: AsyncSession, context: AppContext, groups: Sequence[Conversation], membership_ids: Sequence[str]
) -> None:
    if not groups or not membership_ids:
        return
    group_paths = dict(
        (
            await session.execute(
                select(Conversation.id, Department.path)
                .join(Department, Department.id == Conversation.department_id)
                .where(Conversation.id.in_([g.id for g in groups]))
            )
        ).all()
    )
    seat_paths: dict[str, list[str]] = {}
    for membership_id, path in await session.execute(
        select(MemberDepartment.membership_id, Department.path)
        .join(Department, Department.id == MemberDepartment.department_id)
        .where(MemberDepartment.membership_id.in_(membership_ids))
    ):
        seat_paths.setdefault(membership_id, []).append(path)
    present = {
        (row.conversation_id, row.membership_id): row
        for row in (
            await session.execute(
                select(ConversationMember).where(
                    ConversationMember.conversation_id.in_([g.id for g in groups]),
                    ConversationMember.membership_id.in_(membership_ids),
                )
            )
        ).scalars()
    }
    members = {
        m.id: m
        for m in (
            await session.execute(select(Membership).where(Membership.id.in_(membership_ids)))
        ).scalars()
    }
    for conversation in groups:
        group_path = group_paths.get(conversation.id)
        changed, removed_accounts = False, []
        for membership_id in membership_ids:
            paths = seat_paths.get(membership_id, [])
            wanted = membership_id in members and (
                conversation.kind == ConversationKind.ALL_STAFF
                or (group_path is not None and any(path.startswith(group_path) for path in paths))
            )
            seat = present.get((conversation.id, membership_id))
            if wanted and seat is None:
                session.add(_seat_row(conversation, members[membership_id], MemberRank.MEMBER))
                changed = True
            elif not wanted and seat is not None:
                await session.delete(seat)
                removed_accounts.append(seat.account_id)
                changed = True
        if changed:
            await _refresh_count(session, conversation)
            conversation_removed(session, context, conversation.id, removed_accounts)
            await conversation_changed(session, context, conversation)


# -- listing


@dataclass(frozen=True)
class ConversationSummary:
    conversation: Conversation
    seat: ConversationMember
    unread: int
    title: str  # the group's name, or the other person's name in a direct chat
    peer_membership_id: str | None


def unread_count(conversation: Conversation, seat: ConversationMember) -> int:
    return max(0, conversation.last_seq - max(seat.read_seq, seat.visible_after_seq))


async def list_conversations(session: AsyncSession, viewer: Actor) -> list[ConversationSummary]:
    rows = (
        await session.execute(
            select(Conversation, ConversationMember)
            .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
            .where(
                ConversationMember.membership_id == viewer.membership_id,
                Conversation.org_id == viewer.org_id,
                Conversation.disbanded_at.is_(None),
            )
        )
    ).all()
    peers = await _direct_peers(session, viewer, [c for c, _ in rows if c.kind == ConversationKind.DIRECT])
    summaries = []
    for conversation, seat in rows:
        peer = peers.get(conversation.id)
        summaries.append(
            ConversationSummary(
                conversation=conversation,
                seat=seat,
                unread=unread_count(conversation, seat),
                title=_title(conversation, peer),
                peer_membership_id=peer.id if peer else None,
            )
        )
    summaries.sort(
        key=lambda s: (s.seat.pinned, s.conversation.last_message_at or s.conversation.created_at),
        reverse=True,
    )
    return summaries


async def summary_of(session: AsyncSession, viewer: Actor, conversation_id: str) -> ConversationSummary:
    seat = await seat_of(session, viewer, conversation_id)
    direct = [seat.conversation] if seat.conversation.kind == ConversationKind.DIRECT else []
    peers = await _direct_peers(session, viewer, direct)
    peer = peers.get(conversation_id)
    return ConversationSummary(
        conversation=seat.conversation,
        seat=seat.member,
        unread=unread_count(seat.conversation, seat.member),
        title=_title(seat.conversation, peer),
        peer_membership_id=peer.id if peer else None,
    )


async def titles_of(session: AsyncSession, viewer: Actor, conversation_ids: Iterable[str]) -> dict[str, str]:
    """The names the viewer sees for these conversations (a direct one is named after the peer)."""
    conversations = (
        await session.scalars(select(Conversation).where(Conversation.id.in_(set(conversation_ids))))
    ).all()
    peers = await _direct_peers(
        session, viewer, [c for c in conversations if c.kind == ConversationKind.DIRECT]
    )
    return {c.id: _title(c, peers.get(c.id)) for c in conversations}


def _title(conversation: Conversation, peer: Membership | None) -> str:
    if peer is not None:
        return peer.name
    if conversation.kind == ConversationKind.DIRECT and conversation.member_count < 2:
        return REMOVED_MEMBER  # the other person left the organisation
    return conversation.name


async def _direct_peers(
    session: AsyncSession, viewer: Actor, conversations: Sequence[Conversation]
) -> dict[str, Membership]:
    if not conversations:
        return {}
    rows = await session.execute(
        select(ConversationMember.conversation_id, Membership)
        .join(Membership, Membership.id == ConversationMember.membership_id)
        .where(
            ConversationMember.conversation_id.in_([c.id for c in conversations]),
            ConversationMember.membership_id != viewer.membership_id,
        )
    )
    return {conversation_id: membership for conversation_id, membership in rows.all()}


@dataclass(frozen=True)
class MemberEntry:
    membership: Membership
    seat: ConversationMember


async def list_members(
    session: AsyncSession, viewer: Viewer, conversation_id: str
) -> tuple[list[MemberEntry], int]:
    """The conversation's members the viewer may see in the directory, and how many are hidden."""
    seat = await seat_of(session, viewer, conversation_id)
    rows = (
        await session.execute(
            select(Membership, ConversationMember)
            .join(ConversationMember, ConversationMember.membership_id == Membership.id)
            .where(
                ConversationMember.conversation_id == conversation_id,
                visible_members_condition(viewer),
            )
            .order_by(ConversationMember.rank.desc(), Membership.name)
        )
    ).all()
    entries = [MemberEntry(membership, member) for membership, member in rows]
    return entries, seat.conversation.member_count - len(entries)


# -- membership changes


async def add_members(
    session: AsyncSession,
    context: AppContext,
    viewer: Viewer,
    conversation_id: str,
    member_ids: Sequence[str],
) -> Conversation:
    """Members invite people into a group; where joining needs approval and the inviter does not
    manage the group, the invitations wait for a manager (see im.joining)."""
    from zhengtong.im import joining

    seat = await seat_of(session, viewer, conversation_id)
    _require_group(seat)
    _require_manual_membership(seat.conversation)
    invited = await _visible_members(session, viewer, member_ids)
    if seat.conversation.join_approval and not seat.manages:
        await joining.request_for(
            session, context, seat.conversation, invited, invited_by=viewer.membership_id
        )
        return seat.conversation
    actor = await session.get(Membership, viewer.membership_id)
    await seat_members(session, context, seat.conversation, invited, actor=actor)
    return seat.conversation


async def seat_members(
    session: AsyncSession,
    context: AppContext,
    conversation: Conversation,
    memberships: Sequence[Membership],
    *,
    actor: Membership | None,
) -> None:
    """Seats those not seated yet, within the group's size limit, and says so in the group."""
    present = set(
        (
            await session.execute(
                select(ConversationMember.membership_id).where(
                    ConversationMember.conversation_id == conversation.id,
                    ConversationMember.membership_id.in_([m.id for m in memberships]),
                )
            )
        ).scalars()
    )
    joining = [m for m in memberships if m.id not in present]
    if conversation.member_count + len(joining) > conversation.max_members:
        raise AppError(errors.GROUP_FULL, detail={"max_members": conversation.max_members})
    if not joining:
        return
    for membership in joining:
        session.add(_seat_row(conversation, membership, MemberRank.MEMBER))
    await _refresh_count(session, conversation)
    line = await post_system_message(
        session, context, conversation, "joined", actor=actor, names=[m.name for m in joining]
    )
    await _mark_read_up_to(session, conversation.id, [m.id for m in joining], line.seq)


async def _mark_read_up_to(
    session: AsyncSession, conversation_id: str, membership_ids: list[str], seq: int
) -> None:
    """The line announcing someone's arrival is not news to them."""
    await session.execute(
        update(ConversationMember)
        .where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.membership_id.in_(membership_ids),
            ConversationMember.read_seq < seq,
        )
        .values(read_seq=seq)
        .execution_options(synchronize_session=False)
    )


async def remove_member(
    session: AsyncSession, context: AppContext, viewer: Actor, conversation_id: str, membership_id: str
) -> None:
    """A manager removes someone (never the owner); anyone may remove themself (leave)."""
    seat = await seat_of(session, viewer, conversation_id)
    _require_group(seat)
    _require_manual_membership(seat.conversation)
    leaving = membership_id == viewer.membership_id
    target = (
        await session.execute(
            select(ConversationMember).where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.membership_id == membership_id,
            )
        )
    ).scalar_one_or_none()
    if target is None:
        raise AppError(errors.MEMBER_NOT_VISIBLE)
    if target.rank == MemberRank.OWNER:
        raise AppError(errors.OWNER_CANNOT_LEAVE if leaving else errors.NOT_GROUP_OWNER)
    if not leaving:
        _require_manager(seat)
        if target.rank == MemberRank.ADMIN and seat.member.rank != MemberRank.OWNER:
            raise AppError(errors.NOT_GROUP_OWNER)
    membership = await session.get(Membership, membership_id)
    await session.delete(target)
    await _refresh_count(session, seat.conversation)
    conversation_removed(session, context, conversation_id, [target.account_id])
    name = membership.name if membership else ""
    actor = await session.get(Membership, viewer.membership_id)
    await post_system_message(
        session, context, seat.conversation, "left" if leaving else "removed", actor=actor, names=[name]
    )


async def set_rank(
    session: AsyncSession,
    context: AppContext,
    viewer: Actor,
    conversation_id: str,
    membership_id: str,
    rank: MemberRank,
) -> None:
    """The owner names or unnames admins, or hands ownership over (becoming an admin)."""
    seat = await seat_of(session, viewer, conversation_id)
    _require_owner(seat)
    target = (
        await session.execute(
            select(ConversationMember).where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.membership_id == membership_id,
            )
        )
    ).scalar_one_or_none()
    if target is None or target.membership_id == viewer.membership_id:
        raise AppError(errors.MEMBER_NOT_VISIBLE)
    target.rank = rank
    if rank == MemberRank.OWNER:
        seat.member.rank = MemberRank.ADMIN
        seat.conversation.owner_membership_id = membership_id
        membership = await session.get(Membership, membership_id)
        actor = await session.get(Membership, viewer.membership_id)
        await post_system_message(
            session,
            context,
            seat.conversation,
            "owner_changed",
            actor=actor,
            names=[membership.name if membership else ""],
        )
    else:
        await conversation_changed(session, context, seat.conversation)


async def mute_member(
    session: AsyncSession,
    context: AppContext,
    viewer: Actor,
    conversation_id: str,
    membership_id: str,
    minutes: int,
) -> datetime | None:
    """Mutes a member for 5 minutes to 30 days (0 lifts it). Managers cannot mute each other."""
    seat = await seat_of(session, viewer, conversation_id)
    _require_manager(seat)
    duration = timedelta(minutes=minutes)
    if minutes and not MIN_MUTE <= duration <= MAX_MUTE:
        raise AppError(errors.MUTE_DURATION_INVALID)
    target = (
        await session.execute(
            select(ConversationMember).where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.membership_id == membership_id,
            )
        )
    ).scalar_one_or_none()
    if target is None:
        raise AppError(errors.MEMBER_NOT_VISIBLE)
    if target.rank != MemberRank.MEMBER:
        raise AppError(errors.NOT_GROUP_OWNER)
    target.muted_until = utcnow() + duration if minutes else None
    await conversation_changed(session, context, seat.conversation)
    return target.muted_until


GROUP_SETTINGS = (
    "name",
    "only_owner_manages",
    "join_approval",
    "searchable",
    "history_visible_count",
    "forbid_private_chat",
    "mute_all",
    "mention_all_admins_only",
    "max_members",
)
OWNER_ONLY_SETTINGS = {"only_owner_manages", "max_members"}


async def update_settings(
    session: AsyncSession, context: AppContext, viewer: Actor, conversation_id: str, changes: dict[str, Any]
) -> Conversation:
    seat = await seat_of(session, viewer, conversation_id)
    _require_manager(seat)
    if OWNER_ONLY_SETTINGS & changes.keys():
        _require_owner(seat)
    conversation = seat.conversation
    if "max_members" in changes:
        policy = ChatPolicy.of(await _organization(session, viewer.org_id))
        if not conversation.member_count <= changes["max_members"] <= policy.max_group_members:
            raise AppError(errors.GROUP_FULL, detail={"max_members": policy.max_group_members})
    for name in GROUP_SETTINGS:
        if name in changes:
            setattr(conversation, name, changes[name])
    actor = await session.get(Membership, viewer.membership_id)
    await post_system_message(
        session, context, conversation, "settings_changed", actor=actor, names=sorted(changes)
    )
    return conversation


async def set_announcement(
    session: AsyncSession, context: AppContext, viewer: Actor, conversation_id: str, text: str
) -> Conversation:
    from zhengtong.im.content import org_cipher, seal_text

    seat = await seat_of(session, viewer, conversation_id)
    _require_manager(seat)
    conversation = seat.conversation
    cipher = org_cipher(context, await _organization(session, viewer.org_id))
    conversation.announcement_sealed = (
        seal_text(cipher, "im-announcement", conversation.id, text) if text else None
    )
    conversation.announcement_at = utcnow() if text else None
    actor = await session.get(Membership, viewer.membership_id)
    await post_system_message(session, context, conversation, "announcement", actor=actor, names=[])
    return conversation


async def set_personal_flags(
    session: AsyncSession,
    context: AppContext,
    viewer: Actor,
    conversation_id: str,
    *,
    do_not_disturb: bool | None,
    pinned: bool | None,
) -> ConversationMember:
    seat = await seat_of(session, viewer, conversation_id)
    if do_not_disturb is not None:
        seat.member.do_not_disturb = do_not_disturb
    if pinned is not None:
        seat.member.pinned = pinned
    # The person's other devices follow.
    event = {"type": "conversation.updated", "conversation_id": conversation_id}
    append_after_commit(session, context.events, [viewer.account_id], event)
    return seat.member


async def disband(session: AsyncSession, context: AppContext, viewer: Actor, conversation_id: str) -> None:
    seat = await seat_of(session, viewer, conversation_id)
    _require_owner(seat)
    await _disband(session, context, seat.conversation)


async def _disband(session: AsyncSession, context: AppContext, conversation: Conversation) -> None:
    conversation.disbanded_at = utcnow()
    accounts = list(
        (
            await session.execute(
                select(ConversationMember.account_id).where(
                    ConversationMember.conversation_id == conversation.id
                )
            )
        ).scalars()
    )
    await session.execute(
        delete(ConversationMember).where(ConversationMember.conversation_id == conversation.id)
    )
    await session.execute(
        update(Conversation).where(Conversation.id == conversation.id).values(member_count=0)
    )
    conversation_removed(session, context, conversation.id, accounts)


async def member_leaving(session: AsyncSession, context: AppContext, membership: Membership) -> None:
    """A member is leaving the organisation: they leave every conversation, a group they own
    passes to its longest-serving admin (else member), and an emptied group is disbanded. The
    line posted says a member left without naming them: the name is theirs, not the group's."""
    rows = (
        await session.execute(
            select(ConversationMember, Conversation)
            .join(Conversation, Conversation.id == ConversationMember.conversation_id)
            .where(ConversationMember.membership_id == membership.id, Conversation.disbanded_at.is_(None))
        )
    ).all()
    for seat, conversation in rows:
        await session.delete(seat)
        await _refresh_count(session, conversation)
        if conversation.kind == ConversationKind.DIRECT:
            continue
        if seat.rank == MemberRank.OWNER and not await _hand_over(session, conversation):
            await _disband(session, context, conversation)
            continue
        await post_system_message(session, context, conversation, "departed", actor=None, names=[])


async def _hand_over(session: AsyncSession, conversation: Conversation) -> bool:
    successor = (
        await session.execute(
            select(ConversationMember)
            .where(ConversationMember.conversation_id == conversation.id)
            .order_by((ConversationMember.rank == MemberRank.ADMIN).desc(), ConversationMember.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    if successor is None:
        return False
    successor.rank = MemberRank.OWNER
    conversation.owner_membership_id = successor.membership_id
    return True


async def department_group_wanted(
    session: AsyncSession, context: AppContext, department: Department, owner_membership_id: str
) -> None:
    await ensure_synced_group(
        session, context, department.org_id, department_id=department.id, owner_id=owner_membership_id
    )
