"""The small forms of the e-mail link pages (issue #20 item 8): what an e-mail person's role asks of them,
done from a link, with the same rules and field checks as the other channels.

Which fields each action has (the fields of the Slack modal and the Teams card), an HTML form's values turned
into the value shape the shared parsers take (`bot/forms.py`), and the service call. No rules here: the rule
before the form opens is `rules.authorize` (as Teams' `PRECHECK`), and the service checks everything again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot import forms as parse
from bot.cases import participants
from bot.cases.models import Case, CaseState, Outcome
from bot.cases.rules import Action, authorize, follow_up_owners
from bot.errors import FieldError

if TYPE_CHECKING:
    from multidict import MultiDictProxy

    from bot.core import Core

# The link actions that open a form, and the rule each needs before the form is shown.
FORM_ACTIONS: dict[str, Action] = {
    "assign": Action.ASSIGN, "book": Action.BOOK, "rebook": Action.BOOK, "book_again": Action.BOOK,
    "appoint": Action.APPOINT, "record_outcome": Action.RECORD_OUTCOME, "add_follow_up": Action.ADD_FOLLOW_UP,
    "close": Action.CLOSE,
}
# Inputs that may hold several values (checkboxes, a multiple select).
LIST_FIELDS = frozenset({"personer", "enheter", "bekrafta", "deltagare"})
MAX_CHECKBOXES = 12  # past this many choices, a multiple select (a phone shows it as a list to tick)


@dataclass
class PageField:
    """One input on a link page. `kind`: text, date, time, radio, checkboxes, select."""

    key: str
    kind: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: str | list[str] | None = None
    required: bool = False
    max_length: int | None = None
    error: str | None = None

    @property
    def chosen(self) -> list[str]:
        if self.value is None:
            return []
        return [self.value] if isinstance(self.value, str) else list(self.value)


def check(action: str, case: Case, person_id: str, core: Core) -> None:
    """Refusal when the person may not take `action` on the case now (before the form is shown)."""
    authorize(FORM_ACTIONS[action], case, person_id, core.directory)


def _many(key: str, choices: list[tuple[str, str]], value: list[str] | None, *, required: bool = False) -> PageField:
    kind = "checkboxes" if len(choices) <= MAX_CHECKBOXES else "select"
    return PageField(key, kind, choices, value, required=required)


def fields(action: str, case: Case, person_id: str, core: Core) -> list[PageField]:
    """The form's fields with their first values."""
    directory, labels = core.directory, core.renderer.labels
    if action == "assign":
        staff = [(p.id, core.renderer.macro("_absence", "choice_label", pid=p.id, label=p.name))
                 for p in directory.staff_of(case.target_unit)]
        return [_many("personer", staff, list(case.assignees)), PageField("annan", "text", max_length=300)]
    if action in ("book", "rebook", "book_again"):
        units = [(u.id, u.name) for u in directory.units.values()]
        chosen = case.meeting_units or list(dict.fromkeys([case.requester_unit, case.target_unit]))
        return [
            PageField("datum", "date", value=core.cases.today().isoformat(), required=True),
            PageField("tid", "time", required=True),
            PageField("plats", "text", max_length=300, required=True),
            _many("enheter", units, list(chosen), required=True),
            PageField("bekrafta", "checkboxes", [("ja", "ja")]),  # its text: the page template
        ]
    if action == "appoint":
        return [PageField("deltagare", "select", participants.appointable(case, person_id, directory),
                          required=True)]
    if action == "record_outcome":
        return [PageField("utfall", "radio", list(labels.OUTCOMES.items()), required=True),
                PageField("utvardering", "radio", [("ja", "ja"), ("nej", "nej")], required=True)]
    if action == "add_follow_up":
        owners = [(pid, directory.name(pid)) for pid in follow_up_owners(case, directory)]
        return [PageField("agare", "select", owners, value=person_id, required=True),
                PageField("datum", "date", value=core.cases.today().isoformat(), required=True),
                PageField("vad", "text", max_length=300, required=True)]
    if action == "close":  # the fields of the Slack modal and the Teams card
        reasons = [(k, v) for k, v in labels.CLOSE_REASONS.items() if k != "samtycke-aterkallat"]
        out = [PageField("skal", "radio", reasons, required=True), PageField("annat", "text", max_length=300)]
        if case.outcome is Outcome.LOTSNING:
            out.append(PageField("nykontakt", "radio", [("ja", "ja"), ("nej", "nej")]))
        if any(f.is_open for f in case.follow_ups):
            out.append(PageField("foljupp", "radio", list(labels.OPEN_FOLLOW_UPS.items()), required=True))
        return out
    raise KeyError(action)


def values_of(posted: MultiDictProxy[Any]) -> dict[str, Any]:
    """An HTML form's values → {field key: value}: several values of a list field as a list; a file or a
    repeated text field is of the wrong type (the parsers report it on the field)."""
    values: dict[str, Any] = {}
    for key in set(posted.keys()):
        got = posted.getall(key)
        if not all(isinstance(v, str) for v in got):
            values[key] = object()
        elif key in LIST_FIELDS:
            values[key] = [v for v in got if v]
        elif len(got) == 1:
            values[key] = got[0]
        else:
            values[key] = got
    return values


def refill(form: list[PageField], values: dict[str, Any], errors: dict[str, str]) -> list[PageField]:
    """The fields again with what the person typed and the error under each (a refused form loses nothing)."""
    shown = {f.key for f in form}
    for f in form:
        typed = values.get(f.key)
        if isinstance(typed, str | list):
            f.value = typed
        elif f.kind == "checkboxes" and f.key in LIST_FIELDS:
            f.value = []
        f.error = errors.get(f.key)
    rest = " ".join(text for key, text in errors.items() if key not in shown)
    if rest and form:  # an error about no field on this form (e.g. the consent) goes on the first one
        form[0].error = f"{form[0].error} {rest}" if form[0].error else rest
    return form


async def submit(core: Core, action: str, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    """Parse the values and call the service (FieldError for the fields; Refusal as a button's)."""
    cases = core.cases
    if action == "assign":
        chosen = parse.parse_assign(values)
        current = await cases.get(ref)
        return await cases.assign(person_id, ref, chosen.people, chosen.other,
                                  reassign=current.state is not CaseState.REQUESTED)
    if action in ("book", "rebook", "book_again"):
        book, errors = parse.parse_book(values, core.settings.timezone)
        if errors or book.at is None:
            raise FieldError(errors)
        return await cases.book(person_id, ref, book.at, book.place, book.units, confirmed=book.confirmed)
    if action == "appoint":
        problems: parse.ErrorMap = {}
        named = parse.parse_participants(values, problems).people or []
        if not named and "deltagare" not in problems:
            problems["deltagare"] = ("required", {"field": "deltagare"})
        if problems:
            raise FieldError(problems)
        return await cases.appoint(person_id, ref, named[0][1])
    if action == "record_outcome":
        outcome, errors = parse.parse_outcome(values)
        if errors:
            raise FieldError(errors)
        return await cases.record_outcome(person_id, ref, outcome.outcome, outcome.evaluation_done)
    if action == "add_follow_up":
        follow, errors = parse.parse_follow_up(values)
        if errors or follow.due is None:
            raise FieldError(errors)
        return await cases.add_follow_up(person_id, ref, follow.owner, follow.due, follow.what)
    if action == "close":
        reason, errors = parse.parse_close(values)
        new_contact = parse.parse_new_contact(values, errors)
        fate = parse.parse_open_follow_ups(values, errors)
        if errors:
            raise FieldError(errors)
        return await cases.close(person_id, ref, reason, new_contact=new_contact, follow_ups=fate)
    raise KeyError(action)
