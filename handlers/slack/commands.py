"""Slash commands: /gfi opens the request form; /brist opens the brist-i-samverkan report form."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.context import SlackContext
from bot.channels.slack.markup import escape
from bot.channels.slack.views import render_view
from handlers.slack.common import after_ack, bind, open_form, unknown_user_text

log = logging.getLogger("handlers.slack.commands")


def request_form(ctx: SlackContext, person_id: str) -> dict[str, Any]:
    """The /gfi modal for one requester: other units to choose from, contact prefilled from the directory."""
    core = ctx.core
    person = core.directory.people[person_id]
    units = [(u.id, u.name) for u in core.directory.units.values() if u.id != person.unit]
    all_units = [(u.id, u.name) for u in core.directory.units.values()]
    valid_until = core.cases.today() + timedelta(days=core.settings.consent_default_days)
    # who may have obtained the consent: the requester first, then the colleagues of the same unit
    people = [(p.id, p.name) for p in core.directory.staff_of(person.unit) if p.id != person_id]
    return render_view(core.renderer,
        "slack_request", units=units, all_units=all_units, contact=core.cases.default_contact(person_id),
        valid_until=valid_until.isoformat(), default_days=core.settings.consent_default_days,
        people=[(person_id, person.name), *people], requester=person_id,
    )


def request_view(ctx: SlackContext, person_id: str) -> dict[str, Any]:
    """`request_form`, rendered once per person, directory version and day (`ViewCache`): it depends on nothing
    else (the day: the consent's default end)."""
    core = ctx.core
    return ctx.views.get(core.directory.tables, core.cases.today(), ("gfi_request", person_id),
                         lambda: request_form(ctx, person_id))


async def gfi(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
    """/gfi: ack at once (answered as the listener returns), then the form (`open_request`) as a task."""
    await ack()
    after_ack(ctx, open_request(ctx, body, client, respond), "command.gfi", ack=ack, body=body, client=client,
              respond=respond)


async def open_request(ctx: SlackContext, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
    """After /gfi's ack: drop retries, find the person (maybe asking Slack) and open the form."""
    user_id = str(body.get("user_id") or "")
    trigger_id = body.get("trigger_id")
    if not trigger_id or not await ctx.claim(f"cmd:gfi:{trigger_id}", "command"):
        return
    person_id = await ctx.identity.person_for(user_id)
    if person_id is None:
        await respond(text=escape(unknown_user_text(ctx)), response_type="ephemeral")
        return
    await open_form(ctx, client, trigger_id=trigger_id, view=request_view(ctx, person_id), user_id=user_id,
                    channel_id=body.get("channel_id"))


async def brist(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
    """/brist: ack at once (answered as the listener returns), then the report form (`open_brist`) as a task."""
    await ack()
    after_ack(ctx, open_brist(ctx, body, client, respond), "command.brist", ack=ack, body=body, client=client,
              respond=respond)


async def open_brist(ctx: SlackContext, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
    """After /brist's ack: drop retries, find the person and open the report form."""
    from handlers.slack.brister import brist_form

    user_id = str(body.get("user_id") or "")
    trigger_id = body.get("trigger_id")
    if not trigger_id or not await ctx.claim(f"cmd:brist:{trigger_id}", "command"):
        return
    if await ctx.identity.person_for(user_id) is None:
        await respond(text=escape(unknown_user_text(ctx)), response_type="ephemeral")
        return
    await open_form(ctx, client, trigger_id=trigger_id, view=brist_form(ctx), user_id=user_id,
                    channel_id=body.get("channel_id"))


def register(app: AsyncApp, ctx: SlackContext) -> None:
    """Wire the slash commands. Each acks and leaves the rest to a task of its own, so the HTTP front door hands
    commands to the app that answers when the listener returns (`bot.channels.slack.front_door.bolt_endpoint`)."""
    app.command("/gfi")(bind(ctx, gfi, "command", "command.gfi"))
    app.command("/brist")(bind(ctx, brist, "command", "command.brist"))
