"""`gfi-bot` command line, one module per group of subcommands: `run` (run, console, teams-package,
check-directory), `reports` (due, read-log, journal, report, stats, purge), `logs` (verify-logs); `main` builds
the parser. `gfi-bot` and `python -m bot.cli` both enter at `main`."""

from bot.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
