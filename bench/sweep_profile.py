"""Where a sweep's database time goes: each statement of a sweep of 10³ due items, with its count, total and
longest time, and the plans of the sweep's reads (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL).

Run:  PYTHONPATH=. .venv/bin/python bench/sweep_profile.py [--cases 100000] [--engine sqlite|postgresql]

Builds the same store as `bench/bench_scale.py` (and removes it afterwards). The statements are timed where
they run, on the connection's thread. On PostgreSQL a unit's statements are pipelined: a statement whose answer
is read later (`Tx.*_soon`) shows twice, "(send) …" for sending it and "(answer) …" for reading its answer
(the wait for the server, when the answer has not come with an earlier read); what no statement read is waited
for when the pipeline ends, the row "(pipeline exit …)", before the COMMIT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.bench_scale import START, WARM_UP, DbTimer, NullSender, _make_due, _Raw, build, to_postgres
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from bot.ladder.scheduled import sweep_due
from bot.store import group as group_module
from bot.store import tx as tx_module
from bot.store import unit as unit_module
from bot.store import writers as writers_module

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
            from bot.store.postgres import PgTx

            for name in ("_run", "_write", "_many"):
                wrap(PgTx, name, 1)
            self._wrap_pipelined(PgTx, patched)
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
        timed_unit(writers_module)  # PostgreSQL's write pool calls `_unit` by its own name
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

    def _wrap_pipelined(self, pg_tx: Any, patched: list[tuple[Any, str, Any]]) -> None:
        """PostgreSQL's pipelined statements: the send and the reading of the answer of `_soon`, and the
        pipeline's exit (`batch`), where the answers nobody read are waited for."""
        timer = self
        original_soon, original_batch = pg_tx._soon, pg_tx.batch
        patched += [(pg_tx, "_soon", original_soon), (pg_tx, "batch", original_batch)]

        def soon(tx: Any, sql: str, params: Any, want: str) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            answer = original_soon(tx, sql, params, want)
            read = answer._read  # the bench reads our own Soon's reader, to time it
            if read is None:  # outside a pipeline: answered at once, timed by `_run`
                return answer
            timer.add(f"(send) {sql}", time.perf_counter() - t0, time.thread_time() - c0)

            def timed_read() -> Any:
                r0, rc0 = time.perf_counter(), time.thread_time()
                try:
                    return read()
                finally:
                    timer.add(f"(answer) {sql}", time.perf_counter() - r0, time.thread_time() - rc0)

            answer._read = timed_read
            return answer

        @contextmanager
        def batch(tx: Any) -> Iterator[None]:
            began: dict[str, float] = {}
            with contextlib.ExitStack() as stack:  # callbacks run last first: the exit is timed alone
                stack.callback(lambda: timer.add("(pipeline exit: the answers no statement read)",
                                                 time.perf_counter() - began["t"], time.thread_time() - began["c"]))
                stack.enter_context(original_batch(tx))
                stack.callback(lambda: began.update(t=time.perf_counter(), c=time.thread_time()))
                yield

        pg_tx._soon = soon
        pg_tx.batch = batch

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


async def _copy_of(source: Path, path: Path) -> tuple[Core, FrozenClock]:
    """The core on a copy of a store `build` made before (and closed): the same clock as `build` leaves it."""
    await asyncio.to_thread(shutil.copyfile, source, path)
    clock = FrozenClock(START + timedelta(minutes=1))
    settings = Settings(db_path=path, directory_path=DEFAULT_DIRECTORY, _env_file=None)
    return await open_core(settings, clock=clock, fallback=NullSender()), clock


async def main(cases: int, engine: str, source: Path | None = None) -> None:
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
        finally:
            timer.uninstall()
            await core.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--copy", type=Path, help="a copy of this store (built by bench_scale.build and closed), "
                                                  "not a new one")
    args = parser.parse_args()
    os.environ.setdefault("GFI_LOG_LEVEL", "WARNING")
    run: Callable[[], Any] = lambda: main(args.cases, args.engine, args.copy)  # noqa: E731
    asyncio.run(run())
