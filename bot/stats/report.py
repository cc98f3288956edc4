"""Reading the facts of a period and computing the per-unit report (the CLI, the console and App Home)."""

from __future__ import annotations

from datetime import date

from bot.calendar import BusinessCalendar, OfficeHours
from bot.directory import Directory
from bot.stats.models import CaseFact, EscalationFact, StatsReport
from bot.stats.service import Waits, per_unit, period_bounds, rung_order, unit_stats
from bot.store import Database
from bot.store import stats as stats_store


def office_hours(directory: Directory) -> dict[str, OfficeHours]:
    """Each unit's office hours (a unit no longer in the directory counts with the default hours)."""
    return {u.id: OfficeHours(u.office_hours.start, u.office_hours.end) for u in directory.units.values()}


async def build_report(
    db: Database, directory: Directory, calendar: BusinessCalendar, tz: str, start: date, end: date,
    unit_id: str | None = None,
) -> StatsReport:
    """The report for the requests filed (and escalations made) from `start` to `end`, local dates included;
    every unit of the directory (or only `unit_id`), then units that are no longer in it."""
    first, after = period_bounds(start, end, tz)
    async with db.transaction() as tx:
        facts = [CaseFact.from_row(r) for r in await stats_store.case_facts_between(tx, first, after, unit_id)]
        escalations = [
            EscalationFact.from_row(r) for r in await stats_store.escalation_facts_between(tx, first, after, unit_id)
        ]
    hours = office_hours(directory)

    def office_of(u: str) -> OfficeHours:
        return hours.get(u, OfficeHours())

    unit_ids = [unit_id] if unit_id is not None else list(directory.units)
    cache: dict[int, Waits] = {}
    units = per_unit(unit_ids, facts, escalations, calendar, office_of, cache)
    total = unit_stats(None, facts, escalations, calendar, office_of, cache) if len(units) > 1 else None
    return StatsReport(start, end, units, rung_order(escalations), total)
