"""Case data: states, types, outcomes, close reasons and the Case record."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

REF_PATTERN = re.compile(r"^GFI-(\d{4})-(\d{4,})$", re.IGNORECASE)


class CaseState(StrEnum):
    REQUESTED = "requested"
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    MEETING_BOOKED = "meeting_booked"
    WAITING = "waiting"  # vilande: waiting for the individual (cannot be reached, or asked for time)
    MEETING_HELD = "meeting_held"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"


OPEN_STATES = frozenset(CaseState) - {CaseState.CLOSED}


class CaseType(StrEnum):
    NEW_BOTH = "ny-bada"
    NEW_ONE = "ny-en"
    ONGOING_BOTH = "pagaende"
    SVU = "svu"


class Outcome(StrEnum):
    LOTSNING = "lotsning"
    KARTLAGGNING = "kartlaggning"
    SIP = "sip"
    NONE = "ingen"
    ACTUALISED = "aktualiseras"  # ansökan/egenremiss: the individual is actualised in the other unit (issue #18)


class MeetingKind(StrEnum):
    """A GFI meeting with the individual, or a *tjänstepersonmöte*: the staff only, with the consent (the
    handbook: to prepare a GFI or SIP meeting, to reflect after one, on payment responsibility, or where the
    staff risk being set against each other in front of the individual)."""

    GFI = "gfi"
    STAFF = "tjansteperson"


class MeetingPurpose(StrEnum):
    """Why a tjänstepersonmöte: the cases the handbook names."""

    PREPARE = "forberedelse"  # inför GFI eller möte för upprättande av SIP
    REFLECT = "reflektion"  # gemensam reflektion efter mötet
    PAYMENT = "betalningsansvar"  # frågor om betalningsansvar: alltid ett tjänstepersonmöte
    ONE_LINE = "samsyn"  # risk att ställas mot varandra; en sammanhållen linje inför den enskilde


class ChildrenAffected(StrEnum):
    """Whether children are affected (the request form asks; "ja" adds the barnperspektiv to the checklist)."""

    YES = "ja"
    NO = "nej"
    UNKNOWN = "vet-ej"


class CloseReason(StrEnum):
    COMPLETED = "genomford"
    SIP_AT_GFI = "sip-vid-gfi"  # a SIP was drawn up at the GFI meeting (seed 002)
    REDIRECTED_SIP = "sip"  # referred to a meeting for drawing up a SIP
    REDIRECTED_SVU = "svu"
    CONSENT_WITHDRAWN = "samtycke-aterkallat"
    NOT_RELEVANT = "ej-aktuellt"
    DECLINED = "avbojde"
    OTHER = "annat"


CLOSE_REASON_ALIASES: dict[str, CloseReason] = {
    "genomford": CloseReason.COMPLETED,
    "genomförd": CloseReason.COMPLETED,
    "genomfort": CloseReason.COMPLETED,
    "genomfört": CloseReason.COMPLETED,
    "klar": CloseReason.COMPLETED,
    "sip-vid-gfi": CloseReason.SIP_AT_GFI,
    "sip": CloseReason.REDIRECTED_SIP,
    "sip-möte": CloseReason.REDIRECTED_SIP,
    "sip-mote": CloseReason.REDIRECTED_SIP,
    "svu": CloseReason.REDIRECTED_SVU,
    "ej-aktuellt": CloseReason.NOT_RELEVANT,
    "ej aktuellt": CloseReason.NOT_RELEVANT,
    "inte aktuellt": CloseReason.NOT_RELEVANT,
    "avbojde": CloseReason.DECLINED,
    "avböjde": CloseReason.DECLINED,
    "tackade nej": CloseReason.DECLINED,
}


# What staff type, with or without å/ä/ö, for the codes (the codes themselves stay ASCII in the database).
CASE_TYPE_ALIASES: dict[str, CaseType] = {
    "ny-bada": CaseType.NEW_BOTH,
    "ny-båda": CaseType.NEW_BOTH,
    "ny-en": CaseType.NEW_ONE,
    "pagaende": CaseType.ONGOING_BOTH,
    "pågående": CaseType.ONGOING_BOTH,
    "svu": CaseType.SVU,
}

OUTCOME_ALIASES: dict[str, Outcome] = {
    "lotsning": Outcome.LOTSNING,
    "kartlaggning": Outcome.KARTLAGGNING,
    "kartläggning": Outcome.KARTLAGGNING,
    "sip": Outcome.SIP,
    "ingen": Outcome.NONE,
    "aktualiseras": Outcome.ACTUALISED,
    "aktualisering": Outcome.ACTUALISED,
    "ansökan": Outcome.ACTUALISED,
    "ansokan": Outcome.ACTUALISED,
    "egenremiss": Outcome.ACTUALISED,
}

MEETING_KIND_ALIASES: dict[str, MeetingKind] = {
    "gfi": MeetingKind.GFI,
    "gfi-möte": MeetingKind.GFI,
    "gfi-mote": MeetingKind.GFI,
    "tjänsteperson": MeetingKind.STAFF,
    "tjansteperson": MeetingKind.STAFF,
    "tjänstepersonmöte": MeetingKind.STAFF,
    "tjanstepersonmote": MeetingKind.STAFF,
}

MEETING_PURPOSE_ALIASES: dict[str, MeetingPurpose] = {
    "forberedelse": MeetingPurpose.PREPARE,
    "förberedelse": MeetingPurpose.PREPARE,
    "reflektion": MeetingPurpose.REFLECT,
    "betalningsansvar": MeetingPurpose.PAYMENT,
    "samsyn": MeetingPurpose.ONE_LINE,
}

CHILDREN_ALIASES: dict[str, ChildrenAffected] = {
    "ja": ChildrenAffected.YES,
    "j": ChildrenAffected.YES,
    "nej": ChildrenAffected.NO,
    "n": ChildrenAffected.NO,
    "vet-ej": ChildrenAffected.UNKNOWN,
    "vet ej": ChildrenAffected.UNKNOWN,
    "vetej": ChildrenAffected.UNKNOWN,
}


def parse_case_type(text: str) -> CaseType | None:
    """A case type from what was typed (`ny-båda`, `ny-bada`, `Pågående`); None when it is not one."""
    return CASE_TYPE_ALIASES.get(text.strip().lower())


def parse_outcome(text: str) -> Outcome | None:
    """An outcome from what was typed (`kartläggning` or `kartlaggning`); None when it is not one."""
    return OUTCOME_ALIASES.get(text.strip().lower())


def parse_children(text: str) -> ChildrenAffected | None:
    """Whether children are affected, from what was typed (`ja`, `nej`, `vet ej`); None when it is not one."""
    return CHILDREN_ALIASES.get(text.strip().lower())


# External participants at the meeting (never messaged, never identified): the one list of role codes; their
# Swedish labels are in templates/messages/_labels.j2 EXTERNAL_ROLES. Console `extern=`, the Slack and Teams
# forms, the case view and the invitation text use them.
EXTERNAL_ROLES: tuple[str, ...] = ("narstaende", "frivarden", "boende", "god-man", "forvaltare", "tolk", "ombud",
                                   "annan")

EXTERNAL_ROLE_ALIASES: dict[str, str] = {
    **{k: k for k in EXTERNAL_ROLES},
    "närstående": "narstaende", "anhörig": "narstaende", "anhorig": "narstaende",
    "frivården": "frivarden", "kriminalvården": "frivarden", "kriminalvarden": "frivarden",
    "god man": "god-man", "godman": "god-man", "god_man": "god-man", "förvaltare": "forvaltare",
}


def parse_external_role(text: str) -> str | None:
    """An external participant's role code from what was typed (`närstående`, `god man`); None when unknown."""
    return EXTERNAL_ROLE_ALIASES.get(" ".join(text.strip().lower().split()))


def parse_ref(text: str) -> str | None:
    """Normalise a case reference (`gfi-2026-0042` → `GFI-2026-0042`); None when it is not one."""
    m = REF_PATTERN.match(text.strip())
    return f"GFI-{m.group(1)}-{m.group(2)}" if m else None


def format_ref(year: int, seq: int) -> str:
    return f"GFI-{year}-{seq:04d}"


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
