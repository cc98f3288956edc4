"""Statistics records: the anonymous facts as read back, and the per-unit figures computed from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

OUTCOMES = ("lotsning", "kartlaggning", "sip", "aktualiseras", "ingen")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class CaseFact:
    """What statistics know about one request: units, type, times and codes; no free text, no people."""

    target_unit: str
    requester_unit: str
    case_type: str
    urgent: bool
    created_at: datetime
    distributed_at: datetime | None = None
    acknowledged_at: datetime | None = None
    meeting_at: datetime | None = None
    no_shows: int = 0
    outcome: str | None = None
    evaluation_done: bool | None = None
    closed_at: datetime | None = None
    closed_reason: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CaseFact:
        created = _dt(row["created_at"])
        assert created is not None
        return cls(
            target_unit=row["target_unit"], requester_unit=row["requester_unit"], case_type=row["case_type"],
            urgent=bool(row["urgent"]), created_at=created, distributed_at=_dt(row["distributed_at"]),
            acknowledged_at=_dt(row["acknowledged_at"]), meeting_at=_dt(row["meeting_at"]),
            no_shows=int(row["no_shows"] or 0), outcome=row["outcome"],
            evaluation_done=None if row["evaluation_done"] is None else bool(row["evaluation_done"]),
            closed_at=_dt(row["closed_at"]), closed_reason=row["closed_reason"],
        )


@dataclass(frozen=True)
class EscalationFact:
    """One rung alerted by the ladder: which unit's ladder, what was awaited, which rung, when."""

    unit_id: str
    kind: str
    rung: int
    rung_title: str
    at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> EscalationFact:
        return cls(row["unit_id"], row["kind"], int(row["rung"]), row["rung_title"], datetime.fromisoformat(row["at"]))


@dataclass(frozen=True)
class Spread:
    """Business durations in hours: how many, their median and 90th percentile (None when there are none)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass
class UnitStats:
    """The figures of one unit (or of all units together: `unit_id` None) over a period."""

    unit_id: str | None
    requests: int = 0
    urgent: int = 0
    to_distribution: Spread = field(default_factory=Spread)
    to_acknowledgement: Spread = field(default_factory=Spread)
    to_meeting: Spread = field(default_factory=Spread)
    escalations: dict[str, int] = field(default_factory=dict)  # rung title → count
    no_shows: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    evaluations_done: int = 0

    @property
    def meetings_held(self) -> int:
        return sum(self.outcomes.values())

    @property
    def escalations_total(self) -> int:
        return sum(self.escalations.values())

    @property
    def active(self) -> bool:
        """Anything to show: a request or an escalation in the period."""
        return bool(self.requests or self.escalations_total)


@dataclass
class StatsReport:
    """Per-unit figures for the requests filed from `start` to `end` (local dates, both included)."""

    start: date
    end: date
    units: list[UnitStats]
    rungs: list[str]  # rung titles in ladder order: the escalation columns
    total: UnitStats | None = None  # all units together, when more than one is shown
