"""The dispatcher under concurrency: different recipients at once (bounded), each recipient's messages one at a
time and in the order queued, pacing and Retry-After holds (written to the store with the send's outcome, where
every instance sees them, and kept by the dispatcher for its next read), the whole sender held for a workspace
limit. The same across instances on PostgreSQL: tests/integration/test_outbox_instances.py."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.clock import FrozenClock
from bot.core import Core
from bot.dispatcher import DeliveryError, Dispatcher
from bot.outbox import OutboxMessage

PEOPLE = ["linnea.fors", "fatima.ali", "maria.sand", "omar.haddad", "yusuf.kaya", "lena.mark"]


class GatedSender:
    """Every send waits until the test opens the gate; records what is in flight, and the order delivered."""

    def __init__(self, min_interval: float = 0.0, limited: dict[str, list[float]] | None = None) -> None:
        self.min_interval = min_interval
        self.gate = asyncio.Event()
        self.gate.set()
        self.in_flight: list[str] = []
        self.most_in_flight = 0
        self.overlapping: list[str] = []  # recipients that had two sends in flight at once
        self.delivered: list[tuple[str, int]] = []  # (recipient, outbox id)
        self.limited = limited or {}  # recipient -> Retry-After answers to give first
        self.started = asyncio.Event()
        self.delivered_one = asyncio.Event()

    async def send(self, message: OutboxMessage) -> str | None:
        if message.recipient_id in self.in_flight:
            self.overlapping.append(message.recipient_id)
        self.in_flight.append(message.recipient_id)
        self.started.set()
        self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
        try:
            await self.gate.wait()
            await asyncio.sleep(0)  # let every other send start before this one ends
            if self.limited.get(message.recipient_id):
                raise DeliveryError("slack:ratelimited", retry_after=self.limited[message.recipient_id].pop(0))
            self.delivered.append((message.recipient_id, message.id))
            self.delivered_one.set()
            return f"ts-{message.id}"
        finally:
            self.in_flight.remove(message.recipient_id)

    def to(self, recipient: str) -> list[int]:
        return [i for r, i in self.delivered if r == recipient]


async def queue(core: Core, recipients: list[str], n: int, *, urgent: bool = True) -> dict[str, list[int]]:
    """Queue `n` messages to each recipient, interleaved (one to each, then the next round)."""
    ids: dict[str, list[int]] = {r: [] for r in recipients}
    async with core.db.transaction() as tx:
        for i in range(n):
            for r in recipients:
                mid = await core.outbox.enqueue(tx, r, "slack_brist", urgent=urgent, dedupe_key=f"p:{r}:{i}",
                                                coordinators=[])
                assert mid is not None
                ids[r].append(mid)
    return ids


def dispatcher(core: Core, sender: GatedSender, **kw: object) -> Dispatcher:
    d = Dispatcher(core.db, core.clock, {}, fallback=sender, **kw)  # type: ignore[arg-type]
    d.on_failed = core.dispatcher.on_failed
    return d


async def statuses(core: Core) -> dict[str, int]:
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
    return {r["status"]: r["n"] for r in rows}


async def test_recipients_are_served_at_once_each_in_order_one_at_a_time(core: Core) -> None:
    sender = GatedSender()
    ids = await queue(core, PEOPLE, 5)
    result = await dispatcher(core, sender, concurrency=8).run_once()
    assert result.sent == 30
    for person in PEOPLE:
        assert sender.to(person) == ids[person]  # in the order queued
    assert sender.overlapping == []  # never two messages to one person in flight
    assert sender.most_in_flight == len(PEOPLE)  # but every person served at once
    assert await statuses(core) == {"sent": 30}


async def test_concurrency_is_bounded(core: Core) -> None:
    sender = GatedSender()
    await queue(core, PEOPLE, 2)
    result = await dispatcher(core, sender, concurrency=3).run_once()
    assert result.sent == 12
    assert sender.most_in_flight == 3


async def test_paced_recipients_get_one_message_per_interval_each(core: Core, clock: FrozenClock) -> None:
    sender = GatedSender(min_interval=1.0)
    ids = await queue(core, PEOPLE[:3], 3)
    d = dispatcher(core, sender)
    per_second = []
    for _ in range(4):
        before = len(sender.delivered)
        await d.run_once()
        per_second.append(sorted(r for r, _ in sender.delivered[before:]))
        clock.advance(timedelta(seconds=1))
    assert per_second == [sorted(PEOPLE[:3])] * 3 + [[]]
    assert all(sender.to(p) == ids[p] for p in PEOPLE[:3])


async def test_drain_serves_a_paced_recipient_at_its_pace(core: Core, clock: FrozenClock) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the injected clock moves instead of sleeping
        waits.append(seconds)
        clock.advance(timedelta(seconds=seconds))

    sender = GatedSender(min_interval=1.0)
    ids = await queue(core, ["linnea.fors"], 4)
    result = await dispatcher(core, sender, sleep=sleep).drain()
    assert result.sent == 4 and sender.to("linnea.fors") == ids["linnea.fors"]
    assert waits == [1.0, 1.0, 1.0, 1.0]  # one second between messages; a last look once the hold is over


async def test_retry_after_holds_that_recipient_only_and_the_message_arrives_once_afterwards(
    core: Core, clock: FrozenClock
) -> None:
    sender = GatedSender(min_interval=1.0, limited={"linnea.fors": [30.0]})
    ids = await queue(core, ["linnea.fors", "fatima.ali"], 3)
    d = dispatcher(core, sender)
    for _ in range(3):
        await d.run_once()
        clock.advance(timedelta(seconds=1))
    assert sender.to("fatima.ali") == ids["fatima.ali"]  # not held by linnea's limit
    assert sender.to("linnea.fors") == []
    async with core.db.transaction() as tx:
        written = await tx.fetchall(
            "SELECT id FROM outbox WHERE recipient_id = 'linnea.fors' AND last_error IS NOT NULL")
    assert [r["id"] for r in written] == ids["linnea.fors"][:1]  # only the one that got the 429 is written to
    clock.advance(timedelta(seconds=27))  # 30 s after the 429
    for _ in range(4):
        await d.run_once()
        clock.advance(timedelta(seconds=1))
    assert sender.to("linnea.fors") == ids["linnea.fors"]  # each once, in order
    assert await statuses(core) == {"sent": 6}


async def test_a_limit_met_by_several_recipients_at_once_holds_the_whole_sender(
    core: Core, clock: FrozenClock
) -> None:
    sender = GatedSender(limited={p: [10.0] for p in PEOPLE[:3]})
    ids = await queue(core, PEOPLE, 1)
    d = dispatcher(core, sender, concurrency=1)  # one at a time: the first three meet the limit
    await d.run_once()
    assert sender.delivered == []  # after three 429s, the others are not tried either
    clock.advance(timedelta(seconds=10))
    await d.run_once()
    assert sorted(r for r, _ in sender.delivered) == sorted(PEOPLE)
    assert all(sender.to(p) == ids[p] for p in PEOPLE)


async def test_a_message_waiting_for_its_retry_holds_the_later_ones_to_the_recipient(
    core: Core, clock: FrozenClock
) -> None:
    class FailsFirst(GatedSender):
        failures = 1

        async def send(self, message: OutboxMessage) -> str | None:
            if self.failures:
                self.failures -= 1
                raise DeliveryError("slack:http_500")
            return await super().send(message)

    sender = FailsFirst()
    ids = await queue(core, ["linnea.fors"], 3)
    d = dispatcher(core, sender)
    await d.run_once()
    assert sender.delivered == []  # the second does not overtake the first
    clock.advance(timedelta(seconds=30))
    await d.run_once()
    assert sender.to("linnea.fors") == ids["linnea.fors"]


async def test_an_urgent_message_does_not_wait_for_a_non_urgent_one(core: Core, clock: FrozenClock) -> None:
    class FailsNonUrgent(GatedSender):
        async def send(self, message: OutboxMessage) -> str | None:
            if not message.urgent:
                raise DeliveryError("slack:http_500")
            return await super().send(message)

    sender = FailsNonUrgent()
    await queue(core, ["linnea.fors"], 1, urgent=False)
    async with core.db.transaction() as tx:
        urgent = await core.outbox.enqueue(tx, "linnea.fors", "slack_brist", urgent=True, coordinators=[])
    await dispatcher(core, sender).run_once()
    assert sender.to("linnea.fors") == [urgent]


async def test_a_call_during_a_run_waits_until_that_run_has_delivered_what_it_asked_for(core: Core) -> None:
    sender = GatedSender()
    sender.gate.clear()
    d = dispatcher(core, sender)
    await queue(core, ["linnea.fors"], 1)
    first = asyncio.create_task(d.run_once())
    await sender.started.wait()
    [late] = (await queue(core, ["fatima.ali"], 1))["fatima.ali"]  # queued while the run is sending
    second = asyncio.create_task(d.run_once())
    await asyncio.sleep(0)
    assert not second.done()  # it waits for the run under way
    sender.gate.set()
    await second
    assert sender.to("fatima.ali") == [late]  # delivered by the run under way, before the call returned
    assert (await first).sent == 2


async def test_a_call_wakes_a_drain_that_waits_for_a_paced_recipient(core: Core, clock: FrozenClock) -> None:
    async def never(seconds: float) -> None:  # a hold that does not end during the test
        await asyncio.Event().wait()

    sender = GatedSender(min_interval=1.0)
    d = dispatcher(core, sender, sleep=never)
    await queue(core, ["linnea.fors"], 2)
    draining = asyncio.create_task(d.drain())
    await sender.delivered_one.wait()
    [receipt] = (await queue(core, ["fatima.ali"], 1))["fatima.ali"]
    await asyncio.wait_for(d.run_once(), timeout=10)  # a bound against a hang, not a timing
    assert sender.to("fatima.ali") == [receipt]  # not after linnea's hold: at once
    assert len(sender.to("linnea.fors")) == 1
    draining.cancel()
