"""The parser of every `gfi-bot` subcommand. Building it imports nothing heavy: each subcommand names its
function by module (`Lazy`), imported only when that subcommand runs, so `--help`, `--version` and a refused
start-up stay fast (issue #19: a bad configuration is refused within 2 s)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from typing import Any

from bot.cli.parser import SwedishParser

# The directory's channels (bot.directory.model.Channel, not imported here: tests/unit/test_cli_lazy.py compares)
CHANNELS = ("slack", "m365", "teams", "email", "console")


class Lazy:
    """A subcommand's function, imported when it is called."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, args: argparse.Namespace) -> Any:
        return getattr(importlib.import_module(self.module), self.name)(args)


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("gfi-bot")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "okänd"


class VersionAction(argparse.Action):
    """`--version`: the installed version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"gfi-bot {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = SwedishParser(prog="gfi-bot", description="GFI-boten")
    parser.add_argument("--version", action=VersionAction, help="visa versionen och avsluta")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=SwedishParser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="SQLite-fil (standard: GFI_DB_PATH eller gfi-bot.sqlite3)")
        p.add_argument("--directory", help="katalogfil (standard: GFI_DIRECTORY eller exempelkatalogen)")

    run = sub.add_parser("run", help="kör boten (Slack om konfigurerat, annars konsolen)")
    common(run)
    run.add_argument("--as", dest="as_person", help="person i konsolläget")
    run.add_argument("--now", help="starttid i konsolläget (ÅÅÅÅ-MM-DDTHH:MM)")
    run.set_defaults(func=Lazy("bot.cli.run", "cmd_run"))

    console = sub.add_parser("console", help="konsolen: hela boten i terminalen")
    common(console)
    console.add_argument("--as", dest="as_person", help="person-id ur katalogen")
    console.add_argument("--now", help="frys klockan vid denna tid (ÅÅÅÅ-MM-DDTHH:MM, lokal tid)")
    console.set_defaults(func=Lazy("bot.cli.run", "cmd_console"))

    due = sub.add_parser("due", help="visa vad som är förfallet: väntande svar, påminnelser, meddelanden")
    common(due)
    due.add_argument("--now", help="visa läget vid denna tid (ÅÅÅÅ-MM-DDTHH:MM, lokal tid)")
    due.set_defaults(func=Lazy("bot.cli.reports", "cmd_due"))

    reads = sub.add_parser("read-log", help="läsloggar: vem som har visats ett ärendes fritext (loggkontroll)")
    common(reads)
    reads.add_argument("--ref", help="ärendets referens (GFI-ÅÅÅÅ-NNNN)")
    reads.add_argument("--person", help="person-id: vad personen har visats")
    reads.add_argument("--from", dest="start", help="första dagen (ÅÅÅÅ-MM-DD), med --person")
    reads.add_argument("--to", dest="end", help="sista dagen (ÅÅÅÅ-MM-DD), med --person")
    reads.set_defaults(func=Lazy("bot.cli.reports", "cmd_read_log"))

    journal = sub.add_parser("journal", help="journalunderlag för ett ärende: text, eller PDF med --pdf")
    common(journal)
    journal.add_argument("ref", help="ärendets referens (GFI-ÅÅÅÅ-NNNN)")
    journal.add_argument("--as", dest="as_person", required=True,
                         help="person-id för den som ska ha underlaget (måste ha del i ärendet; läsningen loggas)")
    journal.add_argument("--pdf", help="skriv underlaget som PDF till denna fil i stället för att skriva ut det")
    journal.set_defaults(func=Lazy("bot.cli.reports", "cmd_journal"))

    report = sub.add_parser("report", help="rapporter")
    kinds = report.add_subparsers(dest="report", required=True)
    brister = kinds.add_parser("brister", help="årsrapporten Brister i samverkan: HTML, diagram (PNG) och CSV")
    common(brister)
    brister.add_argument("--year", type=int, required=True, help="året (ÅÅÅÅ)")
    brister.add_argument("--out", required=True, help="mapp att skriva brister-ÅÅÅÅ.html, .png och .csv i")
    brister.set_defaults(func=Lazy("bot.cli.reports", "cmd_report_brister"))

    stats = sub.add_parser("stats", help="statistik per verksamhet för förfrågningar under en period")
    common(stats)
    stats.add_argument("--from", dest="start", required=True, help="första dagen (ÅÅÅÅ-MM-DD)")
    stats.add_argument("--to", dest="end", required=True, help="sista dagen (ÅÅÅÅ-MM-DD)")
    stats.add_argument("--unit", help="bara denna verksamhet (id ur katalogen)")
    stats.add_argument("--csv", help="skriv också statistiken till denna CSV-fil (UTF-8, semikolon, för Excel)")
    stats.set_defaults(func=Lazy("bot.cli.reports", "cmd_stats"))

    purge = sub.add_parser("purge", help="radera avslutade ärenden äldre än GFI_RETENTION_MONTHS (standard 12)")
    common(purge)
    purge.add_argument("--dry-run", action="store_true", help="visa bara vad som skulle raderas")
    purge.set_defaults(func=Lazy("bot.cli.reports", "cmd_purge"))

    verify = sub.add_parser("verify-logs", help="kontrollera att granskningsloggen och läsloggarna är hela "
                                                 "(hashkedjan); avslutar med 1 och namnger första brutna raden")
    common(verify)
    verify.add_argument("--head", action="append", metavar="LOGG=ID:HASH",
                        help="en kedjeände ur applikationsloggens nattliga rad logs.head (audit=… eller read=…), "
                             "som ska finnas kvar: visar en avkortad logg; kan anges flera gånger")
    verify.set_defaults(func=Lazy("bot.cli.logs", "cmd_verify_logs"))

    package = sub.add_parser("teams-package", help="skriv Teams-appens paket (manifest.json och ikoner) som zip")
    package.add_argument("--out", required=True, help="zip-filen som skrivs, t.ex. gfi-boten-teams.zip")
    package.add_argument("--app-id", dest="app_id", help="Entra-appens (klient-)id; standard TEAMS_APP_ID")
    package.add_argument("--version", default="1.0.0", help="appens version i manifestet")
    package.add_argument("--publisher", help="utgivarens namn, t.ex. Region Norrland (standard TEAMS_PUBLISHER)")
    package.add_argument("--website-url", dest="website_url", help="utgivarens webbplats, https (TEAMS_WEBSITE_URL)")
    package.add_argument("--privacy-url", dest="privacy_url", help="sidan om personuppgifter (TEAMS_PRIVACY_URL)")
    package.add_argument("--terms-url", dest="terms_url", help="användarvillkoren, https (TEAMS_TERMS_URL)")
    package.set_defaults(func=Lazy("bot.cli.run", "cmd_teams_package"))

    store = sub.add_parser("migrate-store", help="kopiera SQLite-databasen till PostgreSQL (allt, med loggar)")
    store.add_argument("--to", required=True, help="postgresql://användare@värd:port/databas")
    store.add_argument("--db", help="SQLite-filen (standard GFI_DB_PATH)")
    store.set_defaults(func=Lazy("bot.migrate_store", "cmd_migrate_store"))

    check = sub.add_parser("check-directory", help="kontrollera en katalogfil (varje fel med radnummer)")
    check.add_argument("file")
    check.set_defaults(func=Lazy("bot.cli.run", "cmd_check_directory"))
    _directory(sub)

    backup = sub.add_parser("backup", help="säkerhetskopiera databasen (också medan boten kör); filen får läget 0600")
    backup.add_argument("--db", help="SQLite-fil (standard: GFI_DB_PATH eller gfi-bot.sqlite3)")
    backup.add_argument("--out", required=True, help="säkerhetskopians fil, t.ex. /var/backups/gfi-bot/gfi.sqlite3")
    backup.set_defaults(func=Lazy("bot.cli.store", "cmd_backup"))

    config = sub.add_parser("check-config", help="visa inställningarna och pröva varje inloggning, utan att starta")
    config.add_argument("--db", help="SQLite-fil (standard: GFI_DB_PATH)")
    config.add_argument("--directory", help="katalogfil (standard: GFI_DIRECTORY)")
    config.set_defaults(func=Lazy("bot.cli.config", "cmd_check_config"))
    return parser


def _directory(sub: Any) -> None:
    """`gfi-bot directory import --csv FILE` and `gfi-bot directory sync --entra` (bot/directory/command.py)."""
    directory = sub.add_parser("directory", help="katalogen ur HR-export (CSV) eller Entra ID")
    kinds = directory.add_subparsers(dest="directory_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="SQLite-fil (standard: GFI_DB_PATH): pågående ärenden kontrolleras där")
        p.add_argument("--directory", help="katalogfilen som läses och skrivs (standard: GFI_DIRECTORY)")
        p.add_argument("--out", help="skriv den nya katalogen hit i stället för över --directory")
        p.add_argument("--dry-run", action="store_true", help="visa vilka som tillkommer, flyttar och tas bort")
        p.add_argument("--force", action="store_true",
                       help="lämna pågående åtaganden hos dem som tas bort eller flyttar till verksamhetens fördelare")
        p.add_argument("--channel", default="m365", choices=CHANNELS, help="kanal för nya personer (standard m365)")

    imp = kinds.add_parser("import", help="läs en HR-export (CSV, UTF-8, ; eller ,)")
    imp.add_argument("--csv", required=True, help="CSV-filen (kolumner: namn, enhet, epost/upn, titel, ...)")
    common(imp)
    imp.set_defaults(func=Lazy("bot.cli.directory", "cmd_import"))

    sync = kinds.add_parser("sync", help="läs Entra ID via Microsoft Graph (en säkerhetsgrupp per verksamhet)")
    sync.add_argument("--entra", action="store_true", required=True, help="läs Entra ID (GRAPH_* för inloggning)")
    sync.add_argument("--groups", help="mappningsfil (YAML) groups: {grupp-id: verksamhetens id}")
    common(sync)
    sync.set_defaults(func=Lazy("bot.cli.directory", "cmd_sync"))
