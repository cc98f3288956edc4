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
) -> AsyncApp:
    """An AsyncApp on `client` (which owns the bot token and the API base URL).

    The signing secret defaults to SLACK_SIGNING_SECRET from the settings. The token is deliberately
    passed in the client, not as `token=`, so that the client's base_url (SLACK_API_URL) is used.
    Pass `context` to share a SlackContext (identities, Home refresh) with the caller.
    """
    secret = signing_secret
    if secret is None and core.settings.slack_signing_secret is not None:
        secret = core.settings.slack_signing_secret.get_secret_value()
    app = AsyncApp(
        client=client,
        signing_secret=secret,
        logger=logging.getLogger("slack_bolt"),
        request_verification_enabled=True,
        process_before_response=False,
    )
    register(app, core, context or SlackContext(core, client))
    return app
