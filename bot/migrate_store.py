"""`gfi-bot migrate-store --to postgresql://…`: the command around `bot.store.transfer` (issue #22)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot import texts
from bot.progress import Progress
from bot.startup import StartupError, describe
from bot.store import uses_postgres
from bot.store.lock import StoreLock
from bot.store.transfer import TransferError, migrate_store


def cmd_migrate_store(args: argparse.Namespace) -> int:
    from bot.config import Settings

    url = str(args.to)
    source = Path(args.db) if args.db else Settings().db_path
    if not uses_postgres(url):
        print(describe(StartupError("store_bad_url", reason="--to")), file=sys.stderr)
        return 1
    if not source.exists():
        print(describe(StartupError("store_cannot_open", path=source)), file=sys.stderr)
        return 1
    lock = None
    progress = Progress(texts.text("cli", "store_copy_label"))  # on a terminal only, like backup and purge
    try:
        lock = StoreLock.acquire(source)  # no bot may write the SQLite store while it is copied
        counts = asyncio.run(migrate_store(source, url, progress.update))
        progress.finish()
    except StartupError as exc:
        print(describe(exc), file=sys.stderr)
        return 1
    except TransferError as exc:
        reason = str(exc)
        if reason == "target_not_empty":
            print(texts.text("cli", "store_target_not_empty"), file=sys.stderr)
        else:
            print(texts.text("cli", "store_copy_mismatch", reason=reason), file=sys.stderr)
        return 1
    finally:
        progress.abandon()  # only when the copy failed: finish() has ended the line
        if lock is not None:
            lock.release()
    total = sum(counts.values())
    print(texts.text("cli", "store_copied", rows=total, tables=len(counts), source=source))
    for table, n in sorted(counts.items()):
        print(f"  {table}: {n}")
    return 0
