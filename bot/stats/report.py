"""Reading the facts of a period and computing the per-unit report (the CLI, the console and App Home)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from bot.calendar import BusinessCalendar, OfficeHours
from bot.directory import Directory
from bot.stats.models import CaseFact, EscalationFact, StatsReport
from bot.stats.service import Waits, per_unit, period_bounds, rung_order, unit_stats
from bot.store import Database, Tx
from bot.store import stats as stats_store

Row = dict[str, Any]


def office_hours(directory: Directory) -> dict[str, OfficeHours]:
    """Each unit's office hours (a unit no longer in the directory counts with the default hours)."""
    return {u.id: OfficeHours(u.office_hours.start, u.office_hours.end) for u in directory.units.values()}


async def build_report(
    db: Database, directory: Directory, calendar: BusinessCalendar, tz: str, start: date, end: date,
    unit_id: str | None = None,
) -> StatsReport:
    """The report for the requests filed (and escalations made) from `start` to `end`, local dates included;
    every unit of the directory (or only `unit_id`), then units that are no longer in it.

    The facts are read in one trip on a read connection (never holding the write connection, whatever their
    number), and the figures (business hours per fact, percentiles) are computed on a worker thread: with a
    year of requests that is seconds of Python, which must not stop the event loop (acks, other Homes)."""
    first, after = period_bounds(start, end, tz)

    async def read(tx: Tx) -> tuple[list[Row], list[Row]]:
        return (await stats_store.case_facts_between(tx, first, after, unit_id),
                await stats_store.escalation_facts_between(tx, first, after, unit_id))

    fact_rows, escalation_rows = await db.run_read(read)
    return await asyncio.to_thread(compute_report, directory, calendar, start, end, unit_id, fact_rows,
                                   escalation_rows)


def compute_report(
    directory: Directory, calendar: BusinessCalendar, start: date, end: date, unit_id: str | None,
    fact_rows: list[Row], escalation_rows: list[Row],
) -> StatsReport:
    """The report from the rows read (pure; `build_report` runs it off the event loop)."""
    facts = [CaseFact.from_row(r) for r in fact_rows]
    escalations = [EscalationFact.from_row(r) for r in escalation_rows]
    hours = office_hours(directory)

    def office_of(u: str) -> OfficeHours:
        return hours.get(u, OfficeHours())

    unit_ids = [unit_id] if unit_id is not None else list(directory.units)
    cache: dict[int, Waits] = {}
    units = per_unit(unit_ids, facts, escalations, calendar, office_of, cache)
    total = unit_stats(None, facts, escalations, calendar, office_of, cache) if len(units) > 1 else None
    return StatsReport(start, end, units, rung_order(escalations), total)
