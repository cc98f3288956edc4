"""The codes of a case and the words staff type for them: states, types, outcomes, meeting kinds and purposes,
whether children are affected, close reasons, external participants' roles and the case reference.

Moved out of `bot.cases.models` (which still exports every name); the codes stay ASCII in the database, the
aliases take what staff type, with or without å/ä/ö."""

from __future__ import annotations

import re
from enum import StrEnum

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


REF_DIGITS = 4  # a reference's number has at least this many digits, zero-padded


def ref_prefix(year: int) -> str:
    """What every reference of the year begins with (its number follows)."""
    return f"GFI-{year}-"


def format_ref(year: int, seq: int) -> str:
    return f"{ref_prefix(year)}{seq:0{REF_DIGITS}d}"
