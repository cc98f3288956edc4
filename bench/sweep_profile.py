"""Where a sweep's database time goes: each statement of a sweep of 10³ due items, with its count, total and
longest time, and the plans of the sweep's reads (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL).

Run:  PYTHONPATH=. .venv/bin/python bench/sweep_profile.py [--cases 100000] [--engine sqlite|postgresql] [--repeat N]

Builds the same store as `bench/bench_scale.py` (and removes it afterwards). The statements are timed where
they run, on the connection's thread. On PostgreSQL a unit's statements are pipelined: a statement whose answer
is read later (`Tx.*_soon`) shows twice, "(send) …" for sending it and "(answer) …" for reading its answer
(the wait for the server, when the answer has not come with an earlier read); what no statement read is waited
for when the pipeline ends, the row "(pipeline exit …)", before the COMMIT.

`--repeat N`: N more sweeps of 10³ due after the profiled one (other items and timers each time), their database
time and longest transaction: the sweep once the store's statements have run often enough on every connection to
be prepared and planned once (psycopg prepares a statement after five runs on a connection, PostgreSQL plans
a prepared one five more times before it keeps a generic plan), as in a bot that has run a while; the profiled
sweep, right after a warm-up of one batch, plans nearly every statement. They are timed as `bench_scale` times
(whole units), without the per-statement timing, which costs the profiled sweep time of its own.

On PostgreSQL the profiled sweep's statements are also listed as the server saw them (`pg_stat_statements`):
planning and execution time, WAL records and full-page images. The cluster the profile starts loads it; a server
of your own (GFI_BENCH_POSTGRES) must load it too (`shared_preload_libraries`, with
`pg_stat_statements.track_planning = on`), else that list is left out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.bench_scale import (
    DUE_ESCALATIONS,
    DUE_REMINDERS,
    START,
    WARM_UP,
    DbTimer,
    NullSender,
    _make_due,
    _Raw,
    build,
    to_postgres,
)
from bot import heap
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from bot.ladder.scheduled import sweep_due
from bot.store import group as group_module
from bot.store import tx as tx_module
from bot.store import unit as unit_module

UTC = ZoneInfo("UTC")


def _key(sql: str) -> str:
    """A statement as one line, its VALUES and IN lists folded: the same statement of any batch size."""
    sql = " ".join(sql.split())
    sql = re.sub(r"\((\?, )*\?\)(, \((\?, )*\?\))+", "(…)…", sql)
    sql = re.sub(r"IN \((\?, ?)*\?\)", "IN (…)", sql)
    return sql[:110]


@dataclass
class Statements:
    """Time per statement (by `_key`) while `on`."""

    on: bool = False
    times: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def add(self, sql: str, took: float, cpu: float) -> None:
        """`took` seconds of wall time, `cpu` of the thread's CPU time (what a busy machine does not stretch)."""
        if self.on:
            self.times.setdefault(_key(sql), []).append((took, cpu))

    @contextmanager
    def installed(self, engine: str) -> Iterator[None]:
        patched: list[tuple[Any, str, Any]] = []

        def wrap(owner: Any, name: str, sql_at: int) -> None:
            original = getattr(owner, name)
            patched.append((owner, name, original))
            timer = self

            def timed(*args: Any) -> Any:
                t0, c0 = time.perf_counter(), time.thread_time()
                try:
                    return original(*args)
                finally:
                    timer.add(str(args[sql_at]), time.perf_counter() - t0, time.thread_time() - c0)

            setattr(owner, name, timed)

        wrap(tx_module, "_run", 1)  # SQLite's Tx._run and _write: (conn, sql, params, want)
        wrap(tx_module.Tx, "_many", 1)
        if engine == "postgresql":
            self._wrap_async(patched)
        timer = self

        class Timed:
            """The write connection, its own statements (BEGIN, SAVEPOINT, COMMIT) timed."""

            def __init__(self, conn: Any) -> None:
                self._conn = conn

            def execute(self, sql: str, *args: Any) -> Any:
                t0, c0 = time.perf_counter(), time.thread_time()
                try:
                    return self._conn.execute(sql, *args)
                finally:
                    if sql.split()[0] in ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK"):
                        timer.add(sql, time.perf_counter() - t0, time.thread_time() - c0)

            def __getattr__(self, name: str) -> Any:
                return getattr(self._conn, name)

        def timed_unit(module: Any) -> None:
            original_unit = module._unit
            patched.append((module, "_unit", original_unit))

            def unit(conn: Any, tx_type: Any, begin: str, end: str, work: Any) -> Any:
                # the whole unit (BEGIN, statements, the COMMIT/ROLLBACK and the Python work between statements)
                kind = "read" if end == "ROLLBACK" else "write"
                t0, c0 = time.perf_counter(), time.thread_time()
                try:
                    return original_unit(Timed(conn) if kind == "write" else conn, tx_type, begin, end, work)
                finally:
                    timer.add(f"({kind} unit whole: {begin} … {end})", time.perf_counter() - t0,
                              time.thread_time() - c0)

            module._unit = unit

        timed_unit(unit_module)
        original_apply = group_module.apply
        patched.append((group_module, "apply", original_apply))

        def apply(conn: Any, tx_type: Any, begin: str, queued: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return original_apply(Timed(conn), tx_type, begin, queued)
            finally:
                timer.add(f"(write unit whole: {begin} … COMMIT)", time.perf_counter() - t0, time.thread_time() - c0)

        group_module.apply = apply  # type: ignore[assignment]
        try:
            yield
        finally:
            for owner, name, original in reversed(patched):
                setattr(owner, name, original)

    def _wrap_async(self, patched: list[tuple[Any, str, Any]]) -> None:
        """PostgreSQL's units, coroutines on the event loop over pipelined connections (`bot.store.pgunit`): each
        unit whole, and its statements: a statement answered at once (`_run`) from its send to its answer, one
        whose answer is read later (`_soon`) twice, "(send) …" and "(answer) …" (the wait for the server, when the
        answer has not come with an earlier read), and one nobody reads (`_write`, "(send) …") only as sent. The
        unit's last wait, "(pipeline exit …)", is for the COMMIT and every answer no statement read. CPU is the
        loop thread's meanwhile (other tasks' included)."""
        from bot.store import pgunit

        timer = self
        tx_type = pgunit.AsyncPgTx
        originals = {name: getattr(tx_type, name) for name in ("_run", "_soon", "_write", "_many")}
        original_apply, original_pipelined = pgunit.apply, tx_type.pipelined
        patched += [(tx_type, name, fn) for name, fn in originals.items()]
        patched += [(pgunit, "apply", original_apply), (tx_type, "pipelined", original_pipelined)]

        def timed(name: str, label: str) -> Any:
            original = originals[name]

            async def run(tx: Any, sql: str, *args: Any) -> Any:
                t0, c0 = time.perf_counter(), time.thread_time()
                try:
                    return await original(tx, sql, *args)
                finally:
                    timer.add(label + sql, time.perf_counter() - t0, time.thread_time() - c0)

            return run

        async def soon(tx: Any, sql: str, params: Any, want: str) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            answer = await originals["_soon"](tx, sql, params, want)
            read = answer._read  # the bench reads our own Soon's reader, to time it
            if read is None:  # outside a pipeline: answered at once, timed by `_run`
                return answer
            timer.add(f"(send) {sql}", time.perf_counter() - t0, time.thread_time() - c0)

            async def timed_read() -> Any:
                r0, rc0 = time.perf_counter(), time.thread_time()
                try:
                    return await read()
                finally:
                    timer.add(f"(answer) {sql}", time.perf_counter() - r0, time.thread_time() - rc0)

            answer._read = timed_read
            return answer

        @contextlib.asynccontextmanager
        async def pipelined(tx: Any) -> Any:
            began: dict[str, float] = {}
            async with contextlib.AsyncExitStack() as stack:  # callbacks run last first: the exit is timed alone
                stack.callback(lambda: timer.add("(pipeline exit: the COMMIT and the answers no statement read)",
                                                 time.perf_counter() - began["t"], time.thread_time() - began["c"]))
                await stack.enter_async_context(original_pipelined(tx))
                stack.callback(lambda: began.update(t=time.perf_counter(), c=time.thread_time()))
                yield

        async def apply(conn: Any, begin: str, work: Any, gave_up: Any) -> Any:
            kind = "read" if "READ ONLY" in begin.upper() else "write"
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return await original_apply(conn, begin, work, gave_up)
            finally:
                timer.add(f"({kind} unit whole: {begin} … COMMIT)", time.perf_counter() - t0,
                          time.thread_time() - c0)

        tx_type._run = timed("_run", "")
        tx_type._write = timed("_write", "(send) ")
        tx_type._many = timed("_many", "")
        tx_type._soon = soon
        tx_type.pipelined = pipelined
        pgunit.apply = apply  # type: ignore[assignment]

    def print(self) -> None:
        rows = sorted(self.times.items(), key=lambda kv: -sum(t for t, _ in kv[1]))
        print(f"{'count':>6} {'total ms':>9} {'max ms':>7} {'cpu ms':>7} {'max cpu':>7}  statement")
        for sql, ts in rows:
            wall, cpu = [t for t, _ in ts], [c for _, c in ts]
            print(f"{len(ts):6d} {sum(wall) * 1000:9.2f} {max(wall) * 1000:7.2f} {sum(cpu) * 1000:7.2f} "
                  f"{max(cpu) * 1000:7.2f}  {sql}")


PLANNED_READS = (
    "SELECT * FROM timers WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
    "SELECT * FROM awaiting WHERE resolved_at IS NULL AND due_at IS NOT NULL AND due_at <= ? "
    "ORDER BY due_at, id LIMIT ?",
)


def explain(raw: _Raw, url: str | None, at: str) -> None:
    """The plans of the sweep's due reads."""
    for sql in PLANNED_READS:
        print("\n" + sql)
        if url is None:
            import sqlite3

            conn = sqlite3.connect(raw.path)
            try:
                for row in conn.execute("EXPLAIN QUERY PLAN " + sql, (at, 100)):
                    print("   ", row[-1])
            finally:
                conn.close()
        else:
            import psycopg

            from bot.store.dialects.postgresql import translate

            with psycopg.connect(url, autocommit=True) as pg:
                for row in pg.execute("EXPLAIN (ANALYZE, BUFFERS) " + translate(sql), (at, 100)):  # type: ignore[arg-type]
                    print("   ", row[0])


def _server_start(url: str | None) -> bool:
    """Reset `pg_stat_statements` on the bench's database, if the server loads it (else False: not listed)."""
    if url is None:
        return False
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            pg.execute("SELECT pg_stat_statements_reset()")
    except psycopg.Error:
        return False
    return True


def _server_print(url: str) -> None:
    """The statements as the server saw them since `_server_start` (this database's only)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        rows = pg.execute(
            "SELECT calls, plans, total_plan_time, total_exec_time, wal_records, wal_fpi, "
            "left(regexp_replace(query, '\\s+', ' ', 'g'), 90) FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND query NOT LIKE '%pg_stat_statements%' ORDER BY total_plan_time + total_exec_time DESC").fetchall()
    print(f"\nthe server: planning {sum(r[2] for r in rows):.1f} ms, execution {sum(r[3] for r in rows):.1f} ms")
    print(f"{'calls':>6} {'plans':>6} {'plan ms':>8} {'exec ms':>8} {'WAL rec':>8} {'FPI':>5}  statement")
    for calls, plans, plan, run, records, fpi, query in rows:
        print(f"{calls:6d} {plans:6d} {plan:8.2f} {run:8.2f} {records:8d} {fpi:5d}  {query}")


def _due_again(raw: _Raw, at: datetime, round_: int) -> None:
    """Another 10³ due for a repeated sweep: the next acknowledgements by id (not those fired before, now on a
    higher rung) and the next pending consent reminders."""
    past = (at - timedelta(minutes=5)).astimezone(UTC).isoformat()
    raw.execute("UPDATE awaiting SET due_at = ? WHERE id IN (SELECT id FROM awaiting WHERE resolved_at IS NULL "
                "AND kind = 'acknowledgement' ORDER BY id DESC LIMIT ? OFFSET ?)",
                (past, DUE_ESCALATIONS, round_ * DUE_ESCALATIONS))
    raw.execute("UPDATE timers SET due_at = ? WHERE id IN (SELECT id FROM timers WHERE done_at IS NULL "
                "AND kind = 'consent_expiring' ORDER BY id DESC LIMIT ?)", (past, DUE_REMINDERS))


async def _repeat(core: Core, clock: FrozenClock, raw: _Raw, timer: DbTimer, rounds: int) -> None:
    """`rounds` more sweeps of 10³ due (see the module), each's database time and longest transaction."""
    times = []
    for n in range(1, rounds + 1):
        clock.advance(timedelta(minutes=1))
        _due_again(raw, clock.now(), n)
        timer.start()
        fired = await sweep_due(core)
        timer.stop()
        times.append(timer.db_seconds * 1000)
        print(f"repeat {n}: fired {fired}; database time {timer.db_seconds * 1000:.1f} ms, longest transaction "
              f"{timer.longest_tx * 1000:.2f} ms, load {os.getloadavg()[0]:.2f}")
    if times:
        print(f"repeated sweeps: database time median {statistics.median(times):.1f} ms "
              f"({min(times):.1f}–{max(times):.1f})")


async def _copy_of(source: Path, path: Path) -> tuple[Core, FrozenClock]:
    """The core on a copy of a store `build` made before (and closed): the same clock as `build` leaves it."""
    await asyncio.to_thread(shutil.copyfile, source, path)
    clock = FrozenClock(START + timedelta(minutes=1))
    settings = Settings(db_path=path, directory_path=DEFAULT_DIRECTORY, _env_file=None)
    return await open_core(settings, clock=clock, fallback=NullSender()), clock


# the server settings of the cluster the profile starts (`_cluster`): every statement's planning and execution
STATEMENT_STATS = "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on"


def _cluster() -> None:
    """The bench's PostgreSQL (`bench_slack_acks.fresh_postgres`) started here, loading `pg_stat_statements`,
    unless GFI_BENCH_POSTGRES names a server of your own."""
    from bench import bench_slack_acks
    from tests import pg

    if not bench_slack_acks._PG and not os.environ.get("GFI_BENCH_POSTGRES"):
        bench_slack_acks._PG.append(pg.start_cluster(durable=True, options=STATEMENT_STATS))


async def main(cases: int, engine: str, source: Path | None = None, repeat: int = 0) -> None:
    if engine == "postgresql":
        _cluster()
    with tempfile.TemporaryDirectory(prefix="gfi-sweep-profile-") as tmp:
        path = Path(tmp) / "scale.sqlite3"
        core, clock = await (build(path, cases) if source is None else _copy_of(source, path))
        url: str | None = None
        if engine == "postgresql":
            core, url = await to_postgres(path, core, clock)
        raw = _Raw(path, url)
        stmts = Statements()
        timer = DbTimer()
        try:
            clock.advance(timedelta(minutes=30))
            await core.tick()
            t0 = time.perf_counter()
            await asyncio.to_thread(core.renderer.compile_all)
            print(f"templates compiled: {(time.perf_counter() - t0) * 1000:.1f} ms")
            heap.freeze()  # as `gfi-bot run` does once its templates are compiled (bench_scale.measure)
            _make_due(raw, clock.now(), WARM_UP, WARM_UP)
            t0 = time.perf_counter()
            await sweep_due(core)
            print(f"first sweep (templates compiled): {(time.perf_counter() - t0) * 1000:.1f} ms")
            clock.advance(timedelta(minutes=1))
            raw.execute("UPDATE awaiting SET due_at = ? WHERE due_at <= ? AND resolved_at IS NULL",
                        ((clock.now() + timedelta(days=30)).astimezone(UTC).isoformat(),
                         clock.now().astimezone(UTC).isoformat()))
            _make_due(raw, clock.now())
            explain(raw, url, clock.now().astimezone(UTC).isoformat())
            server = _server_start(url)
            timer.install()
            with stmts.installed(engine):
                stmts.on = True
                timer.start()
                t0 = time.perf_counter()
                fired = await sweep_due(core)
                wall = time.perf_counter() - t0
                timer.stop()
                stmts.on = False
            print(f"\nfired {fired}; database time {timer.db_seconds * 1000:.1f} ms, longest transaction "
                  f"{timer.longest_tx * 1000:.2f} ms, {timer.transactions} transactions, wall {wall * 1000:.0f} ms,"
                  f" load {os.getloadavg()[0]:.2f}\n")
            stmts.print()
            if server and url is not None:
                _server_print(url)
            print()
            await _repeat(core, clock, raw, timer, repeat)
        finally:
            timer.uninstall()
            await core.close()
            heap.thaw()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=0, help="more sweeps of 10³ due after the profiled one")
    parser.add_argument("--copy", type=Path, help="a copy of this store (built by bench_scale.build and closed), "
                                                  "not a new one")
    args = parser.parse_args()
    os.environ.setdefault("GFI_LOG_LEVEL", "WARNING")
    run: Callable[[], Any] = lambda: main(args.cases, args.engine, args.copy, args.repeat)  # noqa: E731
    asyncio.run(run())
