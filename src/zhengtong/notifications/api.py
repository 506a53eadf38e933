"""HTTP endpoints of the notification centre: the person's own notices (the bell), their choice of
channels and quiet hours, and this browser's Web Push subscription."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.caller import Caller
from zhengtong.im.preferences import in_quiet_hours
from zhengtong.notifications import notices, preferences, push, schemas
from zhengtong.notifications.models import Channel
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import Context, DbSession
from zhengtong.web.gates import Gate, open_through

router = APIRouter(tags=["notifications"])


# The person's notices -------------------------------------------------------------------------
@router.get("/notices", response_model=schemas.NoticeList)
async def list_my_notices(
    caller: CurrentCaller,
    session: DbSession,
    unread_only: bool = Query(default=False),
    limit: int = Query(default=50, ge=1, le=200),
) -> schemas.NoticeList:
    found, unread = await notices.list_notices(
        session, account_id=caller.account_id, limit=limit, unread_only=unread_only
    )
    return schemas.NoticeList(unread=unread, items=[schemas.NoticeRead.model_validate(n) for n in found])


@open_through(Gate.COLLECTION)
@router.post("/notices/{notice_id}/read", response_model=schemas.NoticeRead)
async def mark_my_notice_read(
    notice_id: str, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.NoticeRead:
    notice = await notices.mark_read(session, context, account_id=caller.account_id, notice_id=notice_id)
    return schemas.NoticeRead.model_validate(notice)


@open_through(Gate.COLLECTION)
@router.post("/notices/read-all", status_code=204)
async def mark_all_my_notices_read(caller: CurrentCaller, session: DbSession, context: Context) -> Response:
    await notices.mark_all_read(session, context, account_id=caller.account_id)
    return Response(status_code=204)


# The person's choice of channels and quiet hours ----------------------------------------------
async def _preferences_read(session: AsyncSession, caller: Caller) -> schemas.NotificationPreferencesRead:
    choices = (await preferences.channel_choices(session, [caller.account_id]))[caller.account_id]
    quiet = await preferences.own_quiet_hours(session, caller)
    return schemas.NotificationPreferencesRead(
        categories=[
            schemas.CategoryChannels(
                category=category,
                sms=Channel.SMS in accepted,
                email=Channel.EMAIL in accepted,
                push=Channel.PUSH in accepted,
            )
            for category, accepted in choices.items()
        ],
        quiet_hours=None
        if quiet is None
        else schemas.QuietHoursRead(
            enabled=quiet.quiet_hours_enabled,
            start=quiet.quiet_start,
            end=quiet.quiet_end,
            timezone=quiet.timezone,
            in_quiet_hours=in_quiet_hours(quiet),
        ),
        required_kinds=sorted(preferences.REQUIRED_KINDS),
        push_this_browser=await push.is_subscribed(session, caller),
    )


@router.get("/notifications/preferences", response_model=schemas.NotificationPreferencesRead)
async def get_my_notification_preferences(
    caller: CurrentCaller, session: DbSession
) -> schemas.NotificationPreferencesRead:
    return await _preferences_read(session, caller)


@router.put("/notifications/preferences", response_model=schemas.NotificationPreferencesRead)
async def set_my_notification_preferences(
    body: schemas.NotificationPreferencesIn, caller: CurrentCaller, session: DbSession
) -> schemas.NotificationPreferencesRead:
    """Categories listed replace their channels (the others stay); quiet hours when given."""
    choices = (await preferences.channel_choices(session, [caller.account_id]))[caller.account_id]
    for row in body.categories:
        wanted = {"sms": row.sms, "email": row.email, "push": row.push}
        choices[row.category] = frozenset(Channel(name) for name, on in wanted.items() if on)
    await preferences.set_channel_choices(session, caller.account_id, choices)
    if body.quiet_hours is not None:
        quiet = body.quiet_hours
        await preferences.set_own_quiet_hours(
            session, caller, enabled=quiet.enabled, start=quiet.start, end=quiet.end, timezone=quiet.timezone
        )
    return await _preferences_read(session, caller)


# This browser's Web Push subscription ---------------------------------------------------------
@router.get("/push/vapid-public-key", response_model=schemas.VapidPublicKey)
async def get_vapid_public_key(caller: CurrentCaller, context: Context) -> schemas.VapidPublicKey:
    return schemas.VapidPublicKey(public_key=context.vapid.public_key)


@router.post("/push/subscriptions", response_model=schemas.PushSubscriptionRead, status_code=201)
async def subscribe_this_browser(
    body: schemas.PushSubscriptionIn, caller: CurrentCaller, session: DbSession, context: Context
) -> schemas.PushSubscriptionRead:
    subscription = await push.subscribe(
        session,
        context.settings,
        caller,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
    )
    return schemas.PushSubscriptionRead.model_validate(subscription)


@router.delete("/push/subscriptions/current", status_code=204)
async def unsubscribe_this_browser(caller: CurrentCaller, session: DbSession) -> Response:
    await push.unsubscribe(session, caller)
    return Response(status_code=204)
