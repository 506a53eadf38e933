"""Confirming, the sender's confirmed/unconfirmed lists, reminding the unconfirmed at most once
per five minutes, and who may see what: the sender everything, a recipient the DING and their own
state, another organisation nothing at all (and nothing changes)."""

from __future__ import annotations

from typing import Any

from ding_world import Person, attempts_of, drain, person, run_jobs
from sqlalchemy import select

from zhengtong.core.clock import clock
from zhengtong.core.context import AppContext
from zhengtong.ding.models import Ding, DingRecipient


async def _sent(context: AppContext, sender: Person, *recipients: Person, **extra: Any) -> str:
    created = await sender.ding(*recipients, **extra)
    await run_jobs(context)
    return str(created["id"])


async def test_a_recipient_confirms_with_one_tap_and_the_sender_hears_it(
    context: AppContext, make_client: Any
) -> None:
    # given
    sender = await person(context, make_client, "发送人")
    reader, other = await person(context, make_client, "甲"), await person(context, make_client, "乙")
    ding_id = await _sent(context, sender, reader, other)

    # when
    async with (
        context.events.listen(sender.account_id) as to_sender,
        context.events.listen(other.account_id) as to_other,
    ):
        confirmed = await reader.post(f"/ding/{ding_id}/confirm")
        again = await reader.post(f"/ding/{ding_id}/confirm")
        heard_by_sender = await drain(context, to_sender)
        heard_by_other = await drain(context, to_other)

    # then: one event with the person and the new counts; a second tap changes nothing
    assert confirmed.status_code == 200 and confirmed.json()["my_confirmed_at"] is not None
    assert again.json()["my_confirmed_at"] == confirmed.json()["my_confirmed_at"]
    [event] = heard_by_sender
    assert event["type"] == "ding.confirmed" and event["ding_id"] == ding_id
    assert (event["membership_id"], event["name"]) == (reader.id, "甲")
    assert (event["confirmed_count"], event["unconfirmed_count"]) == (1, 1)
    assert heard_by_other == []
    detail = (await sender.get(f"/ding/{ding_id}")).json()
    assert (detail["confirmed_count"], detail["recipient_count"]) == (1, 2)


async def test_the_lists_page_through_confirmed_newest_first_and_unconfirmed_in_order(
    context: AppContext, make_client: Any
) -> None:
    # given: five recipients, three of whom confirm one after another
    sender = await person(context, make_client, "发送人")
    people = [await person(context, make_client, f"成员{n}") for n in range(5)]
    ding_id = await _sent(context, sender, *people)
    for who in people[:3]:
        clock.advance(1)
        assert (await who.post(f"/ding/{ding_id}/confirm")).status_code == 200

    # when
    confirmed_first = (await sender.get(f"/ding/{ding_id}/recipients", tab="confirmed", limit=2)).json()
    confirmed_rest = (
        await sender.get(
            f"/ding/{ding_id}/recipients", tab="confirmed", limit=2, cursor=confirmed_first["next_cursor"]
        )
    ).json()
    unconfirmed = (await sender.get(f"/ding/{ding_id}/recipients", tab="unconfirmed")).json()
    bad_cursor = await sender.get(f"/ding/{ding_id}/recipients", tab="confirmed", cursor="yesterday")

    # then
    assert (confirmed_first["confirmed_count"], confirmed_first["unconfirmed_count"]) == (3, 2)
    assert [r["name"] for r in confirmed_first["items"]] == ["成员2", "成员1"]
    assert [r["name"] for r in confirmed_rest["items"]] == ["成员0"] and confirmed_rest["next_cursor"] is None
    assert [r["membership_id"] for r in unconfirmed["items"]] == [people[3].id, people[4].id]
    assert all(r["confirmed_at"] is None and r["delivered_at"] for r in unconfirmed["items"])
    assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (422, "ding.list_cursor_invalid")


async def test_reminding_reaches_only_the_unconfirmed_at_most_once_per_five_minutes(
    context: AppContext, make_client: Any
) -> None:
    # given
    sender = await person(context, make_client, "发送人")
    done, waiting = await person(context, make_client, "已确认"), await person(context, make_client, "未确认")
    ding_id = await _sent(context, sender, done, waiting)
    await done.post(f"/ding/{ding_id}/confirm")

    # when
    too_early = await sender.post(f"/ding/{ding_id}/remind")
    clock.advance(5 * 60)
    async with context.events.listen(waiting.account_id) as to_waiting:
        reminded = await sender.post(f"/ding/{ding_id}/remind")
        await run_jobs(context)
        heard = await drain(context, to_waiting)
    again = await sender.post(f"/ding/{ding_id}/remind")
    clock.advance(5 * 60)
    by_recipient = await waiting.post(f"/ding/{ding_id}/remind")

    # then
    assert (too_early.status_code, too_early.json()["code"]) == (429, "ding.remind_too_soon")
    assert too_early.json()["detail"]["retry_after"] == 300
    assert reminded.status_code == 200 and reminded.json()["remind_wait_seconds"] == 300
    assert [e["round"] for e in heard if e["type"] == "ding.new"] == [2]
    assert await attempts_of(context, ding_id, waiting) == [("in_app", "sent", 1), ("in_app", "sent", 2)]
    assert await attempts_of(context, ding_id, done) == [("in_app", "sent", 1)]
    assert again.json()["code"] == "ding.remind_too_soon" and 0 < again.json()["detail"]["retry_after"] <= 300
    assert (by_recipient.status_code, by_recipient.json()["code"]) == (403, "ding.sender_only")
    listed = (await sender.get(f"/ding/{ding_id}/recipients", tab="unconfirmed")).json()["items"]
    assert listed[0]["last_reminded_at"] is not None


async def test_nobody_left_to_remind_is_a_conflict(context: AppContext, make_client: Any) -> None:
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    ding_id = await _sent(context, sender, other)
    await other.post(f"/ding/{ding_id}/confirm")
    clock.advance(600)

    answer = await sender.post(f"/ding/{ding_id}/remind")

    assert (answer.status_code, answer.json()["code"]) == (409, "ding.all_confirmed")


async def test_a_recipient_sees_the_ding_and_their_state_but_not_the_lists(
    context: AppContext, make_client: Any
) -> None:
    sender = await person(context, make_client, "发送人")
    one, two = await person(context, make_client, "甲"), await person(context, make_client, "乙")
    ding_id = await _sent(context, sender, one, two)

    shown = (await one.get(f"/ding/{ding_id}")).json()
    lists = await one.get(f"/ding/{ding_id}/recipients")
    attempts = await one.get(f"/ding/{ding_id}/recipients/{one.id}/attempts")

    assert shown["role"] == "recipient" and shown["confirmed_count"] is None
    assert shown["remind_wait_seconds"] is None and shown["my_confirmed_at"] is None
    assert (lists.status_code, lists.json()["code"]) == (403, "ding.sender_only")
    assert (attempts.status_code, attempts.json()["code"]) == (403, "ding.sender_only")
    by_sender = await sender.post(f"/ding/{ding_id}/confirm")
    assert (by_sender.status_code, by_sender.json()["code"]) == (404, "ding.not_found")


async def test_another_organisation_gets_not_found_for_everything_and_changes_nothing(
    context: AppContext, make_client: Any
) -> None:
    # given
    sender = await person(context, make_client, "发送人")
    other = await person(context, make_client, "同事")
    outsider = await person(context, make_client, "外单位", org_name="另一单位")
    ding_id = await _sent(context, sender, other)
    before = await _state(context, ding_id)

    # when
    answers = [
        await outsider.get(f"/ding/{ding_id}"),
        await outsider.get(f"/ding/{ding_id}/recipients"),
        await outsider.get(f"/ding/{ding_id}/recipients/{other.id}/attempts"),
        await outsider.get(f"/ding/{ding_id}/attachment"),
        await outsider.post(f"/ding/{ding_id}/confirm"),
        await outsider.post(f"/ding/{ding_id}/remind"),
        await outsider.post(f"/ding/{ding_id}/cancel"),
    ]
    listed = [await outsider.get("/ding/sent"), await outsider.get("/ding/received")]

    # then
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "ding.not_found")] * len(answers)
    assert [a.json()["items"] for a in listed] == [[], []]
    assert await _state(context, ding_id) == before


async def _state(context: AppContext, ding_id: str) -> tuple[Any, ...]:
    async with context.db.transaction() as session:
        ding = await session.get(Ding, ding_id)
        assert ding is not None
        recipients = (
            await session.execute(
                select(DingRecipient.confirmed_at, DingRecipient.delivered_round).where(
                    DingRecipient.ding_id == ding_id
                )
            )
        ).all()
        return (ding.status, ding.remind_count, ding.last_reminded_at, tuple(recipients))
