"""What every `gfi-bot` subcommand shares: its messages, settings from the flags, and running the bot's
main coroutine with one Swedish line for every reason it cannot start."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot import texts
from bot.config import Settings
from bot.directory import DirectoryError
from bot.startup import EXIT_CODE, StartupError, describe
from bot.store.lock import StoreLock

log = logging.getLogger("bot.cli")


def say(name: str, **params: Any) -> str:
    """A message of the command line (`templates/messages/cli.j2`)."""
    return texts.text("cli", name, **params)


def parse_now(value: str | None, tz: str) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise SystemExit(say("bad_now", value=repr(value))) from None
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo(tz))


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "db", None):
        settings.db_path = Path(args.db)
    if getattr(args, "directory", None):
        settings.directory_path = Path(args.directory)
    return settings


def run_main(main: Callable[[], Coroutine[Any, Any, int]], lock: Settings | None = None) -> int:
    """Run the bot's main coroutine. With `lock`, hold its database for the process's life (one bot per
    store). A broken directory stops it with every problem listed; any other reason it cannot start or go on
    (StartupError, or an unexpected error) is one Swedish line on stderr and a non-zero exit, at once."""
    store: StoreLock | None = None
    try:
        if lock is not None and str(lock.db_path) != ":memory:":
            store = StoreLock.acquire(lock.db_path)
        return asyncio.run(main())
    except DirectoryError as exc:
        print(exc.report(), file=sys.stderr)
        print(say("bad_directory"), file=sys.stderr)
        return 1
    except StartupError as exc:
        print(describe(exc), file=sys.stderr)
        return EXIT_CODE
    except Exception as exc:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            raise
        log.error("stopped by an unexpected error", exc_info=exc, extra={"event": "bot.crashed"})
        print(describe(StartupError("unexpected", kind=type(exc).__name__)), file=sys.stderr)
        return EXIT_CODE
    finally:
        if store is not None:
            store.release()


def day(value: str | None, flag: str) -> date | None:
    """A --from/--to date, or None when not given; a bad one stops the command with one Swedish line."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SystemExit(say("bad_date", flag=flag, value=repr(value))) from None
