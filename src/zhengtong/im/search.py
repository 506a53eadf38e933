"""Message search over the keyed word index: a message matches when it holds every word of the
query. Only conversations the person is in, and only the history they may see, are searched."""

from __future__ import annotations

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.directory.visibility import Actor
from zhengtong.im import content as sealing
from zhengtong.im import errors
from zhengtong.im.conversations import titles_of
from zhengtong.im.messages import renderer_for
from zhengtong.im.models import ConversationMember, Message, MessageSearchToken
from zhengtong.im.schemas import SearchHit
from zhengtong.org.models import Organization

MAX_QUERY_WORDS = 8


def _newest_matches(
    viewer: Actor, leading: bytes, others: list[bytes], conversation_id: str | None, limit: int
) -> Select[str]:
    """The newest `limit` messages holding every word, walking the leading word's index entries
    from the newest message back (message ids sort by time) and stopping at the limit — so the
    cost follows the page, not how many messages hold the word. Each entry is kept when the viewer
    is in that conversation and may see that far back, and when the message holds the other words
    (primary-key lookups)."""
    token = MessageSearchToken
    # EXISTS rather than a join, so that the planner walks the word's entries (in the order the
    # result wants) and checks the seat for each, instead of gathering every entry and sorting.
    seated = exists().where(
        ConversationMember.conversation_id == token.conversation_id,
        ConversationMember.membership_id == viewer.membership_id,
        ConversationMember.visible_after_seq < token.seq,
    )
    query = select(token.message_id).where(token.org_id == viewer.org_id, token.token_hash == leading, seated)
    for other in others:
        also = aliased(MessageSearchToken)
        query = query.where(exists().where(also.message_id == token.message_id, also.token_hash == other))
    if conversation_id is not None:
        # Within one conversation the other index, ordered by seq, walks only that conversation.
        return query.where(token.conversation_id == conversation_id).order_by(token.seq.desc()).limit(limit)
    return query.order_by(token.message_id.desc()).limit(limit)


async def search_messages(
    session: AsyncSession,
    context: AppContext,
    viewer: Actor,
    query: str,
    *,
    conversation_id: str | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    # The longest word leads the search (a single character is in a large share of messages; a
    # two-character word in a few percent); every other word must be in the same message.
    wanted = sorted(sealing.query_words(query), key=lambda word: (-len(word), word))[:MAX_QUERY_WORDS]
    if not wanted:
        raise AppError(errors.QUERY_TOO_SHORT)
    organization = await session.get(Organization, viewer.org_id)
    assert organization is not None
    cipher = sealing.org_cipher(context, organization)
    leading, *others = (sealing.token_hashes(cipher, [word])[0] for word in wanted)
    ids = list(
        (await session.execute(_newest_matches(viewer, leading, others, conversation_id, limit))).scalars()
    )
    if not ids:
        return []
    found = {m.id: m for m in (await session.execute(select(Message).where(Message.id.in_(ids)))).scalars()}
    rows = sorted(found.values(), key=lambda m: m.created_at, reverse=True)
    renderer = await renderer_for(
        session, context, organization, rows, viewer_membership_id=viewer.membership_id
    )
    titles = await titles_of(session, viewer, (m.conversation_id for m in rows))
    return [
        SearchHit(
            conversation_id=m.conversation_id,
            conversation_title=titles.get(m.conversation_id, ""),
            message=renderer.render(m),
        )
        for m in rows
    ]
