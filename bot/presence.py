"""Who is on duty: the one place the bot decides whether a person is present, and who answers for them.

Everything that picks a person to alert or to hand a queue to (the ladder's rungs, the distribution slots,
the coordinators at the top) asks here. A person is away when the directory marks them `absent` or when an
absence registered in the bot covers the local date; an away person's stand-in (if named for the period, and
present) answers for them. This module imports no directory (it names what it reads of one as a Protocol), so
the directory can use it; it is a module of its own, outside the bot.absence package (which registers absences),
so no import cycle arises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Absence:
    """`person_id` is away on every local date from `start` to `end` (inclusive); `stand_in` answers for them."""

    id: int
    person_id: str
    start: date
    end: date
    stand_in: str | None
    created_by: str
    created_at: datetime

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    def overlaps(self, start: date, end: date) -> bool:
        return self.start <= end and start <= self.end

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Absence:
        return cls(
            id=row["id"], person_id=row["person_id"], start=date.fromisoformat(row["start_date"]),
            end=date.fromisoformat(row["end_date"]), stand_in=row["stand_in"], created_by=row["created_by"],
            created_at=datetime.fromisoformat(row["created_at"]),
        )


# How many stand-ins of stand-ins are followed (A away → B, B away too → C) before giving up.
MAX_HOPS = 3


class AbsenceBook:
    """The registered absences, kept in memory (the service refreshes it on every change, and when another
    instance announces one: `bot.store.changes`). `at=None` means now, from the injected clock; dates are
    local dates in `tz`."""

    def __init__(self, tz: ZoneInfo | None = None, now: Callable[[], datetime] | None = None) -> None:
        self.tz = tz or ZoneInfo("Europe/Stockholm")
        self.now = now
        self._by_person: dict[str, list[Absence]] = {}

    def replace(self, absences: Iterable[Absence]) -> None:
        by_person: dict[str, list[Absence]] = {}
        for a in absences:
            by_person.setdefault(a.person_id, []).append(a)
        self._by_person = by_person

    def day(self, at: datetime | date | None) -> date | None:
        """The local date `at` falls on (None when there is neither a time nor a clock)."""
        if isinstance(at, datetime):
            return at.astimezone(self.tz).date()
        if isinstance(at, date):
            return at
        return self.now().astimezone(self.tz).date() if self.now is not None else None

    def current(self, person_id: str, at: datetime | date | None = None) -> Absence | None:
        """The absence covering the person at `at`, if any."""
        items = self._by_person.get(person_id)
        if not items:
            return None
        day = self.day(at)
        if day is None:
            return None
        return next((a for a in items if a.covers(day)), None)

    def all(self) -> list[Absence]:
        return sorted((a for items in self._by_person.values() for a in items), key=lambda a: (a.start, a.id))


class Marked(Protocol):
    """A person as presence reads them: whether the directory marks them away."""

    @property
    def absent(self) -> bool: ...


class Directory(Protocol):
    """What presence reads of the directory (`bot.directory.Directory` is one): its people's `absent` marks and
    the absences registered in the bot. Named here, so this module imports no directory, not even for its types."""

    @property
    def absences(self) -> AbsenceBook: ...
    def person(self, person_id: str) -> Marked | None: ...


def present(directory: Directory, person_id: str, at: datetime | date | None = None) -> bool:
    """Whether the person exists in the directory and is not away at `at`."""
    person = directory.person(person_id)
    return person is not None and not person.absent and directory.absences.current(person_id, at) is None


def stand_in(directory: Directory, person_id: str, at: datetime | date | None = None) -> str | None:
    """Who answers for an away person at `at`: the stand-in named for the period, if present (a stand-in
    who is away themself passes on to their own stand-in); None when nobody does."""
    seen = {person_id}
    current = person_id
    for _ in range(MAX_HOPS):
        absence = directory.absences.current(current, at)
        if absence is None or absence.stand_in is None or absence.stand_in in seen:
            return None
        current = absence.stand_in
        if present(directory, current, at):
            return current
        seen.add(current)
    return None


def on_duty(directory: Directory, person_id: str, at: datetime | date | None = None) -> str | None:
    """The person if present, else their stand-in, else None."""
    return person_id if present(directory, person_id, at) else stand_in(directory, person_id, at)


def answering(
    directory: Directory, people: Iterable[str], deputy: str | None = None, at: datetime | date | None = None
) -> list[str]:
    """Who answers for a group (a rung, a unit's distributors): each present person or their stand-in; the
    deputy (or the deputy's stand-in) when none of them is there; [] when nobody is (the rung is skipped)."""
    out: list[str] = []
    for pid in people:
        who = on_duty(directory, pid, at)
        if who is not None and who not in out:
            out.append(who)
    if not out and deputy:
        who = on_duty(directory, deputy, at)
        if who is not None:
            out.append(who)
    return out
