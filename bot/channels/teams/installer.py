"""Installs the Teams app for a person who never opened the bot (Graph, app-only), so the bot can write to them.

`POST /users/{id}/teamwork/installedApps` binds the app from the organisation's catalog (`TEAMS_CATALOG_APP_ID`);
the installation is then looked up and `GET …/installedApps/{installationId}/chat` gives the 1:1 chat's id.
Graph's 403 (installing not permitted for this user or tenant) is a refusal: the message goes by e-mail instead.
"""

from __future__ import annotations

import logging

from bot.channels.graph.client import GraphClient
from bot.channels.teams.sender import InstallError
from bot.config import Settings
from bot.core import Core
from bot.dispatcher import DeliveryError

log = logging.getLogger(__name__)


def install_error(exc: DeliveryError) -> InstallError:
    """A Graph DeliveryError ("graph:install:http_403") as an InstallError with a short reason ("http_403")."""
    reason = exc.reason.split(":", 2)[-1] if exc.reason.startswith("graph:") else exc.reason
    return InstallError(reason, permanent=exc.permanent, refused=reason == "http_403",
                        retry_after=exc.retry_after)


class GraphChatInstaller:
    """A `ChatInstaller` on the bot's Graph client."""

    def __init__(self, graph: GraphClient, catalog_app_id: str) -> None:
        self.graph = graph
        self.catalog_app_id = catalog_app_id

    async def install(self, user: str) -> str:
        """Install the app for `user` (object id or UPN) and return the chat id; InstallError otherwise."""
        try:
            await self.graph.install_teams_app(user, self.catalog_app_id)
            chat_id = await self.graph.teams_app_chat(user, self.catalog_app_id)
        except DeliveryError as exc:
            raise install_error(exc) from None
        if chat_id is None:  # installed a moment ago and not listed yet: try again later
            raise InstallError("no_chat", permanent=False)
        log.info("teams app installed through graph", extra={"event": "teams.graph_installed"})
        return chat_id


def chat_installer(core: Core, settings: Settings) -> GraphChatInstaller | None:
    """The installer on the running bot's Graph client (the "email" sender's), when Graph is configured and the
    app's catalog id is set; None (logged) otherwise: a person who never opened the bot then gets e-mail."""
    from bot.channels.graph.sender import EmailSender

    email = core.dispatcher.senders.get("email")
    if not settings.teams_catalog_app_id or not isinstance(email, EmailSender):
        log.info("teams app not installable through graph", extra={
            "event": "teams.no_installer", "catalog": bool(settings.teams_catalog_app_id),
            "graph": isinstance(email, EmailSender)})
        return None
    return GraphChatInstaller(email.graph, settings.teams_catalog_app_id)
