"""Business calendar: Swedish working days and office hours in local (Europe/Stockholm) time.

Non-working days are Saturdays, Sundays, Swedish public holidays and the de facto holidays
midsommarafton, julafton and nyårsafton (the `holidays` package, categories PUBLIC + DE_FACTO).

All datetimes in and out are timezone-aware. Inputs may be in any timezone; computations use local
wall-clock time in the calendar's zone; results are returned in UTC. Naive datetimes are refused.

Local wall-clock times are built with `zoneinfo` and ``fold=0``: an ambiguous time (the repeated
hour when DST ends) means its first occurrence, and a non-existent time (the skipped hour when DST
starts) is pushed forward by the gap, e.g. 02:30 on 2026-03-29 becomes 03:30 CEST.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:
    from bot.directory import Unit

__all__ = ["DEFAULT_OFFICE_HOURS", "BusinessCalendar", "OfficeHours"]

_SATURDAY = 5
# How far back `next_weekly_slot` looks for a slot moved forward past `after`.
# Swedish non-working runs are at most 4-5 days, so two weeks is ample.
_SLOT_LOOKBACK_WEEKS = 2


@dataclass(frozen=True)
class OfficeHours:
    """Daily office hours in local time: `start` inclusive, `end` exclusive."""

    start: time = time(8)
    end: time = time(17)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("office hours are local wall-clock times without tzinfo")
        if not self.start < self.end:
            raise ValueError("office hours must start before they end")


DEFAULT_OFFICE_HOURS = OfficeHours()


def office_of(unit: Unit) -> OfficeHours:
    """A directory unit's office hours."""
    return OfficeHours(unit.office_hours.start, unit.office_hours.end)


def _require_aware(dt: datetime) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime")


class BusinessCalendar:
    """Working days and business time for Sweden in the given timezone (default Europe/Stockholm)."""

    def __init__(self, tz: str = "Europe/Stockholm") -> None:
        self.tz = ZoneInfo(tz)
        self._holidays_by_year: dict[int, dict[date, str]] = {}
        # (weekday, time) → (after, the next slot strictly after it): the answer for every instant from `after` up
        # to that slot (`next_weekly_slot`), asked by every filing (the unit's next distribution slot) twice.
        self._next_slots: dict[tuple[int, time], tuple[datetime, datetime]] = {}

    # --- days -------------------------------------------------------------------------------

    def _holidays(self, year: int) -> dict[date, str]:
        cached = self._holidays_by_year.get(year)
        if cached is None:
            # include_sundays is passed explicitly: up to holidays 0.106 every Sunday was listed
            # as a holiday ("Söndag") by default. Weekends are handled below either way.
            table = holidays.country_holidays(
                "SE",
                years=year,
                categories=(holidays.PUBLIC, holidays.DE_FACTO),
                language="sv",
                include_sundays=False,
            )
            cached = dict(table.items())
            self._holidays_by_year[year] = cached
        return cached

    def holiday_name(self, d: date) -> str | None:
        """The Swedish name of the (public or de facto) holiday on `d`, or None.

        Ordinary weekends have no name. Two holidays on one day are joined with "; ".
        """
        return self._holidays(d.year).get(d)

    def is_working_day(self, d: date) -> bool:
        """True for Monday-Friday that is neither a public holiday nor midsommar-/jul-/nyårsafton."""
        return d.weekday() < _SATURDAY and d not in self._holidays(d.year)

    def working_day_on_or_after(self, d: date) -> date:
        """`d` if it is a working day, else the next working day."""
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def _next_working_day(self, d: date) -> date:
        return self.working_day_on_or_after(d + timedelta(days=1))

    def _previous_working_day(self, d: date) -> date:
        d -= timedelta(days=1)
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d

    def unusual_time(self, dt: datetime, hours: list[OfficeHours]) -> dict[str, str] | None:
        """Why `dt` is an unusual time for a meeting, or None: {"why": "holiday", "day": name} (public holiday,
        midsommar-, jul- or nyårsafton), {"why": "weekend"}, or {"why": "outside_hours", "start": "HH:MM",
        "end": "HH:MM"} (outside the office hours of any of `hours`; shown as their common window)."""
        local = self._local(dt)
        name = self.holiday_name(local.date())
        if name:
            return {"why": "holiday", "day": name}
        if local.weekday() >= _SATURDAY:
            return {"why": "weekend"}
        hours = hours or [DEFAULT_OFFICE_HOURS]
        start, end = max(h.start for h in hours), min(h.end for h in hours)
        if not all(h.start <= local.time() < h.end for h in hours):
            return {"why": "outside_hours", "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
        return None

    # --- local wall-clock helpers -----------------------------------------------------------

    def at_local(self, d: date, at: time) -> datetime:
        """The UTC instant of local wall-clock `at` on `d` (fold=0; a skipped time moves forward)."""
        local = datetime.combine(d, at.replace(tzinfo=None, fold=0), tzinfo=self.tz)
        # Round-tripping through UTC normalises a non-existent local time (DST gap).
        return local.astimezone(UTC)

    def _local(self, dt: datetime) -> datetime:
        _require_aware(dt)
        return dt.astimezone(self.tz)

    # --- business time ----------------------------------------------------------------------

    def is_business_time(self, dt: datetime, hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> bool:
        """True when `dt` falls on a working day within office hours (start inclusive, end exclusive)."""
        local = self._local(dt)
        return self.is_working_day(local.date()) and hours.start <= local.time() < hours.end

    def next_business_start(self, dt: datetime, hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> datetime:
        """`dt` (in UTC) if it is business time, else the next opening time."""
        local = self._local(dt)
        if self.is_business_time(local, hours):
            return dt.astimezone(UTC)
        d = local.date()
        if self.is_working_day(d) and local.time() < hours.start:
            return self.at_local(d, hours.start)
        return self.at_local(self._next_working_day(d), hours.start)

    def add_business_hours(self, dt: datetime, hours_: float, hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> datetime:
        """`dt` plus `hours_` hours, counting only time inside office hours on working days.

        Friday 15:00 + 4 h is Monday 10:00. A result that lands exactly on closing time stays on
        that day (Friday 13:00 + 4 h is Friday 17:00). Zero hours gives `next_business_start(dt)`.
        """
        if hours_ < 0:
            raise ValueError("hours_ must not be negative")
        remaining = timedelta(hours=hours_)
        current = self.next_business_start(dt, hours)
        while True:
            day = current.astimezone(self.tz).date()
            closing = self.at_local(day, hours.end)
            available = closing - current
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = self.next_business_start(closing, hours)

    def business_duration(self, start: datetime, end: datetime, hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> timedelta:
        """The business time between `start` and `end`: only time inside office hours on working days.

        The inverse of `add_business_hours`: Friday 15:00 to Monday 10:00 is 4 h. An `end` before `start`
        gives zero. Whole working days in between count their wall-clock office hours: the clock changes
        on Sundays, which are never working days.
        """
        _require_aware(start)
        _require_aware(end)
        if end <= start:
            return timedelta(0)
        first = self._local(start).date()
        last = self._local(end).date()

        def part(d: date) -> timedelta:
            if not self.is_working_day(d):
                return timedelta(0)
            opening = max(self.at_local(d, hours.start), start)
            closing = min(self.at_local(d, hours.end), end)
            return max(closing - opening, timedelta(0))

        if first == last:
            return part(first)
        day = datetime.combine(first, hours.end) - datetime.combine(first, hours.start)
        return part(first) + day * self.working_days_between(first, last) + part(last)

    def working_days_between(self, first: date, last: date) -> int:
        """How many working days lie strictly between `first` and `last` (by week arithmetic, then holidays)."""
        n = (last - first).days - 1
        if n <= 0:
            return 0
        weeks, rest = divmod(n, 7)
        tail = (first + timedelta(days=weeks * 7 + i) for i in range(1, rest + 1))
        count = weeks * 5 + sum(d.weekday() < _SATURDAY for d in tail)
        for year in range(first.year, last.year + 1):
            count -= sum(first < d < last and d.weekday() < _SATURDAY for d in self._holidays(year))
        return count

    def add_business_days(self, dt: datetime, days: int, hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> datetime:
        """The same local wall-clock time `days` working days later, after clamping to business time.

        `dt` is first moved to `next_business_start(dt)`, so Saturday 11:00 + 1 is Tuesday 08:00.
        The local time is kept across DST changes (the UTC difference is then 23/25 h per day).
        """
        if days < 0:
            raise ValueError("days must not be negative; use subtract_business_days")
        start = self.next_business_start(dt, hours).astimezone(self.tz)
        d = start.date()
        for _ in range(days):
            d = self._next_working_day(d)
        return self.at_local(d, start.time())

    def subtract_business_days(self, dt: datetime, days: int, hours: OfficeHours = DEFAULT_OFFICE_HOURS) -> datetime:
        """The same local wall-clock time `days` working days before `dt` (e.g. before a meeting).

        No clamping: the local time of `dt` is kept even if it is outside office hours (`hours`
        is accepted for symmetry only). `dt` itself may be on a non-working day; the count goes
        back over working days only, so Monday 10:00 - 2 is the previous Thursday 10:00.
        """
        if days < 0:
            raise ValueError("days must not be negative; use add_business_days")
        local = self._local(dt)
        if days == 0:
            return dt.astimezone(UTC)
        d = local.date()
        for _ in range(days):
            d = self._previous_working_day(d)
        return self.at_local(d, local.time())

    # --- slots ------------------------------------------------------------------------------

    def slot_on_or_after(self, d: date, at: time) -> datetime:
        """Local `at` on `working_day_on_or_after(d)`, in UTC: a slot on a holiday moves forward."""
        return self.at_local(self.working_day_on_or_after(d), at)

    def next_weekly_slot(self, after: datetime, weekday: int, at: time) -> datetime:
        """The first weekly slot (weekday 0=Monday, local time `at`) strictly after `after`.

        A slot on a non-working day moves to the next working day, same time; a moved slot from
        an earlier week can therefore still be the answer.
        """
        if not 0 <= weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
        after_utc = self._local(after).astimezone(UTC)
        # Slots never change order (a moved slot moves forward no further than the working day the next one moves
        # to), so the first slot after an earlier instant is the first after every instant before it.
        known = self._next_slots.get((weekday, at))
        if known is not None and known[0] <= after_utc < known[1]:
            return known[1]
        local_day = self._local(after).date()
        nominal = local_day - timedelta(days=(local_day.weekday() - weekday) % 7)
        nominal -= timedelta(weeks=_SLOT_LOOKBACK_WEEKS)
        while True:
            slot = self.slot_on_or_after(nominal, at)
            if slot > after_utc:
                self._next_slots[(weekday, at)] = (after_utc, slot)
                return slot
            nominal += timedelta(weeks=1)
