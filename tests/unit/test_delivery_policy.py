"""Quiet hours: non-urgent messages wait for the recipient unit's next business morning."""

from __future__ import annotations

from bot.calendar import BusinessCalendar
from bot.clock import FrozenClock, as_utc
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.delivery import quiet_hours
from bot.directory import load_directory
from bot.dispatcher import DeliveryError, Dispatcher
from bot.outbox import OutboxMessage
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


async def test_a_retry_after_closing_waits_for_the_morning_unless_urgent(core: Core, clock: FrozenClock) -> None:
    """Backoff must not push a non-urgent message into the night: its retry moves to the next opening."""
    clock.set(local("2026-11-24T16:50"))
    async with core.db.transaction() as tx:
        calm = await core.outbox.enqueue(tx, "maria.sand", "slack_brist", coordinators=[], dedupe_key="calm")
        hot = await core.outbox.enqueue(tx, "maria.sand", "slack_brist", coordinators=[], urgent=True,
                                        dedupe_key="hot")

    class Down:
        async def send(self, message: OutboxMessage) -> str | None:
            raise DeliveryError("slack:http_503")

    d = Dispatcher(core.db, clock, {}, fallback=Down(), base_backoff=1800)
    d.window = core.dispatcher.window
    # both are tried: an urgent message never waits behind a non-urgent one to the same person
    assert (await d.run_once()).retried == 2
    async with core.db.transaction() as tx:
        rows = {r["id"]: r["next_attempt_at"] for r in await tx.fetchall("SELECT id, next_attempt_at FROM outbox")}
    assert rows[calm] == as_utc(local("2026-11-25T08:00")).isoformat()  # stored in UTC
    assert rows[hot] == as_utc(local("2026-11-24T17:20")).isoformat()
