"""Benchmark of a real `gfi-bot run` on a large store: `/gfi` acks while a coordinator's Home refreshes, and the
process's memory after sweeps, a distribution slot and Home refreshes (issue #21 items 5 and 6).

The store is built as bench/bench_scale.py builds it (real services for two template cases, then cloned in
bulk: a tenth of the open cases queued in soc-norr, the rest assigned), every open due time is moved a month
ahead except 10³ (500 escalations, 500 consent reminders) made due now, and `gfi-bot run` is started on it
against the fake Slack Web API, as bench/bench_slack_acks.py starts it. This process plays Slack:

- `/gfi` ack p99 at concurrency 16, measured with the bot otherwise idle and while the coordinator's App Home
  (twelve months of statistics, the failed deliveries, the open escalations) is opened again and again, in
  interleaved rounds, beside the bare slack-bolt app's `/gfi` ack p99 measured in the same run (the floor);
- the peak RSS of the bot's process (VmHWM in /proc/<pid>/status) after its start-up (the missed slot of
  soc-norr's queue is distributed once: a slot with the whole queue), the sweep of 10³ due items, and Home
  refreshes of a requester, a distributor, an assignee and the coordinator.

The acks are measured on PostgreSQL too (when there is a server or the binaries: GFI_BENCH_POSTGRES, else a
cluster started here with fsync on): the same store copied into PostgreSQL as `gfi-bot migrate-store` copies,
`gfi-bot run` on it (its writer pool, its leader sweeping), the bare app in the same interleaved rounds.

Run:  PYTHONPATH=. .venv/bin/python bench/bench_busy.py [--quick] [--cases N] [--engine sqlite|postgresql]
(quick: 10⁴ open cases; the full run: 10⁵ for the acks and 10⁶ for memory; several minutes)

Building the store takes longer than measuring on it. `--keep DIR` keeps the prepared store in DIR and reuses it
in the next runs (each run works on a copy); with GFI_BENCH_POSTGRES (a server you run) its PostgreSQL copy is
kept there too, as a template database each run clones. `--prepare` builds them and measures nothing, so that
on a shared machine only the timed part needs the machine quiet:
      PYTHONPATH=. .venv/bin/python bench/bench_busy.py --keep /tmp/busy --engine postgresql --prepare
      PYTHONPATH=. .venv/bin/python bench/bench_busy.py --keep /tmp/busy --engine postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from the repository root

from bench.bench_scale import DUE_ESCALATIONS, DUE_REMINDERS, _make_due, _Raw, build, copy_to_postgres
from bench.bench_slack_acks import (
    ROOT,
    SECRET,
    Target,
    closed_loop,
    command_line,
    free_port,
    pct,
    postgres_available,
    ready,
    running,
)
from bench.table import Row, print_table
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import app_home_opened_event, event_body, signed_headers

CONCURRENCY = 16
ROUNDS = 3  # interleaved rounds: idle, busy (and the bare app's floor once per round)
COORDINATOR = "U03SARA"  # sara.holm, coordinator
HOMES = ("U05YUSUF", "U01ANNA", "U01MARIA", "U01OMAR", COORDINATOR)  # requester, distributor, assignees
REFRESH_GAP = 0.02  # seconds between two Home openings by the coordinator while busy


def _pid_status(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS of a process, in KiB."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            out[key] = int(value.split()[0])
    return out


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def prepare(path: Path, open_cases: int) -> None:
    """The store with `open_cases` open cases and 10³ items due now (the rest a month ahead)."""
    core, _clock = await build(path, open_cases)
    await core.close()
    now = datetime.now(UTC)
    raw = _Raw(path, None)
    later = (now + timedelta(days=30)).isoformat()
    raw.execute("UPDATE awaiting SET due_at = ? WHERE resolved_at IS NULL AND due_at IS NOT NULL", (later,))
    raw.execute("UPDATE timers SET due_at = ? WHERE done_at IS NULL", (later,))
    _make_due(raw, now, DUE_ESCALATIONS, DUE_REMINDERS)


@asynccontextmanager
async def gfi_on(path: Path, database_url: str | None = None) -> AsyncIterator[tuple[Target, int]]:
    """`gfi-bot run` on the store at `path` (or on the PostgreSQL database at `database_url`); the target and the
    process id."""
    async with FakeSlackAPI(token="xoxb-bench") as fake:
        port = free_port()
        args, env = command_line("gfi", port, fake.base_url, path, ROOT, database_url)
        env["GFI_SWEEP_SECONDS"] = "2"  # the due items are swept soon after start
        log_path = Path(os.environ.get("GFI_BENCH_LOG") or path.with_suffix(".log"))  # kept when named
        with log_path.open("wb") as log_file:  # noqa: ASYNC230 - once per run
            proc = await asyncio.create_subprocess_exec(*args, env=env, cwd=path.parent, stdout=log_file,
                                                        stderr=subprocess.STDOUT)
            try:
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                    base = f"http://127.0.0.1:{port}"
                    await ready(http, f"{base}/healthz", proc, log_path)
                    yield Target("gfi", f"{base}/slack/events", fake, http, itertools.count()), proc.pid
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


async def open_home(target: Target, user: str) -> None:
    body = event_body(app_home_opened_event(user))
    async with target.http.post(target.url, data=body, headers=signed_headers(SECRET, body)) as resp:
        await resp.read()


def publishes(target: Target, user: str) -> int:
    return sum(1 for c in target.fake.calls("views.publish") if c.params.get("user_id") == user)


DUE_NOW = ("SELECT (SELECT COUNT(*) FROM awaiting WHERE resolved_at IS NULL AND due_at <= ?) "
           "+ (SELECT COUNT(*) FROM timers WHERE done_at IS NULL AND due_at <= ?)")


def still_due(path: Path, database_url: str | None = None) -> int:
    """Open items of the store that are due now (0 once the bot has swept them)."""
    now = datetime.now(UTC).isoformat()
    if database_url is not None:
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as pg:
            return int(pg.execute(DUE_NOW.replace("?", "%s"), (now, now)).fetchone()[0])  # type: ignore[index]
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute(DUE_NOW, (now, now)).fetchone()[0])
    finally:
        conn.close()


async def swept(path: Path, database_url: str | None = None, limit: float = 600.0) -> None:
    """Wait until the bot has swept every due item."""
    deadline = time.monotonic() + limit
    while still_due(path, database_url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{still_due(path, database_url)} items still due after {limit:.0f} s")
        await asyncio.sleep(0.5)


async def quiet(pid: int, limit: float = 600.0) -> float:
    """Wait until the process has used less than 5 % of a core for a second (its start-up work and the
    sweeps are done); the seconds waited."""
    start = time.monotonic()
    last = _cpu_seconds(pid)
    while time.monotonic() - start < limit:
        await asyncio.sleep(1.0)
        now = _cpu_seconds(pid)
        if now - last < 0.05:
            break
        last = now
    return time.monotonic() - start


async def acks_while_home(target: Target, total: int) -> tuple[list[float], list[float], int]:
    """/gfi ack samples with the bot idle, and while the coordinator's Home is opened again and again; how
    many Homes were published meanwhile."""
    idle = await closed_loop(target.command, CONCURRENCY, total)
    before = publishes(target, COORDINATOR)
    stop = asyncio.Event()

    async def refresher() -> None:  # the next opening once the last Home is published (or after 5 s)
        while not stop.is_set():
            published = publishes(target, COORDINATOR)
            await open_home(target, COORDINATOR)
            deadline = time.monotonic() + 5.0
            while publishes(target, COORDINATOR) == published and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            await asyncio.sleep(REFRESH_GAP)

    task = asyncio.create_task(refresher())
    await asyncio.sleep(0.5)  # the first refreshes are under way
    try:
        busy = await closed_loop(target.command, CONCURRENCY, total)
    finally:
        stop.set()
        await task
    await asyncio.sleep(1.0)
    return idle, busy, publishes(target, COORDINATOR) - before


async def ack_rows(path: Path, open_cases: int, quick: bool, database_url: str | None = None) -> list[Row]:
    """The /gfi acks with the bot idle and while a coordinator's Home refreshes, beside the bare app's, on the
    prepared store at `path` (or on its PostgreSQL copy at `database_url`)."""
    total = 80 if quick else 400
    scale = f"{open_cases:,} open".replace(",", " ") + ("" if database_url is None else ", PostgreSQL")
    idle: list[float] = []
    busy: list[float] = []
    floor: list[float] = []
    homes = 0
    load = os.getloadavg()[0]
    async with gfi_on(path, database_url) as (target, pid):
        await swept(path, database_url)
        await quiet(pid)
        await closed_loop(target.command, CONCURRENCY, 2 * CONCURRENCY)  # warm-up
        await open_home(target, COORDINATOR)
        for _ in range(1 if quick else ROUNDS):  # interleaved: idle, busy, then the bare app (the bot idles)
            i, b, n = await acks_while_home(target, total)
            idle += i
            busy += b
            homes += n
            async with running("bare", ROOT) as bare:
                await closed_loop(bare.command, CONCURRENCY, 2 * CONCURRENCY)
                floor += await closed_loop(bare.command, CONCURRENCY, total)
    load = (load + os.getloadavg()[0]) / 2
    p99_idle, p99_busy, p99_floor = pct(idle, 99), pct(busy, 99), pct(floor, 99)
    return [
        Row("acks", f"/gfi ack p99, c={CONCURRENCY}, {scale}, bot idle", p99_idle, "ms", floor=p99_floor, load=load),
        Row("acks", f"/gfi ack p99, c={CONCURRENCY}, {scale}, while a coordinator's Home refreshes "
            f"({homes} published)", p99_busy, "ms", floor=p99_floor,
            target=f"unchanged: ≤ 1.5× idle ({1.5 * p99_idle:.0f} ms)", met=p99_busy <= 1.5 * p99_idle, load=load),
        Row("acks", f"/gfi ack median, c={CONCURRENCY}, {scale}, bot idle", statistics.median(idle), "ms",
            floor=statistics.median(floor), load=load),
        Row("acks", f"/gfi ack median, c={CONCURRENCY}, {scale}, while a coordinator's Home refreshes",
            statistics.median(busy), "ms", floor=statistics.median(floor), load=load),
    ]


async def kept_store(keep: Path, open_cases: int) -> Path:
    """The prepared store with `open_cases` open cases kept in `keep` (built on first use; never swept: each run
    works on a copy)."""
    kept = keep / f"acks-{open_cases}.sqlite3"
    if not kept.exists():
        keep.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once per run
        part = kept.with_suffix(".part")
        for old in keep.glob(part.name + "*"):  # noqa: ASYNC240 - once per run
            old.unlink()
        await prepare(part, open_cases)
        conn = sqlite3.connect(part)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # one file, copied whole
        finally:
            conn.close()
        part.rename(kept)
    return kept


async def kept_postgres(kept: Path, open_cases: int) -> str:
    """A fresh PostgreSQL database holding the kept store: cloned from a template database on the server of
    GFI_BENCH_POSTGRES, made once (COPY, VACUUM ANALYZE) from the kept store."""
    import psycopg

    template = f"gfi_busy_{open_cases}"
    base = os.environ["GFI_BENCH_POSTGRES"].rstrip("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,)).fetchone() is None:
            copy = await copy_to_postgres(kept)
            admin.execute(f"ALTER DATABASE {copy.rsplit('/', 1)[1]} RENAME TO {template}")  # whole, or not at all
        name = f"gfi_bench_{os.getpid()}_{time.monotonic_ns()}"
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return f"{base}/{name}"


def drop_postgres(url: str) -> None:
    """Drop a run's database from a server that outlives the bench (GFI_BENCH_POSTGRES)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def measure(open_cases: int, rss_cases: int, quick: bool, engines: tuple[str, ...] = ("sqlite",),
                  keep: Path | None = None, prepare_only: bool = False) -> list[Row]:
    """The acks on each of `engines` at `open_cases`, then (on SQLite) the memory at `rss_cases`. With `keep`, the
    prepared store (and its PostgreSQL copy, on a server of GFI_BENCH_POSTGRES) is kept there and reused."""
    rows: list[Row] = []
    reuse_pg = keep is not None and bool(os.environ.get("GFI_BENCH_POSTGRES"))
    with tempfile.TemporaryDirectory(prefix="gfi-bench-busy-") as tmp:
        path = Path(tmp) / "acks.sqlite3"
        if keep is not None:
            kept = await kept_store(keep, open_cases)
            if prepare_only:
                if "postgresql" in engines and reuse_pg:
                    drop_postgres(await kept_postgres(kept, open_cases))
                return rows
            shutil.copyfile(kept, path)
        else:
            await prepare(path, open_cases)
        if "postgresql" in engines:  # copied before the SQLite run sweeps the due items
            started = time.perf_counter()
            url = await (kept_postgres(kept, open_cases) if reuse_pg else copy_to_postgres(path))
            copied = time.perf_counter() - started
        if "sqlite" in engines:
            rows += await ack_rows(path, open_cases, quick)
        if "postgresql" in engines:
            try:
                rows += await ack_rows(path, open_cases, quick, url)
            finally:
                if reuse_pg:
                    drop_postgres(url)
            scale = f"{open_cases:,}".replace(",", " ")
            how = "CREATE DATABASE … TEMPLATE the kept copy" if reuse_pg else "COPY, then VACUUM ANALYZE"
            rows.append(Row("acks", f"copy {scale} open to PostgreSQL ({how})", copied, "s"))
        path.unlink()
        if "sqlite" not in engines:
            return rows

        path = Path(tmp) / "rss.sqlite3"
        t0 = time.perf_counter()
        await prepare(path, rss_cases)
        built = time.perf_counter() - t0
        scale = f"{rss_cases:,} open".replace(",", " ")
        async with gfi_on(path) as (target, pid):
            t0 = time.perf_counter()
            await swept(path)
            await quiet(pid)
            settled = time.perf_counter() - t0
            for user in HOMES:
                await open_home(target, user)
            await asyncio.sleep(0.5)
            await quiet(pid)
            assert all(publishes(target, u) for u in HOMES), "a Home was not published"
            status = _pid_status(pid)
            slots = sum(1 for c in target.fake.calls("chat.postMessage") if c.params.get("channel") == "U01ANNA")
        hwm = status["VmHWM"] / 1024
        rows.append(Row("memory", f"gfi-bot run, {scale}: peak RSS after start-up, slot, sweep of 10³ and 5 Homes",
                        hwm, "MiB", target="< 256 MiB", met=hwm < 256))
        rows.append(Row("memory", f"gfi-bot run, {scale}: RSS at the end ({slots} messages to the distributor)",
                        status["VmRSS"] / 1024, "MiB"))
        rows.append(Row("memory", f"gfi-bot run, {scale}: start-up and sweeps until quiet", settled, "s"))
        rows.append(Row("memory", f"build {scale} (bulk insert)", built, "s"))
    return rows


async def rows(quick: bool) -> list[Row]:
    """10⁴ open cases in quick mode; 10⁵ for the acks and 10⁶ for memory otherwise; the acks on PostgreSQL too when
    there is one."""
    engines = ("sqlite", "postgresql") if postgres_available() else ("sqlite",)
    if quick:
        return await measure(10_000, 10_000, quick, engines)
    return await measure(100_000, 1_000_000, quick, engines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10⁴ open cases")
    parser.add_argument("--cases", type=int, nargs=2, metavar=("ACKS", "RSS"), help="the two scales")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), action="append",
                        help="the acks on this engine only (PostgreSQL: no memory rows); repeat for both")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the prepared store in DIR and reuse it (and its PostgreSQL copy when "
                             "GFI_BENCH_POSTGRES names a server you run)")
    parser.add_argument("--prepare", action="store_true", help="with --keep: build the kept stores, measure nothing")
    args = parser.parse_args()
    os.environ.setdefault("GFI_LOG_LEVEL", "WARNING")
    if args.prepare and args.keep is None:
        parser.error("--prepare needs --keep DIR")
    if args.cases or args.engine or args.keep:
        acks, rss = args.cases or ((10_000, 10_000) if args.quick else (100_000, 1_000_000))
        print_table(asyncio.run(measure(acks, rss, args.quick, tuple(args.engine or ("sqlite",)), args.keep,
                                        args.prepare)))
    else:
        print_table(asyncio.run(rows(args.quick)))
