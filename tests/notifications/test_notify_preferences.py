"""Each person's choice of channels per category of notice, and their quiet hours (the chat's
下班勿扰, one setting): the API reads and changes both; the delivery job declines what the person
turned off, holds SMS, e-mail and push back until their quiet hours end unless the notice is
urgent, and sends what the law requires whatever they chose."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from notify_world import (
    BODY,
    SUBJECT,
    Client,
    MakeClient,
    Recorder,
    deliveries,
    logged_in,
    member_with_email,
    run_jobs,
)
from sqlalchemy import select

from helpers import Member, create_member, login
from zhengtong.core.clock import clock, utcnow
from zhengtong.core.context import AppContext
from zhengtong.directory.visibility import Actor
from zhengtong.identity import service as identity
from zhengtong.identity.models import Account
from zhengtong.im import preferences as chat_preferences
from zhengtong.notifications.models import NoticeDelivery
from zhengtong.notifications.notices import notify_people

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVERY_CHANNEL = {"sms": True, "email": True, "push": True}


def _quiet_around_now() -> dict[str, object]:
    """Quiet hours from an hour ago to an hour from now, Shanghai time."""
    local = utcnow().astimezone(SHANGHAI)
    start, end = local - timedelta(hours=1), local + timedelta(hours=1)
    return {"enabled": True, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}", "timezone": "Asia/Shanghai"}


async def _notify(
    context: AppContext,
    member: Member,
    channels: list[str],
    *,
    kind: str = "maintenance",
    urgent: bool = False,
) -> None:
    async with context.db.transaction() as session:
        await notify_people(
            session,
            context,
            [member.account_id],
            kind=kind,
            subject=SUBJECT,
            body=BODY,
            channels=channels,
            org_id=member.org_id,
            urgent=urgent,
        )


async def _choose(client: Client, **body: object) -> dict[str, object]:
    answer = await client.put("/notifications/preferences", body)
    assert answer.status_code == 200, answer.text
    chosen: dict[str, object] = answer.json()
    return chosen


async def test_everything_is_on_until_the_person_chooses(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    client = await logged_in(context, make_client, await create_member(context, name="张明"))

    found = (await client.get("/notifications/preferences")).json()

    assert found["categories"] == [
        {"category": category, **EVERY_CHANNEL} for category in ("system", "ding", "work_notice", "mention")
    ]
    assert found["quiet_hours"] == {
        "enabled": False,
        "start": "22:00",
        "end": "08:00",
        "timezone": "Asia/Shanghai",
        "in_quiet_hours": False,
    }
    assert found["required_kinds"] == ["org_deregistration", "security_incident", "service_shutdown"]


async def test_choices_are_kept_and_quiet_hours_are_the_chats(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    client = await logged_in(context, make_client, await create_member(context, name="张明"))

    chosen = await _choose(
        client,
        categories=[{"category": "ding", "sms": False, "email": True, "push": False}],
        quiet_hours={"enabled": True, "start": "21:30", "end": "07:00", "timezone": "Asia/Shanghai"},
    )

    assert chosen["categories"][1] == {"category": "ding", "sms": False, "email": True, "push": False}  # type: ignore[index]
    assert chosen["categories"][0] == {"category": "system", **EVERY_CHANNEL}  # type: ignore[index]
    chat = (await client.get("/im/preferences")).json()
    assert (chat["quiet_hours_enabled"], chat["quiet_start"], chat["quiet_end"]) == (True, "21:30", "07:00")
    # and the other way round: the chat's setting is what the notification settings show
    assert (await client.patch("/im/preferences", {"quiet_end": "06:30"})).status_code == 200
    assert (await client.get("/notifications/preferences")).json()["quiet_hours"]["end"] == "06:30"


async def test_bad_times_and_zones_are_refused(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    client = await logged_in(context, make_client, await create_member(context, name="张明"))
    quiet = {"enabled": True, "start": "22:00", "end": "08:00", "timezone": "Asia/Shanghai"}

    for bad in ({**quiet, "start": "25:00"}, {**quiet, "timezone": "Mars/Olympus"}):
        refused = await client.put("/notifications/preferences", {"quiet_hours": bad})
        assert (refused.status_code, refused.json()["code"]) == (422, "request.invalid")
    unknown = await client.put(
        "/notifications/preferences", {"categories": [{"category": "gossip", **EVERY_CHANNEL}]}
    )
    assert unknown.status_code == 422
    assert (await client.get("/notifications/preferences")).json()["quiet_hours"]["enabled"] is False


async def test_someone_in_no_organisation_chooses_channels_but_has_no_quiet_hours(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    mobile = "13700000099"
    async with context.db.transaction() as session:
        account, _ = await identity.get_or_create_account(session, context.keyring, mobile)
        (await session.get(Account, account.id)).is_operator = True  # type: ignore[union-attr]
    http = make_client()
    await login(http, context, mobile)
    client = Client(http)

    assert (await client.get("/notifications/preferences")).json()["quiet_hours"] is None
    refused = await client.put("/notifications/preferences", {"quiet_hours": _quiet_around_now()})
    assert (refused.status_code, refused.json()["code"]) == (
        409,
        "notifications.quiet_hours_need_organisation",
    )
    chosen = await _choose(
        client, categories=[{"category": "system", "sms": False, "email": True, "push": True}]
    )
    assert chosen["categories"][0]["sms"] is False  # type: ignore[index]


async def test_a_channel_turned_off_is_declined_and_no_letter_follows(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    zhang, _ = await member_with_email(context, "张明")
    client = await logged_in(context, make_client, zhang)
    await _choose(client, categories=[{"category": "system", "sms": False, "email": True, "push": True}])
    context.sms = context.email = sent = Recorder()

    await _notify(context, zhang, ["sms", "email"])
    await _notify(context, zhang, ["sms"])  # only a channel the person turned off
    await run_jobs(context)

    assert [channel for channel, _, _ in sent.sent] == ["email"]
    async with context.db.transaction() as session:
        results = sorted((row.channel, row.result) for row in await session.scalars(select(NoticeDelivery)))
    assert results == [
        ("email", "sent"),
        ("in_app", "sent"),
        ("in_app", "sent"),
        ("sms", "declined"),
        ("sms", "declined"),
    ]


async def test_quiet_hours_hold_a_notice_until_they_end(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    # given: 张明's quiet hours are now
    zhang = await create_member(context, name="张明")
    client = await logged_in(context, make_client, zhang)
    await _choose(client, quiet_hours=_quiet_around_now())
    context.sms = sent = Recorder()

    # when
    await _notify(context, zhang, ["sms"])
    await run_jobs(context)

    # then: nothing yet; it goes once the quiet hours are over
    waiting = (await deliveries(context, zhang.account_id))["sms"]
    assert (waiting.result, waiting.attempts, waiting.waiting, sent.sent) == ("queued", 0, True, [])
    clock.advance(3600 + 120)
    await run_jobs(context)
    assert (await deliveries(context, zhang.account_id))["sms"].result == "sent"
    assert len(sent.sent) == 1


async def test_urgent_and_required_notices_go_at_once(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    # given: in quiet hours, and SMS turned off for system notices
    li = await create_member(context, name="李华")
    wang = await create_member(context, name="王芳")
    for person in (li, wang):
        client = await logged_in(context, make_client, person)
        await _choose(
            client,
            categories=[{"category": "system", "sms": False, "email": True, "push": True}],
            quiet_hours=_quiet_around_now(),
        )
    context.sms = sent = Recorder()

    await _notify(context, li, ["sms"], kind="ding", urgent=True)
    await _notify(context, wang, ["sms"], kind="security_incident")
    await run_jobs(context)

    assert (await deliveries(context, li.account_id))["sms"].result == "sent"
    assert (await deliveries(context, wang.account_id))["sms"].result == "sent"
    assert sorted(to for _, to, _ in sent.sent) == sorted([f"+86{li.mobile}", f"+86{wang.mobile}"])


async def test_the_quiet_hours_of_the_notices_organisation_apply(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    # given: 张明 works for two organisations and is quiet in the first only
    first = await create_member(context, org_name="某市税务局", name="张明")
    second = await create_member(context, org_name="某区教育局", name="张明", mobile=first.mobile)
    quiet = _quiet_around_now()
    async with context.db.transaction() as session:
        actor = Actor(
            org_id=first.org_id, membership_id=first.membership_id, account_id=first.account_id, name="张明"
        )
        await chat_preferences.update_preferences(
            session,
            actor,
            {"quiet_hours_enabled": True, "quiet_start": quiet["start"], "quiet_end": quiet["end"]},
        )
    context.sms = sent = Recorder()

    await _notify(context, second, ["sms"])
    await run_jobs(context)
    assert len(sent.sent) == 1  # the second organisation's notice went

    await _notify(context, first, ["sms"])
    await run_jobs(context)
    assert len(sent.sent) == 1  # the first's waits
