"""Dynamic typeahead (`application/search`, thin): the choices of a long units or staff list as the person types.

A card's `Input.ChoiceSet` names its dataset (`handlers/teams/forms.py`): "units" for the directory's units,
"staff:<unit>" for one unit's staff (someone away marked as in the card's own lists). Only a person the
directory knows gets an answer; the list is what the forms on Slack offer, so nothing is shown here that the
forms do not show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from bot.channels.teams import limits
from bot.channels.teams.app import TeamsContext
from handlers.teams.common import bind
from handlers.teams.forms import UNITS

ANY_DATASET = re.compile(r".*")


@dataclass
class Choice:
    """One typeahead answer (the SDK turns it into `{"title", "value"}`)."""

    title: str
    value: str


def choices(ctx: TeamsContext, dataset: str, text: str, skip: int = 0, count: int = limits.SEARCH_RESULTS,
            ) -> list[Choice]:
    """The choices of `dataset` whose title holds `text` (case-insensitive), at most SEARCH_RESULTS."""
    directory = ctx.core.directory
    if dataset == UNITS:
        pool = [(u.id, u.name) for u in directory.units.values()]
    elif dataset.startswith("staff:"):
        pool = [(p.id, ctx.core.renderer.macro("_absence", "choice_label", pid=p.id, label=p.name))
                for p in directory.staff_of(dataset.removeprefix("staff:"))]
    else:
        return []
    wanted = text.strip().casefold()
    found = [Choice(title, value) for value, title in pool if wanted in title.casefold()]
    count = max(1, min(count or limits.SEARCH_RESULTS, limits.SEARCH_RESULTS))
    return found[max(0, skip):max(0, skip) + count]


async def on_search(ctx: TeamsContext, context: TurnContext, state: TurnState, query: Any) -> list[Choice]:
    person_id = await ctx.identity.person_for(context)
    if person_id is None:
        return []
    params = query.parameters
    return choices(ctx, str(params.dataset or ""), str(params.query_text or ""), int(query.skip or 0),
                   int(query.count or limits.SEARCH_RESULTS))


def register(agent: AgentApplication[TurnState], ctx: TeamsContext) -> None:
    agent.adaptive_card.search(ANY_DATASET)(bind(ctx, on_search))
