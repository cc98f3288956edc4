"""Slack listeners (thin): module-level functions that ack, parse the payload, call one service method and
render the answer; `register()` only wires them to a Bolt app with the shared context bound."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.channels.slack.context import SlackContext
from bot.core import Core


def register(app: AsyncApp, core: Core, ctx: SlackContext | None = None) -> SlackContext:
    """Register every listener on `app`; returns the shared context (built from `app.client` if not given)."""
    from handlers.slack import absence, actions, brister, commands, home, ladder, samverkan, stats, suggest, views

    if ctx is None:
        ctx = SlackContext(core, app.client)
    commands.register(app, ctx)
    views.register(app, ctx)
    actions.register(app, ctx)
    home.register(app, ctx)
    ladder.register(app, ctx)
    brister.register(app, ctx)
    stats.register(app, ctx)
    absence.register(app, ctx)
    suggest.register(app, ctx)
    samverkan.register(app, ctx)
    return ctx
