"""Benchmark of the core: filing requests, the idle sweep, and a catch-up after downtime.

Run:  .venv/bin/python bench/bench_core.py [--cases 2000] [--describe]
(`--describe`: only the CPU a filing's receipt costs before its unit of work: `plan_case_filed` and the receipt's
description alone, µs a call, 3,000 calls, best of 3.)
Prints figures; asserts nothing. Uses a temporary SQLite file and a frozen clock.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.cases.service import GfiRequest
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import open_core
from bot.outbox import OutboxMessage

TZ = ZoneInfo("Europe/Stockholm")
REQUESTERS = ["maria.sand", "omar.haddad", "petra.lund", "yusuf.kaya"]
TARGETS = {"maria.sand": "beroende", "omar.haddad": "psykiatri", "petra.lund": "vc-centrum", "yusuf.kaya": "soc-norr"}


class NullSender:
    """Accepts every message without doing anything."""

    def __init__(self) -> None:
        self.count = 0

    async def send(self, message: OutboxMessage) -> str | None:
        self.count += 1
        return None


async def main(cases: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = FrozenClock(datetime(2026, 11, 23, 10, tzinfo=TZ))
        sender = NullSender()
        settings = Settings(db_path=Path(tmp) / "bench.sqlite3", directory_path=DEFAULT_DIRECTORY, _env_file=None)
        core = await open_core(settings, clock=clock, fallback=sender)
        try:
            t0 = time.perf_counter()
            for i in range(cases):
                who = REQUESTERS[i % len(REQUESTERS)]
                form = GfiRequest(
                    target_unit=TARGETS[who], case_type="ny-en", consent_confirmed=True, children="nej",
                    brief=f"Person {i % 90 + 18} år, behöver samordning kring boende och behandling.",
                )
                await core.cases.request(who, form)
            filed = time.perf_counter() - t0
            print(f"file {cases} requests (validation, privacy, audit, outbox, ladder hook): "
                  f"{filed:.2f} s, {cases / filed:.0f} requests/s, {filed / cases * 1000:.2f} ms each")

            t0 = time.perf_counter()
            await core.dispatcher.run_once(limit=cases * 2)
            print(f"deliver {sender.count} receipts through a no-op sender: {time.perf_counter() - t0:.2f} s")

            clock.advance(timedelta(minutes=30))
            t0 = time.perf_counter()
            rounds = 20
            for _ in range(rounds):
                await core.tick()
            idle = (time.perf_counter() - t0) / rounds
            print(f"idle tick with {cases} open cases and nothing due: {idle * 1000:.1f} ms")

            before = sender.count
            clock.advance(timedelta(days=3))
            t0 = time.perf_counter()
            await core.tick()
            while (await core.dispatcher.run_once(limit=10_000)).sent:
                pass
            catch = time.perf_counter() - t0
            print(f"catch-up after 3 days of downtime: {catch:.2f} s, {sender.count - before} messages "
                  "(queues, escalations, drafts)")

            t0 = time.perf_counter()
            await core.tick()
            print(f"tick right after the catch-up (nothing new due): {(time.perf_counter() - t0) * 1000:.1f} ms")
        finally:
            await core.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MiB")


async def describe(calls: int = 3000) -> None:
    """`--describe`: µs a call of planning a filing's messages and of describing its receipt (the example directory)."""
    from bot.cases import messaging, request
    from bot.cases.models import Case

    with tempfile.TemporaryDirectory() as tmp:
        clock = FrozenClock(datetime(2026, 11, 23, 10, tzinfo=TZ))
        settings = Settings(db_path=Path(tmp) / "bench.sqlite3", directory_path=DEFAULT_DIRECTORY, _env_file=None)
        core = await open_core(settings, clock=clock, fallback=NullSender())
        try:
            core.renderer.compile_all()
            form = GfiRequest(target_unit="beroende", case_type="ny-en", consent_confirmed=True, children="nej",
                              brief="Man, 45 år, alkohol.", contact="0450-12 30 00",
                              consent_covers=["kontaktuppgifter", "pagaende-insatser"], consent_form="skriftligt")
            clean = core.cases.validate_request("maria.sand", form)
            now = clock.now()
            case = Case.from_row(request._new_case_row("GFI-2026-Q0123456789ab", "maria.sand", "soc-norr",
                                                               clean, now), [], [], [])
            distributors = core.directory.active_distributors("beroende")
            for name, call in (
                ("plan_case_filed (receipt, offers, next slot)",
                 lambda: messaging.plan_case_filed(core.cases, case, now)),
                ("the receipt's description alone", lambda: core.cases.outbox.describe(
                    "case_filed", recipient_id="maria.sand", case=case, case_ref=case.ref, distributors=distributors,
                    next_slot="tis 24 nov 2026 kl. 09:00", default_days=None, closed_until=None)),
            ):
                best = float("inf")
                for _ in range(3):
                    t0 = time.perf_counter()
                    for _ in range(calls):
                        call()
                    best = min(best, (time.perf_counter() - t0) / calls)
                print(f"{name}: {best * 1e6:.1f} µs a call")
        finally:
            await core.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--describe", action="store_true", help="only the CPU of describing a filing's receipt")
    args = parser.parse_args()
    asyncio.run(describe() if args.describe else main(args.cases))
