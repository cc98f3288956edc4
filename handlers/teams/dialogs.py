"""Dialogs (Teams task modules) for the forms with many inputs: the GFI request and the brist report (thin).

A card button (`Action.Submit` with `msteams.type = task/fetch` and `dialog`) makes Teams ask `task/fetch`; the
answer is the form as a card in a dialog. Its submit (`Action.Submit` inside the dialog) arrives as
`task/submit` with what was typed: filed once (the same claim key and services as the card form), or the same
form again in the dialog with every value kept and each error under its field (a refusal at the top), as on
Slack. When filed, the dialog closes with the answer and the answer card goes to the chat.
"""

from __future__ import annotations

import logging
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, InvokeResponse
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from bot.channels.teams import cards
from bot.channels.teams.app import TeamsContext
from bot.channels.teams.cards import Form
from bot.errors import FieldError, Refusal
from handlers.teams import brister, forms
from handlers.teams.answers import claim_key
from handlers.teams.case_forms import request
from handlers.teams.commands import say, send_card, unknown_user_card
from handlers.teams.common import bind

log = logging.getLogger("handlers.teams.dialogs")

FETCH = "task/fetch"
SUBMIT = "task/submit"
REQUEST = "request"
BRIST = "brist"
DIALOGS = (REQUEST, BRIST)


def _form(ctx: TeamsContext, person_id: str, dialog: str) -> Form:
    return forms.request_form(ctx, person_id) if dialog == REQUEST else brister.report_form(ctx)


def dialog_card(ctx: TeamsContext, person_id: str, dialog: str, data: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None) -> dict[str, Any]:
    """The form of `dialog` as a dialog's card: its submit an Action.Submit (task/submit), the values typed
    and the errors shown when given."""
    renderer = ctx.core.renderer
    nonce = str((data or {}).get("card") or cards.new_nonce())
    if errors is not None:
        content = cards.form_card_again(renderer, _form(ctx, person_id, dialog), data or {}, errors)
    elif dialog == REQUEST:
        content = forms.request_card(ctx, person_id, nonce)
    else:
        content = cards.form_card(renderer, _form(ctx, person_id, dialog), nonce=nonce)
    title = content["actions"][0]["title"] if content.get("actions") else renderer.macro("teams", "dialog_submit")
    content["actions"] = [{"type": "Action.Submit", "title": title, "data": {"dialog": dialog, "card": nonce}}]
    return content


def _continue(ctx: TeamsContext, dialog: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"task": {"type": "continue", "value": {
        "title": ctx.core.renderer.macro("teams", "dialog_title", dialog=dialog), "width": "medium",
        "height": "large", "card": {"contentType": cards.CONTENT_TYPE, "content": content}}}}


async def _respond(context: TurnContext, body: dict[str, Any]) -> None:
    await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                         value=InvokeResponse(status=200, body=body)))


def _data(context: TurnContext) -> dict[str, Any]:
    value = context.activity.value if isinstance(context.activity.value, dict) else {}
    data = value.get("data")
    return {k: v for k, v in data.items() if k != "msteams"} if isinstance(data, dict) else {}


async def on_fetch(ctx: TeamsContext, context: TurnContext, state: TurnState) -> None:
    person_id = await ctx.identity.person_for(context)
    data = _data(context)
    dialog = str(data.get("dialog") or "")
    if person_id is None or dialog not in DIALOGS:
        await _respond(context, {"task": {"type": "message", "value": card_text_of(unknown_user_card(ctx))
                                          if person_id is None else say(ctx, "not_understood_dialog")}})
        return
    await _respond(context, _continue(ctx, dialog, dialog_card(ctx, person_id, dialog)))


def card_text_of(content: dict[str, Any]) -> str:
    """The plain text of a text card (a dialog's closing message is text only)."""
    return " ".join(run.get("text", "") for block in content.get("body", []) if isinstance(block, dict)
                    for run in block.get("inlines", []) if isinstance(run, dict)).strip()


async def _file(ctx: TeamsContext, person_id: str, dialog: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    if dialog == REQUEST:
        return await request(ctx, person_id, data, key)
    return await brister.file(ctx, person_id, data)


async def on_submit(ctx: TeamsContext, context: TurnContext, state: TurnState) -> None:
    """A dialog's form submitted: filed once, or the form again with what was typed and the errors."""
    person_id = await ctx.identity.person_for(context)
    data = _data(context)
    dialog = str(data.get("dialog") or "")
    if person_id is None or dialog not in DIALOGS:
        await _respond(context, {"task": {"type": "message", "value": say(ctx, "not_understood_dialog")}})
        return
    verb = "request" if dialog == REQUEST else brister.FILE
    key = claim_key(person_id, verb, data)
    if not await ctx.store.claim(key, verb):
        await _respond(context, {"task": {"type": "message", "value": say(ctx, "already", ref=None)}})
        return
    try:
        answer = await _file(ctx, person_id, dialog, {k: v for k, v in data.items() if k != "dialog"}, key)
    except FieldError as exc:
        await ctx.store.release(key)
        log.info("teams dialog rejected", extra={"event": "teams.form_rejected", "verb": verb,
                                                 "fields": sorted(exc.errors)})
        errors = ctx.core.renderer.field_errors(exc)
        await _respond(context, _continue(ctx, dialog, dialog_card(ctx, person_id, dialog, data, errors)))
        return
    except Refusal as exc:
        await ctx.store.release(key)
        errors = {"_": ctx.core.renderer.refusal(exc)}
        await _respond(context, _continue(ctx, dialog, dialog_card(ctx, person_id, dialog, data, errors)))
        return
    except BaseException:
        await ctx.store.release(key)
        raise
    await _respond(context, {"task": {"type": "message", "value": card_text_of(answer)}})
    await send_card(context, answer)


def register(agent: AgentApplication[TurnState], ctx: TeamsContext) -> None:
    agent.invoke(FETCH)(bind(ctx, on_fetch))
    agent.invoke(SUBMIT)(bind(ctx, on_submit))
