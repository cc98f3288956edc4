"""Statistics computations: pure functions over facts (no I/O), table-tested.

Durations are business time (`BusinessCalendar.business_duration`) in the target unit's office hours,
counted from the moment the request was filed, in hours. Percentiles interpolate linearly between the
closest ranks (the common "R-7" definition, as spreadsheets' PERCENTILE and numpy's default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.calendar import BusinessCalendar, OfficeHours
from bot.stats.models import OUTCOMES, CaseFact, EscalationFact, Spread, UnitStats


def percentile(values: Sequence[float], p: float) -> float | None:
    """The `p`-th quantile (0 ≤ p ≤ 1) of `values` with linear interpolation; None for no values."""
    if not 0 <= p <= 1:
        raise ValueError("p must be between 0 and 1")
    xs = sorted(values)
    if not xs:
        return None
    h = (len(xs) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def spread(hours: Sequence[float]) -> Spread:
    """Count, median and 90th percentile of durations in hours."""
    return Spread(len(hours), percentile(hours, 0.5), percentile(hours, 0.9))


def add_months(d: date, months: int) -> date:
    """`d` moved by whole calendar months (negative: back); the 31st becomes the month's last day."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(d.day, (first_next - timedelta(days=1)).day))


def last_twelve_months(today: date) -> tuple[date, date]:
    """The period App Home and `/statistik` show: the twelve months up to and including `today`."""
    return add_months(today, -12) + timedelta(days=1), today


def period_bounds(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    """[first, after) in UTC of the local days `start` to `end`, both included."""
    zone = ZoneInfo(tz)
    first = datetime.combine(start, time(0), tzinfo=zone).astimezone(UTC)
    after = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return first, after


def hours_between(
    calendar: BusinessCalendar, start: datetime, end: datetime | None, office: OfficeHours
) -> float | None:
    """Business hours from `start` to `end` in `office` hours, or None when `end` has not happened."""
    if end is None:
        return None
    return calendar.business_duration(start, end, office).total_seconds() / 3600


Waits = tuple[float | None, float | None, float | None]  # hours to distribution, acknowledgement, meeting


def fact_waits(f: CaseFact, calendar: BusinessCalendar, office: OfficeHours) -> Waits:
    """Business hours from the request to its first distribution, first acknowledgement and held meeting."""
    return (hours_between(calendar, f.created_at, f.distributed_at, office),
            hours_between(calendar, f.created_at, f.acknowledged_at, office),
            hours_between(calendar, f.created_at, f.meeting_at, office))


def unit_stats(
    unit_id: str | None,
    facts: Iterable[CaseFact],
    escalations: Iterable[EscalationFact],
    calendar: BusinessCalendar,
    office_of: Callable[[str], OfficeHours],
    cache: dict[int, Waits] | None = None,
) -> UnitStats:
    """The figures of `facts` (requests) and `escalations`, already chosen for one unit or for all.
    `cache` ({id(fact): waits}) spares computing a fact's durations twice (per unit, then all together)."""
    out = UnitStats(unit_id)
    cache = {} if cache is None else cache
    waits: tuple[list[float], list[float], list[float]] = ([], [], [])
    for f in facts:
        out.requests += 1
        out.urgent += f.urgent
        out.no_shows += f.no_shows
        key = id(f)
        if key not in cache:
            cache[key] = fact_waits(f, calendar, office_of(f.target_unit))
        for into, hours in zip(waits, cache[key], strict=True):
            if hours is not None:
                into.append(hours)
        if f.outcome in out.outcomes:
            out.outcomes[f.outcome] += 1
            out.evaluations_done += bool(f.evaluation_done)
    for e in escalations:
        out.escalations[e.rung_title] = out.escalations.get(e.rung_title, 0) + 1
    out.to_distribution, out.to_acknowledgement, out.to_meeting = (spread(w) for w in waits)
    return out


def rung_order(escalations: Iterable[EscalationFact]) -> list[str]:
    """The rung titles that occur, in ladder order (lowest rung number first, then by title)."""
    lowest: dict[str, int] = {}
    for e in escalations:
        lowest[e.rung_title] = min(e.rung, lowest.get(e.rung_title, e.rung))
    return sorted(lowest, key=lambda t: (lowest[t], t))


def per_unit(
    unit_ids: Sequence[str],
    facts: Sequence[CaseFact],
    escalations: Sequence[EscalationFact],
    calendar: BusinessCalendar,
    office_of: Callable[[str], OfficeHours],
    cache: dict[int, Waits] | None = None,
) -> list[UnitStats]:
    """One `UnitStats` per unit in `unit_ids` (in that order), then any other unit the facts name."""
    named = set(unit_ids)
    extra = sorted(({f.target_unit for f in facts} | {e.unit_id for e in escalations}) - named)
    return [
        unit_stats(u, [f for f in facts if f.target_unit == u], [e for e in escalations if e.unit_id == u],
                   calendar, office_of, cache)
        for u in [*unit_ids, *extra]
    ]


__all__ = [
    "OUTCOMES",
    "add_months",
    "hours_between",
    "last_twelve_months",
    "per_unit",
    "percentile",
    "period_bounds",
    "rung_order",
    "spread",
    "unit_stats",
]
