"""The link pages' door (`pages.py` builds on it): which links pass (signed, not expired, not used, for a person
in the directory; an address past its refused links is held back, `edge.py`), the page of a refused link and
its audit row, and the page's shell (headers, the person's chats and deep links). Nothing here acts on a case.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from aiohttp import web

from bot import audit
from bot.channels.graph.edge import LinkGate, Summary
from bot.channels.graph.links import LinkClaim, LinkRefused, LinkSigner
from bot.channels.graph.templates import GraphTemplates
from bot.store import graph as graph_store

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger("bot.channels.graph.pages")

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
}


class LinkDoor:
    """What every link page does before and around its action: check the link, refuse it with a page (and an
    audit row), render the page."""

    def __init__(self, core: Core, signer: LinkSigner, templates: GraphTemplates) -> None:
        self.core = core
        self.signer = signer
        self.templates = templates
        self.gate = LinkGate()

    async def flush(self) -> None:
        """Close the refused-links window when it is over and write its aggregate audit row (a sweep, so a
        window's count is written even when no further link comes)."""
        summary = self.gate.roll(self.core.clock.now())
        if summary is not None:
            await self._audit_summary(summary)

    async def _audit_summary(self, summary: Summary) -> None:
        async with self.core.db.transaction() as tx:
            await audit.record(tx, at=self.core.clock.now(), actor_id="link:unknown", action="link",
                               result="refused", reason="aggregate", window_start=summary.start.isoformat(),
                               refused=summary.refused, addresses=summary.addresses,
                               not_audited=summary.not_audited, limited=summary.limited)
        log.warning("refused links in aggregate", extra={
            "event": "link.refused_aggregate", "refused": summary.refused, "addresses": summary.addresses,
            "not_audited": summary.not_audited, "limited": summary.limited})

    async def _limited(self, request: web.Request) -> web.Response | None:
        """429 for an address past its refused links in this window (nothing checked, nothing written)."""
        await self.flush()
        if not self.gate.limited(address_of(request)):
            return None
        response = self._page(429, state="limited")
        response.headers["Retry-After"] = str(self.gate.retry_after(self.core.clock.now()))
        return response

    def _page(self, status: int, **ctx: Any) -> web.Response:
        for key in ("claim", "label", "reason_text", "outcome", "people", "person", "used_at", "awaited", "code",
                    "case_text", "case", "renew", "where", "already", "proposal",
                    "draft", "forum"):
            ctx.setdefault(key, None)
        for key in ("chats", "fields", "next_links", "history"):
            ctx.setdefault(key, [])
        ctx.setdefault("links", self._links())
        html = self.templates.render("graph_link_page.html.j2", **ctx)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)

    async def _refused(self, code: str, claim: LinkClaim | None, reason_text: str | None = None,
                       address: str | None = None, used_at: datetime | None = None, **detail: Any) -> web.Response:
        """A refused link's page. With `address` (a link refused before any action: counted by the gate), it
        is audited on its own only while the window's budget lasts; otherwise always."""
        if address is None or self.gate.refused(address):
            async with self.core.db.transaction() as tx:
                await audit.record(
                    tx, at=self.core.clock.now(), actor_id=claim.person_id if claim else "link:unknown",
                    action="link", result="refused", case_ref=claim.ref if claim else None, reason=code,
                    link_action=claim.action if claim else None, **detail,
                )
            log.warning("link refused", extra={"event": "link.refused", "reason": code,
                                               "case_ref": claim.ref if claim else None})
        status = {"tampered": 400, "unknown_action": 400, "expired": 410, "used": 410}.get(code, 403)
        renew = code == "expired" and claim is not None and self.core.directory.person(claim.person_id) is not None
        return self._page(status, state="refused", code=code, claim=claim, reason_text=reason_text, used_at=used_at,
                          renew=renew, where=self._where(claim.person_id) if renew and claim else None)

    async def _used_at(self, claim: LinkClaim) -> datetime | None:
        async with self.core.db.transaction() as tx:
            used_at = await graph_store.link_used_at(tx, claim.token_id)
        return None if used_at is None else datetime.fromisoformat(used_at)

    async def _claim(self, request: web.Request) -> LinkClaim | web.Response:
        limited = await self._limited(request)
        if limited is not None:
            return limited
        address = address_of(request)
        try:
            claim = self.signer.check(request.match_info["token"], self.core.clock.now())
        except LinkRefused as exc:
            return await self._refused(exc.code, exc.claim, address=address)
        if self.core.directory.person(claim.person_id) is None:
            return await self._refused("foreign", claim, address=address)
        used_at = await self._used_at(claim)
        if used_at is not None:
            return await self._refused("used", claim, address=address, used_at=used_at)
        return claim

    def _where(self, person_id: str) -> str:
        """Where the person's messages go, in words ("din e-post", "Slack", "Teams")."""
        person = self.core.directory.person(person_id)
        channel = person.channel.value if person else "email"
        return {"slack": "Slack", "teams": "Teams"}.get(channel, "din e-post")

    def _chats(self, person_id: str) -> list[str]:
        person = self.core.directory.person(person_id)
        out = []
        if person and person.slack_user_id:
            out.append("Slack")
        if person and person.m365_upn and person.channel.value in ("teams", "m365"):
            out.append("Teams")
        return out

    def _links(self) -> dict[str, str]:
        """Deep links that open the bot in Slack (App Home) and Teams (the 1:1 chat), when their ids are set."""
        settings = self.core.settings
        links: dict[str, str] = {}
        if settings.slack_team_id and settings.slack_app_id:
            query = urlencode({"team": settings.slack_team_id, "id": settings.slack_app_id, "tab": "home"})
            links["Slack"] = f"slack://app?{query}"
        if settings.teams_app_id:
            links["Teams"] = "https://teams.microsoft.com/l/chat/0/0?users=28:" + quote(settings.teams_app_id, safe="")
        return links


def address_of(request: web.Request) -> str:
    """The client's address as the TCP peer (behind a proxy: the proxy; see edge.py)."""
    return request.remote or "?"
