"""Message search over the keyed word index: a message matches when it holds every word of the
query. Only conversations the person is in, and only the history they may see, are searched."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.directory.visibility import Viewer
from zhengtong.im import content as sealing
from zhengtong.im import errors
from zhengtong.im.conversations import list_conversations
from zhengtong.im.messages import renderer_for
from zhengtong.im.models import ConversationMember, Message, MessageSearchToken
from zhengtong.im.schemas import SearchHit
from zhengtong.org.models import Organization

MAX_QUERY_WORDS = 8


async def search_messages(
    session: AsyncSession,
    context: AppContext,
    viewer: Viewer,
    query: str,
    *,
    conversation_id: str | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    wanted = sorted(sealing.query_words(query))[:MAX_QUERY_WORDS]
    if not wanted:
        raise AppError(errors.QUERY_TOO_SHORT)
    organization = await session.get(Organization, viewer.org_id)
    assert organization is not None
    cipher = sealing.org_cipher(context, organization)
    hashes = sealing.token_hashes(cipher, wanted)
    seats = (
        select(ConversationMember.conversation_id, ConversationMember.visible_after_seq)
        .where(ConversationMember.membership_id == viewer.membership_id)
        .subquery()
    )
    matches = (
        select(MessageSearchToken.message_id)
        .join(seats, seats.c.conversation_id == MessageSearchToken.conversation_id)
        .where(
            MessageSearchToken.org_id == viewer.org_id,
            MessageSearchToken.token_hash.in_(hashes),
            MessageSearchToken.seq > seats.c.visible_after_seq,
        )
    )
    if conversation_id is not None:
        matches = matches.where(MessageSearchToken.conversation_id == conversation_id)
    matches = (
        matches.group_by(MessageSearchToken.message_id)
        .having(func.count() == len(hashes))
        .order_by(func.max(MessageSearchToken.seq).desc(), MessageSearchToken.message_id.desc())
        .limit(limit)
    )
    ids = list((await session.execute(matches)).scalars())
    if not ids:
        return []
    found = {m.id: m for m in (await session.execute(select(Message).where(Message.id.in_(ids)))).scalars()}
    rows = sorted(found.values(), key=lambda m: m.created_at, reverse=True)
    renderer = await renderer_for(
        session, context, organization, rows, viewer_membership_id=viewer.membership_id
    )
    titles = {s.conversation.id: s.title for s in await list_conversations(session, viewer)}
    return [
        SearchHit(
            conversation_id=m.conversation_id,
            conversation_title=titles.get(m.conversation_id, ""),
            message=renderer.render(m),
        )
        for m in rows
    ]
