"""The operators' read-only and maintenance subcommands: `due`, `read-log`, `journal`, `report brister`,
`stats` and `purge`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, datetime
from pathlib import Path

from bot.cli.common import day, parse_now, run_main, say, settings_from
from bot.clock import FrozenClock, SystemClock
from bot.config import Settings
from bot.core import open_core
from bot.due import due_report
from bot.progress import busy


async def _due(settings: Settings, now: datetime | None) -> str:
    clock = FrozenClock(now) if now else SystemClock()
    core = await open_core(settings, clock=clock, publish_directory=False)
    try:
        report = await due_report(core.db, clock.now())
        return core.renderer.render("operator_due", report=report)
    finally:
        await core.close()


def cmd_due(args: argparse.Namespace) -> int:
    """Print what is due or overdue (read only: nothing is fired or sent)."""
    settings = settings_from(args)

    async def main() -> int:
        print(await _due(settings, parse_now(args.now, settings.timezone)))
        return 0

    return run_main(main)


async def _read_log(settings: Settings, ref: str | None, person: str | None, start: date | None,
                    end: date | None) -> str:
    from bot import readlog
    from bot.cases.models import parse_ref

    core = await open_core(settings, clock=SystemClock(), publish_directory=False)
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
    settings = settings_from(args)
    start, end = day(args.start, "--from"), day(args.end, "--to")
    if args.ref is None and (args.person is None or start is None or end is None):
        print(say("read_log_usage"), file=sys.stderr)
        return 2

    async def main() -> int:
        print(await _read_log(settings, args.ref, args.person, start, end))
        return 0

    return run_main(main)


async def _journal(settings: Settings, ref: str, person: str, pdf: Path | None) -> int:
    from bot.cases import access
    from bot.cases.models import parse_ref
    from bot.errors import Refusal
    from bot.journal import journal_for
    from bot.pdf import write_text_pdf

    core = await open_core(settings, clock=SystemClock(), publish_directory=False)
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
                                page_label=say("page"), notice=say("journal_notice"))
        print(say("journal_written", ref=record.ref, path=str(pdf)))
        return 0
    finally:
        await core.close()


def cmd_journal(args: argparse.Namespace) -> int:
    """Print a case's journal record for a person in the case, or write it as a PDF (logged as read)."""
    settings = settings_from(args)
    pdf = Path(args.pdf) if args.pdf else None

    async def main() -> int:
        return await _journal(settings, args.ref, args.as_person, pdf)

    return run_main(main)


async def _report_brister(settings: Settings, year: int, out: Path) -> list[Path]:
    from bot.brister.report import write_year

    core = await open_core(settings, clock=SystemClock(), publish_directory=False)
    try:
        reports = await core.brister.year_reports(year)
        return await asyncio.to_thread(write_year, out, year, reports, core.renderer, made=core.brister.today())
    finally:
        await core.close()


async def _stats(settings: Settings, start: date, end: date, unit: str | None, csv_path: Path | None) -> int:
    from bot.stats import export
    from bot.stats.report import build_report

    core = await open_core(settings, clock=SystemClock(), publish_directory=False)
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
    settings = settings_from(args)

    async def main() -> int:
        with busy(say("report_label")):
            paths = await _report_brister(settings, args.year, Path(args.out))
        for path in paths:
            print(path)
        return 0

    return run_main(main)


def cmd_stats(args: argparse.Namespace) -> int:
    """Print per-unit statistics of the requests filed in a period (read only), optionally also as CSV."""
    settings = settings_from(args)
    start, end = day(args.start, "--from"), day(args.end, "--to")
    if start is None or end is None:
        print(say("period_missing"), file=sys.stderr)
        return 2
    if end < start:
        print(say("period_reversed", start=start, end=end), file=sys.stderr)
        return 2
    csv_path = Path(args.csv) if args.csv else None
    return run_main(lambda: _stats(settings, start, end, args.unit, csv_path))


async def _purge(settings: Settings, dry_run: bool) -> int:
    from bot.stats.retention import purge

    clock = SystemClock()
    core = await open_core(settings, clock=clock, publish_directory=False)
    try:
        with busy(say("purge_label")):
            result = await purge(core.db, clock.now(), settings.retention_months, settings.timezone,
                                 dry_run=dry_run)
        assert result is not None
        print(core.renderer.macro("stats", "purge", result=result))
        return 0
    finally:
        await core.close()


def cmd_purge(args: argparse.Namespace) -> int:
    """Delete closed cases older than GFI_RETENTION_MONTHS (with --dry-run: only list them). A real purge
    holds the store like the bot does, so it does not run beside a running bot (the bot purges daily)."""
    settings = settings_from(args)
    return run_main(lambda: _purge(settings, args.dry_run), lock=None if args.dry_run else settings)
