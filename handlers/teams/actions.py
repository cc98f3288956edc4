"""Card actions (Universal Actions, `Action.Execute`): one thin handler per verb; the card updates in place.

The verb is the offered action's name (`bot.messages.actions`); the data names the case (`ref`), the item
(escalation or follow-up number) and the card. A form action without `submit` answers with its form on the card;
with `submit` it parses the inputs and calls the service. Authorisation is the services' (`bot/cases/rules.py`,
the ladder): a forged `ref` or `item` is refused and audited there, and changes nothing. A redelivered activity
or a second click on the same card with the same inputs is claimed once (`teams_inbound`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from microsoft_agents.activity import AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from bot import audit, readlog, suggestions
from bot.cases import access
from bot.cases.models import Case, CaseState, parse_ref
from bot.cases.rules import Action, authorize
from bot.cases.visibility import shown_free_text
from bot.channels.teams import cards
from bot.channels.teams.app import TeamsContext
from bot.errors import FieldError, Refusal
from handlers.slack import forms as parse
from handlers.teams import absence, brister, forms
from handlers.teams.commands import journal_card, say, unknown_user_card
from handlers.teams.common import bind

log = logging.getLogger("handlers.teams.actions")

# Verbs that act at once; the others open a form first. Together they cover every action a message can
# offer (bot/messages/actions.py) but "open", which Teams needs no handler for: the card is the case.
# The brist verbs are handled in handlers/teams/brister.py.
CASE_IMMEDIATE_VERBS = frozenset({"acknowledge", "no_show", "reopen", "withdraw_consent", "complete_follow_up",
                                  "take_over", "nudge", "resume", "journal", "to_samverkan",
                                  "accept_follow_up", "decline_follow_up"})
# Verbs that only show something: answered every time they are clicked (not claimed once).
VIEW_VERBS = frozenset({"journal"})
IMMEDIATE_VERBS = CASE_IMMEDIATE_VERBS | brister.IMMEDIATE_VERBS
FORM_VERBS = frozenset({"assign", "book", "rebook", "book_again", "record_outcome", "add_follow_up", "close",
                        "wait", "hold_now", "appoint", "renew_consent", "withdraw_consent_form", "reassign", "dispute",
                        "settle_dispute"}) | brister.FORM_VERBS
BOOK_VERBS = frozenset({"book", "rebook", "book_again"})
ANY_VERB = re.compile(r".*")
# The rule checked before a form opens (the service checks again on submit).
PRECHECK = {"assign": Action.ASSIGN, "book": Action.BOOK, "rebook": Action.BOOK, "book_again": Action.BOOK,
            "record_outcome": Action.RECORD_OUTCOME, "add_follow_up": Action.ADD_FOLLOW_UP, "close": Action.CLOSE,
            "renew_consent": Action.RENEW_CONSENT, "withdraw_consent_form": Action.WITHDRAW_CONSENT,
            "wait": Action.WAIT, "hold_now": Action.HOLD_NOW, "dispute": Action.DISPUTE,
            "settle_dispute": Action.SETTLE_DISPUTE,
            "appoint": Action.APPOINT}


class Answer(Exception):
    """Stop and show this card."""

    def __init__(self, content: dict[str, Any]) -> None:
        self.content = content
        super().__init__("answer")


def response(content: dict[str, Any]) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(status_code=200, type=cards.CONTENT_TYPE, value=content)


def claim_key(user: str, verb: str, data: dict[str, Any]) -> str:
    raw = json.dumps({k: v for k, v in data.items()}, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(f"{user}|{verb}|{raw}".encode()).hexdigest()[:40]
    return f"teams:act:{digest}"


def _item(data: dict[str, Any]) -> int:
    value = data.get("item")
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise Refusal("escalation_not_found", item=str(value)[:20])
    return int(value)


# --- answers -------------------------------------------------------------------------------------------
def done_card(ctx: TeamsContext, person_id: str, text: str) -> dict[str, Any]:
    """An answer card ending with who did it and when."""
    return cards.text_card(text + "\n" + say(ctx, "by", person=person_id, at=ctx.core.clock.now()))


async def refused(ctx: TeamsContext, person_id: str, exc: Refusal) -> dict[str, Any]:
    """The refusal as the person may see it (a case they may not see is not confirmed to exist)."""
    core = ctx.core
    exc = await access.masked(core.db, core.cases.load, core.directory, person_id, exc)
    return cards.text_card(core.renderer.refusal(exc))


async def audit_refusal(ctx: TeamsContext, person_id: str, action: str, ref: str | None, exc: Refusal) -> None:
    await audit.record_refusal(ctx.core.db, at=ctx.core.clock.now(), actor_id=person_id, action=action,
                               case_ref=ref, reason=exc.code)


def ref_of(data: dict[str, Any]) -> str:
    """The case reference an action names; Refusal when it is not one."""
    ref = parse_ref(str(data.get("ref") or ""))
    if ref is None:
        raise Refusal("case_not_found", ref=str(data.get("ref") or "")[:20])
    return ref


async def done(ctx: TeamsContext, person_id: str, action: str, case: Case, **extra: Any) -> dict[str, Any]:
    """After a change: deliver its notifications, log the free text the answer shows, answer."""
    core = ctx.core
    ctx.after_change()
    shown = [c.ref for c in shown_free_text("teams", {"action": action, "case": case})]
    await readlog.record_now(core.db, at=core.clock.now(), person_id=person_id, refs=shown,
                             view="teams_action_done", channel="teams")
    return done_card(ctx, person_id, say(ctx, "done", action=action, case=case, **extra))


# --- immediate actions ----------------------------------------------------------------------------------
async def acknowledge(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return await done(ctx, person_id, "acknowledge", await ctx.core.cases.acknowledge(person_id, ref_of(data)))


async def no_show(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return await done(ctx, person_id, "no_show", await ctx.core.cases.no_show(person_id, ref_of(data)))


async def reopen(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return await done(ctx, person_id, "reopen", await ctx.core.cases.reopen(person_id, ref_of(data)))


async def resume(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return await done(ctx, person_id, "resume", await ctx.core.cases.resume(person_id, ref_of(data)))


async def withdraw(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    case = await ctx.core.cases.withdraw_consent(person_id, ref_of(data))
    return await done(ctx, person_id, "withdraw_consent", case)


async def follow_up_done(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    number = _item(data)
    case = await ctx.core.cases.complete_follow_up(person_id, ref_of(data), number)
    ctx.after_change()
    return done_card(ctx, person_id, say(ctx, "follow_up_done", case=case, number=number))


async def follow_up_accept(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    number = _item(data)
    case = await ctx.core.cases.accept_follow_up(person_id, ref_of(data), number)
    return await done(ctx, person_id, "accept_follow_up", case, number=number)


async def follow_up_decline(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    number = _item(data)
    case = await ctx.core.cases.decline_follow_up(person_id, ref_of(data), number)
    return await done(ctx, person_id, "decline_follow_up", case, number=number)


async def take_over(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    core = ctx.core
    result = await core.ladder.take_over(person_id, _item(data))
    ctx.after_change()
    text = say(ctx, "ladder", what=result.action, ref=result.case_ref)
    if result.action == "assign":
        case = await core.cases.get(result.case_ref)
        form = forms.assign_form(ctx, case)
        return cards.form_card(core.renderer, form, nonce=cards.new_nonce(), intro=[text])
    return done_card(ctx, person_id, text)


async def nudge(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    people = await ctx.core.ladder.nudge(person_id, _item(data))
    ctx.after_change()
    return done_card(ctx, person_id, say(ctx, "ladder", what="nudged", people=people))


async def journal(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """The journal record as a text card, to copy into the journal system (for those in the case)."""
    return await journal_card(ctx, person_id, ref_of(data))


async def to_samverkan(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """*Ta upp på samverkansnivå*: a coordinator opens the brist draft for the question (assigns nobody)."""
    taken = await ctx.core.disputes.take_to_samverkan(person_id, _item(data))
    ctx.after_change()
    return done_card(ctx, person_id, say(ctx, "samverkan", ref=taken.case_ref, draft=taken.draft_id))


Immediate = Callable[[TeamsContext, str, dict[str, Any]], Awaitable[dict[str, Any]]]
IMMEDIATE: dict[str, Immediate] = {
    "acknowledge": acknowledge, "no_show": no_show, "reopen": reopen, "withdraw_consent": withdraw,
    "complete_follow_up": follow_up_done, "take_over": take_over, "nudge": nudge, "resume": resume,
    "journal": journal,
    "to_samverkan": to_samverkan,
    "accept_follow_up": follow_up_accept, "decline_follow_up": follow_up_decline,
}
assert set(IMMEDIATE) == CASE_IMMEDIATE_VERBS


# --- forms ----------------------------------------------------------------------------------------------
async def open_form(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    """The form of a form action, after the rule it needs (the service checks again on submit)."""
    core = ctx.core
    item: int | None = None
    if verb == "reassign":
        item = _item(data)
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
        ref = (await core.ladder.answerable(person_id, _item(data))).case_ref
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
                                     participants=attending.people, externals=attending.externals)
        return await done(ctx, person_id, "book", case)
    if verb == "hold_now":
        units, errors = parse.parse_hold_now(values)
        attending = parse.parse_participants(values, errors)
        if errors:
            raise FieldError(errors)
        return await done(ctx, person_id, "hold_now", await core.cases.hold_now(
            person_id, ref, units, participants=attending.people, externals=attending.externals))
    if verb == "appoint":
        errors = {}
        named = parse.parse_participants(values, errors).people or []
        if not named and "deltagare" not in errors:
            errors["deltagare"] = ("required", {"field": "deltagare"})
        if errors:
            raise FieldError(errors)
        return await done(ctx, person_id, "appoint", await core.cases.appoint(person_id, ref, named[0][1]))
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
        case = await core.cases.record_outcome(person_id, ref, outcome.outcome, outcome.evaluation_done)
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


async def act(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    """Run one verb for a known person: file, act at once, open a form, or submit it."""
    if verb == "request":
        return await request(ctx, person_id, data, key)
    if verb in IMMEDIATE:
        return await IMMEDIATE[verb](ctx, person_id, data)
    if verb in FORM_VERBS and not data.get("submit"):
        return await open_form(ctx, person_id, verb, data)
    if verb in FORM_VERBS:
        return await submit_form(ctx, person_id, verb, data)
    raise Refusal("case_not_found", ref=str(data.get("ref") or "")[:20])


# --- the listener ---------------------------------------------------------------------------------------
async def on_execute(ctx: TeamsContext, context: TurnContext, state: TurnState, data: Any,
                     ) -> AdaptiveCardInvokeResponse:
    """Every `Action.Execute`: who clicked, claim a submission once, act, and answer with the new card."""
    core = ctx.core
    value = context.activity.value if isinstance(context.activity.value, dict) else {}
    verb = str((value.get("action") or {}).get("verb") or "")
    data = dict(data) if isinstance(data, dict) else {}
    person_id = await ctx.identity.person_for(context)
    if person_id is None:
        return response(unknown_user_card(ctx))
    await ctx.identity.remember_chat(context, person_id, "message")
    if verb in brister.VERBS:
        return response(await brister.answer(ctx, person_id, verb, data, claim_key(person_id, verb, data)))
    if verb in absence.VERBS:
        return response(await absence.answer(ctx, person_id, verb, data, claim_key(person_id, verb, data)))
    submitting = verb == "request" or (verb in IMMEDIATE and verb not in VIEW_VERBS) or bool(data.get("submit"))
    key = claim_key(person_id, verb, data)
    if submitting and not await ctx.store.claim(key, verb):
        return response(cards.text_card(say(ctx, "already", ref=data.get("ref"))))
    try:
        content = await act(ctx, person_id, verb, data, key)
    except FieldError as exc:
        await ctx.store.release(key)
        log.info("teams form rejected", extra={"event": "teams.form_rejected", "verb": verb,
                                               "fields": sorted(exc.errors)})
        case = None
        ref = parse_ref(str(data.get("ref") or ""))
        if ref:
            try:
                case = await core.cases.get(ref)
            except Refusal:
                case = None
        content = form_again(ctx, person_id, verb, data, core.renderer.field_errors(exc), case)
    except Refusal as exc:
        await ctx.store.release(key)
        log.info("teams action refused", extra={"event": "teams.refused", "verb": verb, "code": exc.code})
        content = await refused(ctx, person_id, exc)
    except BaseException:
        await ctx.store.release(key)
        raise
    return response(content)


def register(agent: AgentApplication[TurnState], ctx: TeamsContext) -> None:
    """Wire the listener with its context: every verb goes to `on_execute`."""
    agent.adaptive_card.action_execute(ANY_VERB)(bind(ctx, on_execute))
