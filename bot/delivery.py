"""When a message may be delivered: quiet hours (DESIGN §5).

Non-urgent messages that fall outside the recipient unit's office hours, or on a non-working day,
wait for the next business morning. Urgent ones go at once.
"""

from __future__ import annotations

from datetime import datetime

from bot.calendar import BusinessCalendar, OfficeHours
from bot.directory import Directory, Person
from bot.outbox import DeliveryPolicy


def quiet_hours(directory: Directory, calendar: BusinessCalendar) -> DeliveryPolicy:
    """A DeliveryPolicy that holds non-urgent messages until the recipient's unit is open."""

    def policy(person: Person, now: datetime, urgent: bool) -> datetime:
        if urgent:
            return now
        unit = directory.unit(person.unit)
        hours = OfficeHours(unit.office_hours.start, unit.office_hours.end) if unit else OfficeHours()
        return calendar.next_business_start(now, hours)

    return policy
