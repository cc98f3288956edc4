"""Log volume: an idle minute of a running bot at the default level writes no per-run scheduler lines.

The minute is simulated: the scheduler is started paused and each job is handed to APScheduler's own
executor at the second the runtime would run it (the dispatcher every second, the sweep every
`GFI_SWEEP_SECONDS`, the distribution crons when they fall due), with the injected clock moved along.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import FrozenClock
from bot.core import Core
from bot.logs import NEVER_DEBUG, QUIET_AT_INFO, SLACK_CLIENT_LOGGERS, TEXT_IN_MESSAGES, setup_logging
from bot.runtime import Background

StartLogging = Callable[[str], io.StringIO]


@pytest.fixture
def start_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[StartLogging]:
    """`start_logging(level)` sets up the bot's logging as `gfi-bot` does and returns what it writes to stderr;
    the logging configuration is restored afterwards."""
    root = logging.getLogger()
    names = (*QUIET_AT_INFO, *NEVER_DEBUG, *TEXT_IN_MESSAGES, *SLACK_CLIENT_LOGGERS)
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in names})

    def start(level: str) -> io.StringIO:
        stream = io.StringIO()
        monkeypatch.setattr(sys, "stderr", stream)  # in the test body: pytest's capture has its turn first
        setup_logging(level)
        return stream

    yield start
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


async def idle_minute(core: Core, clock: FrozenClock) -> None:
    """Run one minute of the background's jobs, second by second, through APScheduler's executor."""
    bg = Background(core)
    bg.schedule()
    bg.scheduler.start(paused=True)
    finished: asyncio.Queue[JobExecutionEvent] = asyncio.Queue()
    bg.scheduler.add_listener(finished.put_nowait, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    executor = bg.scheduler._lookup_executor("default")
    start = clock.now()
    runs = 0
    try:
        for second in range(60):
            at = start + timedelta(seconds=second)
            clock.set(at)
            for job in bg.scheduler.get_jobs():
                if isinstance(job.trigger, IntervalTrigger):
                    due = second % int(job.trigger.interval.total_seconds()) == 0
                else:
                    due = job.trigger.get_next_fire_time(None, at) == at
                if due:
                    # the executor checks run times against the wall clock (misfire grace): hand it "now"
                    executor.submit_job(job, [datetime.now(bg.scheduler.timezone)])
                    event = await asyncio.wait_for(finished.get(), timeout=10)
                    assert event.code == EVENT_JOB_EXECUTED and event.exception is None
                    runs += 1
        assert runs >= 60 + 2  # the dispatcher every second, the sweep twice
    finally:
        bg.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_an_idle_minute_at_the_default_level_logs_no_scheduler_lines(
    core: Core, clock: FrozenClock, start_logging: StartLogging
) -> None:
    log_stream = start_logging("INFO")
    await idle_minute(core, clock)
    logged = lines(log_stream)
    assert [r for r in logged if r["logger"].startswith("apscheduler")] == []
    assert len(logged) <= 2, logged  # at most a line or two of the bot's own; was 122 a minute


async def test_debug_shows_the_scheduler_runs(core: Core, clock: FrozenClock, start_logging: StartLogging) -> None:
    log_stream = start_logging("DEBUG")
    await idle_minute(core, clock)
    logged = lines(log_stream)
    runs = [r for r in logged if r["logger"] == "apscheduler.executors.default"]
    assert len(runs) >= 2 * 60  # "Running job" and "executed successfully", every second
    # even at DEBUG, no library writes SQL parameters (they may hold free text)
    assert not any(r["logger"].startswith("aiosqlite") for r in logged)


async def test_the_bots_own_structured_lines_stay(core: Core, start_logging: StartLogging) -> None:
    log_stream = start_logging("INFO")
    bg = await Background.start(core)
    await bg.stop()
    events = [r.get("event") for r in lines(log_stream)]
    assert events[:1] == ["background.started"] and "background.stopped" in events
    assert not any(r["logger"].startswith("apscheduler") for r in lines(log_stream))


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_pdf_libraries_never_log_pieces_of_a_journal(start_logging: StartLogging, level: str) -> None:
    """fpdf2 names the characters its font lacks, fontTools lists glyphs: letters of a name could reach the log.
    Only their errors pass, at every level."""
    written = start_logging(level)
    logging.getLogger("fpdf.output").warning("Font is missing the following glyphs: '名' (\\u540d)")
    logging.getLogger("fontTools.subset").info("Glyph names: ['uni540D']")
    logging.getLogger("fontTools.subset").debug("Glyph IDs: [12]")
    assert "540" not in written.getvalue() and "Glyph" not in written.getvalue()
    logging.getLogger("fpdf.output").error("broken font")
    assert "broken font" in written.getvalue()


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING"])
def test_the_slack_clients_do_not_build_debug_lines_nobody_writes(start_logging: StartLogging, level: str) -> None:
    """slack_sdk formats each request and answer for DEBUG when its client's logger has no level of its own (it
    tests `logger.level`, not the effective level): the clients the bot makes get one, never below INFO and never
    below the bot's level (a WARNING bot gets no INFO lines from them)."""
    from slack_sdk.web.async_client import AsyncWebClient
    from slack_sdk.web.client import WebClient

    start_logging(level)
    for client in (AsyncWebClient(token="xoxb-test"), WebClient(token="xoxb-test")):
        assert client.logger.name in SLACK_CLIENT_LOGGERS
        assert client.logger.level > logging.DEBUG
        assert client.logger.getEffectiveLevel() == max(logging.getLevelName(level), logging.INFO)
