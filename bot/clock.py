"""Injected time: the only place the bot reads the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests, the console's `/tid`)."""

    def __init__(self, at: datetime) -> None:
        self._at = as_utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        """Move the clock to `at`."""
        self._at = as_utc(at)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by `delta`."""
        self._at = self._at + delta


def as_utc(dt: datetime) -> datetime:
    """Return `dt` as an aware UTC datetime; naive datetimes are taken as UTC."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def iso(dt: datetime) -> str:
    """The stored form of an instant: UTC ISO 8601 (sorts in time order)."""
    return dt.astimezone(UTC).isoformat()
