"""Parsing submitted form values into what the services take: channel-neutral, no I/O, unit-testable.

`values` maps a form's field key (the service's: enhet, typ, kort, datum, …) to what was entered: a string, a
list of strings (a multi-select), or None. Each channel turns its own payload into that shape (Slack's view
state: `handlers/slack/forms.py`; Teams' card data: `handlers/teams/forms.py`; the e-mail link pages' HTML
form: `bot/channels/graph/forms.py`). Parse problems are returned as FieldError entries with codes from
`templates/messages/fields.j2`, so they are shown on the field like the service's own errors. A value of the
wrong type (a list where text belongs, a number, an object) is the field error `wrong_type`, never a silently
empty field. The service checks every free text again (bot.fields).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.cases.meeting_form import MeetingForm
from bot.cases.outcome_details import OutcomeDetails, parse_score
from bot.cases.service import GfiRequest
from bot.errors import FieldError
from bot.fields import normalise

ErrorMap = dict[str, tuple[str, dict[str, Any]]]


def _wrong_type(errors: ErrorMap, key: str) -> None:
    errors.setdefault(key, ("wrong_type", {"field": key}))


def _raw_text(values: dict[str, Any], key: str, errors: ErrorMap) -> str:
    """Free text as typed ("" when absent); anything but a string is a `wrong_type` error."""
    value = values.get(key)
    if value is None or isinstance(value, str):
        return value or ""
    _wrong_type(errors, key)
    return ""


def _text(values: dict[str, Any], key: str, errors: ErrorMap) -> str:
    """Text without surrounding whitespace or zero-width characters."""
    return normalise(_raw_text(values, key, errors))


def _list(values: dict[str, Any], key: str, errors: ErrorMap) -> list[str]:
    value = values.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _wrong_type(errors, key)
        return []
    return list(value)


def _date(values: dict[str, Any], key: str, errors: ErrorMap, *, required: bool = True) -> date | None:
    raw = values.get(key)
    if raw is not None and not isinstance(raw, str):
        _wrong_type(errors, key)
        return None
    if not raw:
        if required:
            errors[key] = ("required", {"field": key})
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        errors[key] = ("bad_date", {"field": key, "value": str(raw)})
        return None


def parse_request(values: dict[str, Any]) -> tuple[GfiRequest, ErrorMap]:
    """The GFI request form → (GfiRequest, parse errors)."""
    errors: ErrorMap = {}
    target = _text(values, "enhet", errors)
    case_type = _text(values, "typ", errors)
    if not target:
        errors.setdefault("enhet", ("required", {"field": "enhet"}))
    if not case_type:
        errors.setdefault("typ", ("required", {"field": "typ"}))
    until = _date(values, "giltigt", errors)  # the form asks (prefilled with the default), never a silent default
    _consent_required(values, errors)
    form = GfiRequest(
        target_unit=target,
        case_type=case_type,
        brief=_text(values, "kort", errors),
        contact=_text(values, "kontakt", errors) or None,
        consent_confirmed="ja" in _list(values, "samtycke", errors),
        consent_scope=_list(values, "omfattar", errors),
        consent_valid_until=until,
        urgent="ja" in _list(values, "bradskande", errors),
        consent_covers=_list(values, "avser", errors),
        consent_note=_text(values, "avser_text", errors) or None,
        consent_form=_text(values, "form", errors) or None,
        consent_obtained_by=_text(values, "inhamtat", errors) or None,
        children=_text(values, "barn", errors) or None,
        other_contacts=_text(values, "kontakter", errors) or None,
        names_checked="ja" in _list(values, "kontrollerat", errors),
    )
    return form, errors


def _consent_required(values: dict[str, Any], errors: ErrorMap) -> None:
    """The consent's information and form, and whether children are affected, must be stated on the Slack and Teams
    forms (the console may leave them out: it registers "vet ej" and says so)."""
    if not _text(values, "barn", errors):
        errors.setdefault("barn", ("required", {"field": "barn"}))
    if not _list(values, "avser", errors):
        errors.setdefault("avser", ("required", {"field": "avser"}))
    if not _text(values, "form", errors):
        errors.setdefault("form", ("required", {"field": "form"}))


@dataclass
class AssignForm:
    people: list[str]
    other: str | None


def parse_assign(values: dict[str, Any]) -> AssignForm:
    """People and "annan"; a value of the wrong type raises FieldError (there is nothing else to report)."""
    errors: ErrorMap = {}
    form = AssignForm(people=_list(values, "personer", errors), other=_text(values, "annan", errors) or None)
    if errors:
        raise FieldError(errors)
    return form


@dataclass
class BookForm:
    at: datetime | None
    place: str
    units: list[str]
    confirmed: bool = False  # "Ja, tiden är rätt": a weekend, holiday or out-of-hours time is meant
    meeting: MeetingForm = field(default_factory=MeetingForm)  # a tjänstepersonmöte; the individual informed


def parse_book(values: dict[str, Any], tz: str) -> tuple[BookForm, ErrorMap]:
    """Date + time (local) → an aware UTC datetime; place; units; the unusual-time confirmation."""
    errors: ErrorMap = {}
    day = _date(values, "datum", errors)
    raw_time = values.get("tid")
    clock: time | None = None
    if raw_time is not None and not isinstance(raw_time, str):
        _wrong_type(errors, "tid")
    elif not raw_time:
        errors["tid"] = ("required", {"field": "tid"})
    else:
        try:
            clock = time.fromisoformat(str(raw_time))
        except ValueError:
            errors["tid"] = ("bad_datetime", {"field": "tid", "value": str(raw_time)})
    at = None
    if day is not None and clock is not None:
        at = datetime.combine(day, clock, tzinfo=ZoneInfo(tz)).astimezone(UTC)
    place = _text(values, "plats", errors)
    confirmed = "ja" in _list(values, "bekrafta", errors)
    meeting = MeetingForm(kind=_text(values, "motesform", errors) or None,
                          purpose=_text(values, "syfte", errors) or None,
                          informed="ja" in _list(values, "informerad", errors))
    return BookForm(at=at, place=place, units=_list(values, "enheter", errors), confirmed=confirmed,
                    meeting=meeting), errors


@dataclass
class ParticipantsForm:
    """Who attends (issue #10 item 2): persons picked (their unit is their own), and external roles with first
    names in the same order; None where nothing was picked (a rebooking keeps what was there)."""

    people: list[tuple[str | None, str]] | None
    externals: list[tuple[str, str | None]] | None


def parse_participants(values: dict[str, Any], errors: ErrorMap) -> ParticipantsForm:
    """`deltagare` (persons), `extern` (role codes) and `fornamn` (first names, comma-separated, in the order of
    the roles; each goes through the service's identity-number guard)."""
    chosen = values.get("deltagare")
    people = [chosen] if isinstance(chosen, str) and chosen else _list(values, "deltagare", errors)
    roles = _list(values, "extern", errors)
    names = [n.strip() for n in _text(values, "fornamn", errors).split(",")] if values.get("fornamn") else []
    externals = [(role, names[i] or None if i < len(names) else None) for i, role in enumerate(roles)]
    return ParticipantsForm([(None, p) for p in people] or None, externals or None)


def parse_appointee(values: dict[str, Any]) -> tuple[str | None, ErrorMap]:
    """*Utse deltagare* (a unit's distributor names who attends for it): the person picked in `deltagare`,
    required; the first when several came. None with the errors when nothing usable was picked. Every channel's
    form (Slack, Teams, the e-mail link page) asks this one rule."""
    errors: ErrorMap = {}
    if values.get("deltagare") == "":  # a single select left empty: nothing picked, not a wrong type
        values = {key: value for key, value in values.items() if key != "deltagare"}
    people = parse_participants(values, errors).people or []
    if not people and "deltagare" not in errors:
        errors["deltagare"] = ("required", {"field": "deltagare"})
    return (None if errors else people[0][1]), errors


@dataclass
class WaitForm:
    until: date | None
    reason: str


def parse_wait(values: dict[str, Any]) -> tuple[WaitForm, ErrorMap]:
    """Vilande: the date to resume and the reason (checked by the service like every free text)."""
    errors: ErrorMap = {}
    until = _date(values, "till", errors)
    return WaitForm(until=until, reason=_text(values, "vantar_skal", errors)), errors


def parse_one_text(values: dict[str, Any], key: str) -> tuple[str, ErrorMap]:
    """A form of one free text (a dispute's reason, what was agreed), checked by the service like every free
    text."""
    errors: ErrorMap = {}
    return _text(values, key, errors), errors


def parse_hold_now(values: dict[str, Any]) -> tuple[list[str], ErrorMap]:
    """Mötet hölls nu: the units at the meeting."""
    errors: ErrorMap = {}
    return _list(values, "enheter", errors), errors


@dataclass
class OutcomeForm:
    outcome: str
    evaluation_done: bool
    details: OutcomeDetails = field(default_factory=OutcomeDetails)  # checked by the service


def parse_outcome(values: dict[str, Any]) -> tuple[OutcomeForm, ErrorMap]:
    errors: ErrorMap = {}
    outcome = _text(values, "utfall", errors)
    if not outcome:
        errors.setdefault("utfall", ("required", {"field": "utfall"}))
    evaluation = _text(values, "utvardering", errors)
    if evaluation not in ("ja", "nej"):
        errors.setdefault("utvardering", ("required", {"field": "utvardering"}))
    mandate = _text(values, "mandat", errors)
    details = OutcomeDetails(
        guided_to=_text(values, "lotsad_till", errors) or None,
        mandate={"ja": True, "nej": False}.get(mandate),
        score=parse_score(_text(values, "delaktighet", errors), errors),
        comment=_text(values, "kommentar", errors) or None,
    )
    return OutcomeForm(outcome=outcome, evaluation_done=evaluation == "ja", details=details), errors


@dataclass
class FollowUpForm:
    owner: str
    due: date | None
    what: str


def parse_follow_up(values: dict[str, Any]) -> tuple[FollowUpForm, ErrorMap]:
    errors: ErrorMap = {}
    owner = _text(values, "agare", errors)
    if not owner:
        errors.setdefault("agare", ("required", {"field": "agare"}))
    due = _date(values, "datum", errors)
    return FollowUpForm(owner=owner, due=due, what=_text(values, "vad", errors)), errors


@dataclass
class RenewForm:
    """A renewed (or widened) consent and how it was obtained."""

    until: date | None
    scope: list[str]
    form: str | None
    obtained_by: str | None
    covers: list[str]
    note: str | None


def parse_renew(values: dict[str, Any]) -> tuple[RenewForm, ErrorMap]:
    """The renewed consent: new valid-until date, any further units and information, how it was given
    (required) and who obtained it (default: the one recording it)."""
    errors: ErrorMap = {}
    until = _date(values, "giltigt", errors)
    if not _text(values, "form", errors):
        errors.setdefault("form", ("required", {"field": "form"}))
    return RenewForm(
        until=until, scope=_list(values, "omfattar", errors), form=_text(values, "form", errors) or None,
        obtained_by=_text(values, "inhamtat", errors) or None, covers=_list(values, "avser", errors),
        note=_text(values, "avser_text", errors) or None,
    ), errors


WHOLE_CONSENT = "hela"


def parse_withdraw(values: dict[str, Any]) -> tuple[str | None, ErrorMap]:
    """What the individual withdrew the consent for: the whole consent (None) or one unit (its id)."""
    errors: ErrorMap = {}
    choice = _text(values, "aterkalla", errors)
    if not choice:
        errors.setdefault("aterkalla", ("required", {"field": "aterkalla"}))
        return None, errors
    return (None if choice == WHOLE_CONSENT else choice), errors


def parse_new_contact(values: dict[str, Any], errors: ErrorMap) -> bool | None:
    """After *lotsning*, the close form asks whether the new contact is made: True, False or None (not asked)."""
    answer = _text(values, "nykontakt", errors)
    return None if not answer else answer == "ja"


def parse_open_follow_ups(values: dict[str, Any], errors: ErrorMap) -> str | None:
    """What becomes of the follow-ups still open when the case is closed (avbryt | overlat; None: not asked)."""
    return _text(values, "foljupp", errors) or None


def parse_close(values: dict[str, Any]) -> tuple[str, ErrorMap]:
    """The close reason: a code, or the free text when "annat" was chosen."""
    errors: ErrorMap = {}
    code = _text(values, "skal", errors)
    other = _text(values, "annat", errors)
    if errors:
        return "", errors
    if not code:
        errors["skal"] = ("required", {"field": "skal"})
        return "", errors
    if code == "annat":
        if not other:
            errors["annat"] = ("required", {"field": "annat"})
        return other, errors
    return code, errors


def merge(parse_errors: ErrorMap, exc: FieldError | None) -> FieldError | None:
    """Parse errors plus the service's, parse errors first."""
    errors: ErrorMap = dict(parse_errors)
    if exc is not None:
        for key, value in exc.errors.items():
            errors.setdefault(key, value)
    return FieldError(errors) if errors else None
