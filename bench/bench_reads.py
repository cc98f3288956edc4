"""The lists a person opens, at scale (issue #21 item 4): each reads a page and a count, so its time must not
grow with the store. On SQLite and on PostgreSQL, 10⁴ (quick) or 10⁵ open cases; the full run also times a
coordinator's Home at 10⁶ open cases on both engines (about 20 minutes on the 2-core machine, most of it the
build and the copy to PostgreSQL).

Run:  PYTHONPATH=. .venv/bin/python bench/bench_reads.py [--quick] [--cases N] [--home N]

The store is `bench_scale.build`'s (a tenth of the open cases queued at soc-norr, the rest assigned to two of its
people), plus a tenth as many brist reports and reads of one case, and a twentieth matters before the
samverkansgrupp; PostgreSQL gets a copy of it (`bench_scale.to_postgres`). Each view is run once to warm up and
then five times; the median is the figure, with the load average beside it. `cases.queue()`, console /kö
and Teams kö are held to < 50 ms at 10⁵ (the issue's target); Teams kö is also timed in its parts (the queues
read, the read log written as one unit of work) to show where its time goes. A coordinator's Home (twelve
months of statistics, loaded and rendered as the Slack Home is) is held to < 50 ms at 10⁶ (`--home`);
tests/integration/test_bounded_reads.py counts their statements. The console's commands are timed without the
tick it runs after each (bench_scale's rows).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.bench_loop import build_again, context_of
from bench.bench_scale import ASSIGNEES, COORDINATOR, DISTRIBUTOR, build, to_postgres
from bench.table import Row, print_table
from bot import readlog
from bot.channels.console import ConsoleClock, ConsoleSession
from bot.channels.slack.home import home_view, load_home
from bot.core import Core
from handlers.teams.commands import mine_card, queue_card
from handlers.teams.oversight import view as teams_view

RUNS = 5


def add_lists(path: Path, open_cases: int) -> str:
    """Reports, reads of one case and matters at a tenth / twentieth of `open_cases`; the case's reference."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        ref = str(conn.execute("SELECT ref FROM cases WHERE state = 'assigned' ORDER BY id LIMIT 1").fetchone()[0])
        conn.executemany(
            "INSERT INTO brister (ref, year, state, incident_date, units, principals, causes, what, filed_by, "
            "submitted_at, updated_at) VALUES (?, 2026, ?, '2026-11-01', ?, '[\"astad\", \"region-sydvast\"]', "
            "'[\"kommunikation\"]', 'Ingen svarade på förfrågan.', 'maria.sand', '2026-11-02T10:00:00+00:00', "
            "'2026-11-02T10:00:00+00:00')",
            [(f"BRIST-2026-{n:05d}", ["submitted", "closed"][n % 2],
              '["soc-norr", "beroende"]' if n % 2 else '["psykiatri"]') for n in range(1, open_cases // 10 + 1)])
        conn.executemany(
            "INSERT INTO case_reads (at, person_id, case_ref, view, channel, hash) VALUES (?, ?, ?, 'case', "
            "'slack', 'x')",
            [(f"2026-11-{1 + n % 20:02d}T10:00:00+00:00", [*ASSIGNEES, "yusuf.kaya"][n % 3], ref)
             for n in range(open_cases // 10)])
        conn.execute("DELETE FROM case_read_counts")  # counted again from the log, as the store's appends keep them
        conn.execute("INSERT INTO case_read_counts (case_ref, person_id, reads) "
                     "SELECT case_ref, person_id, COUNT(*) FROM case_reads GROUP BY case_ref, person_id")
        conn.execute(
            "INSERT INTO samverkan_matters (case_id, case_ref, group_id, opened_by, opened_at) "
            "SELECT id, ref, 'samverkan-astad', 'sara.holm', created_at FROM cases WHERE id % 20 = 0")
        conn.execute("COMMIT")
    finally:
        conn.close()
    return ref


class Console(ConsoleSession):
    """The console without the tick it runs after each command (what falls due: bench_scale's sweep rows)."""

    async def tick(self) -> None:
        return None


def views(core: Core, ref: str) -> dict[str, tuple[Callable[[], Awaitable[Any]], str]]:
    """Each list view (what it runs, and its target) by name."""
    def console(person: str, line: str) -> Callable[[], Awaitable[Any]]:
        async def run() -> None:
            await Console(core, person, ConsoleClock(core.clock.now()), io.StringIO()).handle(line)
        return run

    def teams(person: str, word: str, *args: str) -> Callable[[], Awaitable[Any]]:
        return lambda: teams_view(context_of(core, person), person, word, list(args))

    async def read_log() -> None:  # what Teams kö writes after its card is made: one row per case shown
        refs = [c.ref for page in await core.cases.queue_pages(DISTRIBUTOR, limit=10) for c in page.cases]
        await readlog.record_now(core.db, at=core.clock.now(), person_id=DISTRIBUTOR, refs=refs, view="queue",
                                 channel="teams")

    return {
        "cases.queue() (the first page of each queue, and its length)": (
            lambda: core.cases.queue(DISTRIBUTOR), "< 50 ms"),
        "console /kö sida=3": (console(DISTRIBUTOR, "/kö sida=3"), "< 50 ms"),
        "Teams kö (the card, assign forms and all)": (
            lambda: queue_card(context_of(core, DISTRIBUTOR), DISTRIBUTOR), "< 50 ms"),
        "Teams kö, its part: the queues read (a page of ten and the length)": (
            lambda: core.cases.queue_pages(DISTRIBUTOR, limit=10), ""),
        "Teams kö, its parts: the queues read and the read log written (one unit)": (read_log, ""),
        "Home refresh, coordinator (12 months of statistics, loaded and rendered)": (home(core, COORDINATOR),
                                                                                     "< 50 ms"),
        "console /mina, an assignee": (console(ASSIGNEES[0], "/mina"), ""),
        "Teams mina, an assignee": (lambda: mine_card(context_of(core, ASSIGNEES[0]), ASSIGNEES[0]), ""),
        "console /eskaleringar, coordinator": (console(COORDINATOR, "/eskaleringar"), ""),
        "console /brister sida=2, coordinator": (console(COORDINATOR, "/brister sida=2"), ""),
        "console /brister, distributor (open reports of the unit)": (console(DISTRIBUTOR, "/brister"), ""),
        "Teams brister, coordinator": (teams(COORDINATOR, "brister"), ""),
        "console /samverkansfrågor": (console(COORDINATOR, "/samverkansfrågor"), ""),
        "console /läsloggar <ref> (one case's reads)": (console(COORDINATOR, f"/läsloggar {ref}"), ""),
        "Teams läsloggar person=… (a month of one person's)": (
            teams("it.admin", "läsloggar", "person=maria.sand", "från=2026-11-01", "till=2026-11-30"), ""),
    }


def home(core: Core, person: str) -> Callable[[], Awaitable[Any]]:
    """A person's Slack Home, loaded and rendered (as bench_scale times it)."""
    async def run() -> None:
        home_view(core.renderer, await load_home(core, person))
    return run


async def timed(run: Callable[[], Awaitable[Any]]) -> float:
    """The median of RUNS runs after one to warm up (templates compiled, statements prepared), in ms."""
    await run()
    took = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await run()
        took.append(time.perf_counter() - started)
    return statistics.median(took) * 1000


async def home_at(open_cases: int, postgres: bool) -> list[Row]:
    """A coordinator's Home (the issue's target: < 50 ms at 10⁶ open cases) on SQLite, then on a PostgreSQL copy of
    the same store (copied as `gfi-bot migrate-store` copies, by COPY); with how long each build took."""
    scale = f"{open_cases:,} open".replace(",", " ")
    out: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="gfi-bench-home-") as tmp:
        path = Path(tmp) / "home.sqlite3"
        started = time.perf_counter()
        core, clock = await build(path, open_cases)
        out.append(Row("reads", f"build {scale} (SQLite, bulk insert)", time.perf_counter() - started, "s"))
        name = "Home refresh, coordinator (12 months of statistics, loaded and rendered)"
        try:
            took = await timed(home(core, COORDINATOR))
            out.append(Row("reads", f"{name}, {scale}", took, "ms", target="< 50 ms", met=took < 50))
            if postgres:
                started = time.perf_counter()
                core, _ = await to_postgres(path, core, clock)
                out.append(Row("reads", f"copy {scale} to PostgreSQL (COPY, then VACUUM ANALYZE)",
                               time.perf_counter() - started, "s"))
                took = await timed(home(core, COORDINATOR))
                out.append(Row("reads", f"{name}, {scale}, PostgreSQL", took, "ms", target="< 50 ms", met=took < 50))
        finally:
            await core.close()
    return out


async def measure(open_cases: int, engine: str) -> list[Row]:
    scale = f"{open_cases:,} open".replace(",", " ") + ("" if engine == "sqlite" else ", PostgreSQL")
    out: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="gfi-bench-reads-") as tmp:
        path = Path(tmp) / "reads.sqlite3"
        core, clock = await build(path, open_cases)
        await core.close()
        ref = add_lists(path, open_cases)
        core, clock = await build_again(path, clock)
        if engine == "postgresql":
            core, _ = await to_postgres(path, core, clock)
        try:
            for name, (run, target) in views(core, ref).items():
                median = await timed(run)
                bound = float(target.split()[1]) if target else 0.0
                out.append(Row("reads", f"{name}, {scale}", median, "ms", target=target,
                               met=(median < bound) if target else None))
        finally:
            await core.close()
    return out


async def rows(quick: bool, scale: int | None = None, home_scale: int | None = None) -> list[Row]:
    """SQLite and PostgreSQL (when there is a server or the binaries), one after the other at one scale (10⁴
    quick, else 10⁵); then, unless quick, a coordinator's Home at 10⁶ on both."""
    from bench.bench_slack_acks import postgres_available

    scale = scale or (10_000 if quick else 100_000)
    out = await measure(scale, "sqlite")
    if postgres_available():
        out += await measure(scale, "postgresql")
    home_scale = home_scale if home_scale is not None else (0 if quick else 1_000_000)
    if home_scale:
        out += await home_at(home_scale, postgres_available())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10⁴ open cases instead of 10⁵, and no Home at 10⁶")
    parser.add_argument("--cases", type=int, help="the lists at this many open cases")
    parser.add_argument("--home", type=int, help="the coordinator's Home at this many open cases (0: not timed)")
    args = parser.parse_args()
    print_table(asyncio.run(rows(args.quick, args.cases, args.home)))


if __name__ == "__main__":
    main()
