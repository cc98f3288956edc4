"""Typeahead answers (`block_suggestion`, thin): the options of a long units list as the person types.

Only the units fields become typeaheads (bot/channels/slack/typeahead.py), and only a person the directory knows
gets options; the answer is what the static list would have held, filtered by what was typed."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.channels.slack import typeahead
from bot.channels.slack.context import SlackContext
from handlers.slack.common import bind


async def suggest(ctx: SlackContext, ack: Any, body: dict[str, Any]) -> None:
    """Answer with at most 100 matching units; nothing for an unknown person or another field."""
    user_id = str((body.get("user") or {}).get("id") or "")
    person_id = await ctx.identity.cached_person_for(user_id) if user_id else None
    if person_id is None or body.get("block_id") not in typeahead.UNIT_BLOCKS:
        await ack(options=[])
        return
    query = body.get("value")
    await ack(options=typeahead.unit_options(ctx.core.directory, query if isinstance(query, str) else ""))


def register(app: AsyncApp, ctx: SlackContext) -> None:
    app.options("v")(bind(ctx, suggest, "options", "options.units"))
