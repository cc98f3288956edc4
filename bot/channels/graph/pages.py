"""`GET /a/<token>` (a small Swedish confirmation page) and `POST /a/<token>` (do it), served by the bot.

The page needs no scripts and reads on a phone. The action goes through the same services as a button,
with the person the link was made for as the actor, so it passes the same authorisation and is audited
the same way. Every refused link (tampered, expired, used, foreign) changes nothing, gets a clear page,
and is audited as `link` with result `refused` and the reason code; under a flood of refused links from
anonymous clients, `edge.py` rate-limits per address and audits the excess in aggregate (bounded). Checking
the link, refusing it and the page's shell are `door.py`'s.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot import audit
from bot.cases import access
from bot.channels.graph import forms, steps, submit, views
from bot.channels.graph.door import LinkDoor, address_of
from bot.channels.graph.links import FORMS, PATH, VIEW_ACTIONS, LinkClaim, LinkRefused, mark_used
from bot.channels.graph.mail import LABELS
from bot.errors import FieldError, Refusal
from bot.messages.model import Offer
from bot.store import graph as graph_store

log = logging.getLogger(__name__)


class LinkPages(LinkDoor):
    """The handlers; mount with `add_routes(app)`."""

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(PATH + "{token}", self.get)
        app.router.add_post(PATH + "{token}", self.post)

    async def get(self, request: web.Request) -> web.Response:
        """The page before the POST: what the action will do (or its form, or the button that shows the case);
        when the same rules as a button would refuse it now (done already, a follow-up that does not exist,
        someone outside the case), why, with no button. Nothing changes on GET (mail scanners follow links),
        and a refusal by the rules is not audited: nothing was tried."""
        claim = await self._claim(request)
        if isinstance(claim, web.Response):
            return claim
        person = self.core.directory.name(claim.person_id)
        if claim.action in VIEW_ACTIONS:
            return self._page(200, state="view_ask", claim=claim, person=person, label=LABELS[claim.action],
                              chats=self._chats(claim.person_id))
        try:
            if claim.action in FORMS and claim.ref:
                return await self._form_page(claim)
            detail = await steps.preview(self.core, claim)
        except Refusal as refusal:
            return await self._not_now(claim, refusal)
        return self._page(200, state="confirm", claim=claim, label=LABELS[claim.action], person=person,
                          chats=self._chats(claim.person_id), **detail)

    async def _not_now(self, claim: LinkClaim, refusal: Refusal) -> web.Response:
        shown = await access.masked(self.core.db, self.core.cases.load, self.core.directory, claim.person_id, refusal)
        return self._page(409, state="refused", code="rules", claim=claim,
                          reason_text=self.core.renderer.refusal(shown))

    async def _form_page(self, claim: LinkClaim, values: dict[str, Any] | None = None,
                         errors: dict[str, str] | None = None) -> web.Response:
        """A form action's form (after the rule it needs), or the same form again with what was typed and an
        error under each field."""
        assert claim.ref is not None
        case = None
        if claim.action in forms.BRIST_FORMS:
            await forms.brist_report(self.core, claim, forms.BRIST_FORMS[claim.action])
            fields = forms.brist_fields(claim.action)
        elif claim.action in forms.SAMVERKAN_FORMS:  # the case is not shown: a group's contact may not see it
            await forms.samverkan_matter(self.core, claim)
            fields = forms.samverkan_fields()
        else:
            case = await self.core.cases.get(claim.ref)
            await forms.check(self.core, claim, case)
            fields = forms.fields(claim.action, case, claim.person_id, self.core)
        if values is not None:
            fields = forms.refill(fields, values, errors or {})
        return self._page(400 if errors else 200, state="form", claim=claim, label=LABELS[claim.action],
                          person=self.core.directory.name(claim.person_id), fields=fields, case=case)

    async def post(self, request: web.Request) -> web.Response:
        """Do the action once, as the person the link was made for (with a form's values); show the case; or
        send a fresh link for an expired one."""
        posted = await request.post()
        if posted.get("ny") == "1":
            return await self._renew(request)
        claim = await self._claim(request)
        if isinstance(claim, web.Response):
            return claim
        if claim.action in VIEW_ACTIONS:
            return await self._view(claim)
        if claim.action == "confirm_agreement" and posted.get("visa") == "1":  # read the proposal first
            return await self._proposal(claim)
        async with self.core.db.transaction() as tx:
            first = await mark_used(tx, claim, self.core.clock.now())
        if not first:
            return await self._refused("used", claim, used_at=await self._used_at(claim))
        values = forms.values_of(posted)
        detail: dict[str, Any] = {}
        try:
            if claim.action in FORMS and claim.ref:
                outcome = await submit.submit(self.core, claim, values)
            else:
                outcome, detail = await steps.perform(self.core, claim)
        except FieldError as exc:  # the form again, with what was typed: the link is not used up
            await self._forget(claim)
            try:
                return await self._form_page(claim, values, self.core.renderer.field_errors(exc))
            except Refusal as refusal:
                return await self._not_now(claim, refusal)
        except Refusal as refusal:  # the same rules as a button: e.g. not this person's case, or done already
            code = "foreign" if refusal.code.startswith("not_") else "rules"
            shown = await access.masked(self.core.db, self.core.cases.load, self.core.directory, claim.person_id,
                                        refusal)  # outside the case: as for no such case; the audit keeps the reason
            await self._forget(claim)  # nothing happened: a used link is one that worked
            return await self._refused(code, claim, self.core.renderer.refusal(shown), refusal=refusal.code)
        except Exception:
            log.exception("link action failed", extra={"event": "link.failed", "case_ref": claim.ref})
            await self._forget(claim)  # nothing happened: the link may be tried again
            return self._page(500, state="error", claim=claim)
        async with self.core.db.transaction() as tx:
            await audit.record(tx, at=self.core.clock.now(), actor_id=claim.person_id, action="link",
                               case_ref=claim.ref, link_action=claim.action, item=claim.item, outcome=outcome)
        await self.core.dispatcher.run_once()
        return self._page(200, state="done", claim=claim, outcome=outcome, label=LABELS[claim.action],
                          chats=self._chats(claim.person_id),
                          next_links=await self._next_links(claim.person_id, detail.pop("ref", claim.ref)), **detail)

    async def _forget(self, claim: LinkClaim) -> None:
        async with self.core.db.transaction() as tx:
            await graph_store.forget_link_use(tx, claim.token_id)

    async def _next_links(self, person_id: str, ref: str | None) -> list[dict[str, str]]:
        """Fresh links for what the person may do next on the case (no dead end for someone with e-mail only)."""
        if ref is None:
            return []
        now = self.core.clock.now()
        return [{"label": LABELS[o.action], "url": self.signer.url(person_id, o.action, o.ref or ref, o.item, now)}
                for o in await steps.next_for(self.core, person_id, ref)]

    async def _view(self, claim: LinkClaim) -> web.Response:
        """The case (or its journal record) as far as the need-to-know rule lets the person see it, its free text
        logged as read; a case they may not see gets the page of a case that does not exist (views.py)."""
        core, pid = self.core, claim.person_id
        history: list[views.Event] = []
        try:
            if claim.action == "journal":
                ref, text = await views.journal_text(core, claim)
            elif claim.action == "brist_open_report":
                ref, text = await views.report_text(core, claim)
            else:
                ref, text, history = await views.case_text(core, claim)
        except Refusal as refusal:
            shown = await access.masked(core.db, core.cases.load, core.directory, pid, refusal)
            return self._page(404, state="refused", code="rules", claim=claim,
                              reason_text=core.renderer.refusal(shown))
        return self._page(200, state="view", claim=claim, case_text=text, chats=self._chats(pid), history=history,
                          label=LABELS[claim.action], next_links=await self._next_links(pid, ref))

    async def _proposal(self, claim: LinkClaim) -> web.Response:
        """The confirmation page again, with the other side's proposal shown (after a button: free text)."""
        try:
            detail = await steps.preview(self.core, claim)
        except Refusal as refusal:
            return await self._not_now(claim, refusal)
        return self._page(200, state="confirm", claim=claim, label=LABELS[claim.action],
                          person=self.core.directory.name(claim.person_id), chats=self._chats(claim.person_id),
                          proposal=await views.proposal_text(self.core, claim), **detail)

    async def _renew(self, request: web.Request) -> web.Response:
        """An expired link's "send me a new one": a fresh link for the same action goes to the person through
        their own channel (for an e-mail person, their own address), never onto this page. Once per link."""
        limited = await self._limited(request)
        if limited is not None:
            return limited
        core = self.core
        try:
            self.signer.check(request.match_info["token"], core.clock.now())
        except LinkRefused as exc:
            if exc.code != "expired" or exc.claim is None or core.directory.person(exc.claim.person_id) is None:
                return await self._refused(exc.code if exc.code != "expired" else "foreign", exc.claim,
                                           address=address_of(request))
            claim = exc.claim
        else:
            return await self.get(request)  # still valid: nothing to renew
        offer = Offer(claim.action, claim.ref, claim.item, primary=True)
        async with core.db.transaction() as tx:
            first = await graph_store.mark_link_used(tx, token_id="ny:" + claim.token_id, person_id=claim.person_id,
                                                     case_ref=claim.ref, action="renew", now=core.clock.now())
            if first:
                await core.outbox.enqueue(tx, claim.person_id, "link_renewed", case_ref=claim.ref, urgent=True,
                                          offers=(offer,), label=LABELS[claim.action], ref=claim.ref)
                await audit.record(tx, at=core.clock.now(), actor_id=claim.person_id, action="link",
                                   result="renewed", case_ref=claim.ref, link_action=claim.action)
        if first:
            await core.dispatcher.run_once()
        return self._page(200, state="renewed", claim=claim, already=not first, where=self._where(claim.person_id))

