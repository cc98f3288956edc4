"""Free/busy suggestions: the first three common free hours in office hours, holidays and busy spans skipped."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.calendar import BusinessCalendar, OfficeHours
from bot.channels.graph.client import Busy
from bot.channels.graph.freebusy import first_free_slots
from tests.conftest import local

CAL = BusinessCalendar("Europe/Stockholm")
HOURS = OfficeHours()  # 08:00-17:00


def busy(start: str, end: str, who: str = "a@x.se") -> Busy:
    return Busy(who, local(start), local(end))


def hhmm(slots: list) -> list[str]:  # type: ignore[type-arg]
    return [s.strftime("%a %d %H:%M") for s in slots]


@pytest.mark.parametrize(("now", "spans", "expected"), [
    # a free Monday morning at 10:00: the next half hours
    ("2026-11-23T10:00", [], ["Mon 23 10:30", "Mon 23 11:00", "Mon 23 11:30"]),
    # one person busy until 12, another 12:30-16: only 16:00 is left on Monday, then Tuesday morning
    ("2026-11-23T10:00", [("2026-11-23T08:00", "2026-11-23T12:00"), ("2026-11-23T12:30", "2026-11-23T16:00")],
     ["Mon 23 16:00", "Tue 24 08:00", "Tue 24 08:30"]),
    # Friday afternoon at 16:30: nothing fits today; the weekend is skipped
    ("2026-11-27T16:30", [], ["Mon 30 08:00", "Mon 30 08:30", "Mon 30 09:00"]),
    # the day before julafton: julafton and juldagarna are skipped
    ("2026-12-23T16:30", [], ["Mon 28 08:00", "Mon 28 08:30", "Mon 28 09:00"]),
])
def test_first_common_free_hours(now: str, spans: list[tuple[str, str]], expected: list[str]) -> None:
    slots = first_free_slots([busy(s, e) for s, e in spans], local(now), CAL, HOURS)
    assert hhmm(slots) == expected
    assert all(s.minute in (0, 30) for s in slots)


def test_nothing_free_in_ten_working_days_gives_no_suggestion() -> None:
    now = local("2026-11-23T07:00")
    slots = first_free_slots([Busy("a@x.se", now, now + timedelta(days=30))], now, CAL, HOURS)
    assert slots == []
