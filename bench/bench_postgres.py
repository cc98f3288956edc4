"""Benchmark of several instances on one PostgreSQL database (issue #22), with a bare slack-bolt app and
SQLite measured in the same run:

- form submissions (closed loop at concurrency 16 and 64, spread round-robin over the instances): ack median
  and p99, and filings per second (submissions answered / wall time), for one and three `gfi-bot run`
  instances on PostgreSQL, one on SQLite, and the bare Bolt app (`bench/bare_bolt.py`, the floor);
- the outbox: 10⁴ messages to 1,000 recipients (ten each) drained by three dispatcher processes on one
  database through the real Slack sender, the fake Slack (a process of its own) answering after 50 ms;
  seconds until the last post arrived (Slack's pace, one message per second per recipient, makes nine
  seconds the floor);
- leader failover: two instances, the leader SIGKILLed, seconds until the other leads;
- the largest resident set (RSS) of any instance after the submissions;
- the CPU a filing costs at c=64 (the instances, PostgreSQL's backends and this process, which plays Slack),
  and the filings per second the machine's cores allow at that cost: where a figure meets that bound, the
  CPU is what limits it, not a lock or a queue.

The PostgreSQL cluster runs with fsync on (`GFI_BENCH_POSTGRES` names a server you run instead). Each line
of the table carries the machine's load average: the machine is shared, so compare figures of one run only.
Run:  PYTHONPATH=. .venv/bin/python bench/bench_postgres.py [--quick] [--only outbox|pg1|pg13] [--profile DIR]
      [--spy DIR] [--waits] [--gfi-root PATH]   (`gfi-bot run` from another checkout, e.g. main before a change)
`--only pg1`: the bare app and one PostgreSQL instance only, with the CPU per filing at c=16 as well (`pg13`: and three
instances, likewise); `--spy DIR`
records the instance with py-spy (on PATH) during its measured c=16 run, its stacks collapsed (`--format raw`) in DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from the repository root

from bench import pg_waits
from bench.bench_outbox import TOKEN as OUTBOX_TOKEN
from bench.bench_outbox import DirectIdentity, backlog, receipt, serve_slack
from bench.bench_slack_acks import (
    ROOT,
    TOKEN,
    Target,
    closed_loop,
    command_line,
    free_port,
    fresh_postgres,
    pct,
    postgres_available,
    ready,
    running,
)
from bench.table import Row, print_table
from tests.fakes.slack_api import FakeSlackAPI

FAILOVER_TARGET = 15.0  # seconds
OTHER_CPU: list[float] = []  # the last drain's CPU seconds of the fake Slack and of PostgreSQL (when local)
RSS_TARGET = 256.0  # MiB
GFI_ROOT = [ROOT]  # the checkout `gfi-bot run` runs from (`--gfi-root`)
SPY: list[Path] = []  # where py-spy writes the stacks of the c=16 run (`--spy`)
WAITS: list[bool] = []  # sample what the filings wait for during the c=16 run (`--waits`, `bench.pg_waits`)


class Spread(Target):
    """Several instances of one app: each request goes to the next instance in turn."""

    urls: list[str]

    async def post(self, body: bytes) -> float:
        self.url = self.urls[next(self.triggers) % len(self.urls)]
        return await super().post(body)


@asynccontextmanager
async def instances(n: int, database_url: str | None, *, log_level: str = "WARNING"
                    ) -> AsyncIterator[tuple[Spread, list[asyncio.subprocess.Process], list[Path]]]:
    """`n` `gfi-bot run` processes on one store (PostgreSQL when `database_url`, else one SQLite file)."""
    with tempfile.TemporaryDirectory(prefix="gfi-bench-pg-") as tmp:
        async with AsyncExitStack() as stack:
            fake = await stack.enter_async_context(FakeSlackAPI(token=TOKEN))
            http = await stack.enter_async_context(aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)))
            procs: list[asyncio.subprocess.Process] = []
            logs: list[Path] = []
            urls: list[str] = []
            try:
                for i in range(n):
                    port = free_port()
                    args, env = command_line("gfi", port, fake.base_url, Path(tmp) / "gfi.sqlite3", GFI_ROOT[0],
                                             database_url)
                    env["GFI_LOG_LEVEL"] = log_level
                    logs.append(Path(tmp) / f"app{i}.log")
                    with logs[-1].open("wb") as out:
                        proc = await asyncio.create_subprocess_exec(*args, env=env, cwd=tmp, stdout=out,
                                                                    stderr=subprocess.STDOUT)
                    procs.append(proc)
                    await ready(http, f"http://127.0.0.1:{port}/healthz", proc, logs[-1])
                    urls.append(f"http://127.0.0.1:{port}/slack/events")
                spread = Spread("gfi", urls[0], fake, http, itertools.count())
                spread.urls = urls
                yield spread, procs, logs
            finally:
                for proc in procs:
                    if proc.returncode is None:
                        proc.send_signal(signal.SIGTERM)
                for proc in procs:
                    try:
                        await asyncio.wait_for(proc.wait(), 20)
                    except TimeoutError:
                        proc.kill()


def cpu_seconds(pid: int, children: bool = False) -> float:
    """CPU seconds (user + system) a process has used; `children`: also its children that ended (PostgreSQL's
    backends, reaped by the postmaster)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def postmaster(url: str) -> int | None:
    """The PostgreSQL server's process, when it runs on this machine (its data directory readable)."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT setting FROM pg_settings WHERE name = 'data_directory'").fetchone()
        return int((Path(row[0]) / "postmaster.pid").read_text().split()[0]) if row else None
    except (OSError, ValueError, psycopg.Error):
        return None


def server_cpu(server: int | None) -> float:
    """CPU seconds of a local PostgreSQL: the postmaster, its backends that ended and those still running."""
    if server is None:
        return 0.0
    total = cpu_seconds(server, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == server:
                total += cpu_seconds(int(entry.name))
    return total


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def switches(pid: int) -> dict[str, int]:
    """Voluntary context switches (a thread that waited: for a lock, a queue, the network) of each of a process's
    threads so far: the event loop's ("loop", the main thread) and every other thread's by its id (Python 3.11
    does not name its threads for the system): which threads a filing wakes (`--waits`)."""
    out: dict[str, int] = {}
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            lines = (task / "status").read_text().splitlines()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in lines if ":" in line)
        out["loop" if task.name == str(pid) else f"thread {task.name}"] = int(fields["voluntary_ctxt_switches"])
    return out


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def submissions(target: Target, concurrency: int, total: int, pids: list[int] | None = None,
                      server: int | None = None, url: str | None = None) -> dict[str, float]:
    """Ack median and p99, filings per second; with `pids` (the app's processes) also the CPU per filing of
    them, of the PostgreSQL `server` and of this process, counted until the work after the acks is done; with
    `url` (the database) and `--waits`, what the filings waited for at c=16 (`bench.pg_waits`)."""
    await closed_loop(target.submit, concurrency, min(concurrency, 8))  # warm-up
    await asyncio.sleep(1.0)  # its receipts and Home tabs
    spy = None
    if SPY and pids and concurrency == 16:
        SPY[0].mkdir(parents=True, exist_ok=True)
        spy = await asyncio.create_subprocess_exec(
            "py-spy", "record", "--pid", str(pids[0]), "--rate", "250", "--nonblocking", "--gil", "--format", "raw",
            "--output", str(SPY[0] / f"app-c{concurrency}.txt"), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        await asyncio.sleep(1.0)  # attached
    waits = None
    if WAITS and url and concurrency == 16:
        stop, (theirs, ours) = multiprocessing.Event(), multiprocessing.Pipe(duplex=False)
        waits = multiprocessing.Process(target=pg_waits.sample, args=(url, stop, ours), daemon=True)
        waits.start()
        ours.close()  # the sampler's end: it is the only one left holding it (a sampler that died is an EOF)
    cpu = [sum(cpu_seconds(p) for p in pids or ()), server_cpu(server), own_cpu()]
    switched = switches(pids[0]) if WAITS and pids and concurrency == 16 else None
    began = time.perf_counter()
    samples = await closed_loop(target.submit, concurrency, total)
    elapsed = time.perf_counter() - began
    waited: dict[str, float] = {}
    if waits is not None:
        stop.set()
        counts = await asyncio.to_thread(pg_waits.received, theirs)
        waited = pg_waits.figures(counts, elapsed, total, concurrency)
        waits.join(30)
    if spy is not None:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output when interrupted
        await asyncio.wait_for(spy.wait(), 30)
    out = {f"submission ack median, c={concurrency}": statistics.median(samples),
           f"submission ack p99, c={concurrency}": pct(samples, 99),
           f"filings per second, c={concurrency}": total / elapsed}
    if pids is not None:
        await asyncio.sleep(1.0)  # the receipts and Home tabs of these filings are part of their cost
        used = [sum(cpu_seconds(p) for p in pids) - cpu[0], server_cpu(server) - cpu[1], own_cpu() - cpu[2]]
        per = sum(used) / total
        out[f"CPU per filing, c={concurrency} (app {used[0] / total * 1000:.1f} + PostgreSQL "
            f"{used[1] / total * 1000:.1f} + bench {used[2] / total * 1000:.1f} ms)"] = per * 1000
        out[f"filings per second the {os.cpu_count()} cores allow at that CPU, c={concurrency}"] = (
            (os.cpu_count() or 1) / per)
    if switched is not None and pids:
        now = switches(pids[0])
        by = {name: (now[name] - switched.get(name, 0)) / total for name in now}
        shown = ", ".join(f"{name} {n:.1f}" for name, n in sorted(by.items(), key=lambda i: -i[1]) if n >= 0.05)
        out[f"voluntary context switches per filing of the instance, c={concurrency} ({shown})"] = sum(by.values())
    return out | waited


async def acks(name: str, quick: bool, cpu_at: tuple[int, ...] = (64,)) -> tuple[dict[str, float], float]:
    """Figures of one setup (`bare`, `sqlite`, `pg1`, `pg3`), and its largest RSS (MiB); the CPU per filing at
    the concurrencies `cpu_at`."""
    out: dict[str, float] = {}
    if name == "bare":
        async with running("bare", ROOT) as target:
            for c in (16, 64):
                out.update(await submissions(target, c, max(4 * c, 60 if quick else 400)))
        return out, 0.0
    url = None if name == "sqlite" else fresh_postgres()
    server = postmaster(url) if url else None
    async with instances(3 if name == "pg3" else 1, url) as (spread, procs, _):
        for c in (16, 64):
            pids = [p.pid for p in procs] if c in cpu_at else None
            out.update(await submissions(spread, c, max(4 * c, 60 if quick else 400), pids, server, url))
            await asyncio.sleep(1.0)  # the receipts after them
        return out, max(rss_mib(p.pid) for p in procs if p.returncode is None)


def dispatch_worker(url: str, slack_url: str, conn: Connection, profile: str | None = None) -> None:
    """One dispatcher process, its Slack client as `gfi-bot run` makes it (one connection pool): deliver until
    nothing is pending, then report the CPU seconds it used meanwhile and its peak RSS (MiB). `profile`: write a
    cProfile of the delivery to that file."""
    import cProfile
    import resource

    import aiohttp as client_http
    from pydantic import SecretStr
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.channels.slack.sender import SlackSender
    from bot.config import DEFAULT_DIRECTORY, Settings
    from bot.core import open_core
    from bot.logs import setup_logging

    setup_logging("WARNING")  # as the instances of this bench run (`gfi-bot run`, GFI_LOG_LEVEL=WARNING)

    async def main() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(db_path=Path(tmp) / "unused.sqlite3", directory_path=DEFAULT_DIRECTORY,
                                _env_file=None)
            settings.database_url = SecretStr(url)
            session = client_http.ClientSession(timeout=client_http.ClientTimeout(total=30))
            sender = SlackSender(AsyncWebClient(token=OUTBOX_TOKEN, base_url=slack_url, session=session),
                                 DirectIdentity())  # type: ignore[arg-type]
            core = await open_core(settings, senders={"slack": sender}, fallback=sender)
            profiler = cProfile.Profile() if profile else None
            try:
                conn.send("ready")
                conn.recv()
                cpu = time.process_time()
                if profiler is not None:
                    profiler.enable()
                while True:
                    await core.dispatcher.drain()
                    async with core.db.transaction() as tx:
                        if not await tx.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'"):
                            break
                    await asyncio.sleep(0.05)
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(str(profile))
                return time.process_time() - cpu
            finally:
                await core.close()
                await session.close()

    cpu = asyncio.run(main())
    conn.send((cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))  # Linux: KiB


async def drain_with(dispatchers: int, recipients: int, each: int, profile: str | None = None
                     ) -> tuple[float, int, float, float]:
    """Seconds until the last of `recipients * each` messages reached the fake Slack, `dispatchers` processes
    delivering; how many arrived; the CPU seconds the dispatchers used (together); and the largest dispatcher's
    peak RSS (MiB). `profile`: a folder for each dispatcher's cProfile."""
    from pydantic import SecretStr

    from bot.config import DEFAULT_DIRECTORY, Settings
    from bot.core import open_core

    context = multiprocessing.get_context("spawn")
    here, there = context.Pipe()
    slack = context.Process(target=serve_slack, args=(there,), daemon=True)
    slack.start()
    workers: list[multiprocessing.process.BaseProcess] = []
    try:
        slack_url = here.recv()
        url = fresh_postgres()
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(db_path=Path(tmp) / "unused.sqlite3", directory_path=DEFAULT_DIRECTORY,
                                _env_file=None)
            settings.database_url = SecretStr(url)
            core = await open_core(settings)
            try:
                queued = await backlog(core, await receipt(core), recipients, each, datetime.now(UTC))
            finally:
                await core.close()
        pipes = []
        for n in range(dispatchers):
            mine, theirs = context.Pipe()
            where = str(Path(profile) / f"dispatcher{n}.prof") if profile else None
            worker = context.Process(target=dispatch_worker, args=(url, slack_url, theirs, where), daemon=True)
            worker.start()
            workers.append(worker)
            pipes.append(mine)
        for pipe in pipes:
            await asyncio.to_thread(pipe.recv)  # ready
        server = postmaster(url)
        others = [(slack.pid, False), *([(server, True)] if server else [])]
        before = [cpu_seconds(pid, kids) for pid, kids in others if pid]
        start = time.monotonic()
        for pipe in pipes:
            pipe.send("go")
        cpu, rss = 0.0, 0.0
        for pipe in pipes:
            used, peak = await asyncio.to_thread(pipe.recv)  # done
            cpu, rss = cpu + float(used), max(rss, float(peak))
        for worker in workers:
            worker.join(timeout=10)  # its connections end: their backends' CPU is counted by the postmaster
        after = [cpu_seconds(pid, kids) for pid, kids in others if pid]
        here.send("stop")
        posted, last = here.recv()
        assert posted == queued, (posted, queued)
        OTHER_CPU[:] = [b - a for a, b in zip(before, after, strict=True)]
        return last - start, posted, cpu, rss
    finally:
        for worker in workers:
            worker.join(timeout=10)
        slack.join(timeout=10)
        if slack.is_alive():
            slack.kill()


async def failover() -> float:
    """Two instances; the leader is killed; seconds until the other leads."""

    def leading(path: Path) -> bool | None:
        state = None
        for line in path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == "store.leader":
                state = bool(record.get("leading"))
        return state

    async with instances(2, fresh_postgres(), log_level="INFO") as (_, procs, logs):
        deadline = time.monotonic() + 30
        while not any(leading(p) for p in logs):
            assert time.monotonic() < deadline, "no leader"
            await asyncio.sleep(0.1)
        leader = next(i for i, p in enumerate(logs) if leading(p))
        procs[leader].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        other = logs[1 - leader]
        while not leading(other):
            assert time.monotonic() - killed < 60, "nobody took over"
            await asyncio.sleep(0.1)
        return time.monotonic() - killed


async def outbox_rows(quick: bool, profile: str | None = None) -> list[Row]:
    recipients, each = (100, 10) if quick else (1000, 10)
    seconds, posted, cpu, rss = await drain_with(3, recipients, each, profile)
    return [Row("postgres", f"outbox: {posted} messages to {recipients} recipients, 3 dispatchers", seconds,
                "s", target="< 15 s", met=seconds < 15),
            Row("postgres", "outbox: dispatchers' CPU per message (3 processes together)", cpu / posted * 1000,
                "ms"),
            *([Row("postgres", "outbox: the fake Slack's CPU per message", OTHER_CPU[0] / posted * 1000, "ms")]
              if OTHER_CPU else []),
            *([Row("postgres", "outbox: PostgreSQL's CPU per message", OTHER_CPU[1] / posted * 1000, "ms")]
              if len(OTHER_CPU) > 1 else []),
            Row("postgres", "outbox: CPU seconds of all of it / 2 cores (the floor on this machine)",
                (cpu + sum(OTHER_CPU)) / 2, "s"),
            Row("postgres", "outbox: the largest dispatcher's peak RSS", rss, "MiB", target=f"≤ {RSS_TARGET:.0f} MiB",
                met=rss <= RSS_TARGET)]


async def rows(quick: bool, only: str | None = None, profile: str | None = None) -> list[Row]:
    if not postgres_available():
        return [Row("postgres", "no PostgreSQL (binaries or GFI_BENCH_POSTGRES)", 0, "", met=False)]
    if only == "outbox":
        return await outbox_rows(quick, profile)
    figures: dict[str, dict[str, float]] = {}
    rss: dict[str, float] = {}
    setups = {"pg1": ("bare", "pg1"), "pg13": ("bare", "pg1", "pg3")}.get(only or "", ("bare", "sqlite", "pg1", "pg3"))
    for name in setups:
        figures[name], rss[name] = await acks(name, quick, (16, 64) if only in ("pg1", "pg13") else (64,))
    bare, one = figures["bare"], figures["pg1"]
    out: list[Row] = []
    label = {"sqlite": "SQLite, 1 instance", "pg1": "PostgreSQL, 1 instance", "pg3": "PostgreSQL, 3 instances"}
    for name in setups[1:]:
        for metric, value in figures[name].items():
            target, met = "", None
            if metric == "submission ack median, c=16" and name == "pg1":
                target, met = "≤ 2× floor", value <= 2 * bare[metric]
            if metric == "filings per second, c=64" and name == "pg3":
                target, met = "≥ 2× one instance", value >= 2 * one[metric]
            unit = "/s" if metric.startswith("filings") else "%" if metric.startswith("share") else (
                "" if metric.startswith(("lock waiters", "voluntary context")) else "ms")
            out.append(Row("postgres", f"{metric} ({label[name]})", value, unit, floor=bare.get(metric),
                           target=target, met=met))
    out.append(Row("postgres", "largest instance RSS after the submissions", max(rss.values()), "MiB",
                   target=f"≤ {RSS_TARGET:.0f} MiB", met=max(rss.values()) <= RSS_TARGET))
    if only in ("pg1", "pg13"):
        return out
    out.extend(await outbox_rows(quick, profile))
    took = await failover()
    out.append(Row("postgres", "leader failover after SIGKILL", took, "s", target=f"< {FAILOVER_TARGET:.0f} s",
                   met=took < FAILOVER_TARGET))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small variant")
    parser.add_argument("--only", choices=["outbox", "pg1", "pg13"],
                        help="only this part (outbox: 3 dispatchers draining; pg1: the bare app and one instance; "
                             "pg13: the bare app, one instance and three)")
    parser.add_argument("--spy", metavar="DIR", type=Path, help="py-spy stacks of the instance at c=16 in DIR")
    parser.add_argument("--waits", action="store_true",
                        help="what the filings wait for at c=16 (bench/pg_waits.py; not for the CPU figures)")
    parser.add_argument("--profile", metavar="DIR", help="write each dispatcher's cProfile to DIR")
    parser.add_argument("--gfi-root", type=Path, default=ROOT, help="run gfi-bot from this checkout")
    args = parser.parse_args()
    GFI_ROOT[0] = args.gfi_root.resolve()
    SPY.extend([args.spy] if args.spy else [])
    WAITS.extend([True] if args.waits else [])
    print_table(asyncio.run(rows(args.quick, args.only, args.profile)))
