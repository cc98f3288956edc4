"""Statistics computations: percentiles, calendar months, business durations and per-unit figures."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from bot.calendar import BusinessCalendar, OfficeHours
from bot.stats.models import CaseFact, EscalationFact, Spread
from bot.stats.service import add_months, last_twelve_months, per_unit, percentile, rung_order, spread, unit_stats
from tests.conftest import local

CAL = BusinessCalendar()


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 0.5, None),
        ([4.0], 0.5, 4.0),
        ([4.0], 0.9, 4.0),
        ([1.0, 3.0], 0.5, 2.0),  # even count: the mean of the middle two
        ([3.0, 1.0, 2.0], 0.5, 2.0),  # order does not matter
        ([0.5, 3.0, 8.0], 0.9, 7.0),  # (n-1)·p = 1.8: 3 + 0.8·(8-3)
        ([5.0, 13.0], 0.9, 12.2),
        (list(map(float, range(1, 11))), 0.9, 9.1),
        (list(map(float, range(1, 11))), 0.0, 1.0),
        (list(map(float, range(1, 11))), 1.0, 10.0),
    ],
)
def test_percentile(values: list[float], p: float, expected: float | None) -> None:
    got = percentile(values, p)
    assert got == (None if expected is None else pytest.approx(expected))


def test_percentile_refuses_a_share_outside_zero_to_one() -> None:
    with pytest.raises(ValueError):
        percentile([1.0], 90)


def test_spread() -> None:
    assert spread([]) == Spread(0, None, None)
    assert spread([3.0, 3.0, 8.0]) == Spread(3, 3.0, pytest.approx(7.0))


@pytest.mark.parametrize(
    ("d", "months", "expected"),
    [
        (date(2026, 11, 23), -12, date(2025, 11, 23)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),  # the 31st becomes the month's last day
        (date(2024, 3, 31), -1, date(2024, 2, 29)),  # leap year
        (date(2026, 1, 15), -1, date(2025, 12, 15)),  # over the turn of the year
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
    ],
)
def test_add_months(d: date, months: int, expected: date) -> None:
    assert add_months(d, months) == expected


def test_last_twelve_months_ends_today() -> None:
    assert last_twelve_months(date(2026, 11, 23)) == (date(2025, 11, 24), date(2026, 11, 23))


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-11-23T10:00", "2026-11-23T10:30", 0.5),  # same working day
        ("2026-11-27T16:00", "2026-11-30T10:00", 3.0),  # Friday 16:00 to Monday 10:00: the weekend does not count
        ("2026-11-28T11:00", "2026-11-30T08:00", 0.0),  # from Saturday to Monday's opening
        ("2026-11-23T06:00", "2026-11-23T20:00", 9.0),  # before opening to after closing: the office day
        ("2026-12-23T15:00", "2026-12-28T09:00", 3.0),  # julafton, juldagen, annandagen and a weekend
        ("2026-12-23T15:00", "2027-01-07T10:00", 49.0),  # and nyårsafton, nyårsdagen, trettondedagen
        ("2026-11-30T10:00", "2026-11-27T16:00", 0.0),  # end before start
    ],
)
def test_business_duration(start: str, end: str, hours: float) -> None:
    assert CAL.business_duration(local(start), local(end)) == timedelta(hours=hours)


def test_working_days_between_counts_like_going_day_by_day() -> None:
    first = date(2026, 12, 1)
    for offset in range(0, 400, 7):
        start = first + timedelta(days=offset + offset % 5)
        for length in (0, 1, 2, 5, 9, 33, 70, 200):
            end = start + timedelta(days=length)
            slow = sum(CAL.is_working_day(start + timedelta(days=i)) for i in range(1, length))
            assert CAL.working_days_between(start, end) == slow, (start, end)


def test_business_duration_is_the_inverse_of_add_business_hours() -> None:
    office = OfficeHours(time(7, 30), time(16, 30))
    start = local("2026-12-22T14:10")
    for h in (0.5, 4, 9, 17.25, 40):
        assert CAL.business_duration(start, CAL.add_business_hours(start, h, office), office) == timedelta(hours=h)


def test_business_duration_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        CAL.business_duration(datetime(2026, 11, 23, 10), local("2026-11-23T11:00"))


def fact(unit: str, created: str, **times: str | int | bool | None) -> CaseFact:
    def at(key: str) -> datetime | None:
        value = times.get(key)
        return local(str(value)) if value else None

    return CaseFact(
        target_unit=unit, requester_unit="soc-norr", case_type="ny-en", urgent=bool(times.get("urgent")),
        created_at=local(created), distributed_at=at("distributed"), acknowledged_at=at("acknowledged"),
        meeting_at=at("meeting"), no_shows=int(times.get("no_shows") or 0), outcome=times.get("outcome"),  # type: ignore[arg-type]
        evaluation_done=times.get("evaluated"),  # type: ignore[arg-type]
    )


FACTS = [
    fact("beroende", "2026-11-23T10:00", distributed="2026-11-24T09:00"),
    fact("beroende", "2026-11-27T16:00", distributed="2026-11-30T10:00", acknowledged="2026-11-30T12:00",
         meeting="2026-12-03T13:00", outcome="kartlaggning", evaluated=True),
    fact("beroende", "2026-12-23T15:00", urgent=True, distributed="2026-12-28T09:00",
         acknowledged="2026-12-29T10:00", meeting="2027-01-07T10:00", no_shows=1, outcome="lotsning", evaluated=False),
    fact("psykiatri", "2026-11-25T09:00"),
]
ESCALATIONS = [
    EscalationFact("beroende", "acknowledgement", 1, "@distributor", local("2026-11-25T09:00")),
    EscalationFact("beroende", "acknowledgement", 2, "verksamhetschef", local("2026-11-26T09:00")),
    EscalationFact("psykiatri", "distribution", 1, "verksamhetschef", local("2026-11-26T09:00")),
]


def test_unit_stats_in_business_hours_over_a_weekend_and_holidays() -> None:
    beroende = unit_stats("beroende", [f for f in FACTS if f.target_unit == "beroende"],
                          ESCALATIONS[:2], CAL, lambda _: OfficeHours())
    assert (beroende.requests, beroende.urgent, beroende.no_shows) == (3, 1, 1)
    assert beroende.to_distribution == Spread(3, 3.0, pytest.approx(7.0))  # 8 h, 3 h, 3 h
    assert beroende.to_acknowledgement == Spread(2, 9.0, pytest.approx(12.2))  # 5 h, 13 h
    assert beroende.to_meeting == Spread(2, 41.0, pytest.approx(47.4))  # 33 h, 49 h
    assert beroende.outcomes == {"lotsning": 1, "kartlaggning": 1, "sip": 0, "aktualiseras": 0, "ingen": 0}
    assert (beroende.meetings_held, beroende.evaluations_done) == (2, 1)
    assert beroende.escalations == {"@distributor": 1, "verksamhetschef": 1}


def test_office_hours_are_the_units_own() -> None:
    early = OfficeHours(time(7, 30), time(16, 30))
    [f] = [fact("vc-centrum", "2026-11-27T16:00", distributed="2026-11-30T10:00")]
    stats = unit_stats("vc-centrum", [f], [], CAL, lambda _: early)
    assert stats.to_distribution.median == pytest.approx(0.5 + 2.5)  # Friday 16:00-16:30, Monday 07:30-10:00


def test_per_unit_keeps_the_given_order_and_adds_units_no_longer_named() -> None:
    units = per_unit(["soc-norr", "beroende"], FACTS, ESCALATIONS, CAL, lambda _: OfficeHours())
    assert [u.unit_id for u in units] == ["soc-norr", "beroende", "psykiatri"]
    assert units[0].requests == 0 and not units[0].active
    assert units[2].requests == 1 and units[2].escalations == {"verksamhetschef": 1}


def test_rung_order_follows_the_ladder() -> None:
    assert rung_order(ESCALATIONS) == ["@distributor", "verksamhetschef"]
