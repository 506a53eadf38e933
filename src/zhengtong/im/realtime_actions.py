"""What the WebSocket does for chat: a client says it is typing; a person comes online or goes
offline."""

from __future__ import annotations

from zhengtong.core.caller import Caller
from zhengtong.core.context import AppContext
from zhengtong.core.errors import AppError
from zhengtong.directory.visibility import actor_for
from zhengtong.im.events import direct_peers, member_accounts
from zhengtong.im.seats import seat_of

TYPING_PER_MINUTE = 30


async def typing(context: AppContext, caller: Caller, conversation_id: str) -> None:
    """Tells the conversation's other members; silently ignored when not allowed or too often
    (typing is a courtesy, not worth an error frame)."""
    verdict = await context.limiter.hit(f"typing:{caller.account_id}", TYPING_PER_MINUTE, 60)
    if not verdict.allowed:
        return
    async with context.db.transaction() as session:
        try:
            viewer = await actor_for(session, caller)
            seat = await seat_of(session, viewer, conversation_id)
        except AppError:
            return
        accounts = [a for a in await member_accounts(session, conversation_id) if a != caller.account_id]
    event = {
        "type": "typing",
        "conversation_id": seat.conversation.id,
        "membership_id": viewer.membership_id,
        "name": viewer.name,
    }
    await context.events.transient(accounts, event)


async def presence_changed(context: AppContext, account_id: str, *, online: bool) -> None:
    """Tells the people someone has direct conversations with that they came online or went
    offline, naming them by their membership in the peer's organisation (transient; clients ask
    `POST /im/presence` about anyone else they show)."""
    async with context.db.transaction() as session:
        peers = await direct_peers(session, account_id)
    for membership_id, accounts in peers.items():
        event = {"type": "presence", "membership_id": membership_id, "online": online}
        await context.events.transient(accounts, event)
