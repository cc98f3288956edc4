"""Reading the statistics of a period (the CLI, the console, App Home and the Teams Home): aggregates from the
rollups (`bot.stats.rollup`), a bounded number of rows whatever the number of facts."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from bot.calendar import BusinessCalendar, OfficeHours
from bot.directory import Directory
from bot.stats import rollup
from bot.stats.models import StatsReport
from bot.stats.service import period_bounds
from bot.store import Database, Tx
from bot.store import rollups as rollups_store


def office_hours(directory: Directory) -> dict[str, OfficeHours]:
    """Each unit's office hours (a unit no longer in the directory counts with the default hours)."""
    return {u.id: OfficeHours(u.office_hours.start, u.office_hours.end) for u in directory.units.values()}


def _hour(at: datetime) -> str:
    """The rollups' key of the UTC hour `at` falls in."""
    return at.astimezone(UTC).isoformat()[:13]


async def build_report(
    db: Database, directory: Directory, calendar: BusinessCalendar, tz: str, start: date, end: date,
    unit_id: str | None = None,
) -> StatsReport:
    """The report for the requests filed (and escalations made) from `start` to `end`, local dates included;
    every unit of the directory (or only `unit_id`), then units that are no longer in it.

    Three statements on a read connection, summed per unit in SQL: rows bounded by units and wait buckets,
    never by facts, so neither the database nor the event loop does work that grows with the cases. The waits
    were computed in business hours (`calendar`) when each event happened."""
    first, after = period_bounds(start, end, tz)

    async def read(tx: Tx) -> tuple[list[rollups_store.Row], list[rollups_store.Row], list[rollups_store.Row]]:
        return await rollups_store.period(tx, _hour(first), _hour(after), unit_id)

    counters, waits, escalations = await db.run_read(read)
    unit_ids = [unit_id] if unit_id is not None else list(directory.units)
    # medians and percentiles of every unit's wait histograms: grows with the directory's units (10⁴ in a
    # region), so on a thread, off the event loop
    return await asyncio.to_thread(rollup.report, unit_ids, start, end, counters, waits, escalations)
