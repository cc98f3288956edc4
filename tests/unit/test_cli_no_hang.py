"""No start-up path can hang: when the bot's main coroutine fails while something still runs (a worker thread
of a half-opened store, an executor job), the process prints its one line and ends anyway."""

from __future__ import annotations

import subprocess
import sys
import time

SCRIPT = """
import asyncio, threading, time
from bot.cli.common import run_main
from bot.logs import setup_logging

setup_logging("INFO")  # as gfi-bot does: the crash is a JSON log line, the operator's line is plain

async def main() -> int:
    threading.Thread(target=time.sleep, args=(120,)).start()   # a non-daemon thread, like aiosqlite's
    asyncio.get_running_loop().run_in_executor(None, time.sleep, 120)  # an executor job asyncio.run waits for
    raise RuntimeError("boom")

raise SystemExit(run_main(main))
"""


def test_a_failure_with_threads_still_running_ends_the_process() -> None:
    began = time.monotonic()
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False)
    elapsed = time.monotonic() - began
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("{")]
    assert len(lines) == 1 and "RuntimeError" in lines[0], result.stderr
    assert "Traceback" not in "\n".join(lines)
    assert elapsed < 30  # without the guard it would wait for the two-minute sleeps
