"""Frånvaro in Slack (thin): the Home tab's button opens a modal with the absences the person may see (each
with a remove button) and a form to register one; the service decides who may do what (bot/absence)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack import render
from bot.channels.slack.context import SlackContext
from bot.channels.slack.views import render_view
from bot.errors import FieldError, Refusal
from bot.numerals import is_number
from handlers.slack import clicks, forms, views
from handlers.slack.common import Answer, answer_in_time, bind, open_form
from handlers.slack.forms import ErrorMap

log = logging.getLogger("handlers.slack.absence")

CALLBACK = "gfi_absence"
BLOCKS = views.BLOCKS[CALLBACK]


@dataclass
class AbsenceForm:
    start: date | None
    end: date | None
    stand_in: str | None
    person: str | None


def parse_absence(values: dict[str, Any]) -> tuple[AbsenceForm, ErrorMap]:
    """The modal's (or card's) values → the form and parse errors; the service checks the rest."""
    errors: ErrorMap = {}
    start = forms._date(values, "franvaro_fran", errors)
    end = forms._date(values, "franvaro_till", errors)

    def choice(key: str) -> str | None:
        value = values.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            errors[key] = ("wrong_type", {"field": key})
            return None
        return value

    return AbsenceForm(start, end, choice("ersattare"), choice("franvaro_person")), errors


async def absence_view(ctx: SlackContext, person_id: str, notice: str | None = None) -> dict[str, Any]:
    service = ctx.core.absences
    directory = ctx.core.directory
    return render_view(
        ctx.core.renderer, "slack_absence", listing=await service.listing(person_id), person=person_id,
        people=[(p, directory.name(p)) for p in service.managed_people(person_id)],
        stand_ins=[(p, directory.name(p)) for p in service.stand_in_choices(person_id)],
        today=service.today().isoformat(), notice=notice,
    )


async def open_absence(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    """The Home tab's Frånvaro button: the modal."""
    await ack()
    click = clicks.parse_click(body)
    person_id = await ctx.identity.person_for(click.user_id)
    if person_id is None or not click.trigger_id:
        return
    await open_form(ctx, client, trigger_id=click.trigger_id, view=await absence_view(ctx, person_id),
                    user_id=click.user_id, channel_id=click.channel_id)


async def cancel_absence(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    """A Ta bort button in the modal: remove the absence and show the modal again with the result."""
    await ack()
    click = clicks.parse_click(body)
    raw = str(((body.get("actions") or [{}])[0]).get("value") or "")
    view_id = (body.get("view") or {}).get("id")
    if not is_number(raw) or not view_id or not await ctx.claim(click.key, "action"):
        return
    person_id = await ctx.identity.person_for(click.user_id)
    if person_id is None:
        return
    renderer = ctx.core.renderer
    try:
        removed = await ctx.core.absences.cancel(person_id, int(raw))
        message = ctx.core.outbox.describe("absence_cancel_done", recipient_id=person_id, absence=removed)
        notice = render.fallback_text(message)
        ctx.after_change()
    except Refusal as exc:
        notice = renderer.refusal(exc)
    try:
        await client.views_update(view_id=view_id, view=await absence_view(ctx, person_id, notice))
    except SlackApiError as exc:
        log.warning("views.update failed", extra={"event": "slack.views_update_failed",
                                                  "reason": str(exc.response.get("error"))})


async def mark(ctx: SlackContext, person_id: str, values: dict[str, Any], key: str) -> Answer:
    """Register the absence (once per submission): the receipt in place of the form, or errors on the fields."""
    renderer = ctx.core.renderer
    blocks, fallback = BLOCKS
    form, errors = parse_absence(values)
    if errors or form.start is None or form.end is None:
        shown = renderer.field_errors(FieldError(errors))
        return Answer(errors=forms.errors_for_view(shown, blocks, fallback))
    if not await ctx.claim(key, "view"):
        return Answer()
    try:
        absence = await ctx.core.absences.mark(person_id, form.start, form.end, person_id=form.person,
                                               stand_in_id=form.stand_in)
    except Refusal as exc:
        await ctx.release(key)
        field = "ersattare" if exc.code.startswith("absence_stand_in") else fallback
        return Answer(errors={field: renderer.refusal(exc)})
    except BaseException:
        await ctx.release(key)
        raise
    message = ctx.core.outbox.describe("absence_receipt", recipient_id=person_id, absence=absence)
    return Answer(text=render.fallback_text(message), changed=True)


async def submit_absence(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any],
                         client: AsyncWebClient) -> None:
    person_id = await views.who(ctx, ack, body, CALLBACK)
    if person_id is None:
        return
    job = mark(ctx, person_id, forms.view_values(view), views.submission_key(view))
    await answer_in_time(ctx, ack, body, client, job, name=f"view.{CALLBACK}")


def register(app: AsyncApp, ctx: SlackContext) -> None:
    """Wire the Frånvaro button, its remove buttons and the modal's submission."""
    app.action("gfi_absence_open")(bind(ctx, open_absence, "action", "action.gfi_absence_open"))
    app.action("gfi_absence_cancel")(bind(ctx, cancel_absence, "action", "action.gfi_absence_cancel"))
    app.view(CALLBACK)(bind(ctx, submit_absence, "view", f"view.{CALLBACK}"))
