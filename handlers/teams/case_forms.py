"""Case forms on a card (thin): open the form of a form action after the rule it needs, parse a submitted form
and call the service, file a GFI request, and show a refused form again with what the person typed."""

from __future__ import annotations

import logging
from typing import Any

from bot import suggestions
from bot.cases.models import Case, CaseState
from bot.cases.rules import Action, authorize
from bot.channels.teams import cards
from bot.channels.teams.app import TeamsContext
from bot.errors import FieldError, Refusal
from handlers.slack import forms as parse
from handlers.teams import brister, forms, samverkan
from handlers.teams.answers import audit_refusal, done, item_of, ref_of
from handlers.teams.commands import say

log = logging.getLogger("handlers.teams.case_forms")

FORM_VERBS = frozenset({"assign", "book", "rebook", "book_again", "record_outcome", "add_follow_up", "close",
                        "wait", "hold_now", "appoint", "renew_consent", "withdraw_consent_form", "reassign", "dispute",
                        "settle_dispute"}) | brister.FORM_VERBS | samverkan.VERBS
BOOK_VERBS = frozenset({"book", "rebook", "book_again"})
# The rule checked before a form opens (the service checks again on submit).
PRECHECK = {"assign": Action.ASSIGN, "book": Action.BOOK, "rebook": Action.BOOK, "book_again": Action.BOOK,
            "record_outcome": Action.RECORD_OUTCOME, "add_follow_up": Action.ADD_FOLLOW_UP, "close": Action.CLOSE,
            "renew_consent": Action.RENEW_CONSENT, "withdraw_consent_form": Action.WITHDRAW_CONSENT,
            "wait": Action.WAIT, "hold_now": Action.HOLD_NOW, "dispute": Action.DISPUTE,
            "settle_dispute": Action.SETTLE_DISPUTE,
            "appoint": Action.APPOINT}


async def open_form(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    """The form of a form action, after the rule it needs (the service checks again on submit)."""
    core = ctx.core
    item: int | None = None
    if verb == "reassign":
        item = item_of(data)
        ref = (await core.ladder.answerable(person_id, item)).case_ref
        case = await core.cases.get(ref)
        authorize(Action.ASSIGN, case, person_id, core.directory)
    else:
        ref = ref_of(data)
        case = await core.cases.get(ref)
        rule = PRECHECK[verb]
        try:
            authorize(rule, case, person_id, core.directory)
        except Refusal as exc:
            await audit_refusal(ctx, person_id, rule.value, ref, exc)
            raise
    suggested = None
    if verb == "settle_dispute":  # the other side's proposal, to confirm as it stands or change
        prefill = await core.disputes.form_prefill(case, person_id)
        form = forms.case_form(ctx, verb, case, person_id, suggested=prefill)
        return cards.form_card(core.renderer, form, nonce=cards.new_nonce())
    if verb in BOOK_VERBS:  # free/busy from Graph, bounded: the card comes without it when Graph is slow
        slots = await core.suggestions.for_booking(case, person_id, core.directory, core.clock.now())
        suggested = suggestions.prefill(core.renderer, case.ref, slots)
    form = forms.case_form(ctx, verb, case, person_id, item=item, suggested=suggested)
    intro = suggested["text"].split("\n") if suggested else None
    return cards.form_card(core.renderer, form, nonce=cards.new_nonce(), intro=intro)


async def submit_form(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    """A submitted form: parse the inputs, call the service, answer (FieldError for the fields)."""
    core = ctx.core
    suffix = str(data.get("ref") or "") if any(str(k).endswith(f"__{data.get('ref')}") for k in data) else ""
    values = forms.card_values(data, suffix)
    if verb == "reassign":
        ref = (await core.ladder.answerable(person_id, item_of(data))).case_ref
    else:
        ref = ref_of(data)
    if verb in ("assign", "reassign"):
        form = parse.parse_assign(values)
        current = await core.cases.get(ref)
        reassign = verb == "reassign" or current.state is not CaseState.REQUESTED
        case = await core.cases.assign(person_id, ref, form.people, form.other, reassign=reassign)
        return await done(ctx, person_id, "assign", case)
    if verb in ("book", "rebook", "book_again"):
        book, errors = parse.parse_book(values, core.settings.timezone)
        if errors or book.at is None:
            raise FieldError(errors)
        attending = parse.parse_participants(values, errors)
        if errors:
            raise FieldError(errors)
        case = await core.cases.book(person_id, ref, book.at, book.place, book.units, confirmed=book.confirmed,
                                     participants=attending.people, externals=attending.externals,
                                     form=book.meeting)
        return await done(ctx, person_id, "book", case)
    if verb == "hold_now":
        units, errors = parse.parse_hold_now(values)
        attending = parse.parse_participants(values, errors)
        if errors:
            raise FieldError(errors)
        return await done(ctx, person_id, "hold_now", await core.cases.hold_now(
            person_id, ref, units, participants=attending.people, externals=attending.externals))
    if verb == "appoint":
        named, errors = parse.parse_appointee(values)
        if named is None:
            raise FieldError(errors)
        return await done(ctx, person_id, "appoint", await core.cases.appoint(person_id, ref, named))
    if verb == "wait":
        waiting, errors = parse.parse_wait(values)
        if errors or waiting.until is None:
            raise FieldError(errors)
        case = await core.cases.wait(person_id, ref, waiting.until, waiting.reason)
        return await done(ctx, person_id, "wait", case)
    if verb in ("dispute", "settle_dispute"):
        key = "tvist_skal" if verb == "dispute" else "enig"
        text, errors = parse.parse_one_text(values, key)
        if errors:
            raise FieldError(errors)
        if verb == "dispute":
            return await done(ctx, person_id, verb, await core.disputes.dispute(person_id, ref, text))
        return await done(ctx, person_id, verb, await core.disputes.settle(person_id, ref, text))
    if verb == "record_outcome":
        outcome, errors = parse.parse_outcome(values)
        if errors:
            raise FieldError(errors)
        case = await core.cases.record_outcome(person_id, ref, outcome.outcome, outcome.evaluation_done,
                                               outcome.details)
        return await done(ctx, person_id, "record_outcome", case)
    if verb == "add_follow_up":
        follow, errors = parse.parse_follow_up(values)
        if errors or follow.due is None:
            raise FieldError(errors)
        case = await core.cases.add_follow_up(person_id, ref, follow.owner, follow.due, follow.what)
        return await done(ctx, person_id, "add_follow_up", case)
    if verb == "close":
        reason, errors = parse.parse_close(values)
        new_contact = parse.parse_new_contact(values, errors)
        fate = parse.parse_open_follow_ups(values, errors)
        if errors:
            raise FieldError(errors)
        case = await core.cases.close(person_id, ref, reason, new_contact=new_contact, follow_ups=fate)
        return await done(ctx, person_id, "close", case)
    if verb == "renew_consent":
        renew, errors = parse.parse_renew(values)
        if errors or renew.until is None:
            raise FieldError(errors)
        case = await core.cases.renew_consent(person_id, ref, renew.until, renew.scope, form=renew.form,
                                              obtained_by=renew.obtained_by, covers=renew.covers,
                                              note=renew.note)
        return await done(ctx, person_id, "renew_consent", case)
    if verb == "withdraw_consent_form":
        unit, errors = parse.parse_withdraw(values)
        if errors:
            raise FieldError(errors)
        case = await core.cases.withdraw_consent(person_id, ref, unit=unit)
        action = "withdraw_consent_unit" if unit and case.is_open else "withdraw_consent"
        return await done(ctx, person_id, action, case, unit=unit)
    raise KeyError(verb)


async def request(ctx: TeamsContext, person_id: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    """The request form submitted: file the request once (`key`), or FieldError for the fields."""
    core = ctx.core
    values = forms.card_values(data)
    form, parse_errors = parse.parse_request(values)
    if parse_errors:
        service_errors: FieldError | None = None
        try:
            core.cases.validate_request(person_id, form)
        except FieldError as exc:
            service_errors = exc
        raise parse.merge(parse_errors, service_errors) or FieldError(parse_errors)
    case = await core.cases.request(person_id, form, idempotency_key=key)
    log.info("request filed via teams", extra={"event": "teams.request_filed", "case_ref": case.ref})
    ctx.after_change()
    return cards.text_card(say(ctx, "filed", case=case))


def form_again(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any], errors: dict[str, str],
               case: Case | None) -> dict[str, Any]:
    """The same form with the user's values kept and the errors under their fields."""
    if verb == "request":
        form = forms.request_form(ctx, person_id)
    elif case is not None and verb in FORM_VERBS:
        form = forms.case_form(ctx, verb, case, person_id, item=data.get("item"))
    else:
        return cards.text_card("\n".join(errors.values()))
    return cards.form_card_again(ctx.core.renderer, form, data, errors)


