"""Console commands for those who oversee: /leveranser, /statistik (coordinators), /läsloggar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import oversight, readlog
from bot.channels.console.args import UsageError, case_ref, day, option, page_number
from bot.directory import Role
from bot.dispatcher import status_counts
from bot.paging import skip_of
from bot.stats import export
from bot.stats.report import build_report
from bot.stats.service import last_twelve_months

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession


def _is_coordinator(s: ConsoleSession) -> bool:
    return Role.COORDINATOR in s.core.directory.people[s.person].roles


async def failed_deliveries(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/leveranser`: messages that could not be delivered (coordinators)."""
    if not _is_coordinator(s):
        s.say(s.text("not_coordinator"))
        return
    failed = await oversight.failed_deliveries(s.core, s.person)
    s.say(s.text("deliveries", failed=failed, counts=await status_counts(s.core.db)))


async def stats(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/statistik [enhet=<id>]`: the last twelve months per unit (coordinators)."""
    if not _is_coordinator(s):
        s.say(s.core.renderer.macro("stats", "not_coordinator"))
        return
    unit = option(options, "enhet", "verksamhet")
    if positional or set(options) - {"enhet", "verksamhet"}:
        raise UsageError("unknown_args", value=", ".join([*positional, *sorted(options)]))
    if unit is not None and s.core.directory.unit(unit) is None:
        s.say(s.core.renderer.macro("stats", "unknown_unit", unit=unit))
        return
    start, end = last_twelve_months(s.clock.now().astimezone(s.tz).date())
    report = await build_report(s.core.db, s.core.directory, s.core.calendar, s.core.settings.timezone,
                                start, end, unit)
    s.say(export.text(s.core.renderer, report))


async def read_log(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/läsloggar <ref> [sida=N]` (coordinators) or `/läsloggar person=<id> från=<datum> till=<datum> [sida=N]`
    (admins): a page of the reads, oldest first, and how many there are."""
    skip = skip_of(page_number(options))
    if positional:
        ref = case_ref(positional)
        shown = await readlog.list_for_case(s.core.db, s.core.cases.load, s.core.directory, s.person, ref,
                                            skip=skip)
        s.say(s.text("read_log_case", ref=ref, reads=shown.reads, others=shown.others, total=shown.page.total))
        s.page_note(shown.page, f"/läsloggar {ref}")
        return
    start = option(options, "från", "fran")
    end = options.get("till")
    if "person" not in options or start is None or end is None:
        raise UsageError("need_read_log")
    first, last = day(start), day(end)
    page = await readlog.list_for_person(s.core.db, s.core.directory, s.person, options["person"],
                                         first, last, s.core.settings.timezone, skip=skip)
    s.say(s.text("read_log_person", person=options["person"], start=first, end=last, reads=page.items,
                 total=page.total))
    s.page_note(page, f"/läsloggar person={options['person']} från={start} till={end}")


COMMANDS = {"leveranser": failed_deliveries, "statistik": stats, "lasloggar": read_log}
ALIASES = {
    "leveranser": "leveranser", "statistik": "statistik", "stats": "statistik",
    "läsloggar": "lasloggar", "lasloggar": "lasloggar", "läslogg": "lasloggar", "laslogg": "lasloggar",
}
