"""A person's notification choices and push subscriptions belong to their account: removing them
from their last organisation deletes both (the erasure walk finds the tables by their link to
`accounts`); leaving one of two organisations keeps them."""

from __future__ import annotations

from notify_world import Browser, MakeClient, logged_in
from sqlalchemy import func, select

from helpers import Member, create_member
from zhengtong.core.context import AppContext
from zhengtong.notifications.models import NotificationPreference, PushSubscription
from zhengtong.org.models import Membership
from zhengtong.privacy.erasure.service import erase_member


async def _with_choices_and_a_browser(context: AppContext, make_client: MakeClient, member: Member) -> None:
    client = await logged_in(context, make_client, member)
    categories = [{"category": "system", "sms": False, "email": True, "push": True}]
    assert (await client.put("/notifications/preferences", {"categories": categories})).status_code == 200
    subscribed = await client.post(
        "/push/subscriptions", Browser().subscription("https://push.example.com/s/1")
    )
    assert subscribed.status_code == 201


async def _held(context: AppContext, account_id: str) -> tuple[int, int]:
    async with context.db.transaction() as session:
        preferences = await session.scalar(
            select(func.count())
            .select_from(NotificationPreference)
            .where(NotificationPreference.account_id == account_id)
        )
        browsers = await session.scalar(
            select(func.count())
            .select_from(PushSubscription)
            .where(PushSubscription.account_id == account_id)
        )
    return int(preferences or 0), int(browsers or 0)


async def _remove(context: AppContext, member: Member) -> None:
    async with context.db.transaction() as session:
        membership = await session.get(Membership, member.membership_id)
        assert membership is not None
        await erase_member(session, context, membership)


async def test_leaving_the_last_organisation_deletes_them(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    zhang = await create_member(context, name="张明")
    await _with_choices_and_a_browser(context, make_client, zhang)
    assert await _held(context, zhang.account_id) == (1, 1)

    await _remove(context, zhang)

    assert await _held(context, zhang.account_id) == (0, 0)


async def test_leaving_one_of_two_organisations_keeps_them(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    first = await create_member(context, org_name="某市税务局", name="张明")
    second = await create_member(context, org_name="某区教育局", name="张明", mobile=first.mobile)
    await _with_choices_and_a_browser(context, make_client, first)

    await _remove(context, second)

    assert await _held(context, first.account_id) == (1, 1)
