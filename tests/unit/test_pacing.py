"""The dispatcher's own holds (`bot.pacing`): a workspace limit is logged once per hold, not once per 429 that
makes it longer (a 429 storm on one instance logged "sender rate limited" 34 times, issue #22)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.pacing import WORKSPACE_LIMIT_AFTER, Holds

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def held_lines(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if getattr(r, "event", "") == "outbox.sender_held")


def test_a_storm_holds_the_sender_once_and_a_later_storm_once_more(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.pacing")
    holds, slack = Holds(), object()
    for n in range(40):  # every send answered 429, each Retry-After a little later than the last
        holds.limit(slack, f"p{n}", NOW + timedelta(seconds=10 + n), NOW)
        holds.hold_sender(slack, NOW + timedelta(seconds=10 + n))  # as another instance's limits tell it
    assert holds.sender_held(slack)
    assert holds.is_held(slack, "someone.else", NOW + timedelta(seconds=48))  # held until the last one
    assert held_lines(caplog) == 1
    later = NOW + timedelta(seconds=60)
    holds.forget_expired(later)
    assert not holds.sender_held(slack)
    for n in range(WORKSPACE_LIMIT_AFTER):
        holds.limit(slack, f"q{n}", later + timedelta(seconds=5), later)
    assert held_lines(caplog) == 2  # a new hold, after the first was over
