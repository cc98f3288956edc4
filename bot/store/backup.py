"""A consistent copy of a running SQLite store (`gfi-bot backup`, and the copy written before migrating).

SQLite's online backup API copies the pages while the bot goes on writing: the copy is taken inside one read
transaction, so it is the store as it was at one instant (WAL lets the bot's writes go on meanwhile), in
steps so a terminal can show progress. The copy is written to a 0600 temporary file beside the target,
synced, and renamed into place, so a half-written backup never carries the target's name.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.store.files import FILE_MODE

STEP_PAGES = 1024  # pages per step (4 MiB at SQLite's default page size)

Progress = Callable[[int, int], None]  # (pages copied, pages in all)


def backup(source: Path | str, out: Path | str, progress: Progress | None = None) -> int:
    """Copy the store at `source` to `out` (replaced if it exists); returns the number of pages copied."""
    out = Path(out)
    if not Path(source).is_file():
        raise FileNotFoundError(source)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    src = sqlite3.connect(source, isolation_level=None)
    try:
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            src.execute("BEGIN")
            src.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # the snapshot starts here
            total = 0

            def step(status: int, remaining: int, pages: int) -> None:
                nonlocal total
                total = pages
                if progress is not None:
                    progress(pages - remaining, pages)

            src.backup(dst, pages=STEP_PAGES, progress=step)
            src.execute("ROLLBACK")
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
        return total
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    finally:
        src.close()


def before_migrating_name(path: Path | str, version: int, now: datetime | None = None) -> Path:
    """`gfi-bot.sqlite3` at schema 12 → `gfi-bot.sqlite3.v12-20261207T0200Z.bak`, beside it."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    path = Path(path)
    return path.with_name(f"{path.name}.v{version}-{stamp}.bak")
