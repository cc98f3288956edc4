"""Case data: states, types, outcomes, close reasons and the Case record."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

# The codes and the words staff type for them live in bot.cases.codes; every name is still exported here.
from bot.cases.codes import (
    CASE_TYPE_ALIASES,
    CHILDREN_ALIASES,
    CLOSE_REASON_ALIASES,
    EXTERNAL_ROLE_ALIASES,
    EXTERNAL_ROLES,
    MEETING_KIND_ALIASES,
    MEETING_PURPOSE_ALIASES,
    OPEN_STATES,
    OUTCOME_ALIASES,
    REF_PATTERN,
    CaseState,
    CaseType,
    ChildrenAffected,
    CloseReason,
    MeetingKind,
    MeetingPurpose,
    Outcome,
    format_ref,
    parse_case_type,
    parse_children,
    parse_external_role,
    parse_outcome,
    parse_ref,
)

__all__ = [
    "CASE_TYPE_ALIASES",
    "CHILDREN_ALIASES",
    "CLOSE_REASON_ALIASES",
    "EXTERNAL_ROLES",
    "EXTERNAL_ROLE_ALIASES",
    "FILED",
    "MEETING_KIND_ALIASES",
    "MEETING_PURPOSE_ALIASES",
    "OPEN_STATES",
    "OUTCOME_ALIASES",
    "REF_PATTERN",
    "Case",
    "CaseState",
    "CaseType",
    "ChildrenAffected",
    "CloseReason",
    "FollowUp",
    "FollowUpStatus",
    "MeetingKind",
    "MeetingParticipant",
    "MeetingPurpose",
    "Outcome",
    "format_ref",
    "parse_case_type",
    "parse_children",
    "parse_external_role",
    "parse_outcome",
    "parse_ref",
]


# The action the case hooks are told for a case filed in this very transaction: nothing else of it is stored yet,
# so a hook need not read its other rows (each read is a round trip on PostgreSQL, while the filing holds the
# year's reference number).
FILED = "request"


class FollowUpStatus(StrEnum):
    """A follow-up given to someone of the other principal is a proposal until they (or their distributor)
    accept it; only an accepted follow-up counts (reminders, the ladder)."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"  # the owner's side said no: it never counts
    CANCELLED = "cancelled"  # still open when the case was closed, and cancelled then (följ-upp=avbryt)
    HANDED_OVER = "handed_over"  # still open at closing, handed over to its owner outside the case (överlåt)


@dataclass
class FollowUp:
    id: int
    owner_id: str
    due_date: date
    what: str | None
    done_at: datetime | None = None
    status: FollowUpStatus = FollowUpStatus.ACCEPTED
    created_by: str | None = None
    created_at: datetime | None = None
    accepted_by: str | None = None
    accepted_at: datetime | None = None
    declined_by: str | None = None
    declined_at: datetime | None = None

    @property
    def proposed(self) -> bool:
        """Still a proposal: it does not count until accepted."""
        return self.status is FollowUpStatus.PROPOSED

    @property
    def declined(self) -> bool:
        return self.status is FollowUpStatus.DECLINED

    @property
    def counts(self) -> bool:
        """Accepted (or given within the same principal): reminded of, and watched by the ladder."""
        return self.status is FollowUpStatus.ACCEPTED

    @property
    def is_open(self) -> bool:
        """Not done, and still wanted (accepted or proposed): closing the case must say what becomes of it."""
        return self.done_at is None and self.status in (FollowUpStatus.ACCEPTED, FollowUpStatus.PROPOSED)


@dataclass(frozen=True)
class MeetingParticipant:
    """Who attends the meeting: staff of a unit (`person_id` None while the unit's distributor is asked to name
    someone), or an external participant (`unit_id` None) by role with an optional first name only."""

    unit_id: str | None
    person_id: str | None = None
    role: str | None = None
    first_name: str | None = None

    @property
    def external(self) -> bool:
        return self.unit_id is None

    @property
    def pending(self) -> bool:
        return self.unit_id is not None and self.person_id is None


@dataclass
class Case:
    """One GFI case as stored."""

    id: int
    ref: str
    state: CaseState
    case_type: CaseType
    target_unit: str
    requester_id: str
    requester_unit: str
    contact: str | None
    brief: str | None
    consent_scope: list[str]
    consent_valid_until: date
    urgent: bool
    created_at: datetime
    updated_at: datetime
    version: int
    assignees: list[str] = field(default_factory=list)
    other_assignee: str | None = None
    assigned_by: str | None = None
    assigned_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    meeting_at: datetime | None = None
    meeting_place: str | None = None
    meeting_units: list[str] = field(default_factory=list)
    no_shows: int = 0
    outcome: Outcome | None = None
    evaluation_done: bool | None = None
    closed_reason: CloseReason | None = None
    closed_note: str | None = None
    closed_at: datetime | None = None
    state_before_close: CaseState | None = None
    erased_at: datetime | None = None
    follow_ups: list[FollowUp] = field(default_factory=list)
    consent_covers: list[str] = field(default_factory=list)  # information categories (bot.cases.consent)
    consent_note: str | None = None  # free text: what "annat" is
    consent_form: str | None = None  # skriftligt | muntligt; None for cases filed before it was asked
    consent_obtained_by: str | None = None  # person id
    consent_withdrawn: list[str] = field(default_factory=list)  # units the consent was withdrawn for
    waiting_until: date | None = None  # vilande: the day to resume (or close)
    waiting_reason: str | None = None  # free text: why the case waits
    children: ChildrenAffected | None = None  # None for cases filed before it was asked
    disputed_at: datetime | None = None  # tvist: the receiving unit said the case is not theirs (bot.disputes)
    disputed_by: str | None = None
    dispute_reason: str | None = None  # free text: why it is not theirs
    attendees: list[MeetingParticipant] = field(default_factory=list)  # who attends the meeting (issue #10)
    # Issue #18 items 20 and 21 (None for cases before they were asked)
    other_contacts: str | None = None  # free text: the individual's other contacts
    guided_to: str | None = None  # free text: where a lotsning guided the individual
    evaluation_score: int | None = None  # delaktighet 1 (inte alls) – 5 (helt)
    evaluation_comment: str | None = None  # free text
    sip_mandate: bool | None = None  # a SIP at the GFI: the participants had mandate to decide
    individual_informed: bool | None = None  # told what the meeting is and who comes
    meeting_kind: MeetingKind = MeetingKind.GFI
    meeting_purpose: MeetingPurpose | None = None  # a tjänstepersonmöte's reason

    @property
    def is_open(self) -> bool:
        return self.state is not CaseState.CLOSED

    @property
    def disputed(self) -> bool:
        """An open disagreement about whose the case is (*tvist*): it climbs its own ladder, not the unanswered one."""
        return self.disputed_at is not None and self.is_open

    @property
    def held_now(self) -> bool:
        """The meeting was recorded as held now (*mötet hölls nu*) rather than booked: it has no place."""
        return self.state is CaseState.MEETING_BOOKED and self.meeting_at is not None and not self.meeting_place \
            and self.erased_at is None

    def responsible(self) -> list[str]:
        """Who acts for the case after distribution: the named assignees, else (for "annan") the distributor."""
        if self.assignees:
            return list(self.assignees)
        if self.other_assignee and self.assigned_by:
            return [self.assigned_by]
        return []

    def participants(self) -> list[str]:
        """People to tell about changes: requester, those responsible and the named meeting participants of
        units the consent covers, without repeats."""
        out = [self.requester_id]
        for p in [*self.responsible(), *self.meeting_people()]:
            if p not in out:
                out.append(p)
        return out

    def meeting_people(self) -> list[str]:
        """The named staff participants of the meeting whose unit the consent covers (now)."""
        return [a.person_id for a in self.attendees if a.person_id and a.unit_id in self.consent_scope
                and a.unit_id not in self.consent_withdrawn]

    def pending_units(self) -> list[str]:
        """Meeting units whose distributor is still to name who attends."""
        return [a.unit_id for a in self.attendees if a.pending and a.unit_id in self.meeting_units]

    def externals(self) -> list[MeetingParticipant]:
        """The external participants (never messaged)."""
        return [a for a in self.attendees if a.external]

    @property
    def external_first_names(self) -> list[str]:
        """The first names given for external participants (free text)."""
        return [a.first_name for a in self.attendees if a.first_name]

    @classmethod
    def from_row(cls, row: dict[str, Any], assignees: list[str], follow_ups: list[FollowUp],
                 attendees: list[MeetingParticipant] | None = None) -> Case:
        def dt(key: str) -> datetime | None:
            return datetime.fromisoformat(row[key]) if row.get(key) else None

        return cls(
            id=row["id"],
            ref=row["ref"],
            state=CaseState(row["state"]),
            case_type=CaseType(row["case_type"]),
            target_unit=row["target_unit"],
            requester_id=row["requester_id"],
            requester_unit=row["requester_unit"],
            contact=row["contact"],
            brief=row["brief"],
            consent_scope=json.loads(row["consent_scope"]),
            consent_valid_until=date.fromisoformat(row["consent_valid_until"]),
            urgent=bool(row["urgent"]),
            created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            version=row["version"],
            assignees=assignees,
            other_assignee=row["other_assignee"],
            assigned_by=row["assigned_by"],
            assigned_at=dt("assigned_at"),
            acknowledged_by=row["acknowledged_by"],
            acknowledged_at=dt("acknowledged_at"),
            meeting_at=dt("meeting_at"),
            meeting_place=row["meeting_place"],
            meeting_units=json.loads(row["meeting_units"]) if row["meeting_units"] else [],
            no_shows=row["no_shows"],
            outcome=Outcome(row["outcome"]) if row["outcome"] else None,
            evaluation_done=None if row["evaluation_done"] is None else bool(row["evaluation_done"]),
            closed_reason=CloseReason(row["closed_reason"]) if row["closed_reason"] else None,
            closed_note=row["closed_note"],
            closed_at=dt("closed_at"),
            state_before_close=CaseState(row["state_before_close"]) if row["state_before_close"] else None,
            erased_at=dt("erased_at"),
            follow_ups=follow_ups,
            consent_covers=json.loads(row.get("consent_covers") or "[]"),
            consent_note=row.get("consent_note"),
            consent_form=row.get("consent_form"),
            consent_obtained_by=row.get("consent_obtained_by"),
            consent_withdrawn=json.loads(row.get("consent_withdrawn") or "[]"),
            waiting_until=date.fromisoformat(row["waiting_until"]) if row.get("waiting_until") else None,
            waiting_reason=row.get("waiting_reason"),
            children=ChildrenAffected(row["children"]) if row.get("children") else None,
            disputed_at=dt("disputed_at"),
            disputed_by=row.get("disputed_by"),
            dispute_reason=row.get("dispute_reason"),
            attendees=attendees or [],
            other_contacts=row.get("other_contacts"),
            guided_to=row.get("guided_to"),
            evaluation_score=row.get("evaluation_score"),
            evaluation_comment=row.get("evaluation_comment"),
            sip_mandate=_flag(row.get("sip_mandate")),
            individual_informed=_flag(row.get("individual_informed")),
            meeting_kind=MeetingKind(row.get("meeting_kind") or "gfi"),
            meeting_purpose=MeetingPurpose(row["meeting_purpose"]) if row.get("meeting_purpose") else None,
        )


def _flag(value: Any) -> bool | None:
    """A stored yes/no (0/1) that may be unanswered (NULL)."""
    return None if value is None else bool(value)
