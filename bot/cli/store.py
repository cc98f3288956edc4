"""`gfi-bot backup --out FILE`: a consistent copy of the SQLite store, also while the bot runs (0600)."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from bot.cli.common import say, settings_from
from bot.progress import Progress
from bot.store.backup import backup


def cmd_backup(args: argparse.Namespace) -> int:
    """Copy the store with SQLite's online backup API; the running bot goes on meanwhile (WAL)."""
    settings = settings_from(args)
    if settings.database_url is not None and not getattr(args, "db", None):
        # the store is PostgreSQL: a SQLite file at GFI_DB_PATH (say, the one migrate-store copied from) is not it
        print(say("backup_postgres"), file=sys.stderr)
        return 1
    source, out = Path(settings.db_path), Path(args.out)
    if not source.is_file():
        print(say("backup_no_store", path=source), file=sys.stderr)
        return 1
    progress = Progress(say("backup_label"))
    try:
        pages = backup(source, out, progress.update)
    except (OSError, sqlite3.Error) as exc:
        print(say("backup_failed", path=out, reason=type(exc).__name__), file=sys.stderr)
        return 1
    progress.finish()
    print(say("backup_written", path=out, pages=pages))
    return 0

