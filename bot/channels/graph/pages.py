"""`GET /a/<token>` (a small Swedish confirmation page) and `POST /a/<token>` (do it), served by the bot.

The page needs no scripts and reads on a phone. The action goes through the same services as a button,
with the person the link was made for as the actor, so it passes the same authorisation and is audited
the same way. Every refused link (tampered, expired, used, foreign) changes nothing, gets a clear page,
and is audited as `link` with result `refused` and the reason code; under a flood of refused links from
anonymous clients, `edge.py` rate-limits per address and audits the excess in aggregate (bounded).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from aiohttp import web

from bot import audit
from bot.cases import access, offers
from bot.channels.graph.edge import LinkGate, Summary
from bot.channels.graph.links import PATH, LinkClaim, LinkRefused, LinkSigner, mark_used
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
        for key in ("claim", "label", "reason_text", "outcome", "people", "person", "used_at", "awaited", "code"):
            ctx.setdefault(key, None)
        ctx.setdefault("chats", [])
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
        return self._page(status, state="refused", code=code, claim=claim, reason_text=reason_text, used_at=used_at)

    async def _used_at(self, claim: LinkClaim) -> datetime | None:
        async with self.core.db.transaction() as tx:
            used_at = await graph_store.link_used_at(tx, claim.token_id)
        return None if used_at is None else datetime.fromisoformat(used_at)

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
        used_at = await self._used_at(claim)
        if used_at is not None:
            return await self._refused("used", claim, address=address, used_at=used_at)
        return claim

    async def get(self, request: web.Request) -> web.Response:
        """The confirmation page, saying what the action will do; or, when the same rules as a button would
        refuse it now (done already, a follow-up that does not exist, someone outside the case), why, with no
        button. Nothing changes on GET (mail scanners follow links), and a refusal by the rules is not
        audited: nothing was tried."""
        claim = await self._claim(request)
        if isinstance(claim, web.Response):
            return claim
        try:
            detail = await self._preview(claim)
        except Refusal as refusal:
            shown = await self._masked(claim, refusal)
            return self._page(409, state="refused", code="rules", claim=claim,
                              reason_text=self.core.renderer.refusal(shown))
        return self._page(200, state="confirm", claim=claim, label=LABELS[claim.action],
                          person=self.core.directory.name(claim.person_id), chats=self._chats(claim.person_id),
                          **detail)

    async def _masked(self, claim: LinkClaim, refusal: Refusal) -> Refusal:
        """Outside the case: the same answer as for a case that does not exist (as on every channel)."""
        return await access.masked(self.core.db, self.core.cases.load, self.core.directory, claim.person_id, refusal)

    async def _preview(self, claim: LinkClaim) -> dict[str, Any]:
        """What the action would do now (whom a reminder goes to, what is taken over); Refusal when the same
        rules as a button would refuse it (asked of bot.ladder and bot.cases.offers, not decided here)."""
        core, pid = self.core, claim.person_id
        if claim.action in ("take_over", "nudge") and claim.item is not None:
            item = await core.ladder.answerable(pid, claim.item)
            if claim.ref and item.case_ref != claim.ref:
                raise Refusal("not_on_ladder", ref=claim.ref)
            if claim.action == "take_over":
                core.ladder.check_take_over(item, pid)
            people = item.ladder.rungs[0].present(core.directory, core.clock.now())
            return {"people": [core.directory.name(p) for p in people], "awaited": item.kind.value}
        if claim.ref is None or claim.action == "open":
            return {}
        case = await core.cases.get(claim.ref)
        refusal = offers.refusal_now(case, pid, core.directory, claim.action, claim.item)
        if refusal is not None:
            raise refusal
        return {}

    async def post(self, request: web.Request) -> web.Response:
        """Do the action once, as the person the link was made for."""
        claim = await self._claim(request)
        if isinstance(claim, web.Response):
            return claim
        async with self.core.db.transaction() as tx:
            first = await mark_used(tx, claim, self.core.clock.now())
        if not first:
            return await self._refused("used", claim, used_at=await self._used_at(claim))
        try:
            outcome, detail = await self._perform(claim)
        except Refusal as refusal:  # the same rules as a button: e.g. not this person's case, or done already
            code = "foreign" if refusal.code.startswith("not_") else "rules"
            shown = await self._masked(claim, refusal)  # the audit keeps the real reason
            async with self.core.db.transaction() as tx:  # nothing happened: a used link is one that worked
                await graph_store.forget_link_use(tx, claim.token_id)
            return await self._refused(code, claim, self.core.renderer.refusal(shown), refusal=refusal.code)
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
