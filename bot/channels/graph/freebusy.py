"""Free/busy meeting suggestions: the first common 60-minute slots inside office hours in the next ten
business days (holidays skipped), from `calendar/getSchedule` over the participants with Microsoft 365
addresses. `first_free_slots` is pure and table-tested; `suggest` asks Graph."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.calendar import BusinessCalendar, OfficeHours
from bot.cases.models import Case
from bot.channels.graph.calendar import m365_address
from bot.channels.graph.client import Busy, GraphClient
from bot.directory import Directory

SLOT = timedelta(minutes=60)
STEP = timedelta(minutes=30)  # slots start on the hour or the half hour
DAYS = 10
COUNT = 3
UTC = ZoneInfo("UTC")


def first_free_slots(busy: list[Busy], now: datetime, calendar: BusinessCalendar, hours: OfficeHours, *,
                     days: int = DAYS, count: int = COUNT, length: timedelta = SLOT) -> list[datetime]:
    """The first `count` starts of `length` free for everyone, inside office hours on the next `days`
    working days (today counts if a slot is still ahead), on the half hour."""
    out: list[datetime] = []
    day = calendar.working_day_on_or_after(calendar._local(now).date())
    for _ in range(days):
        start = calendar.at_local(day, hours.start)
        end = calendar.at_local(day, hours.end)
        at = start
        while at + length <= end and len(out) < count:
            if at > now and not any(b.start < at + length and at < b.end for b in busy):
                out.append(calendar._local(at))
            at += STEP
        if len(out) >= count:
            break
        day = calendar.working_day_on_or_after(day + timedelta(days=1))
    return out


def addresses_of(case: Case, directory: Directory) -> list[str]:
    """The participants' Microsoft 365 addresses (requester and those responsible)."""
    out: list[str] = []
    for pid in case.participants():
        person = directory.person(pid)
        address = m365_address(person) if person else None
        if address and address not in out:
            out.append(address)
    return out


async def suggest(graph: GraphClient, case: Case, directory: Directory, calendar: BusinessCalendar,
                  now: datetime) -> list[datetime]:
    """Up to three common free hours for the case's participants; [] when none has an M365 address."""
    addresses = addresses_of(case, directory)
    if not addresses:
        return []
    unit = directory.unit(case.target_unit)
    hours = OfficeHours(unit.office_hours.start, unit.office_hours.end) if unit else OfficeHours()
    horizon = now + timedelta(days=DAYS * 2 + 7)  # ten working days, with room for weekends and holidays
    busy = await graph.busy(addresses, now.astimezone(UTC), horizon.astimezone(UTC))
    return first_free_slots(busy, now, calendar, hours)
