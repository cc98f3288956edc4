"""`gfi-bot` command line: run, console, due, read-log, journal, report, stats, purge, check-directory."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from bot import texts
from bot.channels.console import ConsoleClock, ConsoleSender, run_console
from bot.channels.graph import GraphChannel
from bot.clock import FrozenClock, SystemClock
from bot.config import Settings
from bot.core import open_core
from bot.directory import Directory, DirectoryError, Role, load_directory
from bot.due import due_report
from bot.logs import setup_logging
from bot.startup import EXIT_CODE, StartupError, describe
from bot.store.lock import StoreLock

log = logging.getLogger(__name__)


def say(name: str, **params: Any) -> str:
    """A message of the command line (`templates/messages/cli.j2`)."""
    return texts.text("cli", name, **params)


def _parse_now(value: str | None, tz: str) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise SystemExit(say("bad_now", value=repr(value))) from None
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo(tz))


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "db", None):
        settings.db_path = Path(args.db)
    if getattr(args, "directory", None):
        settings.directory_path = Path(args.directory)
    return settings


def cmd_check_directory(args: argparse.Namespace) -> int:
    """Validate a directory file; print every problem with its YAML path."""
    path = Path(args.file)
    try:
        directory = load_directory(path)
    except DirectoryError as exc:
        print(exc.report(), file=sys.stderr)
        print(say("directory_errors", count=len(exc.problems), path=path), file=sys.stderr)
        return 1
    print(say("directory_ok", path=path, principals=len(directory.principals), units=len(directory.units),
              people=len(directory.people)))
    return 0


async def _console(settings: Settings, person: str | None, now: datetime | None) -> int:
    clock = ConsoleClock(now)
    sender = ConsoleSender(sys.stdout)
    core = await open_core(settings, clock=clock, fallback=sender)
    graph = GraphChannel.from_settings(settings)
    if graph is not None:  # only the free/busy suggestions (/förslag): the console sends no e-mail or events
        graph.attach_suggestions(core)
    try:
        person_id = person or _default_person(core.directory)
        if core.directory.person(person_id) is None:
            print(say("unknown_person", person=repr(person_id), directory=settings.directory_path), file=sys.stderr)
            return 2
        await run_console(core, person_id, clock, sys.stdin, sys.stdout)
    finally:
        if graph is not None:
            await graph.close()
        await core.close()
    return 0


def _default_person(directory: Directory) -> str:
    """The first person who is plain staff (a social worker), for a console started without --as."""
    staff = [p.id for p in directory.people.values() if p.roles == (Role.STAFF,)]
    return staff[0] if staff else next(iter(directory.people))


def _start(main: Callable[[], Coroutine[Any, Any, int]], lock: Settings | None = None) -> int:
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


def cmd_console(args: argparse.Namespace) -> int:
    settings = _settings(args)
    now = _parse_now(args.now, settings.timezone)
    return _start(lambda: _console(settings, args.as_person, now), lock=settings)


def cmd_teams_package(args: argparse.Namespace) -> int:
    """Write the Teams app package (manifest.json and the two icons, zipped flat)."""
    from bot.channels.teams.package import write_package

    settings = _settings(args)
    app_id = args.app_id or settings.teams_app_id
    if not app_id:
        print(say("teams_app_id_missing"), file=sys.stderr)
        return 2
    write_package(Path(args.out), app_id=app_id, version=args.version)
    print(say("teams_package_written", path=args.out))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Serve Slack, Teams and/or Graph's link pages over HTTP when configured, else fall back to the console."""
    settings = _settings(args)
    if not settings.serves_http:
        print(say("no_channel", directory=settings.directory_path, db=settings.db_path), file=sys.stderr)
        now = _parse_now(args.now, settings.timezone)
        return _start(lambda: _console(settings, args.as_person, now), lock=settings)
    from bot.channels.slack.server import serve
    from handlers.slack import register

    mounts: list[Callable[..., Any]] = []
    if settings.teams_configured:
        from handlers.teams import build

        mounts.append(lambda core, web_app: _attach_teams(build(core, settings), web_app))
    return _start(lambda: serve(settings, tuple(mounts), register=register), lock=settings)


def _attach_teams(channel: Any, web_app: Any) -> Any:
    channel.attach(web_app)
    return channel


async def _due(settings: Settings, now: datetime | None) -> str:
    clock = FrozenClock(now) if now else SystemClock()
    core = await open_core(settings, clock=clock)
    try:
        report = await due_report(core.db, clock.now())
        return core.renderer.render("operator_due", report=report)
    finally:
        await core.close()


def cmd_due(args: argparse.Namespace) -> int:
    """Print what is due or overdue (read only: nothing is fired or sent)."""
    settings = _settings(args)

    async def main() -> int:
        print(await _due(settings, _parse_now(args.now, settings.timezone)))
        return 0

    return _start(main)


async def _read_log(settings: Settings, ref: str | None, person: str | None, start: date | None,
                    end: date | None) -> str:
    from bot import readlog
    from bot.cases.models import parse_ref

    core = await open_core(settings, clock=SystemClock())
    try:
        async with core.db.transaction() as tx:
            if ref is not None:
                norm = parse_ref(ref) or ref
                return core.renderer.macro("console", "read_log_case", ref=norm,
                                           reads=await readlog.for_case(tx, norm))
            assert person is not None and start is not None and end is not None
            first, after = readlog.day_bounds(start, end, settings.timezone)
            reads = await readlog.by_person(tx, person, first, after)
            return core.renderer.macro("console", "read_log_person", person=person, start=start, end=end,
                                       reads=reads)
    finally:
        await core.close()


def cmd_read_log(args: argparse.Namespace) -> int:
    """Print the read log of a case, or of a person over a period (for operators: reads the database)."""
    settings = _settings(args)
    start, end = _day(args.start, "--from"), _day(args.end, "--to")
    if args.ref is None and (args.person is None or start is None or end is None):
        print(say("read_log_usage"), file=sys.stderr)
        return 2

    async def main() -> int:
        print(await _read_log(settings, args.ref, args.person, start, end))
        return 0

    return _start(main)


async def _journal(settings: Settings, ref: str, person: str, pdf: Path | None) -> int:
    from bot.cases import access
    from bot.cases.models import parse_ref
    from bot.errors import Refusal
    from bot.journal import journal_for
    from bot.pdf import write_text_pdf

    core = await open_core(settings, clock=SystemClock())
    try:
        if core.directory.person(person) is None:
            print(say("unknown_person", person=repr(person), directory=str(settings.directory_path)), file=sys.stderr)
            return 2
        try:
            record = await journal_for(core.db, core.cases.load, core.directory, core.renderer, person_id=person,
                                       ref=parse_ref(ref) or ref, now=core.clock.now(), channel="cli")
        except Refusal as exc:
            exc = await access.masked(core.db, core.cases.load, core.directory, person, exc)
            print(core.renderer.refusal(exc), file=sys.stderr)
            return 1
        if pdf is None:
            print(record.text)
            return 0
        await asyncio.to_thread(write_text_pdf, pdf, record.text, title=say("journal_title", ref=record.ref),
                                page_label=say("page"))
        print(say("journal_written", ref=record.ref, path=str(pdf)))
        return 0
    finally:
        await core.close()


def cmd_journal(args: argparse.Namespace) -> int:
    """Print a case's journal record for a person in the case, or write it as a PDF (logged as read)."""
    settings = _settings(args)
    pdf = Path(args.pdf) if args.pdf else None

    async def main() -> int:
        return await _journal(settings, args.ref, args.as_person, pdf)

    return _start(main)


async def _report_brister(settings: Settings, year: int, out: Path) -> list[Path]:
    from bot.brister.report import write_year

    core = await open_core(settings, clock=SystemClock())
    try:
        reports = await core.brister.year_reports(year)
        return await asyncio.to_thread(write_year, out, year, reports, core.renderer, made=core.brister.today())
    finally:
        await core.close()


async def _stats(settings: Settings, start: date, end: date, unit: str | None, csv_path: Path | None) -> int:
    from bot.stats import export
    from bot.stats.report import build_report

    core = await open_core(settings, clock=SystemClock())
    try:
        if unit is not None and core.directory.unit(unit) is None:
            print(core.renderer.macro("stats", "unknown_unit", unit=unit), file=sys.stderr)
            return 2
        report = await build_report(core.db, core.directory, core.calendar, settings.timezone, start, end, unit)
        print(export.text(core.renderer, report))
        if csv_path is not None:
            rows = export.write_csv(csv_path, core.renderer, report)
            print(core.renderer.macro("stats", "csv_written", path=str(csv_path), rows=rows))
        return 0
    finally:
        await core.close()


def cmd_report_brister(args: argparse.Namespace) -> int:
    """Write the yearly report *Brister i samverkan* (HTML, PNG chart, CSV) into a folder."""
    settings = _settings(args)

    async def main() -> int:
        for path in await _report_brister(settings, args.year, Path(args.out)):
            print(path)
        return 0

    return _start(main)


def cmd_stats(args: argparse.Namespace) -> int:
    """Print per-unit statistics of the requests filed in a period (read only), optionally also as CSV."""
    settings = _settings(args)
    start, end = _day(args.start, "--from"), _day(args.end, "--to")
    if start is None or end is None:
        print(say("period_missing"), file=sys.stderr)
        return 2
    if end < start:
        print(say("period_reversed", start=start, end=end), file=sys.stderr)
        return 2
    csv_path = Path(args.csv) if args.csv else None
    return _start(lambda: _stats(settings, start, end, args.unit, csv_path))


async def _purge(settings: Settings, dry_run: bool) -> int:
    from bot.stats.retention import purge

    clock = SystemClock()
    core = await open_core(settings, clock=clock)
    try:
        result = await purge(core.db, clock.now(), settings.retention_months, settings.timezone, dry_run=dry_run)
        assert result is not None
        print(core.renderer.macro("stats", "purge", result=result))
        return 0
    finally:
        await core.close()


def cmd_purge(args: argparse.Namespace) -> int:
    """Delete closed cases older than GFI_RETENTION_MONTHS (with --dry-run: only list them). A real purge
    holds the store like the bot does, so it does not run beside a running bot (the bot purges daily)."""
    settings = _settings(args)
    return _start(lambda: _purge(settings, args.dry_run), lock=None if args.dry_run else settings)


def _day(value: str | None, flag: str) -> date | None:
    """A --from/--to date, or None when not given; a bad one stops the command with one Swedish line."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SystemExit(say("bad_date", flag=flag, value=repr(value))) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gfi-bot", description="GFI-boten")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="SQLite-fil (standard: GFI_DB_PATH eller gfi-bot.sqlite3)")
        p.add_argument("--directory", help="katalogfil (standard: GFI_DIRECTORY eller exempelkatalogen)")

    run = sub.add_parser("run", help="kör boten (Slack om konfigurerat, annars konsolen)")
    common(run)
    run.add_argument("--as", dest="as_person", help="person i konsolläget")
    run.add_argument("--now", help="starttid i konsolläget (ÅÅÅÅ-MM-DDTHH:MM)")
    run.set_defaults(func=cmd_run)

    console = sub.add_parser("console", help="konsolen: hela boten i terminalen")
    common(console)
    console.add_argument("--as", dest="as_person", help="person-id ur katalogen")
    console.add_argument("--now", help="frys klockan vid denna tid (ÅÅÅÅ-MM-DDTHH:MM, lokal tid)")
    console.set_defaults(func=cmd_console)

    due = sub.add_parser("due", help="visa vad som är förfallet: väntande svar, påminnelser, meddelanden")
    common(due)
    due.add_argument("--now", help="visa läget vid denna tid (ÅÅÅÅ-MM-DDTHH:MM, lokal tid)")
    due.set_defaults(func=cmd_due)

    reads = sub.add_parser("read-log", help="läsloggar: vem som har visats ett ärendes fritext (loggkontroll)")
    common(reads)
    reads.add_argument("--ref", help="ärendets referens (GFI-ÅÅÅÅ-NNNN)")
    reads.add_argument("--person", help="person-id: vad personen har visats")
    reads.add_argument("--from", dest="start", help="första dagen (ÅÅÅÅ-MM-DD), med --person")
    reads.add_argument("--to", dest="end", help="sista dagen (ÅÅÅÅ-MM-DD), med --person")
    reads.set_defaults(func=cmd_read_log)

    journal = sub.add_parser("journal", help="journalunderlag för ett ärende: text, eller PDF med --pdf")
    common(journal)
    journal.add_argument("ref", help="ärendets referens (GFI-ÅÅÅÅ-NNNN)")
    journal.add_argument("--as", dest="as_person", required=True,
                         help="person-id för den som ska ha underlaget (måste ha del i ärendet; läsningen loggas)")
    journal.add_argument("--pdf", help="skriv underlaget som PDF till denna fil i stället för att skriva ut det")
    journal.set_defaults(func=cmd_journal)

    report = sub.add_parser("report", help="rapporter")
    kinds = report.add_subparsers(dest="report", required=True)
    brister = kinds.add_parser("brister", help="årsrapporten Brister i samverkan: HTML, diagram (PNG) och CSV")
    common(brister)
    brister.add_argument("--year", type=int, required=True, help="året (ÅÅÅÅ)")
    brister.add_argument("--out", required=True, help="mapp att skriva brister-ÅÅÅÅ.html, .png och .csv i")
    brister.set_defaults(func=cmd_report_brister)

    stats = sub.add_parser("stats", help="statistik per verksamhet för förfrågningar under en period")
    common(stats)
    stats.add_argument("--from", dest="start", required=True, help="första dagen (ÅÅÅÅ-MM-DD)")
    stats.add_argument("--to", dest="end", required=True, help="sista dagen (ÅÅÅÅ-MM-DD)")
    stats.add_argument("--unit", help="bara denna verksamhet (id ur katalogen)")
    stats.add_argument("--csv", help="skriv också statistiken till denna CSV-fil (UTF-8, semikolon, för Excel)")
    stats.set_defaults(func=cmd_stats)

    purge = sub.add_parser("purge", help="radera avslutade ärenden äldre än GFI_RETENTION_MONTHS (standard 12)")
    common(purge)
    purge.add_argument("--dry-run", action="store_true", help="visa bara vad som skulle raderas")
    purge.set_defaults(func=cmd_purge)

    package = sub.add_parser("teams-package", help="skriv Teams-appens paket (manifest.json och ikoner) som zip")
    package.add_argument("--out", required=True, help="zip-filen som skrivs, t.ex. gfi-boten-teams.zip")
    package.add_argument("--app-id", dest="app_id", help="Entra-appens (klient-)id; standard TEAMS_APP_ID")
    package.add_argument("--version", default="1.0.0", help="appens version i manifestet")
    package.set_defaults(func=cmd_teams_package)

    check = sub.add_parser("check-directory", help="kontrollera en katalogfil")
    check.add_argument("file")
    check.set_defaults(func=cmd_check_directory)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        names = ", ".join(dict.fromkeys(str(e["loc"][0]) for e in exc.errors() if e["loc"]))
        print(describe(StartupError("bad_settings", names=names)), file=sys.stderr)
        return EXIT_CODE
    level = settings.log_level
    console_mode = args.command == "console" or (
        args.command == "run" and not settings.slack_configured and not settings.teams_configured)
    if console_mode and "GFI_LOG_LEVEL" not in os.environ:
        level = "WARNING"  # keep the terminal conversation readable; JSON logs still go to stderr
    setup_logging(level)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
