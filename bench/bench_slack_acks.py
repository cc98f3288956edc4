"""Benchmark of Slack acks and receipts: GFI-boten side by side with a bare slack-bolt app (the floor).

Both apps run as their own process, as a deployer runs them: `gfi-bot run` (HTTP, its background jobs and
all) and `bench/bare_bolt.py` (AsyncApp on the same aiohttp adapter, acks and posts the receipt). This
process plays Slack: it serves the fake Slack Web API (tests/fakes) both apps call, and sends them signed
requests with the same payloads. Measured, per app:

- `/gfi` ack and form-submission ack (the HTTP round trip Slack waits for; its limit is 3 s), median and
  p99, at concurrency 1, 16 and 64 (closed loop: each of `c` clients sends its next request when answered),
  and the CPU each app's process used per submission (user + system, from /proc/<pid>/stat before and after
  the submissions: the figure that does not depend on the machine's load);
- the receipt DM (request → the fake Slack receiving chat.postMessage for the submitter), p95, with
  submissions arriving at 10 per second spread over 15 people (open loop, a fresh database), and the CPU per
  submission with its receipt delivered;
- a burst of submissions by one person: the last receipt. GFI-boten paces DMs at Slack's one message per
  second per recipient, so this is about one second per message, which is right (the bare app does not pace).

The acks are measured in rounds: a warm-up round (discarded), then ROUNDS rounds; in each, every app runs
alone, fresh (its own process and database) for each concurrency, the apps' order alternating from round to
round, so that a change in the machine's load falls on all of them. Each figure is the median of its rounds;
the ratio's spread (the lowest and highest of the rounds' ratios to the bare app of the same round) is printed
with it. At concurrency 16 both apps are CPU-bound on a 2-core machine (this process shares the cores), so
the ratio is about the ratio of their CPU per submission.

Run:  .venv/bin/python bench/bench_slack_acks.py [--quick] [--rounds N] [--engine sqlite|postgresql]
      [--submissions N] [--spy DIR] [--gfi-root PATH] [--compare PATH]
(`--gfi-root` runs `gfi-bot run` from another checkout, e.g. to measure main before a change, and `--compare`
runs one from another checkout as well, in the same rounds, so that before and after see the same load; `--spy DIR`
records GFI-boten (SQLite) with py-spy (on PATH) during its last round's measured submissions, its stacks collapsed
(`--format raw`) in DIR.)
GFI-boten runs with GFI_LOG_LEVEL=WARNING, like the bare app, which logs nothing, and is measured once its `/readyz`
answers (its start-up, the templates compiled and the first sweep, done). The bare app's Bolt configuration is
the framework's default, as shipped (it is the floor, not something this bench tunes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from the repository root

from bench.table import Row, print_table
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import (
    checkboxes_state,
    datepicker_state,
    interaction_body,
    multi_static_select_state,
    plain_text_state,
    radio_buttons_state,
    signed_headers,
    slash_command_body,
    static_select_state,
    view_submission_payload,
)

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
CONCURRENCY = (1, 16, 64)
ROUNDS = 5  # measured rounds of the acks in the full run, after a warm-up round (discarded)
QUICK_ROUNDS = 3  # ... and in the quick one (`scripts/bench`)
PG_ROUNDS = 2  # measured rounds with PostgreSQL too, without a warm-up of its own (bench_postgres measures it in depth)
SUBMISSIONS = 250  # per app, round and concurrency (16 and 64)
QUICK_SUBMISSIONS = 160
RATE = 10.0  # submissions per second, spread over PEOPLE
LOAD = "load"  # the 1-minute load average while an app was measured (a figure of its own in `measure`)
RECEIPT = "registrerad"  # in GFI-boten's receipt (case_filed) and the bare app's

# Fifteen staff of deploy/directory.example.yaml with a Slack id: (Slack id, person id, unit)
PEOPLE = [
    ("U01ANNA", "anna.lind", "soc-norr"), ("U01BOEK", "bo.ek", "soc-norr"), ("U01MARIA", "maria.sand", "soc-norr"),
    ("U01OMAR", "omar.haddad", "soc-norr"), ("U02DAVID", "david.nord", "soc-soder"),
    ("U02EVA", "eva.strom", "soc-soder"), ("U02PETRA", "petra.lund", "soc-soder"),
    ("U04FATIMA", "fatima.ali", "beroende"), ("U04GUSTAV", "gustav.lund", "beroende"),
    ("U04LINNEA", "linnea.fors", "beroende"), ("U05INGRID", "ingrid.vik", "psykiatri"),
    ("U05KARL", "karl.dahl", "psykiatri"), ("U05YUSUF", "yusuf.kaya", "psykiatri"),
    ("U06LENA", "lena.mark", "vc-centrum"), ("U06MATS", "mats.berg", "vc-centrum"),
]


def request_state(person: str, unit: str) -> dict[str, Any]:
    """A valid /gfi form, as Slack sends its state ({block_id: {"v": element state}})."""
    values = {
        "enhet": static_select_state("soc-norr" if unit == "beroende" else "beroende"),
        "typ": radio_buttons_state("ny-en"),
        "kort": plain_text_state("Man, 45 år, alkohol, vill veta vad mottagningen kan erbjuda."),
        "kontakt": plain_text_state("0450-12 30 00"),
        "samtycke": checkboxes_state(["ja"]),
        "omfattar": multi_static_select_state([]),
        "giltigt": datepicker_state((date.today() + timedelta(days=60)).isoformat()),
        "avser": checkboxes_state(["kontaktuppgifter", "pagaende-insatser"]),
        "avser_text": plain_text_state(None),
        "form": radio_buttons_state("skriftligt"),
        "inhamtat": static_select_state(person),
        "bradskande": checkboxes_state([]),
        "barn": radio_buttons_state("nej"),  # required (issue #18 item 5)
    }
    return {block: {"v": state} for block, state in values.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(samples: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


@dataclass
class Target:
    """One app under test, running as a process, and this process playing Slack to it."""

    name: str
    url: str
    fake: FakeSlackAPI
    http: aiohttp.ClientSession
    triggers: itertools.count[int]
    pid: int = 0  # the app's process

    async def post(self, body: bytes) -> float:
        """Send one signed request; the round trip in ms."""
        start = time.perf_counter()
        async with self.http.post(self.url, data=body, headers=signed_headers(SECRET, body)) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{self.name}: HTTP {resp.status}")
        return (time.perf_counter() - start) * 1000

    async def command(self, n: int) -> float:
        user = PEOPLE[n % len(PEOPLE)][0]
        return await self.post(slash_command_body("/gfi", "", user, trigger_id=f"bench-{next(self.triggers)}"))

    async def submit(self, n: int) -> float:
        user, person, unit = PEOPLE[n % len(PEOPLE)]
        return await self.post(interaction_body(view_submission_payload(user, "gfi_request",
                                                                        request_state(person, unit))))

    def receipts(self, user: str) -> list[float]:
        """When each receipt DM to `user` reached the fake Slack (time.monotonic)."""
        return [c.at for c in self.fake.calls("chat.postMessage")
                if c.params.get("channel") == user and RECEIPT in str(c.params.get("text"))]


def command_line(name: str, port: int, api_url: str, db: Path, gfi_root: Path,
                 database_url: str | None = None) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_", "TEAMS_", "GRAPH_"))}
    env.update(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET)
    if name == "bare":
        env["PYTHONPATH"] = str(ROOT)
        return [sys.executable, str(ROOT / "bench" / "bare_bolt.py"), "--port", str(port), "--api-url", api_url], env
    env.update(PYTHONPATH=str(gfi_root), SLACK_API_URL=api_url, GFI_HTTP_PORT=str(port), GFI_DB_PATH=str(db),
               GFI_LOG_LEVEL="WARNING", GFI_DIRECTORY=str(gfi_root / "deploy" / "directory.example.yaml"),
               GFI_ALLOW_EXAMPLE_DIRECTORY="1")
    if database_url:
        env["GFI_DATABASE_URL"] = database_url
    return [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main(['run']))"], env


@asynccontextmanager
async def running(name: str, gfi_root: Path) -> AsyncIterator[Target]:
    """Start the app (`gfi` or `bare`) with a fresh database against a fresh fake Slack; stop it after."""
    with tempfile.TemporaryDirectory(prefix="gfi-bench-") as tmp:
        async with FakeSlackAPI(token=TOKEN) as fake:
            port = free_port()
            database_url = fresh_postgres() if name == "gfi-pg" else None
            args, env = command_line("gfi" if database_url else name, port, fake.base_url,
                                     Path(tmp) / "gfi.sqlite3", gfi_root, database_url)
            log_path = Path(tmp) / "app.log"
            log_file = log_path.open("wb")
            proc = await asyncio.create_subprocess_exec(*args, env=env, cwd=tmp, stdout=log_file,
                                                        stderr=subprocess.STDOUT)
            connector = aiohttp.TCPConnector(limit=0)
            try:
                async with aiohttp.ClientSession(connector=connector) as http:
                    base = f"http://127.0.0.1:{port}"
                    await ready(http, f"{base}/healthz", proc, log_path)
                    if name != "bare":  # start-up done: its templates compiled and its first sweep run
                        await ready(http, f"{base}/readyz", proc, log_path, seconds=120)
                    yield Target(name, f"{base}/slack/events", fake, http, itertools.count(), proc.pid)
            finally:
                with contextlib.suppress(ProcessLookupError):  # it may have exited already: its own error shows
                    proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
                log_file.close()


async def ready(http: aiohttp.ClientSession, url: str, proc: asyncio.subprocess.Process, log_path: Path,
                seconds: float = 15) -> None:
    """Until `url` answers 200. GFI-boten is measured once `/readyz` says so too: it listens at once, but compiles
    its templates on a thread (about a second of CPU) before its first sweep, and a measurement that began
    before would count that start-up against its acks (the bare app has none)."""
    for _ in range(int(seconds / 0.05)):
        if proc.returncode is not None:
            tail = log_path.read_text(errors="replace")[-2000:]  # noqa: ASYNC240 - a failed start, once
            raise RuntimeError(f"the app exited at start ({proc.returncode}):\n{tail}")
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(url) as resp:
                if resp.status == 200:
                    return
        await asyncio.sleep(0.05)
    raise RuntimeError("the app did not start")


async def closed_loop(call: Callable[[int], Awaitable[float]], concurrency: int, total: int) -> list[float]:
    """`total` calls by `concurrency` clients, each sending its next call when the last one is answered."""
    counter = itertools.count()
    samples: list[float] = []

    async def client() -> None:
        while (n := next(counter)) < total:
            samples.append(await call(n))

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return samples


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """This process's heap collected and frozen while a measurement runs, thawed after it.

    This process is the clients and the fake Slack: a full garbage collection of its heap took 23–167 ms in a
    five-round run (on 6cccb6f, load 0.6), and one that fell inside a measurement held every request in flight,
    which then counted against the app measured (a round's c=16 p99 of 81.5 against 40–55 ms in the others: its
    first 13 acks waited 46 ms in the bench's collection, timed with `gc.callbacks` in each process). Collected
    before the measurement begins (before the app's CPU is first read: GFI-boten's background work during the
    collection would count as CPU of its submissions), a collection during it reads only what it made."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) the process `pid` has used, its threads included."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def settle(target: Target, seconds: float) -> None:
    """Let the work after the acks (DMs, Home tabs) finish before the next measurement."""
    await asyncio.sleep(seconds)


SPY: list[Path] = []  # where py-spy writes GFI-boten's stacks during its last round (`--spy`)


async def submissions(target: Target, concurrency: int, total: int, spy: Path | None = None) -> dict[str, float]:
    """`total` form submissions at `concurrency`: the ack median and p99, and the app's CPU per submission
    while they were answered (its receipts are posted meanwhile by the bare app, later, paced, by GFI-boten:
    the receipts part measures them whole)."""
    recorder = None
    if spy is not None:
        recorder = await asyncio.create_subprocess_exec(
            "py-spy", "record", "--pid", str(target.pid), "--rate", "250", "--nonblocking", "--gil", "--format",
            "raw", "--output", str(spy / f"{target.name}-c{concurrency}.txt"), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        await asyncio.sleep(1.0)  # attached
    with frozen_heap():
        cpu = cpu_seconds(target.pid)
        samples = await closed_loop(target.submit, concurrency, total)
        used = cpu_seconds(target.pid) - cpu
    if recorder is not None:
        recorder.send_signal(signal.SIGINT)  # py-spy writes its output when interrupted
        await asyncio.wait_for(recorder.wait(), 30)
    return {f"submission ack median, concurrency {concurrency}": statistics.median(samples),
            f"submission ack p99, concurrency {concurrency}": pct(samples, 99),
            f"CPU per submission (the app's process), concurrency {concurrency}": used / total * 1000}


async def acks(target: Target, concurrency: int, total: int, spy: Path | None = None) -> dict[str, float]:
    """One app, fresh, at one concurrency: warmed up (connections, its caches), then `/gfi` commands and
    `total` submissions; at 16 also both at concurrency 1, the submissions after the measured ones (their
    receipts are paced behind those)."""
    await closed_loop(target.command, concurrency, concurrency)  # warm-up
    await closed_loop(target.submit, concurrency, 16)
    await settle(target, 0.5)
    out: dict[str, float] = {}
    levels = [1, concurrency] if concurrency == 16 else [concurrency]
    for c in levels:
        with frozen_heap():
            samples = await closed_loop(target.command, c, total if c > 1 else 50)
        out[f"/gfi ack median, concurrency {c}"] = statistics.median(samples)
    await settle(target, 0.5)
    out.update(await submissions(target, concurrency, total, spy))
    if concurrency == 16:
        await settle(target, 0.5)
        with frozen_heap():
            samples = await closed_loop(target.submit, 1, 50)
        out["submission ack median, concurrency 1"] = statistics.median(samples)
        out["submission ack p99, concurrency 1"] = pct(samples, 99)
    return out


async def receipts(target: Target, quick: bool) -> dict[str, float]:
    """Open loop at RATE over the fifteen people (with the app's CPU per submission until the last receipt
    arrived); then a burst by one person."""
    seconds = 3.0 if quick else 10.0
    total = int(RATE * seconds)
    sent: dict[str, list[float]] = {}
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def one(n: int) -> None:
        await asyncio.sleep(max(0.0, start + n / RATE - loop.time()))
        user = PEOPLE[n % len(PEOPLE)][0]
        sent.setdefault(user, []).append(time.monotonic())
        await target.submit(n)

    cpu = cpu_seconds(target.pid)
    await asyncio.gather(*(one(n) for n in range(total)))
    latencies = await receipt_latencies(target, sent, within=30.0)
    used = cpu_seconds(target.pid) - cpu
    out = {f"receipt DM p95, {RATE:.0f}/s over {len(PEOPLE)} people": pct(latencies, 95),
           f"CPU per submission with its receipt, {RATE:.0f}/s (idle time included)": used / total * 1000}

    burst = 4 if quick else 10
    await asyncio.sleep(1.5)  # the pace window of the earlier receipts has passed
    user = PEOPLE[2][0]
    before = len(target.receipts(user))
    at = time.monotonic()
    await asyncio.gather(*(target.submit(2 + len(PEOPLE) * k) for k in range(burst)))
    await until(lambda: len(target.receipts(user)) >= before + burst, timeout=burst * 2.0 + 10)
    out[f"burst of {burst} by one person: last receipt"] = (target.receipts(user)[-1] - at) * 1000
    return out


async def receipt_latencies(target: Target, sent: dict[str, list[float]], within: float) -> list[float]:
    """Per person, the k-th receipt answers the k-th submission (DMs keep their order per recipient)."""
    await until(lambda: all(len(target.receipts(u)) >= len(times) for u, times in sent.items()), within)
    out: list[float] = []
    for user, times in sent.items():
        got = target.receipts(user)
        out.extend((r - s) * 1000 for s, r in zip(sorted(times), got, strict=False))
    return out


async def until(done: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109 - a bounded wait
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("receipts did not arrive in time")
        await asyncio.sleep(0.01)


async def measure_acks(name: str, concurrency: int, total: int, gfi_root: Path,
                       spy: Path | None = None) -> dict[str, float]:
    """One app alone on the machine (the other is not running: GFI-boten's paced DMs and Home tabs after
    its submissions must not slow the floor down), fresh, at one concurrency."""
    load = os.getloadavg()[0]
    async with running(name, gfi_root) as target:
        figures = await acks(target, concurrency, total, spy)
    figures[LOAD] = (load + os.getloadavg()[0]) / 2  # the machine's load while this app was measured
    return figures


async def measure_receipts(name: str, quick: bool, gfi_root: Path) -> dict[str, float]:
    load = os.getloadavg()[0]
    async with running(name, gfi_root) as target:
        figures = await receipts(target, quick)
    figures[LOAD] = (load + os.getloadavg()[0]) / 2
    return figures


def targets(metric: str, value: float, floor: float) -> tuple[str, bool | None]:
    """The bound of issue #14 a figure is held to, and whether it is met."""
    if metric.startswith("/gfi ack median, concurrency 16"):
        return "≤ 1.5× floor", value <= 1.5 * floor
    if metric.startswith("submission ack median, concurrency 16"):
        return "≤ 2× floor", value <= 2 * floor
    if metric.startswith("submission ack p99, concurrency 16"):
        return "≤ 3× floor", value <= 3 * floor
    if metric.startswith("submission ack median, concurrency 64") or metric.startswith(
            "submission ack p99, concurrency 64"):
        return "≤ 2.5× floor", value <= 2.5 * floor
    if metric.startswith("receipt DM p95"):
        return "< 1 000 ms", value < 1000
    if metric.startswith("burst"):
        return "paced: ≈ 1 s per message", None
    return "", None


_PG: list[str] = []


def fresh_postgres() -> str:
    """A new database on the bench's PostgreSQL: GFI_BENCH_POSTGRES (a server you run), else a cluster
    started here with fsync ON (a figure measured with fsync off would not be reported)."""
    import psycopg

    if not _PG:
        from tests import pg

        _PG.append(os.environ.get("GFI_BENCH_POSTGRES") or pg.start_cluster(durable=True))
    base = _PG[0].rstrip("/")
    name = f"gfi_bench_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


def postgres_available() -> bool:
    from tests import pg

    return bool(os.environ.get("GFI_BENCH_POSTGRES")) or pg.binaries() is not None


def spread(name: str, metric: str, rounds: dict[str, list[dict[str, float]]]) -> tuple[float, float] | None:
    """The lowest and highest of the rounds' ratios of `name` to the bare app of the same round."""
    ratios = [r[metric] / b[metric] for r, b in zip(rounds[name], rounds["bare"], strict=False)
              if metric in r and b.get(metric)]
    return (min(ratios), max(ratios)) if len(ratios) > 1 else None


async def rows(quick: bool, gfi_root: Path = ROOT, rounds_wanted: int | None = None,
               engines: tuple[str, ...] = ("sqlite", "postgresql"), submissions_wanted: int | None = None,
               compare: Path | None = None) -> list[Row]:
    """The acks and receipts of GFI-boten on SQLite and on PostgreSQL, each with the bare Bolt app's figure as
    its floor, measured in the same run and interleaved (see the module's doc); each figure is the median of its
    rounds, PostgreSQL's of its first PG_ROUNDS."""
    wanted = rounds_wanted or (QUICK_ROUNDS if quick else ROUNDS)
    total = submissions_wanted or (QUICK_SUBMISSIONS if quick else SUBMISSIONS)
    names = ["bare"] + (["gfi"] if "sqlite" in engines else []) + (["gfi-cmp"] if compare else []) + (
        ["gfi-pg"] if "postgresql" in engines and postgres_available() else [])
    root = {name: compare if name == "gfi-cmp" and compare else gfi_root for name in names}
    rounds: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    failed: dict[str, str] = {}
    for number in range(wanted + 1):  # round 0 warms the machine up and is discarded
        in_round = [n for n in names if n != "gfi-pg" or 1 <= number <= PG_ROUNDS]
        if number % 2:
            in_round.reverse()
        figures: dict[str, dict[str, float]] = {n: {} for n in in_round}
        for concurrency in (16, 64):
            for name in in_round:
                if name in failed:
                    continue
                spy = SPY[0] if SPY and name == "gfi" and number == wanted else None
                try:
                    got = await measure_acks(name, concurrency, total, root[name], spy)
                except RuntimeError as exc:  # e.g. acks later than Slack's 3 s: said in the table, the rest goes on
                    if name == "bare":
                        raise
                    failed[name] = str(exc)[:100]
                    continue
                load = got.pop(LOAD)
                figures[name].update(got)
                figures[name][LOAD] = max(figures[name].get(LOAD, 0.0), load)
        if number:
            for name in in_round:
                if name not in failed:
                    rounds[name].append(figures[name])
    receipts_of: dict[str, dict[str, float]] = {}
    for name in names:  # the receipts once, after the rounds
        if name in failed:
            continue
        try:
            receipts_of[name] = await measure_receipts(name, quick, root[name])
        except RuntimeError as exc:
            if name == "bare":
                raise
            failed[name] = str(exc)[:100]
    merged = {n: {m: statistics.median(r[m] for r in rs) for m in rs[0]} for n, rs in rounds.items() if rs}
    bare_receipts = receipts_of["bare"]
    engines_of = {"gfi": "SQLite", "gfi-pg": "PostgreSQL", "gfi-cmp": f"SQLite, {compare}"}
    out = [Row("acks", f"{engines_of[n]}: did not complete ({why})", 0, "", met=False) for n, why in failed.items()]
    for name in [n for n in names[1:] if n in merged]:
        engine = engines_of[name]
        load = merged[name].pop(LOAD)
        shared = rounds["bare"][:len(rounds[name])]  # the floor: the bare app in the rounds this app took part in
        bare = {m: statistics.median(r[m] for r in shared) for m in shared[0]} | bare_receipts
        for metric, value in merged[name].items():
            target, met = targets(metric, value, bare[metric])
            out.append(Row("acks", f"{metric} ({engine})", value, "ms", floor=bare[metric], target=target, met=met,
                           load=load, spread=spread(name, metric, rounds)))
        if name in receipts_of:
            load = receipts_of[name].pop(LOAD)
            for metric, value in receipts_of[name].items():
                target, met = targets(metric, value, bare[metric])
                out.append(Row("acks", f"{metric} ({engine})", value, "ms", floor=bare[metric], target=target,
                               met=met, load=load))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small variant (well under a minute)")
    parser.add_argument("--rounds", type=int, help=f"measured rounds of the acks ({ROUNDS}; quick {QUICK_ROUNDS})")
    parser.add_argument("--submissions", type=int,
                        help=f"per app, round and concurrency ({SUBMISSIONS}; quick {QUICK_SUBMISSIONS})")
    parser.add_argument("--engine", action="append", choices=("sqlite", "postgresql"),
                        help="GFI-boten's engines to measure (both, PostgreSQL when its binaries are found)")
    parser.add_argument("--spy", metavar="DIR", type=Path, help="py-spy stacks of GFI-boten (SQLite), last round")
    parser.add_argument("--gfi-root", type=Path, default=ROOT, help="run gfi-bot from this checkout")
    parser.add_argument("--compare", metavar="PATH", type=Path,
                        help="also gfi-bot (SQLite) from this checkout, in the same rounds (e.g. main before a change)")
    args = parser.parse_args()
    if args.spy:
        args.spy.mkdir(parents=True, exist_ok=True)
        SPY.append(args.spy.resolve())
    print_table(asyncio.run(rows(args.quick, args.gfi_root.resolve(), args.rounds,
                                 tuple(args.engine or ("sqlite", "postgresql")), args.submissions,
                                 args.compare.resolve() if args.compare else None)))
