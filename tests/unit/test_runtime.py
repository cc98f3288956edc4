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



async def test_the_sweep_looks_for_forms_left_behind_on_both_engines_once_a_minute(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The leader looks for forms left behind at most once per LOOK_EVERY (issue #21), on SQLite too: there the
    one process may have left one whose filing at start failed (see test_intake)."""
    from datetime import timedelta
    from types import SimpleNamespace

    from bot import intake

    looked: list[object] = []

    async def replay_stale(c: object) -> int:
        looked.append(c)
        return 0

    monkeypatch.setattr(intake, "replay_stale", replay_stale)
    bg = Background(core)
    for _ in range(3):
        await bg._sweep()
    assert looked == [core]  # the first sweep looks, the next two, within the minute, do not

    looked.clear()
    clock = core.clock
    other = SimpleNamespace(db=SimpleNamespace(engine="postgresql"), clock=clock)
    forms = intake.StaleForms()
    await forms.look(other)  # type: ignore[arg-type]
    await forms.look(other)  # type: ignore[arg-type]
    assert looked == [other]  # the second sweep, within the minute, does not look
    clock.advance(intake.LOOK_EVERY + timedelta(seconds=1))  # type: ignore[attr-defined]
    await forms.look(other)  # type: ignore[arg-type]
    assert len(looked) == 2
    clock.advance(-timedelta(hours=1))  # type: ignore[attr-defined]
    await forms.look(other)  # type: ignore[arg-type]
    assert len(looked) == 3  # a clock that went back looks at once, not an hour later


async def test_every_template_is_compiled_at_start_before_the_first_sweep(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first sweep after start renders, it does not compile (issue #21 item 3): `Background.start` compiles
    every template on a worker thread and the first sweep waits for it; after that no template is read again."""
    from bot.rendering import TEMPLATE_DIR

    core = await make_core()
    swept = asyncio.Event()
    bg = await Background.start(core, on_tick=swept.set)
    try:
        await asyncio.wait_for(swept.wait(), timeout=30)
        assert core.renderer.env.auto_reload is False
        loader = core.renderer.env.loader
        assert loader is not None

        def read_again(*args: object) -> None:
            raise AssertionError("a template read after start")

        monkeypatch.setattr(loader, "get_source", read_again)
        for path in TEMPLATE_DIR.glob("*.j2"):
            core.renderer.env.get_template(path.name)  # compiled and kept: not read from disk
    finally:
        await bg.stop()
