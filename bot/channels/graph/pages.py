"""`GET /a/<token>` (a small Swedish confirmation page) and `POST /a/<token>` (do it), served by the bot.

The page needs no scripts and reads on a phone. The action goes through the same services as a button,
with the person the link was made for as the actor, so it passes the same authorisation and is audited
the same way. Every refused link (tampered, expired, used, foreign) changes nothing, gets a clear page,
and is audited as `link` with result `refused` and the reason code; under a flood of refused links from
anonymous clients, `edge.py` rate-limits per address and audits the excess in aggregate (bounded).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from aiohttp import web

from bot import audit
from bot.channels.graph.edge import LinkGate, Summary
from bot.channels.graph.links import PATH, LinkClaim, LinkRefused, LinkSigner, mark_used, was_used
from bot.channels.graph.mail import LABELS
from bot.channels.graph.templates import GraphTemplates
from bot.errors import Refusal
from bot.store import graph as graph_store

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
}


class LinkPages:
    """The handlers; mount with `add_routes(app)`."""

    def __init__(self, core: Core, signer: LinkSigner, templates: GraphTemplates) -> None:
        self.core = core
        self.signer = signer
        self.templates = templates
        self.gate = LinkGate()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(PATH + "{token}", self.get)
        app.router.add_post(PATH + "{token}", self.post)

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
        if not self.gate.limited(_address(request)):
            return None
        response = self._page(429, state="limited")
        response.headers["Retry-After"] = str(self.gate.retry_after(self.core.clock.now()))
        return response

    def _page(self, status: int, **ctx: Any) -> web.Response:
        for key in ("claim", "label", "reason_text", "outcome", "people", "person"):
            ctx.setdefault(key, None)
        ctx.setdefault("chats", [])
        ctx.setdefault("links", self._links())
        html = self.templates.render("graph_link_page.html.j2", **ctx)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)

    async def _refused(self, code: str, claim: LinkClaim | None, reason_text: str | None = None,
                       address: str | None = None, **detail: Any) -> web.Response:
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
        return self._page(status, state="refused", code=code, claim=claim, reason_text=reason_text)

    async def _claim(self, request: web.Request) -> LinkClaim | web.Response:
        limited = await self._limited(request)
        if limited is not None:
            return limited
        address = _address(request)
        try:
            claim = self.signer.check(request.match_info["token"], self.core.clock.now())
        except LinkRefused as exc:
            return await self._refused(exc.code, exc.claim, address=address)
        if self.core.directory.person(claim.person_id) is None:
            return await self._refused("foreign", claim, address=address)
        async with self.core.db.transaction() as tx:
            used = await was_used(tx, claim)
        if used:
            return await self._refused("used", claim, address=address)
        return claim

    async def get(self, request: web.Request) -> web.Response:
        """The confirmation page (nothing changes on GET: mail scanners follow links)."""
        claim = await self._claim(request)
        if isinstance(claim, web.Response):
            return claim
        return self._page(200, state="confirm", claim=claim, label=LABELS[claim.action],
                          person=self.core.directory.name(claim.person_id), chats=self._chats(claim.person_id))

    async def post(self, request: web.Request) -> web.Response:
        """Do the action once, as the person the link was made for."""
        claim = await self._claim(request)
        if isinstance(claim, web.Response):
            return claim
        async with self.core.db.transaction() as tx:
            first = await mark_used(tx, claim, self.core.clock.now())
        if not first:
            return await self._refused("used", claim)
        try:
            outcome, detail = await self._perform(claim)
        except Refusal as refusal:  # the same rules as a button: e.g. not this person's case, or done already
            code = "foreign" if refusal.code.startswith("not_") else "rules"
            return await self._refused(code, claim, self.core.renderer.refusal(refusal), refusal=refusal.code)
        except Exception:
            log.exception("link action failed", extra={"event": "link.failed", "case_ref": claim.ref})
            async with self.core.db.transaction() as tx:  # nothing happened: the link may be tried again
                await graph_store.forget_link_use(tx, claim.token_id)
            return self._page(500, state="error", claim=claim)
        async with self.core.db.transaction() as tx:
            await audit.record(tx, at=self.core.clock.now(), actor_id=claim.person_id, action="link",
                               case_ref=claim.ref, link_action=claim.action, item=claim.item, outcome=outcome)
        await self.core.dispatcher.run_once()
        return self._page(200, state="done", claim=claim, outcome=outcome, label=LABELS[claim.action],
                          chats=self._chats(claim.person_id), **detail)

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

    async def _perform(self, claim: LinkClaim) -> tuple[str, dict[str, Any]]:
        core, pid = self.core, claim.person_id
        if claim.action == "acknowledge" and claim.ref:
            await core.cases.acknowledge(pid, claim.ref)
            return "acknowledged", {}
        if claim.action == "complete_follow_up" and claim.ref and claim.item is not None:
            await core.cases.complete_follow_up(pid, claim.ref, claim.item)
            return "completed", {}
        if claim.action == "accept_follow_up" and claim.ref and claim.item is not None:
            await core.cases.accept_follow_up(pid, claim.ref, claim.item)
            return "accepted", {}
        if claim.action in ("take_over", "nudge") and claim.item is not None:
            item = await core.ladder.answerable(pid, claim.item)
            if claim.ref and item.case_ref != claim.ref:
                raise Refusal("not_on_ladder", ref=claim.ref)
            if claim.action == "nudge":
                nudged = await core.ladder.nudge(pid, claim.item)
                return "nudged", {"people": [core.directory.name(p) for p in nudged]}
            result = await core.ladder.take_over(pid, claim.item)
            return f"take_over_{result.action}", {}
        if claim.action == "open":
            return "open", {}
        raise Refusal("link_incomplete", ref=claim.ref)


def _address(request: web.Request) -> str:
    """The client's address as the TCP peer (behind a proxy: the proxy; see edge.py)."""
    return request.remote or "?"
