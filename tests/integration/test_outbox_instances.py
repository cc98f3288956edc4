"""The outbox delivered by several instances on one PostgreSQL database (issue #22 item 4): each message goes
out once, a recipient's messages one at a time and in order, a recipient paced or held by a Retry-After on one
instance waits on the others too, and a row claimed by an instance that died is sent by another after its
lease. Two cores on one database stand for two `gfi-bot run` processes (tests/faults has the real ones)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.core import Core
from bot.dispatcher import IDLE_POLL, Dispatcher
from bot.store import outbox_lanes
from tests.conftest import CoreFactory
from tests.unit.test_dispatcher_parallel import PEOPLE, GatedSender, queue

pytestmark = pytest.mark.parametrize("engine", ["postgresql"])


async def two(make_core: CoreFactory) -> tuple[Core, Core]:
    return await make_core(), await make_core()


def dispatcher(core: Core, sender: GatedSender, **kw: object) -> Dispatcher:
    return Dispatcher(core.db, core.clock, {}, fallback=sender, **kw)  # type: ignore[arg-type]


async def statuses(core: Core) -> dict[str, int]:
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
    return {r["status"]: int(r["n"]) for r in rows}


async def test_two_instances_send_each_message_once_in_order_one_at_a_time(
    make_core: CoreFactory, engine: str,
) -> None:
    a, b = await two(make_core)
    sender = GatedSender()  # one Slack: it sees both instances' sends
    ids = await queue(a, PEOPLE, 6)
    first, second = dispatcher(a, sender, concurrency=4), dispatcher(b, sender, concurrency=4)
    for _ in range(20):
        await asyncio.gather(first.run_once(), second.run_once())
        if (await statuses(a)).get("pending", 0) == 0:
            break
    assert await statuses(a) == {"sent": 6 * len(PEOPLE)}
    assert sorted(i for _, i in sender.delivered) == sorted(i for r in ids.values() for i in r)  # each once
    for person in PEOPLE:
        assert sender.to(person) == ids[person]  # in the order queued
    assert sender.overlapping == []  # never two at once to one recipient, across the instances


async def test_a_message_in_flight_on_one_instance_is_nobody_elses(make_core: CoreFactory, engine: str) -> None:
    a, b = await two(make_core)
    slow, quick = GatedSender(), GatedSender()
    slow.gate.clear()
    ids = await queue(a, ["linnea.fors", "sofia.grahn"], 2)
    run = asyncio.create_task(dispatcher(a, slow).run_once())
    await slow.started.wait()  # both heads claimed and being sent by the first instance
    await dispatcher(b, quick).run_once()
    assert quick.delivered == []  # neither them nor the ones after them
    slow.gate.set()
    await run
    await dispatcher(b, quick).run_once()
    assert sorted(i for _, i in slow.delivered + quick.delivered) == sorted(ids["linnea.fors"] + ids["sofia.grahn"])


async def test_a_recipient_paced_on_one_instance_waits_on_the_other(
    make_core: CoreFactory, clock: FrozenClock, engine: str,
) -> None:
    a, b = await two(make_core)
    sender = GatedSender(min_interval=1.0)
    ids = await queue(a, ["linnea.fors"], 2)
    await dispatcher(a, sender).run_once()
    assert sender.to("linnea.fors") == ids["linnea.fors"][:1]
    await dispatcher(b, sender).run_once()  # the same second: held by the pace written with the first send
    assert len(sender.delivered) == 1
    clock.advance(timedelta(seconds=1))
    await dispatcher(b, sender).run_once()
    assert sender.to("linnea.fors") == ids["linnea.fors"]


async def test_a_retry_after_met_on_one_instance_holds_the_recipient_on_the_other(
    make_core: CoreFactory, clock: FrozenClock, engine: str,
) -> None:
    a, b = await two(make_core)
    sender = GatedSender(limited={"linnea.fors": [5.0]})
    ids = await queue(a, ["linnea.fors", "sofia.grahn"], 2)
    result = await dispatcher(a, sender).run_once()
    assert result.retried == 1 and sender.to("linnea.fors") == []
    other = dispatcher(b, sender)  # a fresh instance (or a restart): the hold is in the store
    await other.run_once()
    assert sender.to("linnea.fors") == [] and sender.to("sofia.grahn") == ids["sofia.grahn"]
    clock.advance(timedelta(seconds=5))
    await other.run_once()
    await other.run_once()
    assert sender.to("linnea.fors") == ids["linnea.fors"]


async def test_limits_on_several_instances_hold_the_whole_channel(
    make_core: CoreFactory, clock: FrozenClock, engine: str,
) -> None:
    a, b = await two(make_core)
    sender = GatedSender(limited={"linnea.fors": [5.0], "fatima.ali": [5.0], "maria.sand": [6.0]})
    await queue(a, ["linnea.fors", "fatima.ali"], 1)
    await dispatcher(a, sender).run_once()
    await queue(b, ["maria.sand"], 1)
    await dispatcher(b, sender).run_once()  # the third recipient held at once: the workspace's limit
    await queue(b, ["omar.haddad"], 1)
    await dispatcher(a, sender).run_once()
    assert sender.delivered == []  # even a recipient never limited waits
    clock.advance(timedelta(seconds=6))
    await dispatcher(a, sender).run_once()
    assert {r for r, _ in sender.delivered} == {"linnea.fors", "fatima.ali", "maria.sand", "omar.haddad"}


async def test_a_row_claimed_by_an_instance_that_died_is_sent_by_another_after_its_lease(
    make_core: CoreFactory, clock: FrozenClock, engine: str,
) -> None:
    a, b = await two(make_core)
    sender = GatedSender()
    ids = await queue(a, ["linnea.fors"], 2)
    now = clock.now()
    claimed = await outbox_lanes.claim(a.db, now, 10, up_to=max(ids["linnea.fors"]), owner="dead:1",
                                       lease_until=now + timedelta(seconds=120), pick=lambda rows: rows)
    assert [r["id"] for r in claimed] == ids["linnea.fors"][:1]  # its first, then it died mid-send
    other = dispatcher(b, sender)
    await other.run_once()
    assert sender.delivered == []  # the lease is not over: neither it nor the one after it goes
    clock.advance(timedelta(seconds=120))
    await other.run_once()
    await other.run_once()
    assert sender.to("linnea.fors") == ids["linnea.fors"]


async def test_an_instance_that_stops_gives_its_claims_back(
    make_core: CoreFactory, clock: FrozenClock, engine: str,
) -> None:
    a, b = await two(make_core)
    sender = GatedSender()
    sender.gate.clear()
    ids = await queue(a, ["linnea.fors"], 1)
    stopping = dispatcher(a, sender)
    run = asyncio.create_task(stopping.run_once())
    await sender.started.wait()
    run.cancel()  # stopped mid-send (its sender never answered)
    with pytest.raises(asyncio.CancelledError):
        await run
    await stopping.close()
    sender.gate.set()
    await dispatcher(b, sender).run_once()
    assert sender.to("linnea.fors") == ids["linnea.fors"]  # at once, not after the lease


async def test_claims_a_failed_pass_did_not_start_are_given_back_at_once(
    make_core: CoreFactory, clock: FrozenClock, engine: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pass ends on a write that failed (here the record of its first send) with claimed messages still waiting
    for a place: it gives them back, so another instance sends them now, not once their lease is over."""
    a, b = await two(make_core)
    sender, quick = GatedSender(), GatedSender()
    ids = await queue(a, ["linnea.fors", "fatima.ali"], 1)
    failing = dispatcher(a, sender, concurrency=1)  # one claimed waits for the other's send to end

    async def unrecordable(*args: object) -> None:
        raise ConnectionError("the store's connection was reset")

    monkeypatch.setattr(failing, "_mark_sent", unrecordable)
    with pytest.raises(ConnectionError):
        await failing.run_once()
    [(_, made)] = sender.delivered
    waited = [i for i in ids["linnea.fors"] + ids["fatima.ali"] if i != made]
    await dispatcher(b, quick).run_once()
    assert [i for _, i in quick.delivered] == waited  # at once: its claim was given back


async def test_a_send_longer_than_the_lease_keeps_its_claim_and_goes_once(
    make_core: CoreFactory, clock: FrozenClock, engine: str,
) -> None:
    a, b = await two(make_core)
    slow, quick = GatedSender(), GatedSender()
    slow.gate.clear()
    ids = await queue(a, ["linnea.fors"], 2)

    async def soon(seconds: float) -> None:  # the renewals come at once, not after a third of the lease
        await asyncio.sleep(0.01)

    sending = dispatcher(a, slow, lease=30.0, sleep=soon)
    run = asyncio.create_task(sending.run_once())
    await slow.started.wait()  # the first message is being sent, and Slack does not answer
    clock.advance(timedelta(seconds=90))  # three leases later, still sending

    async def renewed() -> bool:
        async with a.db.transaction() as tx:
            until = await tx.scalar("SELECT claimed_until FROM outbox WHERE id = ?", (ids["linnea.fors"][0],))
        return str(until) > clock.now().isoformat()

    for _ in range(200):
        if await renewed():
            break
        await asyncio.sleep(0.01)
    await dispatcher(b, quick).run_once()
    assert quick.delivered == []  # the other instance does not send it (nor the one after it) meanwhile
    slow.gate.set()
    await run
    for _ in range(3):
        await dispatcher(b, quick).run_once()
    delivered = slow.delivered + quick.delivered
    assert sorted(i for _, i in delivered) == ids["linnea.fors"]  # each once


async def test_a_row_whose_lease_was_lost_is_not_sent(
    make_core: CoreFactory, clock: FrozenClock, engine: str,
) -> None:
    a, b = await two(make_core)
    waiting, quick = GatedSender(), GatedSender()
    waiting.gate.clear()
    ids = await queue(a, ["linnea.fors", "fatima.ali"], 1)

    async def never(seconds: float) -> None:  # the store answers no renewal (unreachable for the whole lease)
        await asyncio.Event().wait()

    sending = dispatcher(a, waiting, lease=30.0, sleep=never, concurrency=1)
    run = asyncio.create_task(sending.run_once())
    await waiting.started.wait()  # one of the two is being sent; the other waits for its turn
    clock.advance(timedelta(seconds=31))  # both leases are over: another instance takes the waiting one
    await dispatcher(b, quick).run_once()
    assert sorted(i for _, i in quick.delivered) == sorted(ids["linnea.fors"] + ids["fatima.ali"])
    waiting.gate.set()
    await run
    # The send under way when the lease was lost ends (at least once, as after a crash); the one that waited for
    # its turn is not sent again: the other instance has it.
    assert waiting.delivered == [("linnea.fors", ids["linnea.fors"][0])]


async def test_an_idle_instance_looks_when_rows_are_announced_not_every_second(
    make_core: CoreFactory, clock: FrozenClock, engine: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = await two(make_core)
    sender = GatedSender()
    idle = dispatcher(b, sender)
    b.changes.on("outbox", idle.heard, quiet=True)
    looks: list[str] = []
    claim = outbox_lanes.claim

    async def counted(*args: Any, **kw: Any) -> Any:
        looks.append(kw["owner"])
        return await claim(*args, **kw)

    monkeypatch.setattr(outbox_lanes, "claim", counted)
    for _ in range(6):  # the runtime's drain, every second: it looks once, then rests
        await idle.drain()
        clock.advance(timedelta(seconds=1))
    assert looks.count(idle.owner) == 1
    ids = await queue(a, ["linnea.fors"], 1)  # queued on the other instance: announced by the database
    deadline = time.monotonic() + 10
    while not sender.delivered:
        assert time.monotonic() < deadline, "the idle instance was not told"
        await idle.drain()
        await asyncio.sleep(0.05)
    assert sender.to("linnea.fors") == ids["linnea.fors"]
    looked = looks.count(idle.owner)
    for _ in range(3):
        await idle.drain()
        clock.advance(timedelta(seconds=1))
    assert looks.count(idle.owner) == looked + 1  # after the delivery it looks once more, then rests again
    clock.advance(timedelta(seconds=IDLE_POLL))
    await idle.drain()
    assert looks.count(idle.owner) == looked + 2  # the slow look, in case an announcement was missed


async def test_forgetting_the_holds_that_are_over_waits_for_no_other_instance(
    make_core: CoreFactory, engine: str,
) -> None:
    """The clean-up of holds that are over runs in a transaction of its own and skips a hold another instance's
    transaction is writing: it never waits for one, so it cannot deadlock with the upserts of that instance's
    sends (it did, in the sends' transaction: the bench's three dispatchers met it)."""
    a, b = await two(make_core)
    now = a.clock.now()
    over = now - timedelta(seconds=5)
    async with a.db.transaction() as tx:
        for person in PEOPLE[:3]:
            await outbox_lanes.hold(tx, "slack", person, over, "pace")
    async with a.db.transaction() as tx:  # instance A is writing the first one's hold (a send being recorded)
        await outbox_lanes.hold(tx, "slack", PEOPLE[0], over, "pace")
        forgotten = await asyncio.wait_for(outbox_lanes.forget_holds(b.db, now), timeout=5)
    assert forgotten == 2
    async with a.db.transaction() as tx:
        assert [r["recipient_id"] for r in await tx.fetchall("SELECT recipient_id FROM outbox_holds")] == [PEOPLE[0]]
