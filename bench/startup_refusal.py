"""How fast `gfi-bot run` refuses a bad configuration (issue #19: one line, non-zero exit, within 2 s), and how
fast `gfi-bot --version` and `--help` answer.

Runs each misconfiguration as a real process N times and prints the median and worst wall time. The target
is a worst case under 2 s on an idle machine; most of the time is Python importing the bot. The CPU time
column is what the process itself used (the wall time grows with the machine's load, the CPU time does not).

    .venv/bin/python bench/startup_refusal.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

CASES: dict[str, dict[str, str]] = {
    "slack token without signing secret": {"SLACK_BOT_TOKEN": "xoxb-1"},
    "TEAMS_APP_ID alone": {"TEAMS_APP_ID": "app"},
    "bad GFI_TIMEZONE": {"GFI_TIMEZONE": "Mars/Olympus"},
    "short GFI_LINK_SECRET": {"GFI_PUBLIC_URL": "https://gfi.example.se", "GFI_LINK_SECRET": "kort",
                              "SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y"},
    "real credentials, example directory": {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y"},
    "no channel, no terminal": {},
}
# Answered before the settings are read (exit 0).
QUICK = {"--version": ["--version"], "--help": ["--help"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_", "TEAMS_", "GRAPH_"))}
    worst_all = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for name, extra in CASES.items():
            env = {**base, "GFI_DB_PATH": os.path.join(folder, "gfi.sqlite3"), **extra}
            times, cpu = [], []
            for _ in range(runs):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                began = time.perf_counter()
                result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=env, stdin=subprocess.DEVNULL,
                                        capture_output=True, text=True, timeout=30, check=False)
                times.append(time.perf_counter() - began)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
                assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
            worst_all = max(worst_all, max(times))
            print(f"{name:40s} median {statistics.median(times):.2f} s  worst {max(times):.2f} s  "
                  f"CPU {statistics.median(cpu):.2f} s  "
                  f"exit {result.returncode}: {result.stderr.splitlines()[0][:70]}")
        for name, argv in QUICK.items():
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                subprocess.run([sys.executable, "-m", "bot.cli", *argv], env=base, capture_output=True, timeout=30,
                               check=True)
                times.append(time.perf_counter() - began)
            print(f"{name:40s} median {statistics.median(times):.2f} s  worst {max(times):.2f} s")
    print(f"worst of all: {worst_all:.2f} s (target < 2 s)")


if __name__ == "__main__":
    main()
