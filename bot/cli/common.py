"""What every `gfi-bot` subcommand shares: its messages, settings from the flags, and running the bot's
main coroutine with one Swedish line for every reason it cannot start."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot import texts
from bot.startup import EXIT_CODE, StartupError, describe

if TYPE_CHECKING:  # imported where used: the parser (bot.cli.parser) uses `say` and must stay light
    from bot.config import Settings
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
    from bot.config import Settings

    settings = Settings()
    if getattr(args, "db", None):
        settings.db_path = Path(args.db)
    if getattr(args, "directory", None):
        settings.directory_path = Path(args.directory)
    return settings


def _explain(exc: Exception) -> int:
    """Print why the bot stopped (one Swedish line, or a broken directory's report) and return the exit code."""
    from bot.directory import DirectoryError

    if isinstance(exc, DirectoryError):
        print(exc.report(), file=sys.stderr)
        print(say("bad_directory"), file=sys.stderr)
        return 1
    if isinstance(exc, StartupError):
        print(describe(exc), file=sys.stderr)
        return EXIT_CODE
    log.error("stopped by an unexpected error", exc_info=exc, extra={"event": "bot.crashed"})
    print(describe(StartupError("unexpected", kind=type(exc).__name__)), file=sys.stderr)
    return EXIT_CODE


EXIT_GRACE = 1.0  # seconds a failed process may spend closing before it is ended regardless


def _exit_soon(code: int) -> None:
    """Make sure a failed process ends: whatever is still running (a worker thread of a half-opened store, an
    executor job) cannot keep it alive past EXIT_GRACE, so a supervisor always sees the exit."""
    sys.stdout.flush()
    sys.stderr.flush()
    timer = threading.Timer(EXIT_GRACE, os._exit, args=(code,))
    timer.daemon = True
    timer.start()


def run_main(main: Callable[[], Coroutine[Any, Any, int]], lock: Settings | None = None) -> int:
    """Run the bot's main coroutine. With `lock`, hold its database for the process's life (one bot per
    store). A broken directory stops it with every problem listed; any other reason it cannot start or go on
    (StartupError, or an unexpected error) is one Swedish line on stderr and a non-zero exit, at once: the
    line is printed where the error is caught, and the process ends within EXIT_GRACE even if something
    still runs. A reader that went away (`| head`) is left to `main()`, which ends quietly."""
    debug = logging.getLogger().isEnabledFor(logging.DEBUG)
    held: list[StoreLock] = []

    async def guarded() -> int:  # the one handler: every reason to stop, the store lock's included
        try:
            # one process per SQLite store; PostgreSQL serves any number (issue #22)
            if lock is not None and lock.database_url is None and str(lock.db_path) != ":memory:":
                from bot.store.lock import StoreLock

                held.append(StoreLock.acquire(lock.db_path))
            return await main()
        except BrokenPipeError:
            raise
        except Exception as exc:
            if debug:
                raise
            code = _explain(exc)
            _exit_soon(code)  # now, not after asyncio.run has waited for what still runs
            return code

    try:
        return asyncio.run(guarded())
    finally:
        for store in held:  # held until the loop has closed, for the process's life
            store.release()


def day(value: str | None, flag: str) -> date | None:
    """A --from/--to date, or None when not given; a bad one stops the command with one Swedish line."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SystemExit(say("bad_date", flag=flag, value=repr(value))) from None
