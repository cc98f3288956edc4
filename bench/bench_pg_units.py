"""Benchmark of how a PostgreSQL unit of work is run, apart from what it runs (issue #22 item 8, CPU per filing).

A unit shaped like a filing (BEGIN, a read, three writes, a read, three writes, COMMIT, in psycopg's pipeline
mode: three waits for the server), run by `C` clients at once on a pool of connections, while the event loop also
runs a fixed amount of Python per unit (the request's own work, ~0.9 ms, the same in every model). Models:

- `threads`: as `bot.store.writers` does today: a synchronous connection per thread, the unit handed to its
  thread (`run_in_executor`), `--conns` connections;
- `async`: the unit as a coroutine on the event loop over psycopg's `AsyncConnection`s (no thread, no hand-off):
  what the engine would be if its units ran on the loop;
- `store`: the same unit through the bot's own store (`PostgresDatabase.run`, its write pool and Tx, as this
  checkout has them: on threads before issue #22 item 8, on the event loop after); `--gfi-root` runs another
  checkout's store (e.g. main before a change).

Printed per model: units per second, the process's CPU per unit (user + system), voluntary context switches per
unit, and the load. The difference between models is what running a unit costs beyond its statements: the
threads' hand-offs and their contention for the interpreter's lock (each wait of psycopg, and each libpq call it
makes without the GIL, lets another thread take it).

Run:  PYTHONPATH=. .venv/bin/python bench/bench_pg_units.py [--units 1500] [--clients 16] [--conns 4]
      [--model threads --model async --model store] [--gfi-root PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from the repository root

from bench.bench_slack_acks import fresh_postgres

COLUMNS = 14
INSERT = (f"INSERT INTO t ({', '.join(f'c{i}' for i in range(COLUMNS))}) "
          f"VALUES ({', '.join(['%s'] * COLUMNS)})")
PARAMS = (*(f"value {i}" for i in range(COLUMNS - 2)), 1, 2)
READ = "SELECT id, c0 FROM t WHERE id = %s"


def python_work(ms: float) -> None:
    """Burn `ms` of this thread's CPU in Python (the request's own work: parsing, rendering)."""
    end = time.thread_time() + ms / 1000
    while time.thread_time() < end:
        sum(range(50))


def sync_unit(conn: psycopg.Connection[Any]) -> None:
    with conn.pipeline():
        conn.execute("BEGIN")
        for _ in range(2):
            cursor = conn.cursor()
            cursor.execute(READ, (1,))
            cursor.fetchone()
            python_work(0.05)
            for _ in range(3):
                conn.execute(INSERT, PARAMS)
        conn.execute("COMMIT")


async def async_unit(conn: psycopg.AsyncConnection[Any]) -> None:
    async with conn.pipeline():
        await conn.execute("BEGIN")
        for _ in range(2):
            cursor = conn.cursor()
            await cursor.execute(READ, (1,))
            await cursor.fetchone()
            python_work(0.05)
            for _ in range(3):
                await conn.execute(INSERT, PARAMS)
        await conn.execute("COMMIT")


async def store_unit(tx: Any) -> None:
    """`sync_unit` as a unit of work of the bot's store (its Tx, SQLite's placeholders, translated)."""
    for _ in range(2):
        await tx.fetchone(READ.replace("%s", "?"), (1,))
        python_work(0.05)
        for _ in range(3):
            await tx.write(INSERT.replace("%s", "?"), PARAMS)


async def pool(model: str, url: str, conns: int) -> tuple[Callable[[], Awaitable[None]], Callable[[], None]]:
    """One unit on an idle connection of the pool, and how to close the pool."""
    if model == "store":
        from bot.store.postgres import PostgresDatabase

        db = PostgresDatabase(url, writers=conns)
        await db.open()

        async def one_s() -> None:
            await db.run(store_unit)

        def close_s() -> None:
            asyncio.get_event_loop().create_task(db.close())

        return one_s, close_s
    if model == "threads":
        threads = [(ThreadPoolExecutor(1), psycopg.connect(url, autocommit=True)) for _ in range(conns)]
        idle_t: asyncio.Queue[tuple[ThreadPoolExecutor, psycopg.Connection[Any]]] = asyncio.Queue()
        for item in threads:
            idle_t.put_nowait(item)

        async def one_t() -> None:
            executor, conn = await idle_t.get()
            try:
                await asyncio.get_running_loop().run_in_executor(executor, sync_unit, conn)
            finally:
                idle_t.put_nowait((executor, conn))

        def close_t() -> None:
            for executor, conn in threads:
                conn.close()
                executor.shutdown()

        return one_t, close_t
    aconns = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(conns)]
    idle_a: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
    for aconn in aconns:
        idle_a.put_nowait(aconn)

    async def one_a() -> None:
        aconn = await idle_a.get()
        try:
            await async_unit(aconn)
        finally:
            idle_a.put_nowait(aconn)

    def close_a() -> None:
        for aconn in aconns:
            aconn.pgconn.finish()

    return one_a, close_a


async def measure(model: str, url: str, units: int, clients: int, conns: int) -> None:
    one, close = await pool(model, url, conns)

    async def run(total: int) -> None:
        counter = itertools.count()

        async def client() -> None:
            while next(counter) < total:
                python_work(0.4)  # the request before its unit
                await asyncio.sleep(0)
                await one()
                python_work(0.4)  # and after it
                await asyncio.sleep(0)

        await asyncio.gather(*(client() for _ in range(clients)))

    try:
        await run(200)  # warm-up: connections, prepared statements
        before, began = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        await run(units)
        after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - began
    finally:
        close()
        await asyncio.sleep(0.1)  # the store's close, where it is a task
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / units * 1000
    print(f"{model:8s} ({conns} connections, c={clients}): {units / wall:5.0f} units/s, CPU {cpu:.2f} ms per unit "
          f"(system {(after.ru_stime - before.ru_stime) / units * 1000:.2f}), "
          f"{(after.ru_nvcsw - before.ru_nvcsw) / units:.1f} voluntary context switches per unit, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--conns", type=int, default=4)
    parser.add_argument("--model", action="append", choices=("threads", "async", "store"))
    parser.add_argument("--gfi-root", type=Path, help="the checkout whose store `--model store` runs")
    parser.add_argument("--rounds", type=int, default=2, help="each model this many times, alternating")
    args = parser.parse_args()
    if args.gfi_root is not None:
        sys.path.insert(0, str(args.gfi_root.resolve()))
        for name in [n for n in sys.modules if n == "bot" or n.startswith("bot.")]:
            del sys.modules[name]
    url = fresh_postgres()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE t (id bigserial PRIMARY KEY, "
                     f"{', '.join(f'c{i} text' for i in range(COLUMNS - 2))}, c12 integer, c13 bigint)")
        conn.execute(INSERT, PARAMS)
    for _ in range(args.rounds):
        for model in args.model or ["threads", "async"]:
            asyncio.run(measure(model, url, args.units, args.clients, args.conns))


if __name__ == "__main__":
    main()
