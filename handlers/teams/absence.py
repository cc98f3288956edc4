"""Frånvaro in Teams (thin): `frånvaro` in the chat shows the absences the person may see (each with a remove
button) and a card form to register one; the service decides who may do what (bot/absence)."""

from __future__ import annotations

from typing import Any

from bot.channels.teams import cards
from bot.channels.teams.app import TeamsContext
from bot.channels.teams.cards import Field, Form
from bot.channels.teams.cards import execute as card_action
from bot.errors import FieldError, Refusal
from bot.numerals import is_number
from bot.paging import skip_of
from handlers.slack.absence import parse_absence
from handlers.teams.forms import card_values
from handlers.teams.listing import more_items

SET = "absence_set"  # the form's submit
CANCEL = "absence_cancel"  # a remove button (data: nr)
VERBS = frozenset({SET, CANCEL})


def absence_form(ctx: TeamsContext, person_id: str) -> Form:
    """The fields of the Slack modal: whose absence (for distributors), from, to, stand-in."""
    service = ctx.core.absences
    directory = ctx.core.directory
    today = service.today().isoformat()
    people = [(p, directory.name(p)) for p in service.managed_people(person_id)]
    fields: list[Field] = []
    if len(people) > 1:
        fields.append(Field("franvaro_person", "choice", people[:100], value=person_id, required=True))
    fields += [
        Field("franvaro_fran", "date", value=today, required=True),
        Field("franvaro_till", "date", value=today, required=True),
        Field("ersattare", "choice", [(p, directory.name(p)) for p in service.stand_in_choices(person_id)][:100]),
    ]
    return Form("absence", SET, fields)


async def absence_card(ctx: TeamsContext, person_id: str, notice: str | None = None, page: int = 1) -> dict[str, Any]:
    """A page of the listing (remove buttons; which ones it shows and a button to the next page, `frånvaro
    sida=N`) above the form."""
    core = ctx.core
    nonce = cards.new_nonce()
    listing = await core.absences.listing(person_id, skip=skip_of(page))
    message = core.outbox.describe("absence_list", recipient_id=person_id, listing=listing)
    body: list[dict[str, Any]] = []
    if notice:
        body.append(cards.plain(notice, weight="bolder"))
    body.append(cards.plain(message.title, weight="bolder"))
    for line, absence in zip(message.lines, listing.absences, strict=False):
        remove = card_action(core.renderer.macro("teams", "absence_remove"), CANCEL,
                               {"nr": absence.id, "card": nonce}, style="destructive")
        body.append({"type": "Container", "separator": True,
                     "items": [cards.line_block(line), {"type": "ActionSet", "actions": [remove]}]})
    body.extend(more_items(core.renderer, listing.page, "frånvaro", "frånvaro", [] if page == 1 else [f"sida={page}"]))
    form = cards.form_card(core.renderer, absence_form(ctx, person_id), nonce=nonce)
    body.extend(form["body"])
    return cards.card(body, form.get("actions"))


async def execute(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    core = ctx.core
    if verb == CANCEL:
        raw = str(data.get("nr") or "")
        if not is_number(raw):
            raise Refusal("absence_not_found", nr=raw[:10])
        removed = await core.absences.cancel(person_id, int(raw))
        ctx.after_change()
        notice = core.outbox.describe("absence_cancel_done", recipient_id=person_id, absence=removed).title
        return await absence_card(ctx, person_id, notice)
    form, errors = parse_absence(card_values(data))
    if errors or form.start is None or form.end is None:
        raise FieldError(errors)
    absence = await core.absences.mark(person_id, form.start, form.end, person_id=form.person,
                                       stand_in_id=form.stand_in)
    ctx.after_change()
    message = core.outbox.describe("absence_receipt", recipient_id=person_id, absence=absence)
    return cards.message_card(core.renderer, message, cards.new_nonce())


async def answer(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    """One absence card action, claimed once (a double click is answered "already done"); field errors and
    a refused stand-in back on the form, other refusals as text."""
    if not await ctx.store.claim(key, verb):
        return cards.text_card(ctx.core.renderer.macro("teams", "already", ref=None))
    try:
        return await execute(ctx, person_id, verb, data)
    except FieldError as exc:
        await ctx.store.release(key)
        errors = ctx.core.renderer.field_errors(exc)
        return cards.form_card_again(ctx.core.renderer, absence_form(ctx, person_id), data, errors)
    except Refusal as exc:
        await ctx.store.release(key)
        text = ctx.core.renderer.refusal(exc)
        if verb == SET:
            field = "ersattare" if exc.code.startswith("absence_stand_in") else "franvaro_till"
            return cards.form_card_again(ctx.core.renderer, absence_form(ctx, person_id), data, {field: text})
        return cards.text_card(text)
    except BaseException:
        await ctx.store.release(key)
        raise
