"""Under a card that lists a page of a longer list (Teams): which ones it shows, the words for the next page and
a button that shows it. Shared by the overseeing lists (handlers/teams/oversight.py) and the absences
(handlers/teams/absence.py); the button comes back to `oversight.view` with its word and args."""

from __future__ import annotations

from typing import Any

from bot.channels.teams import cards
from bot.channels.teams.cards import execute as card_action
from bot.paging import Page
from bot.rendering import Renderer

LIST_MORE = "list_more"  # the button under a list card that shows a page: the next page (data: word, args)


def more_items(renderer: Renderer, page: Page[Any], command: str, word: str, args: list[str]) -> list[dict[str, Any]]:
    """The page note and (when more follow) the LIST_MORE button: the same word with `sida=` of the next page."""
    items: list[dict[str, Any]] = []
    if page.skip or page.after:
        items.append(cards.more_line(renderer.macro("console", "page_note", page=page, command=command)))
    if page.after:
        words = [a for a in args if not a.startswith("sida=")] + [f"sida={page.number + 1}"]
        items.append({"type": "ActionSet", "actions": [card_action(
            renderer.macro("teams", "list_next"), LIST_MORE, {"word": word, "args": words})]})
    return items
