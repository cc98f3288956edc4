"""Awaiting-answer items and the frozen ladder they climb."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from bot.calendar import BusinessCalendar, OfficeHours
from bot.directory import Directory
from bot.presence import answering


class AwaitingKind(StrEnum):
    DISTRIBUTION = "distribution"
    ACKNOWLEDGEMENT = "acknowledgement"
    BOOKING = "booking"
    OUTCOME = "outcome"
    FOLLOW_UP = "follow_up"
    DISPUTE = "dispute"  # a tvist: both units' line managers are asked to settle it (bot.disputes)
    FOLLOW_UP_PROPOSAL = "follow_up_proposal"  # a follow-up proposed across principals, not yet accepted
    PARTICIPANT = "participant"  # a meeting unit's distributor is to name who attends (subject: the unit id)
    RESUME = "resume"  # a waiting case past its date: resume, extend or close it (subject: the date)


DEFAULT_RUNG_DAYS = 1.0


@dataclass(frozen=True)
class FrozenRung:
    """One rung as it was when the climb started. `deputy` answers when all `people` are absent."""

    title: str
    people: tuple[str, ...]
    deputy: str | None = None
    days: float | None = None
    hours: float | None = None

    def present(self, directory: Directory, at: datetime | None = None) -> list[str]:
        """Who on this rung can be alerted at `at` (default now): an absent person's stand-in for the period
        instead of them; absent people without one, and removed people, are skipped (bot/absence)."""
        return answering(directory, self.people, self.deputy, at)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "people": list(self.people), "deputy": self.deputy,
                "days": self.days, "hours": self.hours}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FrozenRung:
        return cls(data["title"], tuple(data["people"]), data.get("deputy"), data.get("days"), data.get("hours"))


@dataclass(frozen=True)
class FrozenLadder:
    """The rungs (rung 0 = the first answerers) and the office hours their waits count in."""

    rungs: tuple[FrozenRung, ...]
    office: OfficeHours

    @property
    def top(self) -> int:
        return len(self.rungs) - 1

    def wait(self, calendar: BusinessCalendar, start: datetime, rung: int) -> datetime:
        """When rung `rung` (≥ 1), alerted at `start`, has waited its own time limit."""
        r = self.rungs[rung]
        return add_business_time(calendar, start, self.office, days=r.days, hours=r.hours)

    def dumps(self) -> str:
        return json.dumps(
            {"office": [self.office.start.isoformat("minutes"), self.office.end.isoformat("minutes")],
             "rungs": [r.to_json() for r in self.rungs]},
            ensure_ascii=False,
        )

    @classmethod
    def loads(cls, text: str) -> FrozenLadder:
        data = json.loads(text)
        start, end = data["office"]
        return cls(tuple(FrozenRung.from_json(r) for r in data["rungs"]),
                   OfficeHours(time.fromisoformat(start), time.fromisoformat(end)))


def add_business_time(
    calendar: BusinessCalendar, start: datetime, office: OfficeHours, *, days: float | None = None,
    hours: float | None = None,
) -> datetime:
    """`start` plus a limit in business days (whole days keep the wall-clock time) or business hours.

    Neither given means the default of one business day. Fractional days count as that share of the
    office day in business hours.
    """
    if hours is not None:
        return calendar.add_business_hours(start, hours, office)
    d = DEFAULT_RUNG_DAYS if days is None else days
    if float(d).is_integer():
        return calendar.add_business_days(start, int(d), office)
    length = (office.end.hour * 60 + office.end.minute - office.start.hour * 60 - office.start.minute) / 60
    return calendar.add_business_hours(start, d * length, office)


@dataclass
class AwaitingItem:
    """One awaited answer, as stored."""

    id: int
    case_id: int
    case_ref: str
    kind: AwaitingKind
    subject: str
    arm: int
    unit_id: str
    answerers: list[str]
    since: datetime
    due_at: datetime | None
    ladder: FrozenLadder
    rung: int
    alerted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    escalated_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None

    @property
    def rung_title(self) -> str:
        return self.ladder.rungs[self.rung].title

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AwaitingItem:
        def dt(key: str) -> datetime | None:
            return datetime.fromisoformat(row[key]) if row.get(key) else None

        return cls(
            id=row["id"], case_id=row["case_id"], case_ref=row["case_ref"], kind=AwaitingKind(row["kind"]),
            subject=row["subject"], arm=row["arm"], unit_id=row["unit_id"], answerers=json.loads(row["answerers"]),
            since=datetime.fromisoformat(row["since"]), due_at=dt("due_at"), ladder=FrozenLadder.loads(row["ladder"]),
            rung=row["rung"], alerted=json.loads(row["alerted"]), skipped=json.loads(row["skipped"]),
            escalated_at=dt("escalated_at"), resolved_at=dt("resolved_at"), resolved_by=row["resolved_by"],
            resolution=row["resolution"],
        )


@dataclass(frozen=True)
class TakeOver:
    """What a *ta över* led to: `action` is "assign" (open the assign form for `unit_id`), "reassigned"
    (the case is now the actor's, who should acknowledge it) or "complete" (a follow-up: finish it with /klar)."""

    action: str
    item_id: int
    case_ref: str
    unit_id: str
