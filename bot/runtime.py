"""Background work of a running bot, on APScheduler 3.x (AsyncIOScheduler, Europe/Stockholm):

- `sweep`: every `GFI_SWEEP_SECONDS`, `core.tick()` (distribution slots, due awaiting items and
  reminders, then the outbox). It also runs once at start, which is the catch-up after downtime.
- `dispatch`: every second, the outbox dispatcher (`drain`: it stays while a paced recipient still has
  messages), so retries and one-per-second pacing are timely.
- `distribution:<unit>`: a cron at each unit's two distribution slots, so queues go out on the minute.
- `purge`: a daily cron at 03:30 deleting closed cases past `GFI_RETENTION_MONTHS` (the sweep catches up
  when the bot was down at that time; the purge runs once a day either way).
- `directory`: every 30 seconds, reload the directory file when it changed (bot/directory/reload.py; SIGHUP
  does the same at once through `reload_directory`); the distribution crons follow the new units. On
  PostgreSQL the file is published to every instance, and a directory another instance published is read at
  once (bot/directory/shared.py).

No job per reminder: due times live in the database and the sweep is idempotent, so a job missed
during downtime costs nothing (`coalesce`, generous misfire grace).

The wall clock may step (NTP, an operator, a virtual machine resumed). APScheduler plans on wall-clock
datetimes: after a step forward it runs what fell due at once (coalesced, once), but after a step back its
interval jobs would wait until the wall clock reaches their old next run time again, an hour of no sweeps and
no deliveries after the clock went back an hour. So `ClockWatch` compares the wall clock with the monotonic
clock every second, and when the wall clock stepped more than `CLOCK_STEP_SECONDS` either way, the interval
jobs are re-armed to run now (`clock.stepped` in the log), except a paused one (the sweep before the templates
are compiled at start). Nothing fires twice: the distribution slots, due items
and reminders are recorded in the store when they run, and a sweep after a step back finds them done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import heap, intake, metrics
from bot.core import Core
from bot.directory.reload import CHECK_SECONDS, DirectoryWatcher
from bot.distribution.scheduled import run_distribution
from bot.errors import StoreFull
from bot.stats.scheduled import PURGE_AT, daily_purge
from bot.store.leader import CHECK_SECONDS as LEADER_CHECK_SECONDS

log = logging.getLogger(__name__)

CRON_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DISPATCH_SECONDS = 1
STOP_GRACE_SECONDS = 10.0
CLOCK_STEP_SECONDS = 2.0  # a wall-clock step larger than this (either way) re-arms the interval jobs
CLOCK_WATCH_SECONDS = 1.0


class ClockWatch:
    """How far the wall clock stepped since the last look, measured against the monotonic clock (which a
    step of the wall clock leaves alone)."""

    def __init__(self, wall: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self._last = (wall(), monotonic())

    def step(self) -> float:
        """Seconds the wall clock moved beyond the time that passed (negative: it went back)."""
        wall, mono = self._wall(), self._monotonic()
        last_wall, last_mono = self._last
        self._last = (wall, mono)
        return (wall - last_wall) - (mono - last_mono)


class Background:
    """Start with `await Background.start(core)` inside the event loop; stop with `await bg.stop()`."""

    def __init__(self, core: Core, on_tick: Callable[[], None] | None = None) -> None:
        self.core = core
        self.on_tick = on_tick  # told after each sweep that finished (readiness)
        tz = ZoneInfo(core.settings.timezone)
        # A job that outlasts its interval is skipped by `_guarded` (one debug line and a count), not by APScheduler,
        # which would warn "maximum number of running instances reached" at every tick: it may start a second
        # instance, which returns at once.
        self.scheduler = AsyncIOScheduler(
            timezone=tz, job_defaults={"coalesce": True, "max_instances": 2, "misfire_grace_time": 3600}
        )
        self._active: set[asyncio.Task[object]] = set()
        self._running: set[str] = set()  # the jobs (by name) running now
        self._watch: asyncio.Task[None] | None = None
        self._stale_forms = intake.StaleForms()
        self._templates: asyncio.Task[None] | None = None  # compiling every template, at start (`_compile`)
        self._freeze_heap = False  # freeze the heap once start-up is done (`start`, bot/heap.py)
        source = core.directory.source
        self.watcher = DirectoryWatcher(core.directory, source, core.shared_directory) if source is not None else None
        if self.watcher is not None:
            self.watcher.on_change.append(self._schedule_distribution)
        if core.shared_directory is not None:  # replaced from the store (another instance published)
            core.shared_directory.on_change.append(self._schedule_distribution)

    @classmethod
    async def start(cls, core: Core, on_tick: Callable[[], None] | None = None, *,
                    freeze_heap: bool = False) -> Background:
        """Start the jobs. `freeze_heap` (`gfi-bot run`): once the templates are compiled, the heap of start-up is
        frozen (bot/heap.py), frozen again after a directory is replaced, and thawed at `stop`."""
        bg = cls(core, on_tick)
        if freeze_heap:
            bg._freeze_heap = True
            if bg.watcher is not None:
                bg.watcher.on_change.append(heap.refreeze)
            if core.shared_directory is not None:
                core.shared_directory.on_change.append(heap.refreeze)
        await core.leader.check()
        bg.schedule(sweep_now=False)  # the first sweep once every template is compiled (`_compile`)
        bg.scheduler.start()
        bg._templates = asyncio.get_running_loop().create_task(bg._compile(), name="gfi-templates")
        bg._watch = asyncio.get_running_loop().create_task(bg.watch_clock(ClockWatch()), name="gfi-clock-watch")
        log.info("background started", extra={"event": "background.started", "jobs": len(bg.scheduler.get_jobs())})
        return bg

    def schedule(self, *, sweep_now: bool = True) -> None:
        """Register the jobs (without starting the scheduler). The sweep runs at once, or with `sweep_now=False`
        when it is told to (paused until then)."""
        core = self.core
        self.scheduler.add_job(
            self._guarded("sweep", self._sweep), "interval", seconds=core.settings.sweep_seconds,
            id="sweep", next_run_time=core.clock.now() if sweep_now else None,
        )
        self.scheduler.add_job(
            self._guarded("dispatch", core.dispatcher.drain), "interval", seconds=DISPATCH_SECONDS, id="dispatch"
        )
        # Several instances on PostgreSQL: each asks often whether it leads, so a dead leader's work is taken
        # over within seconds; the jobs below run only on the leader (the dispatch job runs on every instance).
        self.scheduler.add_job(self._guarded("leader", core.leader.check), "interval", seconds=LEADER_CHECK_SECONDS,
                               id="leader")
        self._schedule_distribution()
        purge_at = CronTrigger(hour=PURGE_AT.hour, minute=PURGE_AT.minute, timezone=self.scheduler.timezone)
        self.scheduler.add_job(self._guarded("purge", self._purge), purge_at, id="purge")
        if self.watcher is not None:
            self.scheduler.add_job(self._guarded("directory", self.watcher.check), "interval", seconds=CHECK_SECONDS,
                                   id="directory")

    def _schedule_distribution(self) -> None:
        """One cron per unit at its two distribution slots (again after a reload: units and days may change)."""
        for job in self.scheduler.get_jobs():
            if job.id.startswith("distribution:"):
                job.remove()
        for unit in self.core.directory.units.values():
            days = ",".join(CRON_DAYS[d] for d in unit.distribution.days)
            trigger = CronTrigger(
                day_of_week=days, hour=unit.distribution.time.hour, minute=unit.distribution.time.minute,
                timezone=self.scheduler.timezone,
            )
            self.scheduler.add_job(self._guarded(f"distribution:{unit.id}", self._distribute), trigger,
                                   id=f"distribution:{unit.id}")

    async def watch_clock(self, watch: ClockWatch) -> None:
        """Every second: when the wall clock stepped, re-arm the interval jobs (see the module's docstring)."""
        while True:
            await asyncio.sleep(CLOCK_WATCH_SECONDS)
            step = watch.step()
            if abs(step) > CLOCK_STEP_SECONDS:
                self.clock_stepped(step)

    def clock_stepped(self, step: float) -> None:
        """The wall clock moved `step` seconds more than time passed: run the interval jobs now. (The crons keep
        their plan: after a step back, the next slot is the one after the slot that already ran, and the sweep
        catches up anything a step forward skipped.) A paused job stays paused: the sweep waits for the templates'
        compile at start (`_compile` starts it), a step meanwhile must not run a sweep that compiles."""
        now = datetime.now(self.scheduler.timezone)
        for job in self.scheduler.get_jobs():
            if isinstance(job.trigger, IntervalTrigger) and job.next_run_time is not None:
                job.modify(next_run_time=now)
        log.warning("wall clock stepped", extra={"event": "clock.stepped", "seconds": round(step, 1)})

    async def reload_directory(self) -> bool:
        """Read the directory file again now (SIGHUP); True when it was replaced."""
        if self.watcher is None:
            return False
        return await self.watcher.check(forced=True)

    async def _compile(self) -> None:
        """Compile every template on a worker thread, at start (about a second of CPU), then run the first sweep:
        it renders instead of compiling. The server listens and the dispatcher delivers meanwhile."""
        began = time.perf_counter()
        try:
            count = await asyncio.to_thread(self.core.renderer.compile_all)
        except Exception:  # a template that does not compile fails where it is rendered, as before
            log.exception("templates not compiled", extra={"event": "templates.failed"})
        else:
            log.info("templates compiled", extra={"event": "templates.compiled", "templates": count,
                                                  "ms": round((time.perf_counter() - began) * 1000)})
        if self._freeze_heap:  # start-up is done: what it made lives as long as the process
            heap.freeze()
        if self.scheduler.running:
            self.scheduler.modify_job("sweep", next_run_time=datetime.now(self.scheduler.timezone))

    async def _sweep(self) -> None:
        await self.core.tick()
        await self._stale_forms.look(self.core)  # forms answered "registreras" and left behind
        if self.on_tick is not None:
            self.on_tick()

    async def _purge(self) -> None:
        await daily_purge(self.core)
        await intake.drop_abandoned(self.core)

    async def _distribute(self) -> None:
        await run_distribution(self.core)
        await self.core.dispatcher.run_once()

    def _guarded(self, name: str, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        """Wrap a job: log failures (the next run tries again) and track it so stop() can wait for it."""

        async def run() -> None:
            if name in self._running:  # the previous run is still going (a long sweep): this tick is skipped
                log.debug("job still running", extra={"event": "background.overrun", "job": name})
                metrics.JOB_OVERRUNS.labels(metrics.label(name.split(":")[0], metrics.JOBS)).inc()
                return
            self._running.add(name)
            task = asyncio.current_task()
            if task is not None:
                self._active.add(task)
            began = time.perf_counter()
            try:
                if name not in ("leader", "dispatch", "directory") and not self.core.leader.is_leader:
                    return
                await job()
                metrics.JOB_SECONDS.labels(metrics.label(name.split(":")[0], metrics.JOBS)).observe(
                    time.perf_counter() - began)
            except StoreFull:
                pass  # the store said so once (store.full); the next run tries again, and succeeds once space returns
            except Exception:
                log.exception("background job failed", extra={"event": "background.error", "job": name})
            finally:
                self._running.discard(name)
                if task is not None:
                    self._active.discard(task)

        return run

    async def stop(self) -> None:
        """Stop scheduling and let jobs that are running finish (up to STOP_GRACE_SECONDS)."""
        if self._watch is not None:
            self._watch.cancel()  # awaited below: no wait before the scheduler's shutdown
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler applies the shutdown on the loop's next turn
        if self._templates is not None:  # a thread cannot be stopped: let it end before the process does
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._templates), timeout=STOP_GRACE_SECONDS)
        if self._active:
            _, late = await asyncio.wait(set(self._active), timeout=STOP_GRACE_SECONDS)
            for task in late:  # e.g. a dispatcher pass with a backlog: stopped, so that its sends end (and are
                task.cancel()  # recorded or given back) before the store closes and gives back the claims
            if late:
                await asyncio.wait(late, timeout=STOP_GRACE_SECONDS)
        if self._watch is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self._freeze_heap:
            heap.thaw()
        log.info("background stopped", extra={"event": "background.stopped"})
