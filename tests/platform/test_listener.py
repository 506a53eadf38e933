"""A listener hands a connection its deliveries in order, waits without spinning, and ends the
connection (None) when it falls too far behind or is closed — after what was already waiting."""

from __future__ import annotations

import asyncio
import gc

import pytest

from zhengtong.platform import eventlog
from zhengtong.platform.eventlog import Delivery, Listener


def _delivery(seq: int) -> Delivery:
    return Delivery(seq, {"type": "note", "n": seq}, "epoch")


async def test_deliveries_come_out_in_order_and_a_reader_waits_for_the_next() -> None:
    # given
    listener = Listener("alice")
    listener.put(_delivery(1))
    listener.put(_delivery(2))

    # when
    first, second = await listener.get(), await listener.get()
    waiting = asyncio.create_task(listener.get())
    await asyncio.sleep(0.01)
    blocked = not waiting.done()
    listener.put(_delivery(3))
    third = await asyncio.wait_for(waiting, 1)

    # then
    assert [d.seq for d in (first, second, third) if d] == [1, 2, 3]
    assert blocked and listener.waiting() == 0


async def test_a_listener_that_falls_behind_ends_its_connection_after_what_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given
    monkeypatch.setattr(eventlog, "LISTENER_QUEUE_LIMIT", 2)
    listener = Listener("alice")

    # when
    for seq in range(1, 6):
        listener.put(_delivery(seq))
    received = [await listener.get() for _ in range(3)]

    # then: two deliveries, then the end; nothing is taken after that
    assert [d.seq if d else None for d in received] == [1, 2, None]
    assert listener.overflowed and listener.waiting() == 0


async def test_closing_wakes_a_waiting_reader_with_the_end() -> None:
    # given
    listener = Listener("alice")
    waiting = asyncio.create_task(listener.get())
    await asyncio.sleep(0.01)

    # when
    listener.close()
    listener.close()  # twice: still one end

    # then
    assert await asyncio.wait_for(waiting, 1) is None
    assert listener.waiting() == 0


async def test_direct_takes_deliveries_only_while_the_reader_is_idle() -> None:
    """`direct` takes a delivery in the appender's call while the reader waits with nothing
    pending; a delivery it refuses, and every one after while that one waits, is queued, so
    nothing overtakes."""
    listener = Listener("alice")
    taken: list[int] = []
    refuse = {2}

    def direct(delivery: Delivery) -> bool:
        if delivery.seq in refuse:
            return False
        taken.append(delivery.seq)
        return True

    listener.direct = direct
    listener.put(_delivery(1))  # the reader is not waiting yet: queued
    assert taken == [] and await listener.get() == _delivery(1)

    reader = asyncio.create_task(listener.get())
    await asyncio.sleep(0)
    listener.put(_delivery(2))  # refused: queued, and the reader woken
    listener.put(_delivery(3))  # the reader has not run yet: queued behind 2
    assert await asyncio.wait_for(reader, 1) == _delivery(2)
    assert await listener.get() == _delivery(3)

    reader = asyncio.create_task(listener.get())
    await asyncio.sleep(0)
    listener.put(_delivery(4))  # idle reader: taken at once, the reader stays asleep
    await asyncio.sleep(0)
    assert taken == [4] and not reader.done() and listener.waiting() == 0
    reader.cancel()


async def test_a_failing_direct_hands_the_delivery_to_the_reader() -> None:
    listener = Listener("alice")

    def broken(_delivery: Delivery) -> bool:
        raise RuntimeError("the socket broke")

    listener.direct = broken
    reader = asyncio.create_task(listener.get())
    await asyncio.sleep(0)
    listener.put(_delivery(1))  # no exception for the appender
    assert await asyncio.wait_for(reader, 1) == _delivery(1)


async def test_the_in_process_log_retains_untracked_entries_and_replays_them() -> None:
    """A big group's retained events must not be a million objects for the cycle collector to
    walk: a stream keeps (seq, tail) tuples of plain values, which it stops tracking."""
    log = eventlog.InProcessEventLog()
    for n in (1, 2, 3):
        await log.append(["alice", "bob"], {"type": "note", "n": n})
    gc.collect()

    retained = list(log._streams["alice"].retained)
    backlog = await log.backlog("alice", log.epoch, 1)

    assert not any(gc.is_tracked(entry) for entry in retained)
    assert [(d.seq, d.event, d.frame()) for d in backlog.events] == [
        (n, {"type": "note", "n": n}, f'{{"type":"event","seq":{n},"event":{{"type":"note","n":{n}}}}}')
        for n in (2, 3)
    ]
