"""The Bolt app factory: `build_app(core, client, register=...)` → AsyncApp with every listener registered.

The listeners live in `handlers.slack`, on top of this adapter: the caller (the CLI) passes their `register`
in, so the adapter never imports the handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.context import SlackContext
from bot.core import Core

log = logging.getLogger(__name__)

# `handlers.slack.register`: wires every listener to the app with the shared context bound.
Register = Callable[[AsyncApp, Core, SlackContext], object]


def build_app(
    core: Core,
    client: AsyncWebClient,
    *,
    register: Register,
    signing_secret: str | None = None,
    context: SlackContext | None = None,
    answer_first: bool = False,
) -> AsyncApp:
    """An AsyncApp on `client` (which owns the bot token and the API base URL).

    The signing secret defaults to SLACK_SIGNING_SECRET from the settings. The token is deliberately
    passed in the client, not as `token=`, so that the client's base_url (SLACK_API_URL) is used.
    Pass `context` to share a SlackContext (identities, Home refresh) with the caller.

    `answer_first`: the app for form submissions and slash commands (`bot.channels.slack.front_door.bolt_endpoint`).
    By default Bolt runs a listener beside the request and looks every 10 ms whether it has acked
    (`process_before_response` off), so an ack waits for the next look: 5 ms on average, and every request in
    flight wakes a hundred times a second to look. A submission's listener answers in its ack and leaves the rest
    to tasks of its own (`handlers.slack.common.answer_in_time`, `SlackContext.after_change`), so the request can
    wait for the listener itself and be answered the moment it returns. A slash command's listener does the same:
    it acks and opens its form in a task of its own (`handlers.slack.common.after_ack`). Clicks, whose listeners
    call Slack after the ack (`views.open`), stay on the default app.
    """
    secret = signing_secret
    if secret is None and core.settings.slack_signing_secret is not None:
        secret = core.settings.slack_signing_secret.get_secret_value()
    app = AsyncApp(
        client=client,
        signing_secret=secret,
        logger=logging.getLogger("slack_bolt"),
        request_verification_enabled=True,
        process_before_response=answer_first,
    )
    register(app, core, context or SlackContext(core, client))
    return app
