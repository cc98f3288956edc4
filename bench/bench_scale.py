"""Benchmark at scale: sweeps, a distribution slot and a Home refresh with 10⁴, 10⁵ and 10⁶ open cases.

Run:  .venv/bin/python bench/bench_scale.py [--quick]   (quick: 10⁴ open cases only, well under 30 s)

Each scale builds its own database on the real schema (migrations applied): a few template cases go through
the real services (so every row is what the bot writes), then they are cloned in bulk with INSERT … SELECT over
a recursive counter. A tenth of the open cases wait in one unit's distribution queue, the rest are assigned to
two people. Measured, with a frozen clock and a sender that accepts everything:

- sweep tick with 10³ items due (500 escalations, 500 reminders): database time (time spent awaiting the
  store), wall time, and the longest transaction (how long an ack could wait behind the sweep);
- idle tick (nothing due): `Core.tick()` as the runtime calls it;
- distribution slot with the whole queue in one unit;
- Home refresh for one person (the heaviest of the requester, an assignee and the distributor): loading and
  rendering the view; and a coordinator's, with the statistics of twelve months (every open case is a request
  of the period);
- bytes on disk per open case, and the process's peak RSS.

The temporary files are removed afterwards. Asserts nothing except that every due item fired once.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import resource
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from bot import heap
from bot.cases.service import GfiRequest
from bot.channels.slack.home import home_view, load_home
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from bot.distribution.scheduled import run_distribution
from bot.ladder.scheduled import sweep_due
from bot.outbox import OutboxMessage
from bot.store import group as group_module
from bot.store import pgunit as pgunit_module
from bot.store import unit as db_module
from bot.store.db import Database, Tx

try:
    from bench.table import Row, print_table
except ModuleNotFoundError:  # run as a script: bench/ is on the path, the project root is not
    from table import Row, print_table  # type: ignore[no-redef]

_IN_PG_UNIT: ContextVar[bool] = ContextVar("bench_in_pg_unit", default=False)
TZ = ZoneInfo("Europe/Stockholm")
START = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday; soc-norr distributes Tuesdays 09:00
SLOT = datetime(2026, 11, 24, 9, 1, tzinfo=TZ)
UNIT = "soc-norr"
REQUESTER = "yusuf.kaya"
DISTRIBUTOR = "anna.lind"
ASSIGNEES = ("maria.sand", "omar.haddad")
COORDINATOR = "sara.holm"
DUE_ESCALATIONS = 500
DUE_REMINDERS = 500
WARM_UP = 10  # due items of each kind in the first sweep after start
HOMES = 5  # Home refreshes timed per person (the median is shown)
SCALES = (10_000, 100_000, 1_000_000)

# Tables whose rows belong to one case, cloned with it (the case's reference and id replaced).
CASE_TABLES = ("case_assignees", "follow_ups", "audit", "outbox", "awaiting", "timers", "case_facts")


class NullSender:
    """Accepts every message without doing anything."""

    async def send(self, message: OutboxMessage) -> str | None:
        return None


# --- database time -------------------------------------------------------------------------------
@dataclass
class DbTimer:
    """Time spent awaiting the store, and the longest transaction, while `on`."""

    on: bool = False
    db_seconds: float = 0.0
    longest_tx: float = 0.0
    # the same, in CPU time of the database threads (what a loaded machine does not stretch): on SQLite all of
    # the engine's work, on PostgreSQL only the client's side
    db_cpu: float = 0.0
    longest_cpu: float = 0.0
    transactions: int = 0
    _patched: list[tuple[Any, str, Any]] = field(default_factory=list)
    _in_unit: threading.local = field(default_factory=threading.local)

    def install(self) -> None:
        for name in ("execute", "insert", "executemany", "fetchone", "fetchall", "scalar"):
            original = getattr(Tx, name)
            self._patched.append((Tx, name, original))
            setattr(Tx, name, self._timed(original))
        original_tx = Database.transaction
        self._patched.append((Database, "transaction", original_tx))
        timer = self

        @asynccontextmanager
        async def transaction(db: Database, *args: Any, **kwargs: Any) -> AsyncIterator[Tx]:
            async with original_tx(db, *args, **kwargs) as tx:
                t0 = time.perf_counter()
                try:
                    yield tx
                finally:
                    if timer.on:
                        timer.longest_tx = max(timer.longest_tx, time.perf_counter() - t0)
                        timer.transactions += 1

        Database.transaction = transaction  # type: ignore[method-assign,assignment]

        # A unit of work (`Database.run`) is one call on the database thread: time it there, whole (its
        # statements, the commit and the Python work it does while it holds the write connection).
        original_unit = db_module._unit
        self._patched.append((db_module, "_unit", original_unit))
        db_module._unit = self._timed_unit(original_unit)  # type: ignore[attr-defined]
        # On PostgreSQL a write unit is a coroutine on the event loop (bot/store/pgunit.py `apply`, called by the
        # write pool): timed whole there (BEGIN, the statements, the COMMIT and its flush; CPU: the loop's thread
        # meanwhile, other tasks' included).
        original_pg = pgunit_module.apply
        self._patched.append((pgunit_module, "apply", original_pg))

        async def apply_pg(*args: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            _IN_PG_UNIT.set(True)  # the unit's own task: its statements are timed with it, whole
            try:
                return await original_pg(*args)
            finally:
                timer._count(time.perf_counter() - t0, time.thread_time() - c0)

        pgunit_module.apply = apply_pg  # type: ignore[assignment]

        # A write unit goes through the group queue (`Store.run`, bot/store/group.py): one call on the thread
        # too, timed whole the same way (BEGIN, the statements, the COMMIT).
        original_apply = group_module.apply
        self._patched.append((group_module, "apply", original_apply))

        def apply(*args: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            timer._in_unit.flag = True
            try:
                return original_apply(*args)
            finally:
                timer._in_unit.flag = False
                timer._count(time.perf_counter() - t0, time.thread_time() - c0)

        group_module.apply = apply  # type: ignore[assignment]

    def _timed_unit(self, original: Callable[..., Any]) -> Callable[..., Any]:
        timer = self

        def unit(*args: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            timer._in_unit.flag = True
            try:
                return original(*args)
            finally:
                timer._in_unit.flag = False
                timer._count(time.perf_counter() - t0, time.thread_time() - c0)

        return unit

    def _count(self, elapsed: float, cpu: float) -> None:
        """A unit of work timed whole (on the database thread)."""
        if self.on:
            self.db_seconds += elapsed
            self.longest_tx = max(self.longest_tx, elapsed)
            self.db_cpu += cpu
            self.longest_cpu = max(self.longest_cpu, cpu)
            self.transactions += 1

    def _timed(self, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        timer = self

        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                # a unit is timed whole
                if timer.on and not getattr(timer._in_unit, "flag", False) and not _IN_PG_UNIT.get():
                    timer.db_seconds += time.perf_counter() - t0

        return wrapper

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._patched):
            setattr(owner, name, original)
        self._patched.clear()

    def start(self) -> None:
        self.on, self.db_seconds, self.longest_tx, self.transactions = True, 0.0, 0.0, 0
        self.db_cpu = self.longest_cpu = 0.0

    def stop(self) -> None:
        self.on = False


# --- building the database -----------------------------------------------------------------------
async def _templates(core: Core, clock: FrozenClock) -> tuple[str, str]:
    """Two cases through the real services: one waiting in the queue, one assigned. Returns their refs."""
    await core.tick()  # a new install records every unit's latest slot without sending it

    def form() -> GfiRequest:
        return GfiRequest(target_unit=UNIT, case_type="ny-en", consent_confirmed=True,
                          brief="Person 42 år, behöver samordning kring boende och behandling.", children="nej")

    queued = await core.cases.request(REQUESTER, form())
    assigned = await core.cases.request(REQUESTER, form())
    await core.cases.assign(DISTRIBUTOR, assigned.ref, [ASSIGNEES[0]])
    while (await core.dispatcher.run_once(limit=1000)).sent:
        pass
    clock.advance(timedelta(minutes=1))
    return queued.ref, assigned.ref


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _clone(conn: sqlite3.Connection, template_ref: str, year: int, count: int, first: int) -> None:
    """Clone one case `count` times as GFI-<year>-0000001…, case ids from `first`; rows of CASE_TABLES too.
    Clones are created one second apart, ending at the template's creation time."""
    tid = conn.execute("SELECT id FROM cases WHERE ref = ?", (template_ref,)).fetchone()[0]
    seq = "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < :count) "
    new_ref = "printf('GFI-%d-%07d', :year, i + 1)"

    def shifted(col: str) -> str:
        return (f"CASE WHEN src.{col} IS NULL THEN NULL ELSE "
                f"strftime('%Y-%m-%dT%H:%M:%S+00:00', src.{col}, printf('-%d seconds', :count - i)) END")

    special = {
        "id": ":first + i", "case_id": ":first + i", "ref": new_ref, "case_ref": new_ref,
        "created_at": shifted("created_at"), "since": shifted("since"),
        "dedupe_key": f"CASE WHEN src.dedupe_key IS NULL THEN NULL ELSE src.dedupe_key || {new_ref} END",
        "person_id": "CASE WHEN i % 2 = 0 THEN src.person_id ELSE :other END",
    }
    params = {"count": count, "year": year, "first": first, "tid": tid, "other": ASSIGNEES[1]}
    for table in ("cases", *CASE_TABLES):
        cols = _columns(conn, table)
        if table != "cases" and "case_id" not in cols:
            cols = [c for c in cols if c != "id"]  # case_facts: by reference only
            where = "src.case_ref = (SELECT ref FROM cases WHERE id = :tid)"
        else:
            cols = [c for c in cols if c != "id" or table == "cases"]
            where = "src.id = :tid" if table == "cases" else "src.case_id = :tid"
        exprs = [special.get(c, f"src.{c}") if not (table == "case_facts" and c == "id") else c for c in cols]
        if table == "case_assignees":
            exprs = [special["case_id"] if c == "case_id" else special["person_id"] if c == "person_id"
                     else f"src.{c}" for c in cols]
        conn.execute(f"{seq}INSERT INTO {table} ({', '.join(cols)}) "
                     f"SELECT {', '.join(exprs)} FROM seq, {table} AS src WHERE {where}", params)


def _make_due(conn: _Raw, at: datetime, escalations: int = DUE_ESCALATIONS,
              reminders: int = DUE_REMINDERS) -> None:
    """Make `escalations` acknowledgements and `reminders` consent reminders due by `at` (the last ones by id,
    so that a warm-up's items, fired and due again at a later rung, are not among them)."""
    past = (at - timedelta(minutes=5)).astimezone(ZoneInfo("UTC")).isoformat()
    conn.execute("UPDATE awaiting SET due_at = ? WHERE id IN (SELECT id FROM awaiting WHERE resolved_at IS NULL "
                 "AND kind = 'acknowledgement' ORDER BY id DESC LIMIT ?)", (past, escalations))
    conn.execute("UPDATE timers SET due_at = ? WHERE id IN (SELECT id FROM timers WHERE done_at IS NULL "
                 "AND kind = 'consent_expiring' ORDER BY id DESC LIMIT ?)", (past, reminders))


async def build(path: Path, open_cases: int) -> tuple[Core, FrozenClock]:
    """A database at `path` with `open_cases` open cases; returns the core opened on it."""
    clock = FrozenClock(START)
    settings = Settings(db_path=path, directory_path=DEFAULT_DIRECTORY, _env_file=None)
    core = await open_core(settings, clock=clock, fallback=NullSender())
    queued_ref, assigned_ref = await _templates(core, clock)
    await core.close()
    queued = open_cases // 10
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # a throwaway build: no rollback journal and no fsync while cloning (the bot reopens it in WAL mode)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("BEGIN")
        first = int(conn.execute("SELECT MAX(id) FROM cases").fetchone()[0]) + 1
        _clone(conn, queued_ref, 2024, queued - 1, first)
        _clone(conn, assigned_ref, 2025, open_cases - queued - 1, first + queued)
        conn.execute("DELETE FROM stats_rollup_state")  # the clones bypassed the rollups: rebuilt at start
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    core = await open_core(settings, clock=clock, fallback=NullSender())
    return core, clock


# --- measuring -------------------------------------------------------------------------------------
class _Raw:
    """Direct SQL on the benchmark's store, outside the bot: the SQLite file, or the PostgreSQL database (the
    statement translated as the bot's PostgreSQL dialect does)."""

    def __init__(self, path: Path, url: str | None) -> None:
        self.path, self.url = path, url

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        if self.url is None:
            conn = sqlite3.connect(self.path, isolation_level=None)
            try:
                conn.execute(sql, params)
            finally:
                conn.close()
            return
        import psycopg

        from bot.store.dialects.postgresql import translate

        with psycopg.connect(self.url, autocommit=True) as pg:
            pg.execute(translate(sql), params)  # type: ignore[arg-type]


async def copy_to_postgres(path: Path) -> str:
    """The SQLite store at `path` copied into a fresh, migrated PostgreSQL database (as `gfi-bot migrate-store`
    copies), then vacuumed and analysed; its URL."""
    import psycopg

    from bench.bench_slack_acks import fresh_postgres
    from bot.store.postgres import PostgresDatabase
    from bot.store.transfer import _copy

    url = fresh_postgres()
    target = PostgresDatabase(url)
    await target.open()
    await target.close()
    await asyncio.to_thread(_copy, path, url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return url


async def to_postgres(path: Path, core: Core, clock: FrozenClock) -> tuple[Core, str]:
    """Copy the built SQLite store into a fresh PostgreSQL database (as `gfi-bot migrate-store` does) and open
    the bot on it."""
    await core.close()
    url = await copy_to_postgres(path)
    settings = Settings(db_path=path, directory_path=DEFAULT_DIRECTORY, _env_file=None)
    settings.database_url = SecretStr(url)
    return await open_core(settings, clock=clock, fallback=NullSender()), url


async def measure(open_cases: int, engine: str = "sqlite") -> list[Row]:
    """Every figure at one scale, on one engine."""
    scale = f"{open_cases:,} open".replace(",", " ") + ("" if engine == "sqlite" else ", PostgreSQL")
    timer = DbTimer()
    timer.install()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="gfi-bench-scale-") as tmp:
        path = Path(tmp) / "scale.sqlite3"
        t0 = time.perf_counter()
        core, clock = await build(path, open_cases)
        url: str | None = None
        if engine == "postgresql":
            core, url = await to_postgres(path, core, clock)
        raw = _Raw(path, url)
        built = time.perf_counter() - t0
        try:
            count = int(await _scalar(core, "SELECT COUNT(*) FROM cases WHERE state != 'closed'"))
            assert count == open_cases, count
            clock.advance(timedelta(minutes=30))
            await core.tick()  # warm: the day's purge, caches
            idle = []
            for _ in range(5):
                t0 = time.perf_counter()
                await core.tick()
                idle.append(time.perf_counter() - t0)
            rows.append(Row("sweeps", f"idle tick, {scale}", min(idle) * 1000, "ms", target="O(1), < 10 ms",
                            met=min(idle) < 0.010))

            # `gfi-bot run` compiles every template at start, before its first sweep, then freezes its start-up heap
            # (bot/runtime.py `_compile`, bot/heap.py: a full garbage collection no longer scans it; without it one
            # took 23–30 ms here, inside a sweep's unit as often as not); the first sweep then still warms caches:
            # a small one, timed apart.
            t0 = time.perf_counter()
            templates = await asyncio.to_thread(core.renderer.compile_all)
            rows.append(Row("sweeps", f"templates compiled at start ({templates}, on a worker thread)",
                            (time.perf_counter() - t0) * 1000, "ms"))
            heap.freeze()
            _make_due(raw, clock.now(), WARM_UP, WARM_UP)
            t0 = time.perf_counter()
            warm = await sweep_due(core)
            rows.append(Row("sweeps", f"first sweep after start, {warm} due (templates compiled), {scale}",
                            (time.perf_counter() - t0) * 1000, "ms"))
            clock.advance(timedelta(minutes=1))
            raw.execute("UPDATE awaiting SET due_at = ? WHERE due_at <= ? AND resolved_at IS NULL",
                        ((clock.now() + timedelta(days=30)).astimezone(ZoneInfo("UTC")).isoformat(),
                         clock.now().astimezone(ZoneInfo("UTC")).isoformat()))
            _make_due(raw, clock.now())
            timer.start()
            t0 = time.perf_counter()
            fired = await sweep_due(core)
            wall = time.perf_counter() - t0
            timer.stop()
            assert fired == DUE_ESCALATIONS + DUE_REMINDERS, fired
            again = await sweep_due(core)
            assert again == 0, again
            rows.append(Row("sweeps", f"sweep tick, 10³ due, {scale}: database time", timer.db_seconds * 1000,
                            "ms", target="< 100 ms", met=timer.db_seconds < 0.100))
            rows.append(Row("sweeps", f"sweep tick, 10³ due, {scale}: wall", wall * 1000, "ms"))
            rows.append(Row("sweeps", f"sweep tick, 10³ due, {scale}: longest transaction",
                            timer.longest_tx * 1000, "ms", target="< 20 ms", met=timer.longest_tx < 0.020))
            side = "database threads" if engine == "sqlite" else "client side only"
            rows.append(Row("sweeps", f"sweep tick, 10³ due, {scale}: database time in CPU ({side})",
                            timer.db_cpu * 1000, "ms"))
            rows.append(Row("sweeps", f"sweep tick, 10³ due, {scale}: longest transaction in CPU ({side})",
                            timer.longest_cpu * 1000, "ms"))

            clock.set(SLOT)
            queued = open_cases // 10
            t0 = time.perf_counter()
            sent = await run_distribution(core)
            slot = time.perf_counter() - t0
            assert sent >= 1, sent
            rows.append(Row("distribution", f"slot, {queued:,} queued in one unit".replace(",", " "), slot * 1000,
                            "ms", target="< 1 s", met=slot < 1.0))

            worst = 0.0
            for person in (REQUESTER, DISTRIBUTOR, *ASSIGNEES):
                worst = max(worst, await _home(core, person))
            rows.append(Row("home", f"Home refresh, one person (median of {HOMES}), {scale}", worst * 1000, "ms",
                            target="< 100 ms", met=worst < 0.100))
            # a coordinator's Home: the twelve months of statistics (every clone is a request of the period)
            took = await _home(core, COORDINATOR)
            rows.append(Row("home", f"Home refresh, coordinator (12 months of statistics, median of {HOMES}), {scale}",
                            took * 1000, "ms", target="< 50 ms", met=took < 0.050))
        finally:
            await core.close()
            timer.uninstall()
            heap.thaw()  # as a stopping bot does: the next scale's store is not kept frozen
        if url is None:
            size = _disk_bytes(Path(tmp))
            rows.append(Row("storage", f"bytes on disk per open case, {scale}", size / open_cases, "B"))
        rows.append(Row("storage", f"build {scale} (bulk insert)", built, "s"))
    return rows


async def _home(core: Core, person: str) -> float:
    """The median time of HOMES refreshes of a person's Home (loading and rendering the view), after one to warm
    up (templates compiled, pages cached): one refresh on a loaded machine is mostly the machine's noise."""
    home_view(core.renderer, await load_home(core, person))
    times = []
    for _ in range(HOMES):
        t0 = time.perf_counter()
        home_view(core.renderer, await load_home(core, person))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _disk_bytes(folder: Path) -> int:
    """The database, its log and anything else SQLite keeps in `folder`."""
    return sum(p.stat().st_size for p in folder.iterdir())


async def _scalar(core: Core, sql: str) -> Any:
    async with core.db.transaction() as tx:
        return await tx.scalar(sql)


async def rows(quick: bool) -> list[Row]:
    """The figures: 10⁴ open cases in quick mode, 10⁴, 10⁵ and 10⁶ otherwise."""
    out: list[Row] = []
    try:
        from bench.bench_slack_acks import postgres_available
    except ModuleNotFoundError:  # run as a script: bench/ is on the path, the project root is not
        from bench_slack_acks import postgres_available  # type: ignore[no-redef]

    for n in SCALES[:1] if quick else SCALES:
        out.extend(await measure(n))
    if postgres_available():  # PostgreSQL beside SQLite, at 10⁴ (quick) and 10⁵ open cases
        for n in SCALES[:1] if quick else SCALES[:2]:
            out.extend(await measure(n, "postgresql"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.append(Row("storage", "peak RSS (scale benchmark)", rss, "MiB"))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10⁴ open cases only")
    parser.add_argument("--cases", type=int, help="one scale only (e.g. 100000)")
    args = parser.parse_args()
    if args.cases:
        SCALES = (args.cases,)
    os.environ.setdefault("GFI_LOG_LEVEL", "WARNING")
    print_table(asyncio.run(rows(args.quick or False)))
