"""The small forms of the e-mail link pages (issue #20 item 8): what an e-mail person's role asks of them,
done from a link, with the same rules and field checks as the other channels.

Which fields each action has (the fields of the Slack modal and the Teams card) and an HTML form's values turned
into the value shape the shared parsers take (`bot/forms.py`); the service call is `submit.py`. No rules here:
the rule before the form opens is `rules.authorize` (as Teams' `PRECHECK`), and the service checks everything
again. A GET never shows free text, so no form is prefilled with any (the agreement form is not prefilled with
the other side's proposal: the person confirms that with its own link).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.brister.models import BristReport
from bot.brister.rules import BristAction
from bot.brister.rules import authorize as authorize_brist
from bot.cases import consent, participants
from bot.cases.models import Case, Outcome
from bot.cases.rules import Action, authorize, follow_up_owners
from bot.errors import NotFound, Refusal
from bot.fields import MAX_LENGTH

if TYPE_CHECKING:
    from multidict import MultiDictProxy

    from bot.channels.graph.links import LinkClaim
    from bot.core import Core
    from bot.disputes.samverkan import Matter

# The link actions that open a form, and the rule each needs before the form is shown.
FORM_ACTIONS: dict[str, Action] = {
    "assign": Action.ASSIGN, "book": Action.BOOK, "rebook": Action.BOOK, "book_again": Action.BOOK,
    "appoint": Action.APPOINT, "record_outcome": Action.RECORD_OUTCOME, "add_follow_up": Action.ADD_FOLLOW_UP,
    "close": Action.CLOSE, "wait": Action.WAIT, "hold_now": Action.HOLD_NOW, "renew_consent": Action.RENEW_CONSENT,
    "withdraw_consent_form": Action.WITHDRAW_CONSENT, "dispute": Action.DISPUTE,
    "settle_dispute": Action.SETTLE_DISPUTE, "reassign": Action.ASSIGN,
}
# The forms on a report of a brist i samverkan, and the rule each needs (bot/brister/rules.py).
BRIST_FORMS: dict[str, BristAction] = {"brist_measures": BristAction.RECORD_MEASURES,
                                       "brist_dialogue": BristAction.RECORD_DIALOGUE}
BRIST_TEXT = {"brist_measures": "atgarder", "brist_dialogue": "dialog"}  # the field of each (as Slack's, Teams')
# Recording the samverkansnivå's decision on a matter (ref = the case, item = the matter): its one text, as the
# Slack modal's and the Teams card's (bot/disputes/samverkan.py holds the rule).
SAMVERKAN_FORMS = frozenset({"samverkan_decide"})
SAMVERKAN_TEXT = "beslut"
# Inputs that may hold several values (checkboxes, a multiple select).
LIST_FIELDS = frozenset({"personer", "enheter", "bekrafta", "deltagare", "omfattar", "avser"})
MAX_CHECKBOXES = 12  # past this many choices, a multiple select (a phone shows it as a list to tick)


@dataclass
class PageField:
    """One input on a link page. `kind`: text, textarea, date, time, radio, checkboxes, select (`multiple`: a
    multiple select)."""

    key: str
    kind: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: str | list[str] | None = None
    required: bool = False
    max_length: int | None = None
    error: str | None = None
    multiple: bool = False

    @property
    def chosen(self) -> list[str]:
        if self.value is None:
            return []
        return [self.value] if isinstance(self.value, str) else list(self.value)


async def check(core: Core, claim: LinkClaim, case: Case) -> None:
    """Refusal when the person may not take the claim's action on the case now (before the form is shown; the
    same refusal the service would give). Reassigning also needs the escalation to have reached them."""
    pid, action = claim.person_id, claim.action
    if action == "reassign":
        if claim.item is None:
            raise Refusal("link_incomplete", ref=case.ref)
        item = await core.ladder.answerable(pid, claim.item)
        if item.case_ref != case.ref:
            raise Refusal("not_on_ladder", ref=case.ref)
    if action == "dispute" and case.disputed:
        raise Refusal("already_disputed", ref=case.ref, by=case.disputed_by or "", at=case.disputed_at)
    if action == "hold_now" and case.held_now:
        raise Refusal("already_held", ref=case.ref, at=case.meeting_at)
    if action == "settle_dispute" and not case.disputed:
        raise Refusal("not_disputed", ref=case.ref)
    authorize(FORM_ACTIONS[action], case, pid, core.directory)


async def brist_report(core: Core, claim: LinkClaim, action: BristAction) -> BristReport:
    """The report the link is about, when the person may do `action` on it now; the Refusal the service would
    give otherwise (read only: a GET writes nothing, not even the audit row of a refusal)."""
    async with core.db.read() as tx:
        report = await core.brister.load(tx, claim.ref or "")
    authorize_brist(action, report, claim.person_id, core.directory)
    return report


def brist_fields(action: str) -> list[PageField]:
    """The one text of the measures or the dialogue form (not prefilled: a GET shows no free text; what is
    recorded already is under Visa rapporten, and the new text replaces it)."""
    return [PageField(BRIST_TEXT[action], "textarea", max_length=2000, required=True)]


async def samverkan_matter(core: Core, claim: LinkClaim) -> Matter:
    """The open matter the link is about, when the person may record its decision now; the Refusal the service
    would give otherwise (read only: a GET writes nothing). The case is not loaded for the person: a group's
    contact may not see it at all, and the form shows nothing of it. Someone outside the matter's group gets the
    answer for a case that does not exist, which confirms neither the case nor the matter."""
    try:
        matter, _ = await core.disputes.samverkan.check(claim.person_id,
                                                         claim.item if claim.item is not None else -1)
    except Refusal as refusal:
        if refusal.code == "samverkan_matter_not_found":
            raise NotFound(claim.ref or "") from None
        raise
    if matter.case_ref != claim.ref:
        raise NotFound(claim.ref or "")
    return matter


def samverkan_fields() -> list[PageField]:
    """The decision's text (not prefilled: a GET shows no free text)."""
    return [PageField(SAMVERKAN_TEXT, "textarea", max_length=MAX_LENGTH[SAMVERKAN_TEXT], required=True)]


def _many(key: str, choices: list[tuple[str, str]], value: list[str] | None, *, required: bool = False) -> PageField:
    if len(choices) <= MAX_CHECKBOXES:
        return PageField(key, "checkboxes", choices, value, required=required)
    return PageField(key, "select", choices, value, required=required, multiple=True)


def fields(action: str, case: Case, person_id: str, core: Core) -> list[PageField]:
    """The form's fields with their first values."""
    directory, labels = core.directory, core.renderer.labels
    if action in ("assign", "reassign"):
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
    return _more_fields(action, case, person_id, core)


def _more_fields(action: str, case: Case, person_id: str, core: Core) -> list[PageField]:
    """The forms of waiting, holding the meeting now, the consent and the dispute (the fields of the Slack
    modals and the Teams cards, without free text on GET)."""
    directory, labels = core.directory, core.renderer.labels
    units = [(u.id, u.name) for u in directory.units.values()]
    if action == "wait":
        return [PageField("till", "date", required=True),
                PageField("vantar_skal", "text", max_length=300, required=True)]
    if action == "hold_now":
        chosen = case.meeting_units or list(dict.fromkeys([case.requester_unit, case.target_unit]))
        return [_many("enheter", units, list(chosen), required=True)]
    if action == "renew_consent":
        own = directory.unit_of(person_id)
        people = [(person_id, directory.name(person_id)),
                  *((p.id, p.name) for p in (directory.staff_of(own.id) if own else []) if p.id != person_id)]
        return [PageField("giltigt", "date", required=True),
                PageField("form", "radio", list(labels.CONSENT_FORMS.items()), required=True),
                PageField("inhamtat", "select", people, value=person_id, required=True),
                _many("avser", list(labels.CONSENT_INFO.items()), []),
                PageField("avser_text", "text", max_length=300),
                _many("omfattar", units, [])]
    if action == "withdraw_consent_form":
        whole = [("hela", core.renderer.label("FIELDS", "samtycke"))]
        return [PageField("aterkalla", "radio", whole + [(u, directory.unit_name(u))
                                                         for u in consent.withdrawable_units(case)],
                          value="hela", required=True)]
    if action == "dispute":
        return [PageField("tvist_skal", "textarea", max_length=300, required=True)]
    if action == "settle_dispute":
        return [PageField("enig", "textarea", max_length=300, required=True)]
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
