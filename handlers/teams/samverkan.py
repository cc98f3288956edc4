"""Recording the samverkansnivå's decision in Teams (issue #18 item 4, thin): the button on the matter's card to
the samverkansgrupp's contacts answers with a form on the card; its submission records the decision through the
same service and rule as the console's /samverkansbeslut and Slack's modal (`bot/disputes/samverkan.py`)."""

from __future__ import annotations

from typing import Any

from bot.channels.teams import cards
from bot.channels.teams.app import TeamsContext
from bot.channels.teams.cards import Field, Form
from bot.errors import FieldError, Refusal
from bot.forms import parse_one_text
from bot.messages import actions
from bot.numerals import is_number
from handlers.teams.answers import submitted_once

VERBS = frozenset({actions.SAMVERKAN_DECIDE})
FIELD = "beslut"


def matter_of(data: dict[str, Any]) -> int:
    """The matter number the card names; the not-found refusal for anything else."""
    value = data.get("item")
    raw = "" if isinstance(value, bool) else str(value or "")
    if not is_number(raw):
        raise Refusal("samverkan_matter_not_found", matter=raw[:20])
    return int(raw)


def decide_form(ref: str | None, matter_id: int | None) -> Form:
    return Form(actions.SAMVERKAN_DECIDE, actions.SAMVERKAN_DECIDE,
                [Field(FIELD, "multiline", max_length=1000, required=True)], ref=ref, item=matter_id)


async def execute(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """The form (after the rule), or the submitted decision recorded (FieldError and Refusal are the caller's)."""
    core = ctx.core
    service = core.disputes.samverkan
    matter_id = matter_of(data)
    if not data.get("submit"):
        matter, group = await service.decidable(person_id, matter_id)
        intro = [core.renderer.macro("samverkan", "intro", matter=matter, forum=group)]
        return cards.form_card(core.renderer, decide_form(matter.case_ref, matter.id), nonce=cards.new_nonce(),
                               intro=intro)
    text, parse_errors = parse_one_text({FIELD: data.get(FIELD)}, FIELD)
    if parse_errors:
        raise FieldError(parse_errors)
    matter = await service.decide(person_id, matter_id, text)
    ctx.after_change()
    return cards.text_card(core.renderer.macro("samverkan", "decided", matter=matter))


def form_again(ctx: TeamsContext, data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The same form with what was typed kept and the errors under the field."""
    raw = str(data.get("item") or "")
    form = decide_form(str(data.get("ref") or "") or None, int(raw) if is_number(raw) else None)
    return cards.form_card_again(ctx.core.renderer, form, data, errors)


async def answer(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    """One card action end to end: a submission claimed once (a double click or a redelivered invoke is answered
    "already done"), field errors back on the form, refusals as text."""
    return await submitted_once(ctx, key, verb, bool(data.get("submit")), data.get("ref"),
                                lambda: execute(ctx, person_id, data), lambda errors: form_again(ctx, data, errors))
