"""`gfi-bot` command line: the parser of every subcommand and the entry point."""

from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata

from pydantic import ValidationError

from bot import migrate_store
from bot.cli import config as config_cmds
from bot.cli import logs as log_cmds
from bot.cli import reports as operator_cmds
from bot.cli import run as serve_cmds
from bot.cli import store as store_cmds
from bot.cli.parser import SwedishParser
from bot.config import Settings
from bot.directory.command import add_parsers as directory_parsers
from bot.logs import setup_logging
from bot.setup_check import settings_problems, startup_problems
from bot.startup import EXIT_CODE, StartupError, describe
from bot.store.files import private_umask

QUIET = ("check-config",)  # commands whose output is for a person: info logs would drown it


def version() -> str:
    try:
        return metadata.version("gfi-bot")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "okänd"


def build_parser() -> argparse.ArgumentParser:
    parser = SwedishParser(prog="gfi-bot", description="GFI-boten")
    parser.add_argument("--version", action="version", version=f"gfi-bot {version()}",
                        help="visa versionen och avsluta")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=SwedishParser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="SQLite-fil (standard: GFI_DB_PATH eller gfi-bot.sqlite3)")
        p.add_argument("--directory", help="katalogfil (standard: GFI_DIRECTORY eller exempelkatalogen)")

    run = sub.add_parser("run", help="kör boten (Slack om konfigurerat, annars konsolen)")
    common(run)
    run.add_argument("--as", dest="as_person", help="person i konsolläget")
    run.add_argument("--now", help="starttid i konsolläget (ÅÅÅÅ-MM-DDTHH:MM)")
    run.set_defaults(func=serve_cmds.cmd_run)

    console = sub.add_parser("console", help="konsolen: hela boten i terminalen")
    common(console)
    console.add_argument("--as", dest="as_person", help="person-id ur katalogen")
    console.add_argument("--now", help="frys klockan vid denna tid (ÅÅÅÅ-MM-DDTHH:MM, lokal tid)")
    console.set_defaults(func=serve_cmds.cmd_console)

    due = sub.add_parser("due", help="visa vad som är förfallet: väntande svar, påminnelser, meddelanden")
    common(due)
    due.add_argument("--now", help="visa läget vid denna tid (ÅÅÅÅ-MM-DDTHH:MM, lokal tid)")
    due.set_defaults(func=operator_cmds.cmd_due)

    reads = sub.add_parser("read-log", help="läsloggar: vem som har visats ett ärendes fritext (loggkontroll)")
    common(reads)
    reads.add_argument("--ref", help="ärendets referens (GFI-ÅÅÅÅ-NNNN)")
    reads.add_argument("--person", help="person-id: vad personen har visats")
    reads.add_argument("--from", dest="start", help="första dagen (ÅÅÅÅ-MM-DD), med --person")
    reads.add_argument("--to", dest="end", help="sista dagen (ÅÅÅÅ-MM-DD), med --person")
    reads.set_defaults(func=operator_cmds.cmd_read_log)

    journal = sub.add_parser("journal", help="journalunderlag för ett ärende: text, eller PDF med --pdf")
    common(journal)
    journal.add_argument("ref", help="ärendets referens (GFI-ÅÅÅÅ-NNNN)")
    journal.add_argument("--as", dest="as_person", required=True,
                         help="person-id för den som ska ha underlaget (måste ha del i ärendet; läsningen loggas)")
    journal.add_argument("--pdf", help="skriv underlaget som PDF till denna fil i stället för att skriva ut det")
    journal.set_defaults(func=operator_cmds.cmd_journal)

    report = sub.add_parser("report", help="rapporter")
    kinds = report.add_subparsers(dest="report", required=True)
    brister = kinds.add_parser("brister", help="årsrapporten Brister i samverkan: HTML, diagram (PNG) och CSV")
    common(brister)
    brister.add_argument("--year", type=int, required=True, help="året (ÅÅÅÅ)")
    brister.add_argument("--out", required=True, help="mapp att skriva brister-ÅÅÅÅ.html, .png och .csv i")
    brister.set_defaults(func=operator_cmds.cmd_report_brister)

    stats = sub.add_parser("stats", help="statistik per verksamhet för förfrågningar under en period")
    common(stats)
    stats.add_argument("--from", dest="start", required=True, help="första dagen (ÅÅÅÅ-MM-DD)")
    stats.add_argument("--to", dest="end", required=True, help="sista dagen (ÅÅÅÅ-MM-DD)")
    stats.add_argument("--unit", help="bara denna verksamhet (id ur katalogen)")
    stats.add_argument("--csv", help="skriv också statistiken till denna CSV-fil (UTF-8, semikolon, för Excel)")
    stats.set_defaults(func=operator_cmds.cmd_stats)

    purge = sub.add_parser("purge", help="radera avslutade ärenden äldre än GFI_RETENTION_MONTHS (standard 12)")
    common(purge)
    purge.add_argument("--dry-run", action="store_true", help="visa bara vad som skulle raderas")
    purge.set_defaults(func=operator_cmds.cmd_purge)

    verify = sub.add_parser("verify-logs", help="kontrollera att granskningsloggen och läsloggarna är hela "
                                                 "(hashkedjan); avslutar med 1 och namnger första brutna raden")
    common(verify)
    verify.add_argument("--head", action="append", metavar="LOGG=ID:HASH",
                        help="en kedjeände ur applikationsloggens nattliga rad logs.head (audit=… eller read=…), "
                             "som ska finnas kvar: visar en avkortad logg; kan anges flera gånger")
    verify.set_defaults(func=log_cmds.cmd_verify_logs)

    package = sub.add_parser("teams-package", help="skriv Teams-appens paket (manifest.json och ikoner) som zip")
    package.add_argument("--out", required=True, help="zip-filen som skrivs, t.ex. gfi-boten-teams.zip")
    package.add_argument("--app-id", dest="app_id", help="Entra-appens (klient-)id; standard TEAMS_APP_ID")
    package.add_argument("--version", default="1.0.0", help="appens version i manifestet")
    package.add_argument("--publisher", help="utgivarens namn, t.ex. Region Norrland (standard TEAMS_PUBLISHER)")
    package.add_argument("--website-url", dest="website_url", help="utgivarens webbplats, https (TEAMS_WEBSITE_URL)")
    package.add_argument("--privacy-url", dest="privacy_url", help="sidan om personuppgifter (TEAMS_PRIVACY_URL)")
    package.add_argument("--terms-url", dest="terms_url", help="användarvillkoren, https (TEAMS_TERMS_URL)")
    package.set_defaults(func=serve_cmds.cmd_teams_package)

    migrate_store.register(sub)  # migrate-store (issue #22, bot/migrate_store.py)

    check = sub.add_parser("check-directory", help="kontrollera en katalogfil (varje fel med radnummer)")
    check.add_argument("file")
    check.set_defaults(func=serve_cmds.cmd_check_directory)
    directory_parsers(sub)  # directory import --csv / sync --entra (bot/directory/command.py)
    store_cmds.register(sub)  # backup
    config_cmds.register(sub)  # check-config
    return parser


def main(argv: list[str] | None = None) -> int:
    """`gfi-bot`: files it writes are private (umask 0077), and a reader that stops reading (`| head`) ends
    it quietly."""
    private_umask()
    try:
        return _main(argv)
    except BrokenPipeError:
        # Python flushes stdout again at exit and would complain: point it at /dev/null first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
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
    level = settings.log_level
    console_mode = args.command == "console" or (
        args.command == "run" and not settings.slack_configured and not settings.teams_configured)
    if (console_mode or args.command in QUIET) and "GFI_LOG_LEVEL" not in os.environ:
        level = "WARNING"  # keep the terminal conversation readable; JSON logs still go to stderr
    setup_logging(level)
    return int(args.func(args) or 0)
