"""What the handbook asks with an outcome (issue #18 items 20 and 21), checked once for every channel.

- a *lotsning* names where the individual was guided (`lotsad_till`: a unit, in the recorder's words);
- *SIP upprättad vid GFI* records that those who took part had mandate to decide on the efforts to coordinate
  (`mandat`); without it no SIP can be drawn up at the GFI meeting (the handbook), so `mandat=nej` is refused;
- the evaluation, when it was done, says how it went: the individual's delaktighet on a short scale, 1 (inte
  alls) to 5 (helt), and a comment. Neither applies to a tjänstepersonmöte, where the individual is not there.

`None` for the details (a caller that does not ask, e.g. an import or an older client) records the outcome
alone, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.cases.models import Case, MeetingKind, Outcome
from bot.fields import clean_fields
from bot.numerals import is_number

SCALE = range(1, 6)  # delaktighet: 1 = inte alls delaktig … 5 = helt delaktig

ErrorMap = dict[str, tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class OutcomeDetails:
    """What the recorder filled in besides the outcome and whether the evaluation was done."""

    guided_to: str | None = None  # lotsad till
    mandate: bool | None = None  # the participants had mandate to decide (a SIP at the GFI)
    score: int | None = None  # delaktighet 1–5
    comment: str | None = None  # the evaluation's comment
    # The form asked every question (Slack, Teams): what the outcome needs is required. The console's older
    # command form may leave them out; it records what was given and says what is missing (`missing`).
    asked: bool = True


def missing(outcome: Outcome, evaluation_done: bool, details: OutcomeDetails, case: Case) -> list[str]:
    """The fields the outcome would need that were left out (the console's warning lines)."""
    out = []
    if outcome is Outcome.LOTSNING and not details.guided_to:
        out.append("lotsad_till")
    if outcome is Outcome.SIP and details.mandate is None:
        out.append("mandat")
    if evaluation_done and details.score is None and case.meeting_kind is not MeetingKind.STAFF:
        out.append("delaktighet")
    return out


def parse_score(value: str | None, errors: ErrorMap) -> int | None:
    """`delaktighet=` as typed ("4", " 4 "); a bad value goes to `errors`."""
    text = (value or "").strip()
    if not text:
        return None
    if is_number(text) and int(text) in SCALE:
        return int(text)
    errors["delaktighet"] = ("bad_choice", {"field": "delaktighet", "value": text})
    return None


def check(case: Case, outcome: Outcome, evaluation_done: bool, details: OutcomeDetails, today: date
          ) -> tuple[OutcomeDetails, ErrorMap]:
    """The details cleaned (free text through `bot.fields`), with every problem as a field error."""
    text, errors = clean_fields({"lotsad_till": details.guided_to, "kommentar": details.comment}, today,
                                raise_errors=False)
    guided_to = text["lotsad_till"] or None
    required = details.asked
    if outcome is Outcome.LOTSNING and not guided_to and "lotsad_till" not in errors and required:
        errors["lotsad_till"] = ("required", {"field": "lotsad_till"})
    mandate = details.mandate
    if outcome is Outcome.SIP:
        if mandate is None:
            if required:
                errors["mandat"] = ("required", {"field": "mandat"})
        elif not mandate:
            errors["mandat"] = ("sip_without_mandate", {"field": "mandat"})
    else:
        mandate = None
    score, comment = details.score, text["kommentar"] or None
    if score is not None and score not in SCALE:
        errors["delaktighet"] = ("bad_choice", {"field": "delaktighet", "value": str(score)})
    staff_meeting = case.meeting_kind is MeetingKind.STAFF
    if staff_meeting:
        for key, value in (("delaktighet", score), ("kommentar", comment)):
            if value is not None and key not in errors:
                errors[key] = ("not_for_staff_meeting", {"field": key})
    elif evaluation_done and score is None and "delaktighet" not in errors and required:
        errors["delaktighet"] = ("required", {"field": "delaktighet"})
    if not evaluation_done:
        score = None  # no evaluation, no scale (a comment may say why it was not done)
    return OutcomeDetails(guided_to=guided_to if outcome is Outcome.LOTSNING else None, mandate=mandate,
                          score=score, comment=comment, asked=details.asked), errors
