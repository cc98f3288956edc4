"""Fault: the wall clock of a running `gfi-bot run` jumps forward an hour and back (issue #23 item 7).

`gfi-bot run` reads the wall clock in two places: the injected `SystemClock` (due times, distribution slots,
the outbox's pacing) and APScheduler, which plans its jobs on wall-clock datetimes. So the whole process runs
under libfaketime (LD_PRELOAD), whose offset the test rewrites while the bot runs (FAKETIME_TIMESTAMP_FILE,
read on every call); the monotonic clock is left alone (FAKETIME_DONT_FAKE_MONOTONIC), as a real step of the
wall clock (NTP, an operator, a VM resumed) leaves it.

The timeline, around a distribution slot S of Beroendemottagningen and the ladder's due time D of a request
filed before it: the bot runs at S - 30 min, the clock jumps to S + 30 min (the queue goes out), back to
S - 30 min (the sweep and the outbox must go on: a message to the distributor is delivered at once), then on
to S + 31 min as if the hour had passed: the queue does not go out again. The same around D: the escalation
fires once. No message is sent twice at all."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import aiohttp
import pytest

from bot.calendar import BusinessCalendar
from bot.config import DEFAULT_DIRECTORY
from bot.directory.loading import load_directory
from tests.fakes.slack_api import FakeSlackAPI
from tests.faults.burst import REF, Submission, post, rows, submission
from tests.faults.process import TOKEN, BotProcess, start_bot
from tests.tools import missing_tool

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="LD_PRELOAD")

GUARD = 30.0  # seconds; only against a hang
LIBFAKETIME = tuple(f"{lib}/faketime/libfaketimeMT.so.1" for lib in (
    "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib"))
# The bot's log when a form's answer came after Slack's 3 s: its own line, or Bolt's when it answered 404 for it
LATE = ('"slack.view_late"', "didn't call ack()")
SWEEPS = re.compile(r'^gfi_job_seconds_count\{job="sweep"\} (\S+)$', re.MULTILINE)
MARIA = ("U01MARIA", "maria.sand", "beroende")
FATIMA = ("U04FATIMA", "fatima.ali", "psykiatri")  # Beroendemottagningen's distributor, asking psykiatri


class FakeTime:
    """The offset of the bot's wall clock from the real one, in a file libfaketime reads on every call."""

    def __init__(self, folder: Path) -> None:
        library = next((p for p in LIBFAKETIME if Path(p).exists()), None)
        if library is None:
            missing_tool("libfaketime (apt-get install libfaketime) is needed to move a running bot's wall clock")
        self.file = folder / "faketime"
        self.env = {"LD_PRELOAD": library, "FAKETIME_TIMESTAMP_FILE": str(self.file), "FAKETIME_CACHE_DURATION": "1",
                    "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        self.offset = timedelta(0)

    def set(self, offset: timedelta) -> None:
        """Move the bot's wall clock (atomically: libfaketime never reads half a file)."""
        self.offset = offset
        seconds = int(offset.total_seconds())
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(f"{seconds:+d}\n")
        os.replace(tmp, self.file)

    def at(self, instant: datetime) -> None:
        """Move the bot's wall clock so that it reads `instant` now."""
        self.set(instant - datetime.now(UTC))

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def stamp(self) -> int:
        """A Slack signature's timestamp as the bot's clock reads now. (Slack signs with the true time: while the
        bot's clock is more than five minutes off, it refuses Slack's requests, as it must; here the requests are
        signed on the bot's time, so that the test can file cases days from now.)"""
        return int(self.now().timestamp())


async def sweeps(http: aiohttp.ClientSession, bot: BotProcess) -> float:
    """How many sweeps the bot has run (its own metrics)."""
    async with http.get(f"http://127.0.0.1:{bot.port}/metrics") as resp:
        match = SWEEPS.search(await resp.text())
    return float(match.group(1)) if match else 0.0


async def bot_now(http: aiohttp.ClientSession, bot: BotProcess) -> datetime:
    """The bot's wall clock, as its web server reads it (the `Date` of its answer, in whole seconds)."""
    async with http.get(f"http://127.0.0.1:{bot.port}/metrics") as resp:
        date = resp.headers.get("Date")
    assert date, "the bot's answer has no Date header"
    return parsedate_to_datetime(date)


async def sweeps_on(http: aiohttp.ClientSession, bot: BotProcess, clock: FakeTime) -> None:
    """Wait until the bot's wall clock reads the caller's change, then until the bot has swept three times more
    (so two began after it): conditions, polled, with a guard against a bot that stopped sweeping.

    The bot's libfaketime reads the changed file only once its cache (FAKETIME_CACHE_DURATION) has run out, and
    on a busy machine the three sweeps counted alone sometimes all ran on the old time: the next request, signed
    on the new time, reached a bot still an hour off, which refused it as it must (401 invalid_signature, beyond
    Slack's five minutes). So the bot's own clock is asked first (its web server's `Date`)."""
    for _ in range(int(GUARD / 0.1)):
        if abs(await bot_now(http, bot) - clock.now()) < timedelta(minutes=1):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the bot's clock did not move to {clock.now()} in {GUARD} s")
    start = await sweeps(http, bot)
    for _ in range(int(GUARD / 0.1)):
        if await sweeps(http, bot) >= start + 3:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the bot stopped sweeping (still {start} sweeps after {GUARD} s)")


def sent(fake: FakeSlackAPI) -> list[tuple[str, str]]:
    """(recipient, the whole message) of every message Slack accepted."""
    return [(str(c.params.get("channel")), str(c.params)) for c in fake.calls("chat.postMessage") if c.ok]


def slot_after(after: datetime) -> datetime:
    """Beroendemottagningen's first distribution slot after `after`."""
    unit = load_directory(DEFAULT_DIRECTORY).units["beroende"]
    calendar = BusinessCalendar("Europe/Stockholm")
    return min(calendar.next_weekly_slot(after, d, unit.distribution.time) for d in unit.distribution.days)


async def file(http: aiohttp.ClientSession, bot: BotProcess, fake: FakeSlackAPI, clock: FakeTime, form: Submission,
               user: str) -> str:
    """Submit a request form and wait for its receipt to reach the submitter: the case's reference. (On a busy
    machine the ack may say "it takes longer than usual", or come after Slack's 3 s, when Bolt answers 404 and
    the bot files all the same; the receipt comes either way.)"""
    answer = await post(http, bot.url, form.body, at=clock.stamp())
    assert answer is not None and answer[0] in (200, 404), answer
    [receipt] = await fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == user
                                    and "Din GFI-förfrågan är registrerad" in str(c.params.get("text")),
                                    timeout=GUARD)
    if answer[0] == 404:  # only an answer the bot itself found late, never a request it did not handle
        assert any(line in bot.text() for line in LATE), answer
    ref = REF.search(str(receipt.params.get("text")))
    assert ref is not None
    return ref.group(0)


async def jump_over(clock: FakeTime, at: datetime, http: aiohttp.ClientSession, bot: BotProcess) -> None:
    """At `at` - 30 min, the clock jumps forward an hour, back, and on to `at` + 31 min, with the bot sweeping
    after each step."""
    for instant in (at - timedelta(minutes=30), at + timedelta(minutes=30), at - timedelta(minutes=30)):
        clock.at(instant)
        await sweeps_on(http, bot, clock)


async def test_wall_clock_jumps_an_hour_and_back_nothing_twice_nothing_skipped(tmp_path: Path) -> None:
    clock = FakeTime(tmp_path)
    slot = slot_after(datetime.now(UTC) + timedelta(days=2))
    clock.at(slot - timedelta(minutes=30))
    db = tmp_path / "gfi.sqlite3"
    async with FakeSlackAPI(token=TOKEN) as fake:
        bot = await start_bot(db, fake, tmp_path, **clock.env)
        try:
            async with aiohttp.ClientSession() as http:
                await sweeps_on(http, bot, clock)
                first = await file(http, bot, fake, clock, submission(1, MARIA), MARIA[0])

                # forward an hour: the slot passes and the queue goes out to the distributor
                clock.at(slot + timedelta(minutes=30))
                queue = await fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "U04FATIMA"
                                            and first in str(c.params), timeout=GUARD)
                assert queue
                # back an hour: the bot goes on sweeping, and delivers to the one it just wrote to at once
                clock.at(slot - timedelta(minutes=30))
                await sweeps_on(http, bot, clock)
                await file(http, bot, fake, clock, submission(2, FATIMA), FATIMA[0])
                # the hour passes: the slot is not run a second time
                clock.at(slot + timedelta(minutes=31))
                await sweeps_on(http, bot, clock)
                runs = rows(db, "SELECT unit_id, COUNT(*) FROM distribution_runs WHERE slot_at = ? GROUP BY unit_id",
                            (slot.isoformat(),))
                assert ("beroende", 1) in runs
                queues = [t for c, t in sent(fake) if c == "U04FATIMA" and first in t and "GFI-kö" in t]
                assert len(queues) == 1, queues

                # the ladder: the first request, never assigned, is due at D; the clock jumps over D and back
                due = datetime.fromisoformat(rows(db, "SELECT due_at FROM awaiting WHERE case_ref = ?",
                                                  (first,))[0][0])
                assert due > slot + timedelta(minutes=31)
                before = len(sent(fake))
                await jump_over(clock, due, http, bot)
                fired = sent(fake)[before:]
                assert any(first in t for _, t in fired), "the escalation due at D never fired"
                clock.at(due + timedelta(minutes=31))
                await sweeps_on(http, bot, clock)
                assert sent(fake)[before:] == fired  # nothing fired again when the clock reached D once more
        finally:
            try:
                code = await bot.stop()
            except TimeoutError:
                bot.kill()
                await bot.wait()
                raise AssertionError("gfi-bot run did not stop on SIGTERM:\n" + bot.text()[-6000:]) from None
    assert code == 0, bot.text()[-3000:]
    assert "Traceback" not in bot.text()
    everything = sent(fake)
    assert len(everything) == len(set(everything)), "a message was sent twice"
