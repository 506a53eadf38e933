"""notify_people: one in-app notice per person, a delivery per channel with its result and time,
sent by a job after commit; letters for people no electronic channel reached; the person reads
their own notices and nobody else's."""

from __future__ import annotations

import pytest
from operator_world import MakeClient, admin_client, logged_in, operator, organisation, outbox, run_jobs
from sqlalchemy import func, select

from helpers import next_event
from zhengtong.core.context import AppContext
from zhengtong.notifications.models import Notice, NoticeDelivery
from zhengtong.notifications.notices import DELIVERY_JOB, notify_people
from zhengtong.platform.jobs import Job

SUBJECT = {"zh-CN": "系统维护通知", "en": "Maintenance notice"}
BODY = {"zh-CN": "本周六 22:00 至 24:00 系统维护。", "en": "Maintenance on Saturday 22:00-24:00."}


async def _deliveries(context: AppContext) -> dict[tuple[str, str], tuple[str, bool]]:
    """(account id, channel) → (result, attempted)."""
    async with context.db.transaction() as session:
        rows = await session.execute(
            select(
                Notice.account_id, NoticeDelivery.channel, NoticeDelivery.result, NoticeDelivery.attempted_at
            ).join(Notice, Notice.id == NoticeDelivery.notice_id)
        )
        return {(a, c): (r, at is not None) for a, c, r, at in rows.all()}


async def test_each_channel_is_tried_after_commit_and_its_outcome_recorded(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    # given: 张明 has an e-mail and has logged in (a client that receives pushes); 李华 has neither
    org = await organisation(context, "某市税务局", ["张明", "李华"], without_email=("李华",))
    zhang, li = org.members
    await logged_in(context, make_client, zhang)

    # when
    async with context.db.transaction() as session:
        deliveries = await notify_people(
            session,
            context,
            [zhang.account_id, li.account_id, zhang.account_id],
            kind="maintenance",
            subject=SUBJECT,
            body=BODY,
            channels=["sms", "email", "push"],
            org_id=org.org_id,
        )
    before_job = await _deliveries(context)
    sent_before_job = outbox(context, template="notice.maintenance")
    await run_jobs(context)

    # then: one notice each, in-app at once, the rest once the job ran
    assert len(deliveries) == 8
    assert before_job[(zhang.account_id, "in_app")] == ("sent", True)
    assert before_job[(zhang.account_id, "sms")] == ("queued", False)
    assert sent_before_job == []
    assert await _deliveries(context) == {
        (zhang.account_id, "in_app"): ("sent", True),
        (zhang.account_id, "sms"): ("sent", True),
        (zhang.account_id, "email"): ("sent", True),
        (zhang.account_id, "push"): ("sent", True),
        (li.account_id, "in_app"): ("sent", True),
        (li.account_id, "sms"): ("sent", True),
        (li.account_id, "email"): ("no_address", True),
        (li.account_id, "push"): ("no_address", True),
    }
    sent = {(m.channel, m.to, m.subject) for m in outbox(context, template="notice.maintenance")}
    assert sent == {
        ("sms", f"+86{zhang.mobile}", ""),
        ("sms", f"+86{li.mobile}", ""),
        ("email", org.emails[zhang.account_id], "系统维护通知"),
        ("push", zhang.account_id, "系统维护通知"),
    }
    [sms] = [m for m in outbox(context, template="notice.maintenance") if m.to == f"+86{li.mobile}"]
    assert sms.text == "【政通】系统维护通知\n本周六 22:00 至 24:00 系统维护。"


async def test_a_rolled_back_change_sends_nothing(app: object, context: AppContext) -> None:
    org = await organisation(context, "某市税务局", ["张明"])

    with pytest.raises(RuntimeError):
        async with context.db.transaction() as session:
            await notify_people(
                session,
                context,
                org.account_ids,
                kind="maintenance",
                subject=SUBJECT,
                body=BODY,
                channels=["sms"],
            )
            raise RuntimeError("the caller's change failed")
    await run_jobs(context)

    async with context.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Notice)) == 0
        assert (
            await session.scalar(select(func.count()).select_from(Job).where(Job.kind == DELIVERY_JOB)) == 0
        )
    assert outbox(context, template="notice.maintenance") == []


async def test_people_no_electronic_channel_reached_get_a_letter(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    # given: 李华 has no e-mail; 张明 does; the operator also asks for a letter to 赵丽 explicitly
    org = await organisation(context, "某市税务局", ["张明", "李华"], without_email=("李华",))
    other = await organisation(context, "某区教育局", ["赵丽"])
    zhang, li = org.members
    async with context.db.transaction() as session:
        await notify_people(
            session,
            context,
            org.account_ids,
            kind="maintenance",
            subject=SUBJECT,
            body=BODY,
            channels=["email"],
            org_id=org.org_id,
        )
        await notify_people(
            session,
            context,
            other.account_ids,
            kind="maintenance",
            subject=SUBJECT,
            body=BODY,
            channels=["letter"],
            org_id=other.org_id,
        )

    # when
    await run_jobs(context)

    # then
    deliveries = await _deliveries(context)
    assert (zhang.account_id, "letter") not in deliveries
    assert deliveries[(li.account_id, "letter")] == ("queued", False)
    assert deliveries[(other.account_ids[0], "letter")] == ("queued", False)

    # the operator's printable copy names the organisation and the letter, not the person
    staff = await operator(context, make_client)
    letters = (await staff.get("/operator/letters")).json()
    assert sorted(letter["org_name"] for letter in letters) == ["某区教育局", "某市税务局"]
    printed = await staff.get("/operator/letters/print")
    assert printed.headers["content-type"].startswith("text/html")
    assert "系统维护通知" in printed.text and letters[0]["id"] in printed.text
    assert "李华" not in printed.text and li.mobile not in printed.text

    # the organisation's copy (its main admin) names its own member, and only its own
    admin = await admin_client(context, make_client, org)
    own_copy = await admin.get("/org/letters/print")
    assert own_copy.status_code == 200, own_copy.text
    assert "李华" in own_copy.text and "赵丽" not in own_copy.text
    assert (await staff.get("/org/letters/print")).status_code in (400, 403)

    # posting the letters reaches the people
    li_letter = next(letter["id"] for letter in letters if letter["org_name"] == "某市税务局")
    posted = await staff.post("/operator/letters/posted", {"letter_ids": [li_letter]})
    assert posted.json() == {"posted": 1}
    assert (await _deliveries(context))[(li.account_id, "letter")] == ("sent", True)


async def test_people_read_their_own_notices_and_nobody_elses(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org = await organisation(context, "某市税务局", ["张明", "李华"])
    zhang, li = org.members
    async with context.db.transaction() as session:
        await notify_people(
            session, context, [zhang.account_id], kind="maintenance", subject=SUBJECT, body=BODY, channels=[]
        )
    zhang_client = await logged_in(context, make_client, zhang)
    li_client = await logged_in(context, make_client, li)

    listed = (await zhang_client.get("/notices")).json()
    assert listed["unread"] == 1
    [notice] = listed["items"]
    assert (notice["subject"], notice["body"], notice["read_at"]) == (SUBJECT, BODY, None)
    assert (await li_client.get("/notices")).json() == {"unread": 0, "items": []}

    # someone else cannot mark it read, and it stays unread
    refused = await li_client.post(f"/notices/{notice['id']}/read")
    assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    assert (await zhang_client.get("/notices", unread_only=True)).json()["unread"] == 1

    read = await zhang_client.post(f"/notices/{notice['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert (await zhang_client.get("/notices", unread_only=True)).json() == {"unread": 0, "items": []}


async def test_a_notice_links_to_its_source_and_the_bell_hears_of_it_at_once(
    app: object, context: AppContext, make_client: MakeClient
) -> None:
    org = await organisation(context, "某市税务局", ["张明", "李华"])
    zhang, li = org.members
    async with (
        context.events.listen(zhang.account_id) as zhang_stream,
        context.events.listen(li.account_id) as li_stream,
    ):
        # when
        async with context.db.transaction() as session:
            await notify_people(
                session,
                context,
                [zhang.account_id],
                kind="ding",
                subject=SUBJECT,
                body=BODY,
                channels=[],
                link="/ding/01J0000000000000000000000",
            )

        # then: 张明's stream says so; 李华's hears nothing
        event = await next_event(zhang_stream)
        assert event == {"type": "notice.new", "kind": "ding"}
        assert li_stream.waiting() == 0
    zhang_client = await logged_in(context, make_client, zhang)
    [notice] = (await zhang_client.get("/notices")).json()["items"]
    assert notice["link"] == "/ding/01J0000000000000000000000"


@pytest.mark.parametrize("bad", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "ding/1"])
async def test_a_notice_never_links_outside_the_client(app: object, context: AppContext, bad: str) -> None:
    org = await organisation(context, "某市税务局", ["张明"])

    with pytest.raises(ValueError, match="path of the web client"):
        async with context.db.transaction() as session:
            await notify_people(
                session, context, org.account_ids, kind="x", subject=SUBJECT, body=BODY, channels=[], link=bad
            )

    async with context.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Notice)) == 0
