"""Brister i samverkan in Teams (thin): `brist` in the chat opens the report form as a card; its submission
files the report with the same field errors as Slack and the console; the buttons of the brist messages record
the measures or the dialogue's outcome (a form on the card), close the report or show it. Rules are the
report service's (`bot/brister/rules.py`): a forged reference is refused there and changes nothing."""

from __future__ import annotations

from typing import Any

from bot.brister.models import parse_brist_ref
from bot.brister.rules import BristAction, authorize
from bot.brister.service import BristService
from bot.channels.teams import cards
from bot.channels.teams.app import TeamsContext
from bot.channels.teams.cards import Field, Form
from bot.errors import FieldError, Refusal
from bot.messages import actions
from handlers.slack.brist_forms import parse_brist, parse_brist_text
from handlers.teams.answers import submitted_once
from handlers.teams.forms import UNITS

FILE = "brist_file"  # the report form's submit (not an offered action, like "request")
IMMEDIATE_VERBS = frozenset({actions.BRIST_CLOSE, actions.BRIST_OPEN})
FORM_VERBS = frozenset({actions.BRIST_MEASURES, actions.BRIST_DIALOGUE})
VERBS = IMMEDIATE_VERBS | FORM_VERBS | {FILE}
TEXT_FIELD = {actions.BRIST_MEASURES: "atgarder", actions.BRIST_DIALOGUE: "dialog"}
TEXT_RULE = {actions.BRIST_MEASURES: BristAction.RECORD_MEASURES, actions.BRIST_DIALOGUE: BristAction.RECORD_DIALOGUE}
LISTS = ("berorda", "orsaker")


def service(ctx: TeamsContext) -> BristService:
    return ctx.core.brister


def report_form(ctx: TeamsContext) -> Form:
    """The report form: the fields of the Slack modal and the console's /brist."""
    core = ctx.core
    units = [(u.id, u.name) for u in core.directory.units.values()]
    return Form("brist", FILE, [
        Field("berorda", "choices", units, required=True, dataset=UNITS),
        Field("orsaker", "choices", list(core.renderer.labels.CAUSES.items()), required=True, expanded=True),
        Field("handelse", "multiline", max_length=2000, required=True),
        Field("atgarder", "multiline", max_length=2000),
        Field("dialog", "multiline", max_length=2000),
        Field("datum", "date", value=service(ctx).today().isoformat(), required=True),
        Field("arende", "text", max_length=20),
    ])


def text_form(verb: str, ref: str, current: str | None) -> Form:
    """Record the measures or the dialogue's outcome (the field keeps what is recorded already)."""
    return Form(verb, verb, [Field(TEXT_FIELD[verb], "multiline", value=current, max_length=2000, required=True)],
                ref=ref)


def report_values(data: dict[str, Any]) -> dict[str, Any]:
    """Card inputs → the values `parse_brist` takes (a multi-select arrives as "a,b")."""
    values = {k: v for k, v in data.items() if k not in ("ref", "item", "card", "submit")}
    for key in LISTS:
        raw = values.get(key)
        values[key] = [v for v in raw.split(",") if v] if isinstance(raw, str) else raw
    return values


def ref_of(data: dict[str, Any]) -> str:
    ref = parse_brist_ref(str(data.get("ref") or ""))
    if ref is None:
        raise Refusal("brist_not_found", ref=str(data.get("ref") or "")[:20])
    return ref


async def file(ctx: TeamsContext, person_id: str, data: dict[str, Any]) -> dict[str, Any]:
    form, parse_errors = parse_brist(report_values(data))
    if parse_errors:
        raise FieldError(parse_errors)
    report = await service(ctx).file(person_id, form)
    ctx.after_change()
    return cards.text_card(ctx.core.renderer.macro("brister", "filed", report=report))


async def execute(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    """Answer one brist verb with the card to show (FieldError and Refusal are the caller's to show)."""
    renderer = ctx.core.renderer
    if verb == FILE:
        return await file(ctx, person_id, data)
    ref = ref_of(data)
    if verb == actions.BRIST_OPEN:
        report = await service(ctx).get(person_id, ref)
        return cards.text_card(renderer.macro("brister", "report_text", r=report))
    if verb == actions.BRIST_CLOSE:
        report = await service(ctx).close(person_id, ref)
        ctx.after_change()
        return cards.text_card(renderer.macro("brister", "changed", report=report, change="closed"))
    if not data.get("submit"):
        report = await service(ctx).get(person_id, ref)
        authorize(TEXT_RULE[verb], report, person_id, ctx.core.directory)
        current = report.measures if verb == actions.BRIST_MEASURES else report.dialogue
        return cards.form_card(renderer, text_form(verb, ref, current), nonce=cards.new_nonce())
    key = TEXT_FIELD[verb]
    text, parse_errors = parse_brist_text({"text": data.get(key)}, key)
    if parse_errors:
        raise FieldError(parse_errors)
    if verb == actions.BRIST_MEASURES:
        report = await service(ctx).record_measures(person_id, ref, text)
    else:
        report = await service(ctx).record_dialogue(person_id, ref, text)
    ctx.after_change()
    change = "measures" if verb == actions.BRIST_MEASURES else "dialogue"
    return cards.text_card(renderer.macro("brister", "changed", report=report, change=change))


def form_again(ctx: TeamsContext, verb: str, data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The same form with the user's values kept and the errors under their fields."""
    form = report_form(ctx) if verb == FILE else text_form(verb, str(data.get("ref") or ""), None)
    return cards.form_card_again(ctx.core.renderer, form, data, errors)


async def answer(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    """One brist card action end to end: claimed once when it changes something (a double click or a
    redelivered invoke is answered "already done"), field errors back on the form, refusals as text."""
    changes = verb == FILE or verb == actions.BRIST_CLOSE or bool(data.get("submit"))
    return await submitted_once(ctx, key, verb, changes, data.get("ref"), lambda: execute(ctx, person_id, verb, data),
                                lambda errors: form_again(ctx, verb, data, errors))
