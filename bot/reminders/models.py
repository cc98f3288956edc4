"""Reminder kinds and the stored timer row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class TimerKind(StrEnum):
    PREPARE = "prepare"                    # checklist, N business days before the meeting
    MEETING_DAY = "meeting_day"            # office start on the meeting day
    OUTCOME = "outcome"                    # at the end of the meeting: register the outcome
    FOLLOW_UP_BEFORE = "follow_up_before"  # one business day before a follow-up's due date
    FOLLOW_UP_DUE = "follow_up_due"        # on the due date
    CONSENT_EXPIRING = "consent_expiring"  # five business days before the consent's valid-until date
    CONSENT_EXPIRED = "consent_expired"    # the day after valid-until: the case is paused
    WAITING_ENDS = "waiting_ends"          # vilande: on the resume date, ask to resume or close


MEETING_KINDS = frozenset({TimerKind.PREPARE, TimerKind.MEETING_DAY, TimerKind.OUTCOME})
FOLLOW_UP_KINDS = frozenset({TimerKind.FOLLOW_UP_BEFORE, TimerKind.FOLLOW_UP_DUE})


@dataclass(frozen=True)
class Timer:
    id: int
    case_id: int
    case_ref: str
    kind: TimerKind
    key: str
    due_at: datetime
    done_at: datetime | None
    outcome: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Timer:
        return cls(
            id=row["id"], case_id=row["case_id"], case_ref=row["case_ref"], kind=TimerKind(row["kind"]),
            key=row["key"], due_at=datetime.fromisoformat(row["due_at"]),
            done_at=datetime.fromisoformat(row["done_at"]) if row["done_at"] else None, outcome=row["outcome"],
        )
