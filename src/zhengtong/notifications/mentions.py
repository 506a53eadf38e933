"""@mentions under the bell: when a member's message mentions people by name, each of them gets a
notice that says where they were mentioned, and jumps to the conversation. The notice carries
neither the message's text (sealed in chat) nor the sender's name (it would outlive the sender's
removal from the organisation, which chat's own record does not: there they become a removed
member); the conversation shows both. "@所有人" is seen in the conversation itself
(a notice per member of an all-staff group would bury every bell).

Chat does not know the notification centre: this listens to its hook `message_sent`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext
from zhengtong.im.models import Conversation, Message
from zhengtong.notifications.notices import notify_people
from zhengtong.org.models import Membership
from zhengtong.platform import hooks


@hooks.on_message_sent
async def notify_mentioned(session: AsyncSession, context: AppContext, message: Message) -> None:
    mentioned = [m for m in message.mentions or [] if m != message.sender_membership_id]
    if not mentioned:
        return
    people = select(Membership.account_id).where(
        Membership.org_id == message.org_id, Membership.id.in_(mentioned)
    )
    accounts = list(await session.scalars(people))
    conversation = await session.get(Conversation, message.conversation_id)
    if not accounts or conversation is None:
        return
    where = conversation.name
    await notify_people(
        session,
        context,
        accounts,
        kind="mention",
        subject={
            "zh-CN": f"有人在「{where}」中@了你" if where else "有人在聊天中@了你",
            "en": f"You were mentioned in {where}" if where else "You were mentioned in a chat",
        },
        body={"zh-CN": "点击查看消息", "en": "Open the conversation to read it"},
        channels=["push"],
        org_id=message.org_id,
        reference=f"message:{message.id}",
        link=f"/chat/{message.conversation_id}",
    )
