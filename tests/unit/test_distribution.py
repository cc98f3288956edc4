"""Distribution slots: the queue on each unit's two days, holidays, deputies, empty queues, downtime."""

from __future__ import annotations

import time as wall
from datetime import timedelta

from bot.clock import FrozenClock
from bot.core import Core
from bot.distribution.scheduled import run_distribution
from bot.distribution.service import DistributionService
from tests.conftest import CoreFactory, RecordingSender, local
from tests.timekit import advance, directory_with, form, times


async def test_queue_goes_to_the_distributor_on_each_slot_until_assigned(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    await core.tick()
    case = await core.cases.request("maria.sand", form())  # Monday 23 Nov 10:00
    out = await advance(core, clock, sender, local("2026-11-27T12:00"))
    assert times(out, "queue") == [("fatima.ali", "2026-11-24T09:00"), ("fatima.ali", "2026-11-26T09:00")]
    first = next(s for s in out if s.template == "queue")
    assert "GFI-kö för Beroendemottagningen Åstad: 1 ärende att fördela (fördelningstillfälle tis 24 nov 2026" in (
        first.text)
    assert case.ref in first.text and "(23 tim sedan)" in first.text
    # no other unit had anything queued: empty queues send nothing
    assert {s.recipient for s in out if s.template == "queue"} == {"fatima.ali"}


async def test_slot_on_a_holiday_moves_to_the_next_working_day(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    clock.set(local("2026-12-22T12:00"))  # after Tuesday's slot
    await core.tick()
    await core.cases.request("maria.sand", form())
    out = await advance(core, clock, sender, local("2026-12-29T12:00"), step=timedelta(minutes=30))
    # Thursday 24 Dec is julafton: that slot is held Monday 28 Dec 09:00, then Tuesday 29 Dec as usual
    assert times(out, "queue") == [("fatima.ali", "2026-12-28T09:00"), ("fatima.ali", "2026-12-29T09:00")]


async def test_configured_days_and_time_and_the_deputy_when_the_distributor_is_absent(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender
) -> None:
    core = await make_core(directory_with(
        absent=("fatima.ali",), beroende={"distribution": {"days": ["måndag", "fredag"], "time": "13:00"}}
    ))
    await core.tick()
    await core.cases.request("maria.sand", form())
    out = await advance(core, clock, sender, local("2026-11-30T14:00"), step=timedelta(minutes=30))
    assert times(out, "queue") == [
        ("gustav.lund", "2026-11-23T13:00"), ("gustav.lund", "2026-11-27T13:00"), ("gustav.lund", "2026-11-30T13:00")]


async def test_after_downtime_only_the_latest_missed_slot_is_sent_once(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender
) -> None:
    core = await make_core()
    await core.tick()
    await core.cases.request("maria.sand", form())
    await core.tick()
    await core.close()
    clock.set(local("2026-12-04T16:00"))  # down over Tue 24, Thu 26, Tue 1 and Thu 3
    core = await make_core()
    sender.clear()
    assert await run_distribution(core) == 1
    assert await run_distribution(core) == 0
    await core.tick()
    queues = [s for s in sender.sent if s.template == "queue"]
    assert [q.recipient for q in queues] == ["fatima.ali"]
    assert "tor 3 dec 2026 kl. 09:00" in queues[0].text


async def test_first_run_starts_from_the_latest_slot_without_sending(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    await core.cases.request("maria.sand", form())  # filed before the bot ever ran a slot
    assert await run_distribution(core) == 0
    async with core.db.transaction() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM distribution_runs") == len(core.directory.units)


async def test_latest_slot_and_sweep_are_cheap(core: Core, clock: FrozenClock) -> None:
    service = DistributionService(core.db, core.directory, core.clock, core.calendar, core.outbox, core.cases)
    unit = core.directory.units["psykiatri"]  # Tuesday and Friday 08:30
    assert service.latest_slot(unit, local("2026-11-23T10:00")) == local("2026-11-20T08:30")
    assert service.latest_slot(unit, local("2026-11-24T08:30")) == local("2026-11-24T08:30")
    await run_distribution(core)
    started = wall.perf_counter()
    for _ in range(20):
        await run_distribution(core)
    assert (wall.perf_counter() - started) / 20 < 0.05  # far below the 30 s sweep interval
