"""The Teams card forms: which fields each has (the fields of the Slack modals), and card input values turned
into the value shapes the shared form parsers take (`handlers.forms`). No rules here: the services decide."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.cases import consent, participants
from bot.cases.models import Case, Outcome
from bot.cases.rules import follow_up_owners
from bot.channels.teams.app import TeamsContext
from bot.channels.teams.cards import Field, Form, kept_form_card

# Inputs whose value is a list (Teams sends a multi-select as "a,b"; a toggle as "ja" or "").
LIST_FIELDS = frozenset({"samtycke", "omfattar", "avser", "bradskande", "personer", "enheter", "bekrafta",
                         "deltagare", "extern", "kontrollerat", "informerad"})


def card_values(data: dict[str, Any], suffix: str = "") -> dict[str, Any]:
    """{input id: card value} → {field key: value}: lists split, an unticked evaluation toggle is "nej".
    With `suffix`, only the inputs of that form (the queue holds one form per case)."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        name, sep, tail = str(key).partition("__")
        if sep and tail != suffix:
            continue
        if name in ("ref", "item", "card", "submit", "mode"):
            continue
        if not isinstance(value, str):
            values[name] = value  # a wrong type: the parsers report it on the field
            continue
        if name in LIST_FIELDS:
            values[name] = [v for v in value.split(",") if v]
        elif name == "utvardering":
            values[name] = value or "nej"
        else:
            values[name] = value
    return values


UNITS = "units"  # the dataset of a dynamic typeahead over the directory's units (handlers/teams/search.py)


def staff_dataset(unit_id: str | None) -> str:
    """The dataset of a dynamic typeahead over one unit's staff."""
    return f"staff:{unit_id or ''}"


def _units(ctx: TeamsContext) -> list[tuple[str, str]]:
    return [(u.id, u.name) for u in ctx.core.directory.units.values()]


def request_form(ctx: TeamsContext, person_id: str) -> Form:
    """The GFI request: the fields of the Slack modal, contact and consent period prefilled."""
    core = ctx.core
    person = core.directory.people[person_id]
    others = [(u.id, u.name) for u in core.directory.units.values() if u.id != person.unit]
    valid_until = core.cases.today() + timedelta(days=core.settings.consent_default_days)
    people = [(person_id, person.name), *((p.id, p.name) for p in core.directory.staff_of(person.unit)
                                          if p.id != person_id)]
    labels = core.renderer.labels
    return Form("request", "request", [
        Field("enhet", "choice", others, required=True, dataset=UNITS),
        Field("typ", "choice", list(labels.CASE_TYPES.items()), required=True, expanded=True),
        Field("kort", "multiline", max_length=1000),
        Field("kontakter", "multiline", max_length=500),
        Field("kontrollerat", "toggle"),  # the name/address warning: ticked when the texts name nobody
        Field("barn", "choice", list(labels.CHILDREN.items()), required=True, expanded=True),
        Field("kontakt", "text", value=core.cases.default_contact(person_id), max_length=300),
        Field("samtycke", "toggle"),
        # the units are listed once on the card (under enhet): the consent's units are a typeahead over them
        Field("omfattar", "choices", _units(ctx), dataset=UNITS, dynamic=True),
        Field("avser", "choices", list(labels.CONSENT_INFO.items()), required=True, expanded=True),
        Field("avser_text", "text", max_length=300),
        Field("form", "choice", list(labels.CONSENT_FORMS.items()), required=True, expanded=True),
        Field("inhamtat", "choice", people, value=person_id, required=True, dataset=staff_dataset(person.unit)),
        Field("giltigt", "date", value=valid_until.isoformat(), required=True),
        Field("bradskande", "toggle"),
    ])


def request_card(ctx: TeamsContext, person_id: str, nonce: str) -> dict[str, Any]:
    """`request_form`'s card, rendered once per person, directory version and day (`kept_form_card`): it depends
    on nothing else (the day: the consent's default end)."""
    core = ctx.core
    return kept_form_card(ctx.kept, core.directory.tables, core.cases.today(), ("request", person_id), core.renderer,
                          lambda: request_form(ctx, person_id), nonce=nonce)


def assign_form(ctx: TeamsContext, case: Case, *, reassign: bool = False, suffix: str = "",
                item: int | None = None, verb: str = "assign") -> Form:
    # someone away now is marked in the choice (bot/absence), so the distributor sees it before assigning
    staff = [(p.id, ctx.core.renderer.macro("_absence", "choice_label", pid=p.id, label=p.name))
             for p in ctx.core.directory.staff_of(case.target_unit)]
    return Form("reassign" if reassign else "assign", verb, [
        Field("personer", "choices", staff, value=",".join(case.assignees) or None,
              dataset=staff_dataset(case.target_unit)),
        Field("annan", "text", max_length=300),
    ], ref=case.ref, item=item, suffix=suffix)


def participant_fields(ctx: TeamsContext, case: Case) -> list[Field]:
    """Who attends (the Slack modal's participant blocks): persons, external roles, their first names."""
    directory = ctx.core.directory
    named = ",".join(p for p, _ in participants.named_now(case, directory))
    return [
        Field("deltagare", "choices", participants.bookable(case, directory), value=named or None),
        Field("extern", "choices", list(ctx.core.renderer.labels.EXTERNAL_ROLES.items())),
        Field("fornamn", "text", max_length=200),
    ]


def case_form(ctx: TeamsContext, verb: str, case: Case, person_id: str, item: int | None = None,
              suggested: dict[str, str] | None = None) -> Form:
    """The form a case action opens on the card (`suggested`: free/busy prefill of a booking form, see
    `bot.suggestions.prefill`)."""
    core = ctx.core
    labels = core.renderer.labels
    directory = core.directory
    if verb in ("assign", "reassign"):
        return assign_form(ctx, case, reassign=verb == "reassign" or bool(case.assignees), item=item,
                           verb=verb)
    if verb in ("book", "rebook", "book_again"):
        chosen = case.meeting_units or list(dict.fromkeys([case.requester_unit, case.target_unit]))
        return Form("book", verb, [
            Field("datum", "date", value=suggested["date"] if suggested else core.cases.today().isoformat(),
                  required=True),
            Field("tid", "time", value=suggested["time"] if suggested else None, required=True),
            Field("plats", "text", max_length=300, required=True),
            Field("enheter", "choices", _units(ctx), value=",".join(chosen), dataset=UNITS),
            Field("bekrafta", "toggle"),  # a weekend, holiday or out-of-hours time is booked only when ticked
            # the individual knows what the meeting is and who comes (kept on a rebooking, as on Slack)
            Field("informerad", "toggle", value="ja" if case.individual_informed else None),
            Field("motesform", "choice", list(labels.MEETING_KINDS.items()), value=case.meeting_kind.value,
                  expanded=True),
            Field("syfte", "choice", list(labels.MEETING_PURPOSES.items()),
                  value=case.meeting_purpose.value if case.meeting_purpose else None, expanded=True),
            *participant_fields(ctx, case),
        ], ref=case.ref)
    if verb == "hold_now":
        chosen = case.meeting_units or list(dict.fromkeys([case.requester_unit, case.target_unit]))
        return Form("hold_now", verb, [
            Field("enheter", "choices", _units(ctx), value=",".join(chosen), required=True, dataset=UNITS),
            *participant_fields(ctx, case),
        ], ref=case.ref)
    if verb == "appoint":
        return Form("appoint", verb, [
            Field("deltagare", "choice", participants.appointable(case, person_id, ctx.core.directory), required=True),
        ], ref=case.ref)
    if verb == "wait":
        return Form("wait", verb, [
            Field("till", "date", required=True),
            Field("vantar_skal", "text", max_length=300, required=True),
        ], ref=case.ref)
    if verb == "dispute":
        return Form("dispute", verb, [Field("tvist_skal", "multiline", max_length=300, required=True)], ref=case.ref)
    if verb == "settle_dispute":
        proposal = (suggested or {}).get("enig")
        return Form("settle_dispute", verb, [Field("enig", "multiline", value=proposal, max_length=300,
                                                   required=True)], ref=case.ref)
    if verb == "record_outcome":
        return Form("record_outcome", verb, [
            Field("utfall", "choice", list(labels.OUTCOMES.items()), required=True, expanded=True),
            Field("lotsad_till", "text", max_length=300),
            Field("mandat", "choice", [("ja", "ja"), ("nej", "nej")], expanded=True),
            Field("utvardering", "toggle"),
            Field("delaktighet", "choice", list(labels.EVALUATION_SCALE.items()), expanded=True),
            Field("kommentar", "multiline", max_length=500),
        ], ref=case.ref)
    if verb == "add_follow_up":
        return Form("add_follow_up", verb, [
            Field("agare", "choice", [(pid, directory.name(pid)) for pid in follow_up_owners(case, directory)],
                  value=person_id, required=True),
            Field("datum", "date", value=core.cases.today().isoformat(), required=True),
            Field("vad", "text", max_length=500, required=True),
        ], ref=case.ref)
    if verb == "close":
        return Form("close", verb, [
            Field("skal", "choice", [(k, v) for k, v in labels.CLOSE_REASONS.items() if k != "samtycke-aterkallat"],
                  required=True, expanded=True),
            Field("annat", "text", max_length=300),
            *([Field("nykontakt", "choice", [("ja", "ja"), ("nej", "nej")], expanded=True)]
              if case.outcome is Outcome.LOTSNING else []),
            *([Field("foljupp", "choice", list(labels.OPEN_FOLLOW_UPS.items()), required=True, expanded=True)]
              if any(f.is_open for f in case.follow_ups) else []),
        ], ref=case.ref)
    if verb == "renew_consent":
        own = directory.unit_of(person_id)
        people = [(person_id, directory.name(person_id)),
                  *((p.id, p.name) for p in (directory.staff_of(own.id) if own else []) if p.id != person_id)]
        return Form("renew_consent", verb, [
            Field("giltigt", "date", required=True),
            Field("form", "choice", list(labels.CONSENT_FORMS.items()), required=True, expanded=True),
            Field("inhamtat", "choice", people, value=person_id, required=True,
                  dataset=staff_dataset(own.id if own else None)),
            Field("avser", "choices", list(labels.CONSENT_INFO.items()), expanded=True),
            Field("avser_text", "text", max_length=300),
            Field("omfattar", "choices", _units(ctx), dataset=UNITS),
        ], ref=case.ref)
    if verb == "withdraw_consent_form":
        whole = [("hela", core.renderer.label("FIELDS", "samtycke"))]
        units = [(u, directory.unit_name(u)) for u in consent.withdrawable_units(case)]
        return Form("withdraw_consent_form", verb, [
            Field("aterkalla", "choice", whole + units, value="hela", required=True, expanded=True),
        ], ref=case.ref)
    raise KeyError(verb)
