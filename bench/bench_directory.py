"""A directory of 10⁵ people and 10⁴ units: how long it takes to load, and what the forms cost (issue #23 item 7).

Run:  .venv/bin/python bench/bench_directory.py [--quick] [--formats yaml json]   (quick: 10³ units, 10⁴ people)
      (also part of `scripts/bench`)

Writes the directory (bench/big_directory.py: the same data every run) as YAML and as JSON in a temporary
folder, then loads each with `bot.directory.loading.load_directory` in a fresh child process (so the figure is
what `gfi-bot run` pays at start and on a reload: reading, YAML or JSON, validation, the cross-checks, the
indexes) and reports its wall time, its CPU time (about the wall time on an idle machine) and the child's peak
RSS. Then, in this process: building the Slack request modal and the Teams request card for one person, and a
typeahead answer over every unit. Target: the load under 5 s. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from big_directory import directory_data, person_id, write_directory  # noqa: E402

try:
    from bench.table import Row, print_table
except ModuleNotFoundError:  # run as a script
    from table import Row, print_table  # type: ignore[no-redef]

TARGET_SECONDS = 5.0
CHILD = """import json, resource, sys, time
from pathlib import Path
from bot.directory.loading import load_directory
began, cpu = time.perf_counter(), time.process_time()
directory = load_directory(Path(sys.argv[1]))
seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu": cpu, "people": len(directory.people), "units": len(directory.units),
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def load_in_child(path: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, cwd=ROOT,
                          check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


async def forms(units: int, people: int, folder: Path) -> list[Row]:
    """Slack's request modal, Teams' request card and a typeahead answer, on a core with this directory."""
    from bot.channels.slack import typeahead
    from bot.channels.teams import cards
    from bot.clock import SystemClock
    from bot.config import DEFAULT_DIRECTORY, Settings
    from bot.core import open_core
    from bot.directory.loading import parse_directory
    from handlers.slack.commands import request_form
    from handlers.teams import forms as teams_forms

    directory = parse_directory(directory_data(units, people), folder / "big.yaml")
    settings = Settings(db_path=folder / "gfi.sqlite3", directory_path=DEFAULT_DIRECTORY, _env_file=None)
    core = await open_core(settings, clock=SystemClock(), directory=directory)
    try:
        ctx = cast(Any, SimpleNamespace(core=core))
        scale = f"{units:,} units".replace(",", " ")
        began = time.perf_counter()
        view = request_form(ctx, person_id(1))
        slack_ms = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        card = cards.form_card(core.renderer, teams_forms.request_form(ctx, person_id(1)), nonce="n")
        teams_ms = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        typeahead.unit_options(core.directory, "enhet 0")
        suggest_ms = (time.perf_counter() - began) * 1000
        return [
            Row("directory", f"Slack request modal, {scale}", slack_ms, "ms"),
            Row("directory", f"Slack request modal size, {scale}", len(json.dumps(view)) / 1024, "KB"),
            Row("directory", f"Teams request card, {scale}", teams_ms, "ms"),
            Row("directory", f"Teams request card size, {scale}", len(json.dumps(card)) / 1024, "KB"),
            Row("directory", f"typeahead answer over {scale}", suggest_ms, "ms"),
        ]
    finally:
        await core.close()


async def rows(quick: bool, formats: tuple[str, ...] = ("yaml", "json")) -> list[Row]:
    units, people = (1_000, 10_000) if quick else (10_000, 100_000)
    scale = f"{people:,} people, {units:,} units".replace(",", " ")
    out: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="gfi-bench-directory-") as tmp:
        folder = Path(tmp)
        yaml_file = write_directory(folder / "directory.yaml", units=units, people=people)
        json_file = folder / "directory.json"
        json_file.write_text(json.dumps(directory_data(units, people), ensure_ascii=False), encoding="utf-8")
        for kind, path in (("YAML", yaml_file), ("JSON", json_file)):
            if kind.lower() not in formats:
                continue
            loaded = load_in_child(path)
            assert (loaded["people"], loaded["units"]) == (people, units)
            size = path.stat().st_size / 1024 / 1024
            out.append(Row("directory", f"load {kind} ({size:.1f} MiB), {scale}", loaded["seconds"], "s",
                           target=f"< {TARGET_SECONDS:g} s", met=loaded["seconds"] < TARGET_SECONDS))
            # the CPU time it took: the wall time on an idle machine (this one is often shared)
            out.append(Row("directory", f"load {kind}, CPU time, {scale}", loaded["cpu"], "s",
                           target=f"< {TARGET_SECONDS:g} s", met=loaded["cpu"] < TARGET_SECONDS))
            out.append(Row("directory", f"peak RSS of the loading process ({kind}), {scale}", loaded["rss_mib"],
                           "MiB"))
        out += await forms(units, people, folder)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10³ units and 10⁴ people")
    parser.add_argument("--formats", nargs="*", default=["yaml", "json"], help="yaml, json (default both)")
    args = parser.parse_args()
    print_table(asyncio.run(rows(args.quick, tuple(args.formats))))


if __name__ == "__main__":
    main()
