"""Free-text fields: one table of maximum lengths, one function every text input goes through.

`clean_fields` is the single place where user-typed text is accepted by the service: it checks the type,
treats whitespace/zero-width-only text as empty, bounds the length (first: a text over the limit is refused
unread, so a 100,000-character paste costs no scan), runs the identity-number guard
(`bot.privacy`) and refuses bidi controls (`bot.folding.BIDI_CONTROLS`: they make the text shown differ from
the text stored, so a number can be stored reversed and shown whole). A field added later needs a row in
`MAX_LENGTH` (an unknown key is a programming error).

Why these limits: they are the `max_length` of the Slack modals (so the modal and the service agree), a
real user does not reach them, and the longest message built from them (brief + contact + names in a
DM, about 1,500 characters) stays far below Slack's 3,000-character section and 40,000-character message
limits and Teams' 28 KB, so every channel can deliver it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from bot.errors import FieldError
from bot.folding import has_bidi_control
from bot.privacy import IdentityNumberFound, check_free_text, is_invisible

log = logging.getLogger(__name__)

# Field key (as shown on the form and in the console) → maximum length in characters.
MAX_LENGTH: dict[str, int] = {
    "kort": 1000,  # kort kring ärendet (brief)
    "kontakt": 300,  # the requester's contact details
    "kontakter": 500,  # the individual's other contacts: who else is involved (issue #18 item 20)
    "lotsad_till": 300,  # where a lotsning guided the individual: the unit (issue #18 item 20)
    "kommentar": 500,  # the evaluation's comment: how the meeting went for the individual (issue #18 item 21)
    "annan": 300,  # "annan" assignee: another unit or person
    "plats": 300,  # meeting place or link
    "vad": 300,  # follow-up text
    "skal": 300,  # free-text close reason
    "vantar_skal": 300,  # why a case waits for the individual (vilande)
    "tvist_skal": 300,  # why the receiving unit holds that the case is not theirs (tvist)
    "enig": 300,  # what the parties agreed when a dispute was settled
    "beslut": 1000,  # what the samverkansnivå decided about a matter handed to it (issue #18 item 4)
    "omfattar": 300,  # consent scope (unit ids, joined with ", ")
    "avser_text": 300,  # what the consent covers, in the requester's words ("annat")
    "handelse": 2000,  # brist i samverkan: what happened (about the collaboration, not the individual)
    "atgarder": 2000,  # brist: measures the units took
    "dialog": 2000,  # brist: the outcome of the dialogue between the parties
    "enhet": 100,  # target unit id (echoed in errors, so guarded too)
    "typ": 100,  # case type code
    "fornamn": 40,  # an external meeting participant's first name (only a first name, never an identity number)
}

# Fields whose value is a list of short texts (checked joined with ", ").
LIST_FIELDS = frozenset({"omfattar"})

ErrorMap = dict[str, tuple[str, dict[str, Any]]]


def normalise(text: str) -> str:
    """`text` without leading/trailing whitespace and zero-width characters ("" when that is all)."""
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or is_invisible(text[start])):
        start += 1
    while end > start and (text[end - 1].isspace() or is_invisible(text[end - 1])):
        end -= 1
    return text[start:end]


def _clean_one(field: str, value: object, today: date, errors: ErrorMap) -> str:
    if value is None:
        return ""
    if field in LIST_FIELDS and isinstance(value, list | tuple):
        if not all(isinstance(v, str) for v in value):
            errors[field] = ("wrong_type", {"field": field})
            return ""
        text = ", ".join(normalise(v) for v in value if normalise(v))
    elif isinstance(value, str):
        text = normalise(value)
    else:
        errors[field] = ("wrong_type", {"field": field})
        return ""
    limit = MAX_LENGTH[field]
    if len(text) > limit:  # refused before the guards below read it: their work grows with the text, the limit's not
        errors[field] = ("too_long", {"field": field, "max": limit})
        return ""  # unread: not handed on
    try:
        check_free_text(field, text, today)
    except IdentityNumberFound as exc:
        log.warning("identity number rejected", extra={"event": "privacy.rejected", "field": field,
                                                       "exact": exc.exact})
        errors[field] = (exc.code, dict(exc.params))
        return ""
    if has_bidi_control(text):  # shown in another order than stored: what was checked is not what is read
        log.warning("bidi control rejected", extra={"event": "privacy.bidi_rejected", "field": field})
        errors[field] = ("bidi_control", {"field": field})
        return ""
    return text


def clean_fields(
    fields: Mapping[str, object], today: date, *, raise_errors: bool = True
) -> tuple[dict[str, str], ErrorMap]:
    """Check and normalise free-text fields {key: value}: a str or None (a list of str for LIST_FIELDS).

    Returns ({key: clean text, "" when empty}, errors). Error codes (templates/messages/fields.j2):
    `wrong_type`, `identity_number`, `bidi_control`, `too_long`. With `raise_errors` (the default) errors raise
    FieldError instead, nothing having been saved. A required field is checked by the caller (`""`).
    """
    errors: ErrorMap = {}
    clean = {key: _clean_one(key, value, today, errors) for key, value in fields.items()}
    if errors and raise_errors:
        raise FieldError(errors)
    return clean, errors
