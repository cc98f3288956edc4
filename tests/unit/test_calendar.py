"""Tests for the Swedish business calendar (bot.calendar). Explicit datetimes only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.calendar import DEFAULT_OFFICE_HOURS, BusinessCalendar, OfficeHours

STO = ZoneInfo("Europe/Stockholm")
H = OfficeHours()
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return BusinessCalendar()


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """An aware Stockholm wall-clock datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=STO)


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def assert_local(result: datetime, expected: datetime) -> None:
    """`result` is UTC and denotes the same instant as the Stockholm wall-clock `expected`."""
    assert result.tzinfo is UTC
    assert result == expected
    assert result.astimezone(STO).replace(tzinfo=None) == expected.replace(tzinfo=None)


# --- OfficeHours ----------------------------------------------------------------------------


def test_office_hours_defaults() -> None:
    assert H == DEFAULT_OFFICE_HOURS
    assert (H.start, H.end) == (time(8), time(17))


def test_office_hours_must_start_before_end() -> None:
    with pytest.raises(ValueError):
        OfficeHours(start=time(17), end=time(8))
    with pytest.raises(ValueError):
        OfficeHours(start=time(8), end=time(8))


def test_office_hours_are_frozen() -> None:
    with pytest.raises(AttributeError):
        H.start = time(9)  # type: ignore[misc]


# --- working days and holiday names -------------------------------------------------------


def test_ordinary_week(cal: BusinessCalendar) -> None:
    # 2026-11-16 is a Monday with no holidays that week.
    days = [date(2026, 11, 16) + timedelta(days=i) for i in range(7)]
    assert [cal.is_working_day(d) for d in days] == [True] * 5 + [False, False]
    assert [cal.holiday_name(d) for d in days] == [None] * 7


@pytest.mark.parametrize("d", [date(2026, 11, 22), date(2026, 3, 1), date(2027, 8, 15)])
def test_ordinary_sunday_is_non_working_without_a_name(cal: BusinessCalendar, d: date) -> None:
    assert d.weekday() == SUN
    assert not cal.is_working_day(d)
    assert cal.holiday_name(d) is None
    assert cal.is_working_day(d + timedelta(days=1))  # the ordinary Monday after


@pytest.mark.parametrize(
    ("d", "name"),
    [
        (date(2026, 1, 1), "Nyårsdagen"),
        (date(2026, 1, 6), "Trettondedag jul"),
        (date(2026, 4, 3), "Långfredagen"),
        (date(2026, 4, 6), "Annandag påsk"),
        (date(2026, 5, 1), "Första maj"),
        (date(2026, 5, 14), "Kristi himmelsfärdsdag"),
        (date(2026, 6, 19), "Midsommarafton"),
        (date(2026, 12, 24), "Julafton"),
        (date(2026, 12, 25), "Juldagen"),
        (date(2026, 12, 31), "Nyårsafton"),
        (date(2027, 3, 26), "Långfredagen"),
        (date(2027, 3, 29), "Annandag påsk"),
        (date(2027, 5, 6), "Kristi himmelsfärdsdag"),
        (date(2027, 6, 25), "Midsommarafton"),
        (date(2027, 12, 24), "Julafton"),
        (date(2027, 12, 31), "Nyårsafton"),
        (date(2028, 6, 6), "Nationaldagen"),
    ],
)
def test_weekday_holidays_are_non_working(cal: BusinessCalendar, d: date, name: str) -> None:
    assert d.weekday() < SAT
    assert not cal.is_working_day(d)
    assert cal.holiday_name(d) == name


@pytest.mark.parametrize(
    ("d", "name"),
    [
        (date(2026, 4, 5), "Påskdagen"),
        (date(2026, 6, 6), "Nationaldagen"),  # a Saturday in 2026
        (date(2026, 6, 20), "Midsommardagen"),
        (date(2026, 12, 26), "Annandag jul"),
        (date(2027, 6, 6), "Nationaldagen"),  # a Sunday in 2027
    ],
)
def test_weekend_holidays_have_names(cal: BusinessCalendar, d: date, name: str) -> None:
    assert d.weekday() >= SAT
    assert not cal.is_working_day(d)
    assert cal.holiday_name(d) == name


@pytest.mark.parametrize(
    "d",
    [
        date(2027, 6, 7),  # Monday after nationaldagen on a Sunday: no substitute day off
        date(2026, 5, 15),  # klämdag after Kristi himmelsfärd: an ordinary working day
        date(2026, 5, 25),  # annandag pingst is no longer a holiday
        date(2026, 12, 23),
        date(2026, 12, 30),
        date(2027, 1, 7),
        date(2027, 3, 25),  # skärtorsdag
        date(2027, 3, 30),
        date(2026, 4, 30),  # valborgsmässoafton
    ],
)
def test_working_days_around_holidays(cal: BusinessCalendar, d: date) -> None:
    assert cal.is_working_day(d)
    assert cal.holiday_name(d) is None


def test_easter_2027_block(cal: BusinessCalendar) -> None:
    block = [date(2027, 3, 26) + timedelta(days=i) for i in range(4)]
    assert [cal.is_working_day(d) for d in block] == [False] * 4
    assert cal.working_day_on_or_after(date(2027, 3, 26)) == date(2027, 3, 30)


def test_working_day_on_or_after(cal: BusinessCalendar) -> None:
    assert cal.working_day_on_or_after(date(2026, 11, 24)) == date(2026, 11, 24)
    assert cal.working_day_on_or_after(date(2026, 11, 21)) == date(2026, 11, 23)
    assert cal.working_day_on_or_after(date(2026, 6, 19)) == date(2026, 6, 22)
    assert cal.working_day_on_or_after(date(2026, 12, 24)) == date(2026, 12, 28)
    assert cal.working_day_on_or_after(date(2026, 12, 31)) == date(2027, 1, 4)
    assert cal.working_day_on_or_after(date(2028, 12, 29)) == date(2028, 12, 29)
    assert cal.working_day_on_or_after(date(2028, 12, 30)) == date(2029, 1, 2)


def test_holidays_are_cached_per_year(cal: BusinessCalendar) -> None:
    fresh = BusinessCalendar()
    fresh.is_working_day(date(2030, 5, 1))
    fresh.holiday_name(date(2030, 12, 24))
    assert set(fresh._holidays_by_year) == {2030}


# --- is_business_time ------------------------------------------------------------------------


def test_business_time_boundaries(cal: BusinessCalendar) -> None:
    assert not cal.is_business_time(local(2026, 11, 24, 7, 59), H)
    assert cal.is_business_time(local(2026, 11, 24, 8, 0), H)
    assert cal.is_business_time(local(2026, 11, 24, 16, 59), H)
    assert not cal.is_business_time(local(2026, 11, 24, 17, 0), H)
    assert not cal.is_business_time(local(2026, 11, 21, 10, 0), H)  # Saturday
    assert not cal.is_business_time(local(2026, 12, 24, 10, 0), H)  # julafton


def test_business_time_accepts_any_timezone(cal: BusinessCalendar) -> None:
    # 07:30 UTC in winter is 08:30 in Stockholm; 16:30 UTC is 17:30.
    assert cal.is_business_time(utc(2026, 11, 24, 7, 30), H)
    assert not cal.is_business_time(utc(2026, 11, 24, 16, 30), H)
    # Summer: 06:30 UTC is 08:30 CEST.
    assert cal.is_business_time(utc(2026, 8, 4, 6, 30), H)
    # 03:00 in New York (night there) is 09:00 in Stockholm; 23:00 there is 05:00 here.
    new_york = ZoneInfo("America/New_York")
    assert cal.is_business_time(datetime(2026, 11, 24, 3, 0, tzinfo=new_york), H)
    assert not cal.is_business_time(datetime(2026, 11, 23, 23, 0, tzinfo=new_york), H)
    # UTC Saturday 23:30 is Sunday in Stockholm; Sunday 23:30 UTC is Monday 00:30 (closed).
    assert not cal.is_business_time(utc(2026, 11, 22, 23, 30), H)


def test_custom_office_hours(cal: BusinessCalendar) -> None:
    early = OfficeHours(start=time(7, 30), end=time(16))
    assert cal.is_business_time(local(2026, 11, 24, 7, 30), early)
    assert not cal.is_business_time(local(2026, 11, 24, 16, 0), early)


def test_naive_datetimes_are_refused(cal: BusinessCalendar) -> None:
    naive = datetime(2026, 11, 24, 10, 0)
    with pytest.raises(ValueError):
        cal.is_business_time(naive, H)
    with pytest.raises(ValueError):
        cal.next_business_start(naive, H)
    with pytest.raises(ValueError):
        cal.add_business_hours(naive, 1, H)
    with pytest.raises(ValueError):
        cal.add_business_days(naive, 1, H)
    with pytest.raises(ValueError):
        cal.subtract_business_days(naive, 1, H)
    with pytest.raises(ValueError):
        cal.next_weekly_slot(naive, TUE, time(9))


# --- next_business_start -------------------------------------------------------------------


def test_next_business_start_inside_returns_same_instant_in_utc(cal: BusinessCalendar) -> None:
    dt = local(2026, 11, 24, 10, 17)
    result = cal.next_business_start(dt, H)
    assert result == dt and result.tzinfo is UTC


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (local(2026, 11, 24, 6, 0), local(2026, 11, 24, 8, 0)),  # before opening: today
        (local(2026, 11, 24, 0, 0), local(2026, 11, 24, 8, 0)),
        (local(2026, 11, 24, 17, 0), local(2026, 11, 25, 8, 0)),  # at closing: tomorrow
        (local(2026, 11, 24, 23, 59), local(2026, 11, 25, 8, 0)),
        (local(2026, 11, 20, 17, 30), local(2026, 11, 23, 8, 0)),  # Friday evening
        (local(2026, 11, 21, 11, 0), local(2026, 11, 23, 8, 0)),  # Saturday
        (local(2026, 11, 22, 7, 0), local(2026, 11, 23, 8, 0)),  # Sunday morning
        (local(2026, 6, 18, 18, 0), local(2026, 6, 22, 8, 0)),  # before midsommarafton
        (local(2026, 12, 23, 17, 0), local(2026, 12, 28, 8, 0)),  # before julafton
        (local(2026, 12, 30, 20, 0), local(2027, 1, 4, 8, 0)),  # before nyårsafton
        (local(2027, 3, 25, 17, 0), local(2027, 3, 30, 8, 0)),  # skärtorsdag evening
        (local(2027, 3, 26, 9, 0), local(2027, 3, 30, 8, 0)),  # långfredag
    ],
)
def test_next_business_start_outside(cal: BusinessCalendar, dt: datetime, expected: datetime) -> None:
    assert_local(cal.next_business_start(dt, H), expected)


# --- add_business_hours ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dt", "n", "expected"),
    [
        (local(2026, 11, 24, 9, 0), 2, local(2026, 11, 24, 11, 0)),  # within a day
        (local(2026, 11, 24, 16, 0), 2, local(2026, 11, 25, 9, 0)),  # across a night
        (local(2026, 11, 24, 13, 0), 4, local(2026, 11, 24, 17, 0)),  # exactly to closing
        (local(2026, 11, 24, 13, 0), 4.5, local(2026, 11, 25, 8, 30)),
        (local(2026, 11, 24, 20, 0), 1, local(2026, 11, 25, 9, 0)),  # starts after hours
        (local(2026, 11, 24, 6, 0), 1, local(2026, 11, 24, 9, 0)),  # starts before hours
        (local(2026, 11, 20, 15, 0), 4, local(2026, 11, 23, 10, 0)),  # Friday -> Monday
        (local(2026, 11, 21, 12, 0), 4, local(2026, 11, 23, 12, 0)),  # from Saturday
        (local(2026, 11, 24, 9, 0), 18, local(2026, 11, 26, 9, 0)),  # two full days
        (local(2026, 11, 23, 8, 0), 45, local(2026, 11, 27, 17, 0)),  # a full week, ends at closing
        (local(2026, 11, 24, 9, 0), 0.25, local(2026, 11, 24, 9, 15)),
    ],
)
def test_add_business_hours(cal: BusinessCalendar, dt: datetime, n: float, expected: datetime) -> None:
    assert_local(cal.add_business_hours(dt, n, H), expected)


def test_add_business_hours_friday_before_holiday_monday(cal: BusinessCalendar) -> None:
    # 2029-01-01 (nyårsdagen) is a Monday; 2028-12-31 nyårsafton is a Sunday.
    assert_local(cal.add_business_hours(local(2028, 12, 29, 15, 0), 4, H), local(2029, 1, 2, 10, 0))


def test_add_business_hours_over_easter_2027(cal: BusinessCalendar) -> None:
    # Skärtorsdag 15:00 + 4 h: 2 h on Thursday, then långfredag..annandag påsk are closed.
    assert_local(cal.add_business_hours(local(2027, 3, 25, 15, 0), 4, H), local(2027, 3, 30, 10, 0))


def test_add_business_hours_over_christmas_and_new_year(cal: BusinessCalendar) -> None:
    assert_local(cal.add_business_hours(local(2026, 12, 23, 14, 0), 5, H), local(2026, 12, 28, 10, 0))
    assert_local(cal.add_business_hours(local(2026, 12, 30, 16, 0), 2, H), local(2027, 1, 4, 9, 0))


def test_add_business_hours_over_midsommar(cal: BusinessCalendar) -> None:
    assert_local(cal.add_business_hours(local(2026, 6, 18, 16, 0), 4, H), local(2026, 6, 22, 11, 0))


def test_add_business_hours_over_kristi_himmelsfard(cal: BusinessCalendar) -> None:
    # Wednesday 16:00 + 2 h: Thursday is closed, Friday (klämdag) is open.
    assert_local(cal.add_business_hours(local(2026, 5, 13, 16, 0), 2, H), local(2026, 5, 15, 9, 0))


def test_add_business_hours_over_nationaldagen_on_a_weekday(cal: BusinessCalendar) -> None:
    # 2028-06-06 is a Tuesday.
    assert_local(cal.add_business_hours(local(2028, 6, 5, 16, 0), 2, H), local(2028, 6, 7, 9, 0))


def test_add_business_hours_across_dst(cal: BusinessCalendar) -> None:
    # Spring forward on Sunday 2026-03-29: Friday 15:00 CET + 4 h = Monday 10:00 CEST.
    result = cal.add_business_hours(local(2026, 3, 27, 15, 0), 4, H)
    assert_local(result, local(2026, 3, 30, 10, 0))
    assert result == utc(2026, 3, 30, 8, 0)
    # Fall back on Sunday 2026-10-25: Friday 15:00 CEST + 4 h = Monday 10:00 CET.
    result = cal.add_business_hours(local(2026, 10, 23, 15, 0), 4, H)
    assert_local(result, local(2026, 10, 26, 10, 0))
    assert result == utc(2026, 10, 26, 9, 0)


def test_add_business_hours_with_custom_hours(cal: BusinessCalendar) -> None:
    short = OfficeHours(start=time(9), end=time(12))
    assert_local(cal.add_business_hours(local(2026, 11, 24, 11, 0), 4, short), local(2026, 11, 25, 12, 0))


def test_add_business_hours_zero_and_negative(cal: BusinessCalendar) -> None:
    assert_local(cal.add_business_hours(local(2026, 11, 21, 12, 0), 0, H), local(2026, 11, 23, 8, 0))
    with pytest.raises(ValueError):
        cal.add_business_hours(local(2026, 11, 24, 9, 0), -1, H)


def test_add_business_hours_accepts_utc_input(cal: BusinessCalendar) -> None:
    # 14:00 UTC on Friday 2026-11-20 is 15:00 in Stockholm.
    assert_local(cal.add_business_hours(utc(2026, 11, 20, 14, 0), 4, H), local(2026, 11, 23, 10, 0))


# --- add_business_days -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dt", "n", "expected"),
    [
        (local(2026, 11, 24, 10, 0), 1, local(2026, 11, 25, 10, 0)),  # Tue -> Wed
        (local(2026, 11, 20, 16, 30), 1, local(2026, 11, 23, 16, 30)),  # Fri -> Mon
        (local(2026, 11, 21, 11, 0), 1, local(2026, 11, 24, 8, 0)),  # Sat clamps to Mon 08:00
        (local(2026, 11, 24, 18, 0), 1, local(2026, 11, 26, 8, 0)),  # evening clamps to tomorrow
        (local(2026, 11, 24, 6, 0), 1, local(2026, 11, 25, 8, 0)),  # early clamps to today
        (local(2026, 11, 24, 10, 0), 5, local(2026, 12, 1, 10, 0)),
        (local(2026, 11, 24, 10, 0), 0, local(2026, 11, 24, 10, 0)),
        (local(2026, 11, 21, 11, 0), 0, local(2026, 11, 23, 8, 0)),
    ],
)
def test_add_business_days(cal: BusinessCalendar, dt: datetime, n: int, expected: datetime) -> None:
    assert_local(cal.add_business_days(dt, n, H), expected)


def test_add_business_days_over_holidays(cal: BusinessCalendar) -> None:
    assert_local(cal.add_business_days(local(2026, 6, 18, 10, 0), 1, H), local(2026, 6, 22, 10, 0))
    assert_local(cal.add_business_days(local(2026, 12, 23, 14, 0), 1, H), local(2026, 12, 28, 14, 0))
    assert_local(cal.add_business_days(local(2026, 12, 23, 14, 0), 5, H), local(2027, 1, 5, 14, 0))
    assert_local(cal.add_business_days(local(2026, 5, 13, 9, 0), 1, H), local(2026, 5, 15, 9, 0))
    assert_local(cal.add_business_days(local(2028, 6, 5, 9, 0), 1, H), local(2028, 6, 7, 9, 0))


def test_add_business_days_spring_forward_keeps_wall_clock(cal: BusinessCalendar) -> None:
    start = local(2026, 3, 27, 10, 0)  # Friday 10:00 CET = 09:00 UTC
    result = cal.add_business_days(start, 1, H)
    assert_local(result, local(2026, 3, 30, 10, 0))  # Monday 10:00 CEST = 08:00 UTC
    assert result == utc(2026, 3, 30, 8, 0)
    assert result - start == timedelta(hours=71)


def test_add_business_days_fall_back_keeps_wall_clock(cal: BusinessCalendar) -> None:
    start = local(2026, 10, 23, 10, 0)  # Friday 10:00 CEST = 08:00 UTC
    result = cal.add_business_days(start, 1, H)
    assert result == utc(2026, 10, 26, 9, 0)  # Monday 10:00 CET
    assert result - start == timedelta(hours=73)


def test_add_business_days_over_easter_and_dst_2027(cal: BusinessCalendar) -> None:
    # Påskdagen 2027-03-28 is also the spring-forward Sunday.
    result = cal.add_business_days(local(2027, 3, 25, 16, 0), 1, H)
    assert_local(result, local(2027, 3, 30, 16, 0))
    assert result == utc(2027, 3, 30, 14, 0)


def test_add_business_days_negative_is_refused(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_business_days(local(2026, 11, 24, 10, 0), -1, H)


# --- subtract_business_days -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("dt", "n", "expected"),
    [
        (local(2026, 11, 26, 10, 0), 2, local(2026, 11, 24, 10, 0)),  # Thu -> Tue
        (local(2026, 11, 23, 10, 0), 2, local(2026, 11, 19, 10, 0)),  # Mon -> Thu
        (local(2026, 11, 21, 10, 0), 2, local(2026, 11, 19, 10, 0)),  # Sat -> Thu
        (local(2026, 11, 24, 18, 30), 1, local(2026, 11, 23, 18, 30)),  # outside hours kept
        (local(2026, 11, 24, 7, 0), 1, local(2026, 11, 23, 7, 0)),
        (local(2026, 11, 24, 10, 0), 0, local(2026, 11, 24, 10, 0)),
        (local(2026, 12, 29, 10, 0), 2, local(2026, 12, 23, 10, 0)),  # over Christmas
        (local(2027, 1, 4, 13, 0), 1, local(2026, 12, 30, 13, 0)),  # over New Year
        (local(2026, 6, 23, 9, 0), 2, local(2026, 6, 18, 9, 0)),  # over midsommar
        (local(2027, 3, 31, 14, 0), 2, local(2027, 3, 25, 14, 0)),  # over Easter
        (local(2026, 5, 18, 10, 0), 2, local(2026, 5, 13, 10, 0)),  # over Kristi himmelsfärd
    ],
)
def test_subtract_business_days(cal: BusinessCalendar, dt: datetime, n: int, expected: datetime) -> None:
    assert_local(cal.subtract_business_days(dt, n, H), expected)


def test_subtract_business_days_across_dst(cal: BusinessCalendar) -> None:
    result = cal.subtract_business_days(local(2026, 3, 31, 10, 0), 2, H)
    assert_local(result, local(2026, 3, 27, 10, 0))
    assert result == utc(2026, 3, 27, 9, 0)
    result = cal.subtract_business_days(local(2026, 10, 27, 10, 0), 2, H)
    assert result == utc(2026, 10, 23, 8, 0)


def test_subtract_business_days_negative_is_refused(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError):
        cal.subtract_business_days(local(2026, 11, 24, 10, 0), -1, H)


# --- local construction and DST ---------------------------------------------------------------


def test_at_local_is_dst_aware(cal: BusinessCalendar) -> None:
    assert cal.at_local(date(2026, 1, 15), time(9)) == utc(2026, 1, 15, 8, 0)
    assert cal.at_local(date(2026, 7, 15), time(9)) == utc(2026, 7, 15, 7, 0)


def test_at_local_non_existent_time_moves_forward(cal: BusinessCalendar) -> None:
    # 02:30 does not exist on 2026-03-29; it becomes 03:30 CEST (01:30 UTC).
    result = cal.at_local(date(2026, 3, 29), time(2, 30))
    assert result == utc(2026, 3, 29, 1, 30)
    assert result.astimezone(STO).time() == time(3, 30)


def test_at_local_ambiguous_time_takes_first_occurrence(cal: BusinessCalendar) -> None:
    # 02:30 happens twice on 2026-10-25; fold=0 is the first one, still CEST (00:30 UTC).
    assert cal.at_local(date(2026, 10, 25), time(2, 30)) == utc(2026, 10, 25, 0, 30)
    assert cal.at_local(date(2026, 10, 25), time(2, 30, fold=1)) == utc(2026, 10, 25, 0, 30)


# --- slots ---------------------------------------------------------------------------------


def test_slot_on_working_day(cal: BusinessCalendar) -> None:
    assert_local(cal.slot_on_or_after(date(2026, 11, 24), time(9)), local(2026, 11, 24, 9, 0))


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 12, 24), local(2026, 12, 28, 9, 0)),  # julafton (Thu) -> Monday
        (date(2026, 12, 31), local(2027, 1, 4, 9, 0)),  # nyårsafton (Thu) -> Monday
        (date(2026, 6, 19), local(2026, 6, 22, 9, 0)),  # midsommarafton (Fri) -> Monday
        (date(2026, 5, 14), local(2026, 5, 15, 9, 0)),  # Kristi himmelsfärd -> Friday
        (date(2027, 3, 29), local(2027, 3, 30, 9, 0)),  # annandag påsk -> Tuesday
        (date(2028, 6, 6), local(2028, 6, 7, 9, 0)),  # nationaldagen (Tue) -> Wednesday
        (date(2026, 11, 21), local(2026, 11, 23, 9, 0)),  # Saturday -> Monday
    ],
)
def test_slot_on_holiday_moves_to_next_working_day(cal: BusinessCalendar, d: date, expected: datetime) -> None:
    assert_local(cal.slot_on_or_after(d, time(9)), expected)


def test_slot_after_dst_change_uses_local_time(cal: BusinessCalendar) -> None:
    assert cal.slot_on_or_after(date(2026, 3, 29), time(9)) == utc(2026, 3, 30, 7, 0)
    assert cal.slot_on_or_after(date(2026, 10, 25), time(9)) == utc(2026, 10, 26, 8, 0)


@pytest.mark.parametrize(
    ("after", "weekday", "expected"),
    [
        # ordinary Tuesday/Thursday slots at 09:00
        (local(2026, 11, 23, 12, 0), TUE, local(2026, 11, 24, 9, 0)),
        (local(2026, 11, 24, 8, 59), TUE, local(2026, 11, 24, 9, 0)),
        (local(2026, 11, 24, 9, 0), TUE, local(2026, 12, 1, 9, 0)),  # strictly after
        (local(2026, 11, 24, 9, 1), THU, local(2026, 11, 26, 9, 0)),
        (local(2026, 11, 26, 10, 0), THU, local(2026, 12, 3, 9, 0)),
        (local(2026, 11, 22, 23, 0), MON, local(2026, 11, 23, 9, 0)),
    ],
)
def test_next_weekly_slot_ordinary(cal: BusinessCalendar, after: datetime, weekday: int, expected: datetime) -> None:
    assert_local(cal.next_weekly_slot(after, weekday, time(9)), expected)


def test_next_weekly_slot_moved_by_kristi_himmelsfard(cal: BusinessCalendar) -> None:
    # Thursday slot 2026-05-14 is Kristi himmelsfärd -> Friday 2026-05-15 09:00.
    assert_local(cal.next_weekly_slot(local(2026, 5, 12, 10, 0), THU, time(9)), local(2026, 5, 15, 9, 0))
    # After the nominal Thursday slot time, the moved slot still lies ahead.
    assert_local(cal.next_weekly_slot(local(2026, 5, 14, 12, 0), THU, time(9)), local(2026, 5, 15, 9, 0))
    # Once the moved slot has passed, the next one is the following Thursday.
    assert_local(cal.next_weekly_slot(local(2026, 5, 15, 9, 0), THU, time(9)), local(2026, 5, 21, 9, 0))


def test_next_weekly_slot_moved_into_next_week_by_christmas(cal: BusinessCalendar) -> None:
    # Thursday 2026-12-24 (julafton) -> Friday juldagen -> weekend -> Monday 2026-12-28.
    # On Saturday the 26th, last Thursday's slot has been moved past `after` into the next week.
    assert_local(cal.next_weekly_slot(local(2026, 12, 26, 10, 0), THU, time(9)), local(2026, 12, 28, 9, 0))
    # Even on Monday morning before 09:00 the moved slot is the answer (not Thursday the 31st).
    assert_local(cal.next_weekly_slot(local(2026, 12, 28, 8, 0), THU, time(9)), local(2026, 12, 28, 9, 0))
    # After it: Thursday the 31st is nyårsafton, Friday nyårsdagen -> Monday 2027-01-04.
    assert_local(cal.next_weekly_slot(local(2026, 12, 28, 10, 0), THU, time(9)), local(2027, 1, 4, 9, 0))
    # After that: the ordinary Thursday 2027-01-07.
    assert_local(cal.next_weekly_slot(local(2027, 1, 4, 9, 0), THU, time(9)), local(2027, 1, 7, 9, 0))


def test_next_weekly_slot_monday_moved_by_easter(cal: BusinessCalendar) -> None:
    # Monday 2027-03-29 is annandag påsk -> Tuesday 2027-03-30 09:00.
    assert_local(cal.next_weekly_slot(local(2027, 3, 26, 10, 0), MON, time(9)), local(2027, 3, 30, 9, 0))
    assert_local(cal.next_weekly_slot(local(2027, 3, 29, 12, 0), MON, time(9)), local(2027, 3, 30, 9, 0))
    assert_local(cal.next_weekly_slot(local(2027, 3, 30, 9, 0), MON, time(9)), local(2027, 4, 5, 9, 0))


def test_next_weekly_slot_tuesday_and_thursday_same_day_after_move(cal: BusinessCalendar) -> None:
    # Nationaldagen 2028 is Tuesday 06-06: the Tuesday slot moves to Wednesday 06-07.
    assert_local(cal.next_weekly_slot(local(2028, 6, 5, 12, 0), TUE, time(9)), local(2028, 6, 7, 9, 0))
    assert_local(cal.next_weekly_slot(local(2028, 6, 5, 12, 0), THU, time(9)), local(2028, 6, 8, 9, 0))


def test_next_weekly_slot_weekend_weekday_moves_to_monday(cal: BusinessCalendar) -> None:
    assert_local(cal.next_weekly_slot(local(2026, 11, 20, 12, 0), SAT, time(9)), local(2026, 11, 23, 9, 0))


def test_next_weekly_slot_across_dst(cal: BusinessCalendar) -> None:
    # Tuesday slot after spring forward keeps 09:00 local.
    result = cal.next_weekly_slot(local(2026, 3, 27, 12, 0), TUE, time(9))
    assert result == utc(2026, 3, 31, 7, 0)
    result = cal.next_weekly_slot(local(2026, 10, 23, 12, 0), TUE, time(9))
    assert result == utc(2026, 10, 27, 8, 0)


def test_next_weekly_slot_accepts_other_timezones(cal: BusinessCalendar) -> None:
    # 08:30 UTC on Tuesday 2026-11-24 is 09:30 in Stockholm: this week's slot has passed.
    assert_local(cal.next_weekly_slot(utc(2026, 11, 24, 8, 30), TUE, time(9)), local(2026, 12, 1, 9, 0))
    plus_five = timezone(timedelta(hours=5))
    # Tuesday 12:30 at +05:00 is 08:30 in Stockholm: the slot is still ahead.
    after = datetime(2026, 11, 24, 12, 30, tzinfo=plus_five)
    assert_local(cal.next_weekly_slot(after, TUE, time(9)), local(2026, 11, 24, 9, 0))


def test_next_weekly_slot_rejects_bad_weekday(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError):
        cal.next_weekly_slot(local(2026, 11, 24, 9, 0), 7, time(9))


def _first_slot_after(after: datetime, weekday: int, at: time) -> datetime:
    """The next weekly slot, from a calendar that has answered nothing before (nothing remembered)."""
    return BusinessCalendar().next_weekly_slot(after, weekday, at)


ASK = st.tuples(st.integers(0, 3 * 365 * 24 * 4), st.integers(0, 6), st.sampled_from([time(9), time(13, 30)]))


@given(st.lists(ASK, min_size=1, max_size=25))
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
def test_a_remembered_next_slot_is_the_slot_asked_afresh(asks: list[tuple[int, int, time]]) -> None:
    """`next_weekly_slot` remembers its last answer per weekday and time (every filing asks it twice): asked again
    at any instant, earlier, later, across holidays (jul, nyår, midsommar) and DST, it answers as a fresh one."""
    cal = BusinessCalendar()
    for quarters, weekday, at in asks:
        after = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * quarters)
        assert cal.next_weekly_slot(after, weekday, at) == _first_slot_after(after, weekday, at)


def test_a_remembered_next_slot_ends_at_the_slot() -> None:
    cal = BusinessCalendar()
    slot = cal.next_weekly_slot(local(2026, 12, 21, 10), MON, time(9))  # jul: Mon 28 Dec is a working day
    assert cal.next_weekly_slot(slot - timedelta(microseconds=1), MON, time(9)) == slot
    assert cal.next_weekly_slot(slot, MON, time(9)) == _first_slot_after(slot, MON, time(9)) > slot
