"""The meeting's form (issue #18 item 21), checked once for every channel: a GFI meeting with the individual, or a
*tjänstepersonmöte* — the staff only, under the consent — which the handbook allows to prepare a GFI or SIP
meeting, to reflect together after one, on payment responsibility (always), and where the staff risk being set
against each other in front of the individual. A tjänstepersonmöte names which of these it is.

For a GFI meeting the booker records whether the individual has been told what the meeting is and who comes
(`informerad`); for a tjänstepersonmöte that does not apply.

A rebooking that does not name the form keeps the booked one (`kept`): moving a tjänstepersonmöte to another
time does not turn it into a GFI meeting, and what was recorded about informing the individual stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.cases.models import (
    MEETING_KIND_ALIASES,
    MEETING_PURPOSE_ALIASES,
    Case,
    CaseState,
    MeetingKind,
    MeetingPurpose,
)

ErrorMap = dict[str, tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class MeetingForm:
    """What the booker chose, as typed or picked (None: not given)."""

    kind: str | None = None  # gfi | tjansteperson (and the aliases)
    purpose: str | None = None  # a tjänstepersonmöte's reason
    informed: bool | None = None  # the individual told what the meeting is and who comes


@dataclass(frozen=True)
class MeetingDetails:
    kind: MeetingKind
    purpose: MeetingPurpose | None
    informed: bool | None

    def audited(self) -> dict[str, Any]:
        return {"meeting_kind": self.kind.value, "purpose": self.purpose.value if self.purpose else None,
                "informed": self.informed}


def check(form: MeetingForm | None, errors: ErrorMap) -> MeetingDetails:
    """The form's choices, each problem added to `errors` on its field."""
    form = form or MeetingForm()
    kind = MeetingKind.GFI
    if form.kind and form.kind.strip():
        found = MEETING_KIND_ALIASES.get(form.kind.strip().lower())
        if found is None:
            errors["motesform"] = ("bad_choice", {"field": "motesform", "value": form.kind})
        else:
            kind = found
    purpose = None
    if kind is MeetingKind.STAFF:
        if not form.purpose or not form.purpose.strip():
            errors["syfte"] = ("required", {"field": "syfte"})
        else:
            purpose = MEETING_PURPOSE_ALIASES.get(form.purpose.strip().lower())
            if purpose is None:
                errors["syfte"] = ("bad_choice", {"field": "syfte", "value": form.purpose})
    return MeetingDetails(kind, purpose, form.informed if kind is MeetingKind.GFI else None)


def kept(form: MeetingForm | None, details: MeetingDetails, case: Case, errors: ErrorMap) -> MeetingDetails:
    """`details` for a booking of `case`; a rebooking that names no form keeps the booked form and purpose (a
    purpose given replaces it), and the `informerad` answer unless given."""
    form = form or MeetingForm()
    if case.state is not CaseState.MEETING_BOOKED or (form.kind and form.kind.strip()):
        return details
    informed = case.individual_informed if form.informed is None else form.informed
    if case.meeting_kind is not MeetingKind.STAFF:
        return MeetingDetails(case.meeting_kind, None, informed)
    purpose = case.meeting_purpose
    if form.purpose and form.purpose.strip():
        purpose = MEETING_PURPOSE_ALIASES.get(form.purpose.strip().lower())
        if purpose is None:
            errors["syfte"] = ("bad_choice", {"field": "syfte", "value": form.purpose})
    return MeetingDetails(MeetingKind.STAFF, purpose, None)
