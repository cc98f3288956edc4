"""Card actions (Universal Actions, `Action.Execute`): one thin handler per verb; the card updates in place.

The verb is the offered action's name (`bot.messages.actions`); the data names the case (`ref`), the item
(escalation or follow-up number) and the card. A form action without `submit` answers with its form on the card;
with `submit` it parses the inputs and calls the service. Authorisation is the services' (`bot/cases/rules.py`,
the ladder): a forged `ref` or `item` is refused and audited there, and changes nothing. A redelivered activity
or a second click on the same card with the same inputs is claimed once (`teams_inbound`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from microsoft_agents.activity import AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from bot.cases.models import parse_ref
from bot.channels.teams import cards, refresh
from bot.channels.teams import home as teams_home
from bot.channels.teams.app import TeamsContext
from bot.errors import FieldError, Refusal
from bot.numerals import is_number
from handlers.teams import absence, brister, forms, home, oversight, samverkan
from handlers.teams.answers import claim_key, done, done_card, ref_of, refused, response
from handlers.teams.answers import item_of as _item
from handlers.teams.case_forms import FORM_VERBS, form_again, open_form, request, submit_form
from handlers.teams.commands import QUEUE_MORE, journal_card, queue_card, say, unknown_user_card
from handlers.teams.common import bind

log = logging.getLogger("handlers.teams.actions")

# Verbs that act at once; the others open a form first. Together they cover every action a message can
# offer (bot/messages/actions.py) but "open", which Teams needs no handler for: the card is the case.
# The brist verbs are handled in handlers/teams/brister.py, the samverkansnivå's decision in
# handlers/teams/samverkan.py.
CASE_IMMEDIATE_VERBS = frozenset({"acknowledge", "no_show", "reopen", "withdraw_consent", "complete_follow_up",
                                  "take_over", "nudge", "resume", "journal", "to_samverkan",
                                  "accept_follow_up", "decline_follow_up", "confirm_agreement"})
# Verbs that only show something: answered every time they are clicked (not claimed once).
VIEW_VERBS = frozenset({"journal"})
IMMEDIATE_VERBS = CASE_IMMEDIATE_VERBS | brister.IMMEDIATE_VERBS
__all__ = ["FORM_VERBS", "IMMEDIATE_VERBS", "act", "on_execute", "register"]
ANY_VERB = re.compile(r".*")


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


async def confirm_agreement(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """The other side's proposal in a dispute is agreed: the dispute is settled (issue #18 item 2)."""
    return await done(ctx, person_id, "settle_dispute", await ctx.core.disputes.settle(person_id, ref_of(data), None))


async def to_samverkan(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """*Ta upp på samverkansnivå*: a coordinator opens the brist draft for the question (assigns nobody)."""
    taken = await ctx.core.disputes.take_to_samverkan(person_id, _item(data))
    ctx.after_change()
    return done_card(ctx, person_id, say(ctx, "samverkan", ref=taken.case_ref, draft=taken.draft_id,
                                         forum=taken.group.name if taken.group else None,
                                         matter=taken.matter.id if taken.matter else None))


Immediate = Callable[[TeamsContext, str, dict[str, Any]], Awaitable[dict[str, Any]]]
IMMEDIATE: dict[str, Immediate] = {
    "acknowledge": acknowledge, "no_show": no_show, "reopen": reopen, "withdraw_consent": withdraw,
    "complete_follow_up": follow_up_done, "take_over": take_over, "nudge": nudge, "resume": resume,
    "journal": journal,
    "to_samverkan": to_samverkan,
    "accept_follow_up": follow_up_accept, "decline_follow_up": follow_up_decline,
    "confirm_agreement": confirm_agreement,
}
assert set(IMMEDIATE) == CASE_IMMEDIATE_VERBS



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
    if verb in samverkan.VERBS:
        return response(await samverkan.answer(ctx, person_id, verb, data, claim_key(person_id, verb, data)))
    if verb in absence.VERBS:
        return response(await absence.answer(ctx, person_id, verb, data, claim_key(person_id, verb, data)))
    if verb == refresh.CASE_CARD:  # a delivered card refreshed for its recipient: shown each time
        raw = str(data.get("o") or "")
        return response(await refresh.refreshed_card(core, person_id, int(raw) if is_number(raw) else 0,
                                                     home.teams_user(context)))
    if verb in teams_home.VERBS:
        return response(await home.answer(ctx, person_id, verb, data, claim_key(person_id, verb, data), context))
    if verb == oversight.LIST_MORE:  # the next page of a list card: shown each time it is asked for
        words = data.get("args")
        return response(await oversight.view(ctx, person_id, str(data.get("word") or ""),
                                             [str(w) for w in words] if isinstance(words, list) else []))
    if verb == QUEUE_MORE:  # the next page of one queue: shown each time it is asked for
        skip = str(data.get("skip") or "0")
        return response(await queue_card(ctx, person_id, unit=str(data.get("unit") or ""),
                                         skip=int(skip) if is_number(skip) else 0))
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
