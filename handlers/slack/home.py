"""App Home and the Messages tab: the Home tab is published when the person opens it (and after changes, by
the HomeRefresher); a direct message to the bot is answered with what the bot can do."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.context import SlackContext
from bot.channels.slack.sender import message_payload
from bot.channels.slack.views import render_view
from handlers.slack.common import bind, unknown_user_text

log = logging.getLogger("handlers.slack.home")


async def home_opened(ctx: SlackContext, ack: Any, body: dict[str, Any], event: dict[str, Any],
                      client: AsyncWebClient) -> None:
    """Publish the opener's Home tab (once per event: Slack retries are dropped)."""
    await ack()
    if event.get("tab") not in (None, "home"):
        return
    event_id = str(body.get("event_id") or "")
    if not event_id or not await ctx.claim(f"event:{event_id}", "event"):
        return  # Slack's retry of an event already handled
    user_id = str(event.get("user") or "")
    person_id = await ctx.identity.person_for(user_id)
    if person_id is None:
        view = render_view(ctx.core.renderer, "slack_unknown_home", text=unknown_user_text(ctx))
        await client.views_publish(user_id=user_id, view=view)
        return
    await ctx.homes.publish(person_id, user_id)


def is_person_writing_to_bot(event: dict[str, Any]) -> bool:
    """A new message a person wrote in their DM with the bot (not the bot's own, not an edit or a join)."""
    return (event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id")
            and bool(event.get("user")) and bool(event.get("channel")))


async def direct_message(ctx: SlackContext, ack: Any, body: dict[str, Any], event: dict[str, Any],
                         client: AsyncWebClient) -> None:
    """Someone wrote to the bot: answer (once) with what the bot can do. What they wrote is not read,
    kept or logged."""
    await ack()
    if not is_person_writing_to_bot(event):
        return
    event_id = str(body.get("event_id") or "")
    if not event_id or not await ctx.claim(f"event:{event_id}", "event"):
        return
    coordinators = [p.id for p in ctx.core.directory.coordinators()]
    text = ctx.core.renderer.render("slack_help", coordinators=coordinators)
    await client.chat_postMessage(channel=str(event["channel"]), **message_payload(text, None))
    log.info("direct message answered", extra={"event": "slack.dm_help"})


def register(app: AsyncApp, ctx: SlackContext) -> None:
    """Wire the App Home events."""
    app.event("app_home_opened")(bind(ctx, home_opened, "event", "event.app_home_opened"))
    app.event("message")(bind(ctx, direct_message, "event", "event.message"))
