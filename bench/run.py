"""Every benchmark in one run, printed as one table: the floor, the ratio and the target beside each figure.

Run:  scripts/bench           quick: the small scales, about a minute or two
      scripts/bench --full    the figures the README quotes (10⁴–10⁶ open cases; several minutes)

Each module in `MODULES` exposes `async def rows(quick: bool) -> list[Row]` (bench/table.py) and cleans up
after itself (temporary databases and servers). A module that fails is reported as one row and the run goes
on, so one broken benchmark never hides the others. Asserts nothing: the exit status is 0 unless `--strict`
is given and a target was missed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import resource
import sys
import time
from collections.abc import Awaitable, Callable

from bench.table import Row, print_table

# In the order the table shows them: acks against the bare app, sweeps at scale, acks while a Home refreshes
# and memory of `gfi-bot run` at scale, the lists a person opens (both engines), what runs on the event loop,
# delivery, storage.
MODULES = ("bench.bench_slack_acks", "bench.bench_scale", "bench.bench_busy", "bench.bench_reads",
           "bench.bench_loop", "bench.bench_outbox", "bench.bench_postgres", "bench.bench_directory")


async def collect(quick: bool, only: list[str] | None = None) -> list[Row]:
    """Run every benchmark module (or those named in `only`) and gather their rows."""
    rows: list[Row] = []
    for name in MODULES:
        if only and not any(part in name for part in only):
            continue
        started = time.perf_counter()
        try:
            module = importlib.import_module(name)
            measure: Callable[[bool], Awaitable[list[Row]]] = module.rows
            rows += await measure(quick)
        except Exception as exc:
            rows.append(Row("error", f"{name}: {type(exc).__name__}: {exc}"[:160], 0, "", met=False))
            continue
        print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    rows.append(Row("process", "peak RSS of the benchmark process", resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the large scales (several minutes)")
    parser.add_argument("--only", nargs="*", help="run only the modules whose name contains one of these")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target was missed")
    args = parser.parse_args(argv)
    rows = asyncio.run(collect(quick=not args.full, only=args.only))
    print_table(rows)
    missed = [r for r in rows if r.met is False]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
