"""An absence as stored: a person away from one local date to another (both inclusive), with an optional stand-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


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
