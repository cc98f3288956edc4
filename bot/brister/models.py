"""Brist-i-samverkan data: the nine cause categories of seed 004, report states, the report and the draft."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

REF_PATTERN = re.compile(r"^BRIST-(\d{4})-(\d{4,})$", re.IGNORECASE)


class Cause(StrEnum):
    """The cause categories of the yearly report (seed 004), in the report's order."""

    SIP = "sip"
    MINA_PLANER = "mina-planer"
    KOMMUNIKATION = "kommunikation"
    RUTINER = "rutiner"
    BEMOTANDE = "bemotande"
    KOMPETENS = "kompetens"
    HELHETSSYN = "helhetssyn"
    INDIVIDFOKUS = "individfokus"
    FORSTAELSE = "forstaelse"


CAUSES: tuple[Cause, ...] = tuple(Cause)

# Other spellings people type (after folding å/ä/ö to a/a/o, spaces and underscores to "-").
_CAUSE_ALIASES: dict[str, Cause] = {
    "minaplaner": Cause.MINA_PLANER,
    "kommunikation/information": Cause.KOMMUNIKATION,
    "information": Cause.KOMMUNIKATION,
    "rutin": Cause.RUTINER,
    "bemotande/bristande-engagemang": Cause.BEMOTANDE,
    "bristande-engagemang": Cause.BEMOTANDE,
    "engagemang": Cause.BEMOTANDE,
    "bristande-helhetssyn": Cause.HELHETSSYN,
    "forstaelse-for-varandras-uppdrag": Cause.FORSTAELSE,
}

_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", " ": "-", "_": "-"})


def parse_cause(text: str) -> Cause | None:
    """A cause from what a person typed (`kommunikation`, `Mina planer`, `bemötande`, …); None if unknown."""
    key = re.sub(r"-+", "-", text.strip().lower().translate(_FOLD)).strip("-")
    try:
        return Cause(key)
    except ValueError:
        return _CAUSE_ALIASES.get(key)


class BristState(StrEnum):
    """A report's life: a draft (from the ladder) is submitted, the parties hold a dialogue, it is closed."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    DIALOGUE_HELD = "dialogue_held"
    CLOSED = "closed"


OPEN_REPORT_STATES = frozenset({BristState.SUBMITTED, BristState.DIALOGUE_HELD})


class DraftStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    DISMISSED = "dismissed"


def parse_brist_ref(text: str) -> str | None:
    """Normalise a report reference (`brist-2026-0007` → `BRIST-2026-0007`); None when it is not one."""
    m = REF_PATTERN.match(text.strip())
    return f"BRIST-{m.group(1)}-{m.group(2)}" if m else None


def format_brist_ref(year: int, seq: int) -> str:
    return f"BRIST-{year}-{seq:04d}"


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class BristForm:
    """What the reporter filled in (`/brist`, the Slack modal, or a draft being completed)."""

    units: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    what: str = ""
    measures: str | None = None
    dialogue: str | None = None
    incident_date: date | None = None
    case_ref: str | None = None


@dataclass
class BristReport:
    """A submitted report, as stored. Free text (what, measures, dialogue) never identifies anyone."""

    id: int
    ref: str
    year: int
    state: BristState
    incident_date: date
    units: list[str]
    principals: list[str]
    causes: list[Cause]
    what: str
    measures: str | None
    dialogue: str | None
    case_ref: str | None
    filed_by: str
    submitted_at: datetime
    measures_at: datetime | None = None
    dialogue_at: datetime | None = None
    closed_at: datetime | None = None
    draft_id: int | None = None
    version: int = 1

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_REPORT_STATES

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> BristReport:
        causes = [c for c in (parse_cause(x) for x in json.loads(row["causes"])) if c is not None]
        return cls(
            id=row["id"], ref=row["ref"], year=row["year"], state=BristState(row["state"]),
            incident_date=date.fromisoformat(row["incident_date"]), units=json.loads(row["units"]),
            principals=json.loads(row["principals"]), causes=causes, what=row["what"],
            measures=row["measures"], dialogue=row["dialogue"], case_ref=row["case_ref"],
            filed_by=row["filed_by"], submitted_at=datetime.fromisoformat(row["submitted_at"]),
            measures_at=_dt(row["measures_at"]), dialogue_at=_dt(row["dialogue_at"]), closed_at=_dt(row["closed_at"]),
            draft_id=row.get("draft_id"), version=row["version"],
        )


@dataclass
class BristDraft:
    """A draft the ladder prefilled for the coordinators when a climb reached the top rung. It holds the case
    reference, the units, what went unanswered and for how long: generated text, never the case's brief."""

    id: int
    case_ref: str
    coordinators: list[str]
    units: list[str]
    principals: list[str]
    what: str
    causes: list[Cause]
    status: DraftStatus
    created_at: datetime
    brist_id: int | None = None
    dismissed_reason: str | None = None

    @property
    def state(self) -> BristState:
        return BristState.DRAFT

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> BristDraft:
        causes = [c for c in (parse_cause(x) for x in json.loads(row["causes"])) if c is not None]
        return cls(
            id=row["id"], case_ref=row["case_ref"], coordinators=json.loads(row["coordinators"]),
            units=json.loads(row["units"]), principals=json.loads(row["principals"]), what=row["what_happened"],
            causes=causes or [Cause.KOMMUNIKATION], status=DraftStatus(row["status"]),
            created_at=datetime.fromisoformat(row["created_at"]), brist_id=row.get("brist_id"),
            dismissed_reason=row.get("dismissed_reason"),
        )
