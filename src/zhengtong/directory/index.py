"""Search tokens of members. A query matches a member when it is a prefix of one of their tokens;
the tokens include suffixes of the name (三 finds 张三) and of its pinyin at syllable boundaries
(san finds 张三), the initials (zs), the job number and the title."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.ids import new_id
from zhengtong.directory.models import MemberSearchToken
from zhengtong.directory.pinyin import syllables
from zhengtong.org.models import Membership

RANK_NAME = 0
RANK_PINYIN = 1  # also a given name (the name from its second character on)
RANK_OTHER = 2  # the title
RANK_JOB_NUMBER = 3  # kept apart: a hidden job-number field must not be searchable
_TOKEN_LIMIT = 100


def normalise_query(text: str) -> str:
    return "".join(text.lower().split())


def _suffixes(parts: Sequence[str]) -> Iterable[str]:
    for start in range(len(parts)):
        yield "".join(parts[start:])


def member_tokens(membership: Membership) -> dict[str, int]:
    """Token → best rank for one member."""
    tokens: dict[str, int] = {}

    def add(token: str, rank: int) -> None:
        token = normalise_query(token)[:_TOKEN_LIMIT]
        if token and rank < tokens.get(token, RANK_JOB_NUMBER + 1):
            tokens[token] = rank

    name = normalise_query(membership.name)
    add(name, RANK_NAME)
    for suffix in list(_suffixes(list(name)))[1:]:
        add(suffix, RANK_NAME + 1)
    pinyin = [syllable.strip() for syllable in syllables(name) if syllable.strip()]
    for suffix in _suffixes(pinyin):
        add(suffix, RANK_PINYIN)
    add("".join(syllable[0] for syllable in pinyin), RANK_PINYIN)
    add(membership.title or "", RANK_OTHER)
    add(membership.job_number or "", RANK_JOB_NUMBER)
    return tokens


def _rows(memberships: Iterable[Membership]) -> list[dict[str, object]]:
    return [
        {"id": new_id(), "org_id": m.org_id, "membership_id": m.id, "token": token, "rank": rank}
        for m in memberships
        for token, rank in member_tokens(m).items()
    ]


async def reindex_member(session: AsyncSession, membership: Membership) -> None:
    await reindex_members(session, [membership])


async def reindex_members(session: AsyncSession, memberships: Sequence[Membership]) -> None:
    """Replaces the tokens of these members (one delete, one multi-row insert)."""
    if not memberships:
        return
    ids = [m.id for m in memberships]
    await session.execute(delete(MemberSearchToken).where(MemberSearchToken.membership_id.in_(ids)))
    rows = _rows(memberships)
    if rows:
        # "raw": a plain multi-row insert, without the ORM's per-row bookkeeping (twice as fast).
        await session.execute(insert(MemberSearchToken).execution_options(dml_strategy="raw"), rows)
