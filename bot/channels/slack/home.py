"""The App Home tab: a pure function that turns the Home data (`bot/home.py`, shared with Teams) into a Slack view."""

from __future__ import annotations

import logging
from typing import Any

from bot.brister.rules import offers as brist_offers
from bot.cases import offers
from bot.cases.views import COUNT_CAP
from bot.channels.slack import limits as slack_limits
from bot.channels.slack import render
from bot.channels.slack.views import fit_view, render_raw_view
from bot.home import (
    CAPS,
    SHRINK_ORDER,
    EscalationLine,
    FailedDelivery,
    HomeData,
    escalation_line,
    load_home,
    more_brister,
    more_drafts,
)
from bot.rendering import Renderer

log = logging.getLogger(__name__)

__all__ = [
    "MAX_VIEW_BLOCKS",
    "EscalationLine",
    "FailedDelivery",
    "HomeData",
    "escalation_line",
    "free_text_refs",
    "home_view",
    "load_home",
]

MAX_VIEW_BLOCKS = slack_limits.VIEW_BLOCKS
# When the view is too long, lists are shortened (bot.home.SHRINK_ORDER, the escalations last) down to MIN_SHOWN
# items each; an item of each list takes up to BLOCKS_PER_ITEM blocks.
BLOCKS_PER_ITEM = {"stats": 1, "failed": 1, "queue": 1, "cases": 2, "requests": 1, "escalations": 2, "brister": 2,
                   "brist_drafts": 1}
MIN_SHOWN = 1


def home_view(renderer: Renderer, data: HomeData) -> dict[str, Any]:
    """The Home view of `data` (pure: no I/O). Long lists are cut, each saying how many more there are,
    so that Slack's 100-block limit holds; open escalations are cut last."""
    lines = [escalation_line(renderer, e) for e in data.escalations]
    lengths = {"stats": len(data.stats or []),
               "failed": len(data.failed), "queue": max((len(q) for _, q in data.queues or []), default=0),
               "cases": len(data.cases), "requests": len(data.requests), "escalations": len(lines),
               "brister": len(data.brister), "brist_drafts": len(data.brist_drafts)}
    caps = {name: min(cap, lengths[name]) for name, cap in CAPS.items()}  # shrinking an empty list is no use
    view = _render(renderer, data, caps, lines)
    for name in SHRINK_ORDER:
        while (excess := len(view["blocks"]) - MAX_VIEW_BLOCKS) > 0 and caps[name] > MIN_SHOWN:
            caps[name] = max(MIN_SHOWN, caps[name] - -(-excess // BLOCKS_PER_ITEM[name]))
            view = _render(renderer, data, caps, lines)
    blocks = view["blocks"]
    if len(blocks) > MAX_VIEW_BLOCKS:  # still too long (very many queues): keep the footer, cut the middle
        log.warning("home view cut", extra={"event": "slack.home_cut", "blocks": len(blocks)})
        view["blocks"] = [*blocks[: MAX_VIEW_BLOCKS - 1], blocks[-1]]
    return fit_view(renderer, view)  # every text within its field's limit


def _render(renderer: Renderer, data: HomeData, caps: dict[str, int], lines: list[EscalationLine]) -> dict[str, Any]:
    queues = None
    ages: dict[str, str] = {}
    if data.queues is not None:
        queues = []
        for unit_id, cases in data.queues:
            shown = cases[: caps["queue"]]
            queues.append((unit_id, shown, max(len(cases), data.queue_totals.get(unit_id, 0)) - len(shown)))
            for c in shown:
                ages[c.ref] = renderer.age(data.now - c.created_at)
    cases = data.cases[: caps["cases"]]
    buttons = {c.ref: [b for b in (render.button(o) for o in offers.next_steps(
        c, data.person_id, renderer.directory, withdraw=True)) if b] for c in cases}
    brister = data.brister[: caps["brister"]]
    brist_buttons = {r.ref: [b for b in (render.button(o) for o in brist_offers(r, data.person_id, renderer.directory))
                             if b] for r in brister}
    return render_raw_view(
        renderer,
        "home",
        buttons=buttons,
        brist_buttons=brist_buttons,
        person=data.person_id,
        now=data.now,
        requests=data.requests[: caps["requests"]],
        more_requests=max(0, max(len(data.requests), data.request_total or 0) - caps["requests"]),
        at_least_requests=(data.request_total or 0) >= COUNT_CAP,
        cases=cases,
        more_cases=max(0, max(len(data.cases), data.case_total or 0) - caps["cases"]),
        at_least_cases=(data.case_total or 0) >= COUNT_CAP,
        queues=queues,
        ages=ages,
        coordinator=data.coordinator,
        failed=data.failed[: caps["failed"]],
        escalations=lines[: caps["escalations"]],
        more_escalations=max(0, len(lines) - caps["escalations"]) + data.more_escalations,
        brister=brister,
        more_brister=more_brister(data, len(brister)),
        brist_drafts=data.brist_drafts[: caps["brist_drafts"]],
        more_brist_drafts=more_drafts(data, min(caps["brist_drafts"], len(data.brist_drafts))),
        year=data.year,
        stats=None if data.stats is None else data.stats[: caps["stats"]],
        more_stats=max(0, len(data.stats or []) - caps["stats"]),
    )


def free_text_refs(view: dict[str, Any]) -> list[str]:
    """The cases whose brief a rendered Home view shows (its queue sections), for the read log."""
    return [b["block_id"][2:] for b in view.get("blocks", []) if str(b.get("block_id", "")).startswith("q-")]


