"""Every benchmark in one run, printed as one table, then the rows of issues #21 and #22 side by side.

Run:  scripts/bench            the targets' scales (10⁵ open cases on both engines, the RSS of `gfi-bot run` at
                               10⁶, the 10⁴-message outbox): every row of #21 and #22 but a coordinator's Home
                               at 10⁶; about 11 minutes on 2 quiet cores, ~10 GB of temporary disk
      scripts/bench --quick    the small scales (10⁴ open cases, one round): a few minutes, a smoke test
      scripts/bench --full     everything, a coordinator's Home at 10⁶ on both engines too, and every scale of
                               the sweeps: roughly half an hour or more on 2 quiet cores (not timed whole)
      scripts/bench --only acks sweeps     some parts (a part's name or its module's, e.g. `scale`)
      scripts/bench --markdown             the issue rows as README's Performance tables

Each module exposes `async def rows(quick: bool) -> list[Row]` (bench/table.py) and cleans up after itself
(temporary databases and servers). This file only chooses what each module runs at which scale (`PARTS`):
what a figure measures is the module's. A part that fails is reported as one row and the run goes on, so one
broken benchmark never hides the others. Asserts nothing: the exit status is 0 unless `--strict` is given and
a target was missed.

The summary (`ISSUES`) picks the rows each issue names out of all the rows, SQLite and PostgreSQL beside each
other, with the bare slack-bolt app's figure measured in the same run (the ratio) and the machine's load
average with each figure: the target and whether it was met are the module's own. A row the run did not
measure is shown as "–" with the option that measures it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import re
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import ModuleType

from bench.table import Row, fmt, print_table

QUICK, TARGETS, FULL = "quick", "targets", "full"
TARGET_SCALE = 100_000  # the open cases the #21 targets name, except the coordinator's Home and the RSS (10⁶)
# Measured on 2 quiet cores (load about 1, 5c48340), each part of the default run: acks 230 s, sweeps 35 s,
# busy about 200 s (the build of 10⁶ open cases 108 s of it), reads 41 s, loop 20 s, postgres 72 s; outbox and
# directory (small) about half a minute together.


def _postgres() -> bool:
    from bench.bench_slack_acks import postgres_available

    return postgres_available()


async def _acks(m: ModuleType, plan: str) -> list[Row]:
    return list(await m.rows(plan == QUICK))  # bare, SQLite and PostgreSQL, interleaved rounds


async def _scale(m: ModuleType, plan: str) -> list[Row]:
    if plan != TARGETS:  # quick: 10⁴ on both engines; full: 10⁴–10⁶ on SQLite, 10⁴–10⁵ on PostgreSQL
        return list(await m.rows(plan == QUICK))
    out = list(await m.measure(TARGET_SCALE))
    if _postgres():
        out += await m.measure(TARGET_SCALE, "postgresql")
    return out


async def _reads(m: ModuleType, plan: str) -> list[Row]:
    if plan == TARGETS:  # the lists at 10⁵ on both engines; the Home at 10⁶ is --full's
        return list(await m.rows(False, TARGET_SCALE, 0))
    return list(await m.rows(plan == QUICK))


async def _small_unless_full(m: ModuleType, plan: str) -> list[Row]:
    return list(await m.rows(plan != FULL))


async def _big_unless_quick(m: ModuleType, plan: str) -> list[Row]:
    return list(await m.rows(plan == QUICK))


@dataclass(frozen=True)
class Part:
    """One benchmark module and how each plan runs it."""

    name: str  # what `--only` matches, besides the module's name
    module: str
    run: Callable[[ModuleType, str], Awaitable[list[Row]]]


# In the order the table shows them: acks against the bare app, sweeps at scale, acks while a Home refreshes
# and memory of `gfi-bot run` at scale, the lists a person opens (both engines), what runs on the event loop,
# delivery, several instances on PostgreSQL, the directory.
PARTS = (
    Part("acks", "bench.bench_slack_acks", _acks),
    Part("sweeps", "bench.bench_scale", _scale),
    Part("busy", "bench.bench_busy", _big_unless_quick),  # the acks at 10⁵ on both engines, the RSS at 10⁶
    Part("reads", "bench.bench_reads", _reads),
    Part("loop", "bench.bench_loop", _big_unless_quick),
    Part("outbox", "bench.bench_outbox", _small_unless_full),
    Part("postgres", "bench.bench_postgres", _big_unless_quick),
    Part("directory", "bench.bench_directory", _small_unless_full),
)
MODULES = tuple(p.module for p in PARTS)


def chosen(part: Part, only: list[str] | None) -> bool:
    return not only or any(word in part.module or word == part.name for word in only)


async def collect(plan: str, only: list[str] | None = None) -> list[Row]:
    """Run every part (or those named in `only`) as `plan` says and gather their rows."""
    rows: list[Row] = []
    for part in PARTS:
        if not chosen(part, only):
            continue
        started = time.perf_counter()
        try:
            rows += await part.run(importlib.import_module(part.module), plan)
        except Exception as exc:
            rows.append(Row("error", f"{part.module}: {type(exc).__name__}: {exc}"[:160], 0, "", met=False))
            continue
        print(f"{part.module}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    rows.append(Row("process", "peak RSS of the benchmark process", resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB"))
    return rows


@dataclass(frozen=True)
class Wanted:
    """One row of an issue: the metric patterns (regular expressions, searched) of its SQLite and PostgreSQL
    figures (None: that engine has no such figure), and the plan that measures it."""

    label: str
    sqlite: str | None
    postgresql: str | None
    needs: str = TARGETS  # TARGETS: any run but --quick; FULL: --full only; QUICK: every run


def _in(metric: str, setup: str) -> str:
    """A module's row named `metric (setup)`: the acks and bench_postgres name the engine so."""
    return rf"^{re.escape(metric)} \({re.escape(setup)}\)$"


def _at(prefix: str, scale: str, suffix: str = "") -> tuple[str, str]:
    """The SQLite and PostgreSQL patterns of a row at a scale: bench_scale, bench_reads and bench_busy name the
    scale, then ", PostgreSQL" for the copy (`prefix` and `suffix` are patterns)."""
    return rf"^{prefix}, {scale}{suffix}", rf"^{prefix}, {scale}, PostgreSQL{suffix}"


_K, _M = "100 000 open", "1 000 000 open"  # how the modules write 10⁵ and 10⁶ open cases
ISSUES: dict[str, tuple[Wanted, ...]] = {
    "#21": (
        *(Wanted(f"submission ack {stat}, c={c}", _in(f"submission ack {stat}, concurrency {c}", "SQLite"),
                 _in(f"submission ack {stat}, concurrency {c}", "PostgreSQL"), QUICK)
          for c in (16, 64) for stat in ("median", "p99")),
        Wanted("sweep of 10³ due at 10⁵ open: database time", *_at("sweep tick, 10³ due", _K, ": database time$")),
        Wanted("sweep of 10³ due at 10⁵ open: longest transaction",
               *_at("sweep tick, 10³ due", _K, ": longest transaction$")),
        Wanted("coordinator's Home, 10⁵ open", *_at(r"Home refresh, coordinator \(.*\)", _K, "$")),
        Wanted("coordinator's Home, 10⁶ open", *_at(r"Home refresh, coordinator \(.*\)", _M, "$"), FULL),
        Wanted("cases.queue(), 10⁵ open", *_at(r"cases\.queue\(\).*", _K, "$")),
        Wanted("console /kö sida=3, 10⁵ open", *_at("console /kö sida=3", _K, "$")),
        Wanted("Teams kö, 10⁵ open", *_at(r"Teams kö \(the card.*\)", _K, "$")),
        Wanted("/gfi ack p99, c=16, 10⁵ open, while a coordinator's Home refreshes",
               *_at("/gfi ack p99, c=16", _K, ", while")),
        Wanted("RSS of gfi-bot run, 10⁶ open, after sweeps, a slot and Homes", rf"^gfi-bot run, {_M}: peak RSS",
               None),
    ),
    "#22": (
        Wanted("submission ack median, c=16, 1 instance", _in("submission ack median, c=16", "SQLite, 1 instance"),
               _in("submission ack median, c=16", "PostgreSQL, 1 instance"), QUICK),
        Wanted("filings per second, c=64, 1 instance", _in("filings per second, c=64", "SQLite, 1 instance"),
               _in("filings per second, c=64", "PostgreSQL, 1 instance"), QUICK),
        Wanted("filings per second, c=64, 3 instances", None,
               _in("filings per second, c=64", "PostgreSQL, 3 instances"), QUICK),
        Wanted("outbox: 10⁴ messages to 1,000 recipients, 3 dispatchers", None,
               r"^outbox: 10000 messages to 1000 recipients, 3 dispatchers$"),
        Wanted("leader failover after SIGKILL", None, r"^leader failover after SIGKILL$", QUICK),
        Wanted("largest instance RSS after the submissions", None, r"^largest instance RSS after the submissions$",
               QUICK),
        Wanted("outbox: the largest dispatcher's peak RSS", None, r"^outbox: the largest dispatcher's peak RSS$",
               QUICK),
    ),
}


def find(rows: Iterable[Row], pattern: str | None) -> Row | None:
    """The first row whose metric matches `pattern`."""
    if pattern is None:
        return None
    return next((r for r in rows if re.search(pattern, r.metric)), None)


def cell(row: Row | None) -> str:
    """A figure with its ratio to the bare app when it has one."""
    if row is None:
        return "–"
    spread = f", rounds {row.spread[0]:.2f}–{row.spread[1]:.2f}×" if row.spread else ""
    ratio = f" ({row.value / row.floor:.2f}× bare{spread})" if row.floor else ""
    return f"{fmt(row.value)} {row.unit}{ratio}"


def why_missing(wanted: Wanted, plan: str) -> str:
    if wanted.needs == FULL and plan != FULL:
        return "not in this run: --full"
    if wanted.needs == TARGETS and plan == QUICK:
        return "not in this run: without --quick"
    return "not in this run: part not chosen, no PostgreSQL, or failed (see above)"


def summary(rows: list[Row], plan: str) -> dict[str, list[tuple[str, ...]]]:
    """Per issue, one line per wanted row: figure, SQLite, PostgreSQL, target, met, load. The target and whether
    it was met are the module's (a row of one engine may have none: the ratio is then the figure)."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for issue, wanted in ISSUES.items():
        lines: list[tuple[str, ...]] = []
        for w in wanted:
            found = {"SQLite": find(rows, w.sqlite), "PostgreSQL": find(rows, w.postgresql)}
            present = [r for r in found.values() if r is not None]
            target = next((r.target for r in present if r.target), "")
            met = " / ".join(f"{engine} {'yes' if r.met else 'NO'}" for engine, r in found.items()
                             if r is not None and r.met is not None)
            load = " / ".join(f"{r.load:.1f}" for r in present)
            lines.append((w.label, cell(found["SQLite"]) if w.sqlite else "n/a",
                          cell(found["PostgreSQL"]) if w.postgresql else "n/a",
                          target, met if present else why_missing(w, plan), load))
        out[issue] = lines
    return out


HEAD = ("figure", "SQLite", "PostgreSQL", "target", "met", "load")


def print_summary(rows: list[Row], plan: str, markdown: bool = False) -> None:
    for issue, lines in summary(rows, plan).items():
        print(f"\nIssue {issue}")
        if markdown:
            print("| " + " | ".join(HEAD) + " |")
            print("|" + "---|" * len(HEAD))
            for line in lines:
                print("| " + " | ".join(c.replace("|", "\\|") for c in line) + " |")
            continue
        table = [HEAD, *lines]
        widths = [max(len(t[i]) for t in table) for i in range(len(HEAD))]
        for n, line in enumerate(table):
            print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
            if n == 0:
                print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=(
        "Without --quick or --full: every row of #21 and #22 at the targets' scales but a coordinator's Home at "
        "10⁶ (about 11 minutes on 2 quiet cores, ~10 GB of temporary disk)."))
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true", help="the small scales: a smoke test (a few minutes)")
    scale.add_argument("--full", action="store_true",
                       help="a coordinator's Home at 10⁶ too, every scale (half an hour or more)")
    parser.add_argument("--only", nargs="*", help="run only these parts: " + ", ".join(p.name for p in PARTS))
    parser.add_argument("--markdown", action="store_true", help="print the issue rows as Markdown tables")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target was missed")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL if args.full else TARGETS
    started = time.perf_counter()
    rows = asyncio.run(collect(plan, only=args.only))
    print_table(rows)
    print_summary(rows, plan, args.markdown)
    print(f"\n{plan} run: {(time.perf_counter() - started) / 60:.1f} min", file=sys.stderr)
    missed = [r for r in rows if r.met is False]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
