"""Microsoft Graph channel (issue #9): Outlook events for GFI meetings, e-mail, signed action links,
free/busy suggestions. `GraphChannel.attach(core)` wires it into a running core; see deploy/M365.md."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import Settings

if TYPE_CHECKING:
    from aiohttp import web

    from bot.cases.models import Case
    from bot.channels.graph.client import GraphClient
    from bot.channels.graph.links import LinkSigner
    from bot.core import Core

log = logging.getLogger(__name__)

EMAIL = "email"


class GraphChannel:
    """The Graph channel of one running bot: e-mail and calendar senders, the calendar hook, link pages."""

    def __init__(self, graph: GraphClient | None, signer: LinkSigner | None) -> None:
        self.graph = graph
        self.signer = signer
        self.core: Core | None = None

    @classmethod
    def from_settings(cls, settings: Settings, graph: GraphClient | None = None) -> GraphChannel | None:
        """The channel, or None (logged once) when Graph is not configured: the bot runs without it."""
        from bot.channels.graph.client import GraphClient
        from bot.channels.graph.links import LinkSigner

        signer = None
        if settings.links_configured:
            assert settings.link_secret is not None and settings.public_url
            signer = LinkSigner(settings.link_secret.get_secret_value(), settings.public_url, settings.link_days)
        if not settings.graph_configured:
            log.info("Microsoft Graph not configured: no Outlook events, e-mail or free/busy",
                     extra={"event": "graph.disabled"})
            return cls(None, signer) if signer else None
        if signer is None:
            log.warning("GFI_PUBLIC_URL or GFI_LINK_SECRET missing: e-mail is sent without action links",
                        extra={"event": "graph.no_links"})
        return cls(graph or GraphClient.from_settings(settings), signer)

    def attach(self, core: Core) -> None:
        """Register the senders ("email", "calendar") and the calendar hook on a core."""
        from bot.channels.graph.calendar import CHANNEL, CalendarHook, CalendarSender
        from bot.channels.graph.sender import EmailSender
        from bot.channels.graph.templates import GraphTemplates

        self.core = core
        self.templates = GraphTemplates(core.renderer)
        if self.graph is None:
            return
        core.dispatcher.senders[EMAIL] = EmailSender(self.graph, core.directory, self.templates, core.clock,
                                                     self.signer)
        core.dispatcher.senders[CHANNEL] = CalendarSender(self.graph, core.db, core.directory, self.templates,
                                                          core.clock, core.cases.load, core.settings.timezone)
        core.cases.hooks.append(CalendarHook())
        self.attach_suggestions(core)
        log.info("Microsoft Graph channel on", extra={"event": "graph.enabled", "links": self.signer is not None})

    def attach_suggestions(self, core: Core) -> None:
        """Only the free/busy suggestions (read-only `getSchedule`), e.g. for the console, which delivers
        nothing by e-mail or calendar."""
        from bot.channels.graph.freebusy import suggest

        graph = self.graph
        if graph is None:
            return

        async def finder(case: Case, now: datetime) -> list[datetime]:
            return await suggest(graph, case, core.directory, core.calendar, now)

        core.suggestions.finder = finder

    def add_routes(self, app: web.Application) -> None:
        """Serve the signed action links (`/a/<token>`) when links are configured."""
        from bot.channels.graph.pages import LinkPages

        if self.signer is not None and self.core is not None:
            pages = LinkPages(self.core, self.signer, self.templates)
            pages.add_routes(app)
            self.core.sweeps.append(pages.flush)  # a closed window of refused links gets its aggregate row

    async def close(self) -> None:
        if self.graph is not None:
            await self.graph.close()
