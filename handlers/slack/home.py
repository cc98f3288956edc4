"""App Home: published when the person opens it (and after changes, by the HomeRefresher)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.context import SlackContext
from handlers.slack.common import guarded, unknown_user_text

log = logging.getLogger("handlers.home")


def register(app: AsyncApp, ctx: SlackContext) -> None:
    @app.event("app_home_opened")
    @guarded("event.app_home_opened")
    async def home_opened(ack: Any, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if event.get("tab") not in (None, "home"):
            return
        event_id = str(body.get("event_id") or "")
        if not event_id or not await ctx.claim(f"event:{event_id}", "event"):
            return  # Slack's retry of an event already handled
        user_id = str(event.get("user") or "")
        person_id = await ctx.identity.person_for(user_id)
        if person_id is None:
            view = ctx.core.renderer.view("slack_unknown_home", text=unknown_user_text(ctx))
            await client.views_publish(user_id=user_id, view=view)
            return
        await ctx.homes.publish(person_id, user_id)
