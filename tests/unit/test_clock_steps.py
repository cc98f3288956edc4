"""The wall clock stepping (issue #23 item 7): the scheduler's interval jobs are re-armed, the outbox neither
holds a recipient nor a due message for as long as the clock went back. (`tests/faults/test_clock_jump.py` runs
the whole bot under a stepped clock.)"""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import FrozenClock
from bot.core import Core
from bot.runtime import Background, ClockWatch
from tests.unit.test_dispatcher import ScriptedSender, dispatcher, queue, row


def test_clock_watch_measures_the_step_beyond_the_time_that_passed() -> None:
    wall, mono = [1000.0], [50.0]
    watch = ClockWatch(lambda: wall[0], lambda: mono[0])
    wall[0], mono[0] = 1001.0, 51.0
    assert watch.step() == 0.0  # a second passed on both
    wall[0], mono[0] = 1002.0 - 3600, 52.0
    assert watch.step() == -3600.0  # back an hour
    wall[0], mono[0] = 1003.0, 53.0
    assert watch.step() == 3600.0  # and forward again


async def test_a_step_of_the_clock_re_arms_the_interval_jobs_and_leaves_the_crons(core: Core) -> None:
    bg = Background(core)
    bg.schedule()
    bg.scheduler.start(paused=True)
    try:
        now = datetime.now(bg.scheduler.timezone)
        later = now + timedelta(hours=1)
        for job in bg.scheduler.get_jobs():
            if isinstance(job.trigger, IntervalTrigger):
                job.modify(next_run_time=later)  # as planned on a clock an hour ahead
        crons = {j.id: j.next_run_time for j in bg.scheduler.get_jobs() if not isinstance(j.trigger, IntervalTrigger)}
        bg.clock_stepped(-3600.0)
        jobs = bg.scheduler.get_jobs()
        intervals = [j for j in jobs if isinstance(j.trigger, IntervalTrigger)]
        assert {j.id for j in intervals} >= {"sweep", "dispatch"}
        assert all(j.next_run_time < now + timedelta(minutes=1) for j in intervals)
        assert {j.id: j.next_run_time for j in jobs if j.id in crons} == crons
    finally:
        bg.scheduler.shutdown(wait=False)


async def test_a_step_of_the_clock_leaves_the_sweep_paused_until_the_templates_are_compiled(core: Core) -> None:
    """At start the sweep is paused until every template is compiled (`Background._compile` starts it): a step of
    the clock meanwhile re-arms the other interval jobs, not the sweep, which would compile (review of #21 item 3)."""
    bg = Background(core)
    bg.schedule(sweep_now=False)  # as `Background.start` does, before the compile ends
    bg.scheduler.start(paused=True)
    try:
        bg.clock_stepped(-3600.0)
        assert bg.scheduler.get_job("sweep").next_run_time is None  # still paused
        assert bg.scheduler.get_job("dispatch").next_run_time is not None
    finally:
        bg.scheduler.shutdown(wait=False)


async def test_after_the_clock_went_back_the_outbox_neither_holds_nor_waits(core: Core, clock: FrozenClock) -> None:
    sender = ScriptedSender(min_interval=1.0)
    d = dispatcher(core, sender)
    first, second = await queue(core, n=2)  # one recipient: paced, one a second
    await d.run_once()
    assert [(await row(core, i))["status"] for i in (first, second)] == ["sent", "pending"]
    clock.advance(timedelta(hours=-1))  # the wall clock steps back an hour
    await d.run_once()
    # the second was due before the step and its recipient was held for a second: it goes now, not in an hour
    assert [(await row(core, i))["status"] for i in (first, second)] == ["sent", "sent"]
