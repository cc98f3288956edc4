"""`gfi-bot` command line: the entry point. It parses the arguments and checks the configuration before it
imports any channel, the store or the core (issue #19: a bad configuration is refused within 2 s, and `--help`
and `--version` answer at once); the subcommand's module is imported only when it runs (`bot.cli.commands`)."""

from __future__ import annotations

import os
import sys

from bot.cli.commands import build_parser, version

__all__ = ["build_parser", "main", "version"]

QUIET = ("check-config",)  # commands whose output is for a person: info logs would drown it


def main(argv: list[str] | None = None) -> int:
    """`gfi-bot`: files it writes are private (umask 0077), and a reader that stops reading (`| head`) ends
    it quietly."""
    os.umask(0o077)  # bot.store.files.private_umask, without importing the store
    try:
        return _main(argv)
    except BrokenPipeError:
        # Python flushes stdout again at exit and would complain: point it at /dev/null first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from pydantic import ValidationError

    from bot.config import Settings
    from bot.setup_check import settings_problems, startup_problems
    from bot.startup import EXIT_CODE, StartupError, describe

    try:
        settings = Settings()
    except ValidationError as exc:
        for line in settings_problems(exc) or [describe(StartupError("bad_settings", names="?"))]:
            print(line, file=sys.stderr)
        return EXIT_CODE
    if args.command == "run":
        problems = startup_problems(settings, stdin_tty=sys.stdin is not None and sys.stdin.isatty())
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return EXIT_CODE
    from bot.logs import setup_logging

    level = settings.log_level
    console_mode = args.command == "console" or (
        args.command == "run" and not settings.slack_configured and not settings.teams_configured)
    if (console_mode or args.command in QUIET) and "GFI_LOG_LEVEL" not in os.environ:
        level = "WARNING"  # keep the terminal conversation readable; JSON logs still go to stderr
    setup_logging(level)
    return int(args.func(args) or 0)
