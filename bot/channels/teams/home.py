"""The Teams Home card: what Slack's App Home shows for the same person (the same `bot.home.HomeData`, the same
page sizes and counts), as one Adaptive Card in the personal chat.

The card carries Universal Actions' `refresh` for the person it was made for: Teams asks the bot (verb
`home`) for a fresh card whenever they look at it, so it is never stale, and anyone else who sees it (a
forwarded card) gets no refresh and only what it showed when sent, which names no free text but the briefs
of the person's own queue. Pure: no I/O; the read log of the briefs shown is the caller's (`shown`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.brister.rules import offers as brist_offers
from bot.cases import offers
from bot.cases.views import COUNT_CAP
from bot.channels.teams import cards, limits
from bot.home import CAPS, SHRINK_ORDER, HomeData, escalation_line, more_brister, more_drafts
from bot.messages.model import Offer
from bot.rendering import Renderer

HOME = "home"  # the verb of the refresh (and of the word `hem`)
NEW_REQUEST = "new_request"  # Ny GFI-förfrågan on older cards: the request form (the Home opens a dialog)
ABSENCE = "absence_open"  # Frånvaro: the absence card
BRIST_NEW = "brist_new"  # Ny rapport on older cards: the report form (the Home opens a dialog)
BRIST_DRAFT = "brist_draft_open"  # Komplettera och skicka in (data: draft)
BRIST_DISMISS = "brist_draft_dismiss"  # Avfärda (data: draft)
YEAR_REPORT = "brist_year_report"  # Årsrapport (data: year): the file behind a signed link
STATS_CSV = "stats_csv"  # Statistiken som CSV: the file behind a signed link
VERBS = frozenset({HOME, NEW_REQUEST, ABSENCE, BRIST_NEW, BRIST_DRAFT, BRIST_DISMISS, YEAR_REPORT, STATS_CSV})
QUEUE_MORE = "queue_more"  # the next page of one queue (handlers/teams/commands.py)
BRIEF = limits.LIST_FREE_TEXT
# When the card is too big, lists are shortened in bot.home.SHRINK_ORDER (escalations last), as on Slack's Home.


@dataclass
class HomeCard:
    content: dict[str, Any]
    shown: list[str]  # the cases whose brief the card shows (for the read log)


class _Build:
    def __init__(self, renderer: Renderer, data: HomeData, caps: dict[str, int]) -> None:
        self.r = renderer
        self.data = data
        self.caps = caps
        self.body: list[dict[str, Any]] = []
        self.shown: list[str] = []
        self.nonce = f"home-{data.person_id}"

    def say(self, name: str, **params: Any) -> str:
        return self.r.macro("teams_home", name, **params)

    def head(self, name: str, **params: Any) -> None:
        self.heading(self.say(name, **params))

    def heading(self, text: str) -> None:
        self.body.append({"type": "RichTextBlock", "separator": True,
                          "inlines": [cards.run(text, weight="bolder", size="medium")]})

    def line(self, text: str, actions: list[dict[str, Any]] | None = None) -> None:
        items: list[dict[str, Any]] = [cards.plain(p) for p in text.split("\n") if p.strip()]
        if actions:
            items.append({"type": "ActionSet", "actions": actions})
        self.body.append({"type": "Container", "items": items})

    def note(self, text: str) -> None:
        self.body.append(cards.more_line(text))

    def act(self, name: str, verb: str, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return cards.execute(self.say(name, **kw), verb, {**data, "card": self.nonce})

    def offer(self, offer: Offer) -> dict[str, Any]:
        return cards.offer_action(self.r, offer, self.nonce)

    def more(self, listed: int, total: int | None, cap: int) -> None:
        rest = max(0, max(listed, total or 0) - cap)
        if rest:
            self.note(self.say("more", count=rest, at_least=(total or 0) >= COUNT_CAP))

    def build(self) -> dict[str, Any]:
        d, caps = self.data, self.caps
        self.body.append(cards.plain(self.say("title"), weight="bolder", size="large"))
        self.body.append({"type": "ActionSet", "actions": [
            {**cards.dialog_button(self.say("new_request"), "request"), "style": "positive"},
            self.act("absence", ABSENCE, {})]})
        self.head("requests_head")
        for c in d.requests[: caps["requests"]]:
            self.line(self.say("request", c=c))
        if not d.requests:
            self.note(self.say("requests_none"))
        self.more(len(d.requests), d.request_total, caps["requests"])
        self.head("cases_head")
        for c in d.cases[: caps["cases"]]:
            buttons = [self.offer(o) for o in offers.next_steps(c, d.person_id, self.r.directory, withdraw=True)]
            self.line(self.say("case", c=c), buttons)
        if not d.cases:
            self.note(self.say("cases_none"))
        self.more(len(d.cases), d.case_total, caps["cases"])
        self.queues()
        self.escalations()
        if d.coordinator:
            self.coordinator()
        elif d.brister:
            self.head("brister_mine_head")
            self.reports()
        if d.stats is not None:
            self.stats()
        self.note(self.say("updated", now=d.now))
        return cards.raw_card(self.body)

    def queues(self) -> None:
        d = self.data
        for unit_id, cases in d.queues or []:
            self.head("queue_head", unit_id=unit_id)
            shown = cases[: self.caps["queue"]]
            for c in shown:
                brief = limits.fit_long_text(c.brief, BRIEF, cards.teams_notes()) if c.brief else None
                if brief:
                    self.shown.append(c.ref)
                age = self.r.age(d.now - c.created_at)
                self.line(self.say("queue_case", c=c, age=age, brief=brief),
                          [{**self.act("assign", "assign", {"ref": c.ref}), "style": "positive"}])
            if not cases:
                self.note(self.say("queue_empty"))
            rest = max(len(cases), d.queue_totals.get(unit_id, 0)) - len(shown)
            if rest > 0:
                self.note(self.say("queue_more", count=rest))
                self.body.append({"type": "ActionSet", "actions": [
                    self.act("queue_next", QUEUE_MORE, {"unit": unit_id, "skip": len(shown)})]})

    def escalations(self) -> None:
        d = self.data
        if not (d.escalations or d.coordinator):
            return
        self.head("escalations_head")
        listed = d.escalations[: self.caps["escalations"]]
        for e in listed:
            if e.kind == "dispute":
                buttons = [self.offer(Offer("settle_dispute", e.case_ref, primary=True))]
            else:
                buttons = [self.offer(Offer("take_over", e.case_ref, e.id, primary=True)),
                           self.offer(Offer("nudge", e.case_ref, e.id)),
                           self.offer(Offer("reassign", e.case_ref, e.id))]
            if d.coordinator:
                buttons.append(self.offer(Offer("to_samverkan", e.case_ref, e.id)))
            self.line(self.say("escalation", line=escalation_line(self.r, e)), buttons)
        if not d.escalations:
            self.note(self.say("escalations_none"))
        more = max(0, len(d.escalations) - len(listed)) + d.more_escalations
        if more:
            self.note(self.say("escalations_more", count=more))

    def coordinator(self) -> None:
        d = self.data
        self.head("failed_head")
        for f in d.failed[: self.caps["failed"]]:
            self.line(self.say("failed", f=f))
        if not d.failed:
            self.note(self.say("failed_none"))
        self.head("brister_head")
        self.drafts()
        self.reports()
        self.brist_buttons()

    def drafts(self) -> None:
        d = self.data
        for draft in d.brist_drafts[: self.caps["brist_drafts"]]:
            self.line(self.say("draft", d=draft), [
                {**self.act("draft_complete", BRIST_DRAFT, {"draft": draft.id}), "style": "positive"},
                self.act("draft_dismiss", BRIST_DISMISS, {"draft": draft.id})])
        more = more_drafts(d, min(len(d.brist_drafts), self.caps["brist_drafts"]))
        if more:
            self.note(self.say("drafts_more", count=more))

    def brist_buttons(self) -> None:
        d = self.data
        self.body.append({"type": "ActionSet", "actions": [
            cards.dialog_button(self.say("brist_new"), "brist"),
            self.act("year_report", YEAR_REPORT, {"year": d.year}, year=d.year),
            self.act("year_report", YEAR_REPORT, {"year": d.year - 1}, year=d.year - 1)]})

    def reports(self) -> None:
        d = self.data
        listed = d.brister[: self.caps["brister"]]
        for r in listed:
            buttons = [self.offer(o) for o in brist_offers(r, d.person_id, self.r.directory)]
            self.line(self.say("report", r=r), buttons)
        if not d.brister and d.coordinator:
            self.note(self.say("reports_none"))
        if more := more_brister(d, len(listed)):
            self.note(self.say("reports_more", count=more, coordinator=d.coordinator))

    def stats(self) -> None:
        d = self.data
        units = d.stats or []
        self.heading(self.r.macro("stats", "home_title"))
        self.body.append({"type": "ActionSet", "actions": [self.act("stats_csv", STATS_CSV, {})]})
        for u in units[: self.caps["stats"]]:
            self.line(self.r.macro("stats", "home_line", u=u))
        if not units:
            self.note(self.r.macro("stats", "home_none"))
        if len(units) > self.caps["stats"]:
            self.note(self.r.macro("stats", "home_more", more=len(units) - self.caps["stats"]))


SECTIONS = {"escalations": "escalations_head", "drafts": "drafts_head", "reports": "brister_head"}


def section_card(renderer: Renderer, data: HomeData, section: str, cap: int = limits.LIST_ITEMS,
                 ) -> dict[str, Any]:
    """One list of the Home as a card of its own (the coordinator's `eskaleringar`, `utkast`, `brister`), with
    the same lines and buttons, at most `cap` items and the rest counted."""
    build = _Build(renderer, data, {name: cap for name in SHRINK_ORDER})
    if section != "escalations":  # the escalations section has its heading
        build.head(SECTIONS[section])
    getattr(build, section)()
    if section == "drafts" and not data.brist_drafts:
        build.note(build.say("drafts_none"))
    if section == "reports" and data.coordinator:
        build.brist_buttons()
    return cards.card(build.body)


def home_card(renderer: Renderer, data: HomeData, user_ids: list[str]) -> HomeCard:
    """The Home card of `data` for the Teams users `user_ids` (the refresh goes to them only). Lists are cut
    to Slack's Home page sizes, and shorter (SHRINK_ORDER, escalations last) while the card does not fit."""
    caps = dict(CAPS)
    build = _Build(renderer, data, caps)
    raw = build.build()
    for name in SHRINK_ORDER:
        while not limits.fits(raw) and caps[name] > 1:
            caps[name] = max(1, caps[name] // 2)
            build = _Build(renderer, data, caps)
            raw = build.build()
    raw["refresh"] = cards.refresh_block(HOME, {}, user_ids)
    return HomeCard(limits.fit_card(raw, cards.teams_notes()), build.shown)
