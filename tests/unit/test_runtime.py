"""The background scheduler: its jobs, the catch-up run at start, and a clean stop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core import Core
from bot.outbox import OutboxMessage
from bot.runtime import Background
from tests.conftest import CoreFactory, RecordingSender
from tests.timekit import form


async def test_jobs_follow_the_directory(core: Core) -> None:
    bg = Background(core)
    bg.schedule()
    jobs = {job.id: job for job in bg.scheduler.get_jobs()}
    assert {"sweep", "dispatch"} <= set(jobs)
    assert {f"distribution:{u}" for u in core.directory.units} <= set(jobs)
    trigger = str(jobs["distribution:beroende"].trigger)  # Tuesdays and Thursdays 09:00
    assert "day_of_week='tue,thu'" in trigger and "hour='9'" in trigger and "minute='0'" in trigger
    trigger = str(jobs["distribution:psykiatri"].trigger)  # Tuesdays and Fridays 08:30
    assert "day_of_week='tue,fri'" in trigger and "hour='8'" in trigger and "minute='30'" in trigger
    assert str(jobs["sweep"].trigger) == "interval[0:00:30]"


class SignallingSender(RecordingSender):
    def __init__(self) -> None:
        super().__init__()
        self.delivered = asyncio.Event()

    async def send(self, message: OutboxMessage) -> str | None:
        result = await super().send(message)
        self.delivered.set()
        return result


async def test_start_runs_a_catch_up_tick_and_stop_is_clean(make_core: CoreFactory) -> None:
    core = await make_core()
    sender = SignallingSender()
    core.dispatcher.fallback = sender
    case = await core.cases.request("maria.sand", form())  # its receipt waits in the outbox
    bg = await Background.start(core)
    try:
        await asyncio.wait_for(sender.delivered.wait(), timeout=10)
    finally:
        await bg.stop()
    assert not bg.scheduler.running
    assert sender.to("maria.sand", "case_filed")[0].case_ref == case.ref


async def test_a_job_that_outlasts_its_interval_skips_the_next_tick_quietly(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    from bot import metrics

    bg = Background(core)
    bg.schedule()
    bg.scheduler.start(paused=True)
    try:  # APScheduler starts the next tick (it would warn, not start it, at its limit); the job skips it
        assert bg.scheduler.get_job("sweep").max_instances >= 2
    finally:
        bg.scheduler.shutdown(wait=False)
    release, runs = asyncio.Event(), []

    async def long_sweep() -> None:
        runs.append(1)
        await release.wait()

    job = bg._guarded("sweep", long_sweep)
    skipped = metrics.JOB_OVERRUNS.labels("sweep")._value.get()
    first = asyncio.create_task(job())
    await asyncio.sleep(0)
    with caplog.at_level(logging.DEBUG, logger="bot.runtime"):
        await job()  # the next tick while the first still runs: skipped at once
    assert runs == [1]
    assert metrics.JOB_OVERRUNS.labels("sweep")._value.get() == skipped + 1
    assert [r.levelname for r in caplog.records if getattr(r, "event", "") == "background.overrun"] == ["DEBUG"]
    release.set()
    await first
    await job()  # once it ended, the job runs again
    assert runs == [1, 1]
