"""Quiet hours: non-urgent messages wait for the recipient unit's next business morning."""

from __future__ import annotations

from bot.calendar import BusinessCalendar
from bot.config import DEFAULT_DIRECTORY
from bot.delivery import quiet_hours
from bot.directory import load_directory
from tests.conftest import local

DIRECTORY = load_directory(DEFAULT_DIRECTORY)
POLICY = quiet_hours(DIRECTORY, BusinessCalendar())
MARIA = DIRECTORY.people["maria.sand"]  # soc-norr, 08:00-17:00
TOVE = DIRECTORY.people["tove.nyman"]  # vc-centrum, 07:30-16:30


def test_inside_office_hours_goes_at_once() -> None:
    at = local("2026-11-24T10:15")
    assert POLICY(MARIA, at, False) == at


def test_evening_waits_for_the_next_morning() -> None:
    assert POLICY(MARIA, local("2026-11-24T17:00"), False) == local("2026-11-25T08:00")
    assert POLICY(MARIA, local("2026-11-24T06:59"), False) == local("2026-11-24T08:00")


def test_weekend_and_holiday_wait_for_the_next_working_day() -> None:
    assert POLICY(MARIA, local("2026-11-28T12:00"), False) == local("2026-11-30T08:00")  # Saturday → Monday
    assert POLICY(MARIA, local("2026-12-24T09:00"), False) == local("2026-12-28T08:00")  # julafton → Monday


def test_the_recipients_own_unit_hours_count() -> None:
    assert POLICY(TOVE, local("2026-11-24T16:45"), False) == local("2026-11-25T07:30")
    assert POLICY(MARIA, local("2026-11-24T16:45"), False) == local("2026-11-24T16:45")


def test_urgent_goes_at_once_even_at_night() -> None:
    at = local("2026-11-28T23:30")
    assert POLICY(MARIA, at, True) == at
