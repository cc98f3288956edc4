"""What blocks the event loop (issue #21 item 5): every view, report and reload a person can cause, run at scale
with asyncio's debug mode, lists each step of the event loop that took over 5 ms (`slow_callback_duration`).

Run:  PYTHONPATH=. .venv/bin/python bench/bench_loop.py [--cases 100000] [--quick]

The store is `bench_scale.build`'s (open cases cloned in bulk; a tenth queued at soc-norr), plus a thousand
brist reports, and a directory of 10⁴ people for the reload. Each operation runs in a task of its own, three
times (the first compiles its templates; the figure is the worst of the last two). A step is what runs between
two awaits: its time is CPU on the loop, while no other request is served. Debug mode makes steps slower
than in production (it tracks every coroutine), so the figures are an upper bound. Prints one row per
operation: the longest step on the loop and how many steps were over 5 ms; the load average beside each.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import re
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.bench_scale import build
from bench.big_directory import write_directory
from bench.table import Row, print_table
from bot.channels.console import ConsoleClock, ConsoleSession
from bot.channels.slack.home import home_view, load_home
from bot.channels.teams.app import TeamsContext
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.directory.loading import load_directory
from bot.journal import journal_for
from bot.pdf import text_pdf
from bot.stats import export
from bot.stats.report import build_report
from bot.stats.service import last_twelve_months
from bot.store.teams import TeamsStore
from handlers.teams.commands import mine_card, queue_card
from handlers.teams.home import home_card as teams_home_card

SLOW = 0.005  # seconds: a step over this is reported
_STEP = re.compile(r"name='([^']+)'")


class Steps(logging.Handler):
    """Collects asyncio's "Executing <Task … name='op'> took 0.012 seconds" warnings, per task name."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.by_task: dict[str, list[float]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if not record.msg.startswith("Executing") or len(record.args or ()) < 2:
            return
        handle, seconds = record.args[0], record.args[1]  # type: ignore[index]
        found = _STEP.search(str(handle))
        self.by_task.setdefault(found.group(1) if found else "?", []).append(float(seconds))


def _bulk_reports(path: Path, count: int) -> None:
    """`count` brist reports of this year naming beroende and soc-norr (the console's and Home's lists)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executemany(
            "INSERT INTO brister (ref, year, state, incident_date, units, principals, causes, what, filed_by, "
            "submitted_at, updated_at) VALUES (?, 2026, 'submitted', '2026-11-01', '[\"beroende\", \"soc-norr\"]', "
            "'[\"astad\", \"region-sydvast\"]', '[\"kommunikation\", \"rutiner\"]', 'Ingen svarade på förfrågan.', "
            "'maria.sand', '2026-11-02T10:00:00+00:00', '2026-11-02T10:00:00+00:00')",
            [(f"BRIST-2026-{n:05d}",) for n in range(1, count + 1)])
    finally:
        conn.close()


def context_of(core: Core, person_id: str) -> TeamsContext:
    """A Teams context whose every caller is `person_id` (the cards are built as for a message)."""
    identity = SimpleNamespace(person_for=lambda context: asyncio.sleep(0, person_id))
    return TeamsContext(core, TeamsStore(core.db, core.clock), identity)  # type: ignore[arg-type]


def operations(core: Core, big_directory: Path) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Each operation a person can cause that could be heavy, by name."""
    renderer = core.renderer

    def console(person: str, line: str) -> Callable[[], Awaitable[Any]]:
        async def run() -> None:
            await ConsoleSession(core, person, ConsoleClock(core.clock.now()), io.StringIO()).handle(line)
        return run

    async def slack_home(person: str) -> None:  # as SlackContext.publish builds it
        await asyncio.to_thread(home_view, renderer, await load_home(core, person))

    async def teams_home(person: str) -> None:
        await teams_home_card(context_of(core, person), person, ["29:x"])

    async def stats_csv() -> None:
        start, end = last_twelve_months(core.clock.now().date())
        report = await build_report(core.db, core.directory, core.calendar, core.settings.timezone, start, end)
        export.csv_rows(renderer, report)

    async def pdf_on_loop() -> None:  # what it would cost on the loop: the CLI, its only caller, runs it on a thread
        text_pdf("Journalanteckning\n\n" + "En rad i journalen om samordningen. " * 2000, title="GFI",
                 page_label="Sida")

    async def journal() -> None:
        async with core.db.read() as tx:
            ref = str(await tx.scalar("SELECT ref FROM cases WHERE state = 'assigned' ORDER BY id LIMIT 1"))
            person = str(await tx.scalar("SELECT person_id FROM case_assignees ORDER BY case_id LIMIT 1"))
        await journal_for(core.db, core.cases.load, core.directory, renderer, person_id=person, ref=ref,
                          now=core.clock.now(), channel="console")

    async def reload_big() -> None:
        new = await asyncio.to_thread(load_directory, big_directory)  # the parse is off the loop (reload.py)
        old = await asyncio.to_thread(load_directory, DEFAULT_DIRECTORY)
        for loaded in (new, old):  # what reload.py runs on the loop once the file is parsed
            replaced = core.directory.replace(loaded)
            await asyncio.to_thread(replaced.clear)
        del new, old, loaded

    return {
        "slack home, coordinator (statistics)": lambda: slack_home("sara.holm"),
        "slack home, distributor (queue)": lambda: slack_home("anna.lind"),
        "slack home, assignee": lambda: slack_home("omar.haddad"),
        "teams home card, coordinator": lambda: teams_home("sara.holm"),
        "teams home card, distributor": lambda: teams_home("anna.lind"),
        "console /statistik": console("sara.holm", "/statistik"),
        "statistics CSV rows": stats_csv,
        "console /kö": console("anna.lind", "/kö"),
        "teams kö card": lambda: queue_card(context_of(core, "anna.lind"), "anna.lind"),
        "teams mina card": lambda: mine_card(context_of(core, "omar.haddad"), "omar.haddad"),
        "console /mina": console("omar.haddad", "/mina"),
        "console /eskaleringar": console("sara.holm", "/eskaleringar"),
        "console /brister": console("sara.holm", "/brister"),
        "console /leveranser": console("sara.holm", "/leveranser"),
        "journal text": journal,
        "a 20-page PDF, were it on the loop (the CLI makes it on a thread)": pdf_on_loop,
        "directory of 10^4 people replaced (parsed on a thread)": reload_big,
        "idle tick": core.tick,
    }


async def audit(open_cases: int) -> list[Row]:
    steps = Steps()
    logging.getLogger("asyncio").addHandler(steps)
    logging.getLogger("asyncio").propagate = False
    with tempfile.TemporaryDirectory(prefix="gfi-bench-loop-") as tmp:
        path = Path(tmp) / "gfi.sqlite3"
        core, clock = await build(path, open_cases)
        await core.close()
        _bulk_reports(path, 1000)
        big = Path(tmp) / "big.yaml"
        write_directory(big, units=1000, people=10_000)
        core, clock = await build_again(path, clock)
        loop = asyncio.get_running_loop()
        out: list[Row] = []
        try:
            for name, op in operations(core, big).items():
                await asyncio.create_task(op(), name=f"warm {name}")  # templates compiled, caches filled
                steps.by_task.clear()
                loop.set_debug(True)
                loop.slow_callback_duration = SLOW
                started, cpu = time.perf_counter(), time.thread_time()
                for _ in range(2):
                    await asyncio.create_task(op(), name=name)
                wall, cpu = (time.perf_counter() - started) / 2, (time.thread_time() - cpu) / 2
                loop.set_debug(False)
                slow = steps.by_task.get(name, [])
                out.append(Row("loop", f"{name}, {open_cases:,} open: longest step ({len(slow) / 2:g} steps "
                               f"> 5 ms a run, {wall * 1000:.0f} ms in all)", max(slow, default=0) * 1000, "ms",
                               target="< 5 ms", met=max(slow, default=0) < SLOW))
                # the CPU of the loop's thread for the whole operation: whatever the load, at least its longest step
                out.append(Row("loop", f"{name}, {open_cases:,} open: CPU on the loop's thread, a run", cpu * 1000,
                               "ms"))
                clock.advance(timedelta(seconds=1))
        finally:
            await core.close()
    return out


async def build_again(path: Path, clock: Any) -> tuple[Core, Any]:
    from bench.bench_scale import NullSender
    from bot.config import Settings
    from bot.core import open_core

    settings = Settings(db_path=path, directory_path=DEFAULT_DIRECTORY, _env_file=None)
    return await open_core(settings, clock=clock, fallback=NullSender()), clock


async def rows(quick: bool) -> list[Row]:
    return await audit(10_000 if quick else 100_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="10⁴ open cases")
    args = parser.parse_args()
    cases = args.cases or (10_000 if args.quick else 100_000)
    print_table(asyncio.run(audit(cases)))


if __name__ == "__main__":
    main()
