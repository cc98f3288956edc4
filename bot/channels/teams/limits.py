"""Teams' limits for Adaptive Cards, enforced in one place for every card the bot sends or answers with.

Every card passes through `fit_card` (in `cards.card`): texts are cut with a note, an action set holds at most
the actions Teams shows (the rest behind one "more" button that opens them below), and a card still too big
for Teams loses its last body elements to one line saying so. Lists are capped before that by the code that
builds them (`capped`, with "… och N till"); long choice lists become filtered (typeahead) choice sets, and
those of the directory's units and staff past `DYNAMIC_CHOICES` a dynamic typeahead (`Data.Query`, answered
by the `application/search` invoke) that carries none of them. The functions are pure and idempotent.

Figures (PLATFORM-NOTES.md, Microsoft's Teams card documentation): 28 KB per card as sent; six actions shown
per action set (more go to an overflow menu that mobile clients hide); schema 1.5 on desktop, web and mobile;
a typeahead answer shows at most 15 choices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.shorten import SHORT, cut

VERSION = "1.5"  # what Teams renders on desktop, web and mobile
CARD_BYTES = 28 * 1024  # Teams refuses a bigger card (the activity around it included)
CARD_BUDGET = 26 * 1024  # the card itself, as the bot sends it (JSON, non-ASCII escaped): room for the activity
ACTIONS_PER_SET = 6  # Teams shows six actions in one set
TEXT_RUN = 2000  # one paragraph of text
ACTION_TITLE = 60
CHOICE_TITLE = 100
INPUT_LABEL = 200
FILTERED_CHOICES = 15  # more choices than this: a filtered (typeahead) choice set
DYNAMIC_CHOICES = 40  # more than this of the directory's units or staff: a dynamic typeahead, none in the card
SEARCH_RESULTS = 15  # what a typeahead answer holds (Teams shows 15)
LIST_ITEMS = 10  # items of one list on a card (a queue, a view): the rest are counted
LIST_FREE_TEXT = 300  # characters of free text (a brief) per entry of a list, as on Slack's Home
_LONG = 200  # texts at least this long get the full note

T = TypeVar("T")


@dataclass(frozen=True)
class Notes:
    """The Swedish notes (`TEAMS_CUT` in templates/messages/_labels.j2) added where something was cut."""

    cut: str = " …"  # appended to free text that was shortened
    more: str = "…"  # a line in place of the body elements that did not fit
    more_actions: str = "Fler val"  # the button that opens the actions past the first five


def size(content: Any) -> int:
    """Bytes of `content` as the bot sends it (the SDK's JSON: non-ASCII characters escaped)."""
    return len(json.dumps(content).encode())


def capped(items: list[T], cap: int = LIST_ITEMS) -> tuple[list[T], int]:
    """The first `cap` items and how many more there are."""
    return items[:cap], max(0, len(items) - cap)


def _walk(node: Any, notes: Notes) -> None:
    """Cut every text, title and choice in place; fit every action list."""
    if isinstance(node, list):
        for value in node:
            _walk(value, notes)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "TextRun" and isinstance(node.get("text"), str):
        node["text"] = cut(node["text"], TEXT_RUN, notes.cut)
    elif isinstance(kind, str) and kind.startswith("Action.") and isinstance(node.get("title"), str):
        node["title"] = cut(node["title"], ACTION_TITLE, SHORT)
    elif kind == "Input.ChoiceSet":
        for choice in node.get("choices") or []:
            if isinstance(choice, dict) and isinstance(choice.get("title"), str):
                choice["title"] = cut(choice["title"], CHOICE_TITLE, SHORT)
        if len(node.get("choices") or []) > FILTERED_CHOICES and not node.get("isMultiSelect") \
                and node.get("style") != "expanded":
            node["style"] = "filtered"
    if isinstance(kind, str) and kind.startswith("Input.") and isinstance(node.get("label"), str):
        node["label"] = cut(node["label"], INPUT_LABEL, SHORT)
    for key, value in node.items():
        if key == "actions" and isinstance(value, list):
            node[key] = fit_actions(value, notes)
            _walk(node[key], notes)
        elif isinstance(value, dict | list):
            _walk(value, notes)


def fit_actions(actions: list[dict[str, Any]], notes: Notes = Notes()) -> list[dict[str, Any]]:
    """At most ACTIONS_PER_SET actions: the first five and one button that shows the rest below the card (in
    sixes the same way: nothing is lost; lists that would offer very many are capped before, see `capped`)."""
    if len(actions) <= ACTIONS_PER_SET:
        return actions
    keep = ACTIONS_PER_SET - 1
    more = {"type": "Action.ShowCard", "title": notes.more_actions,
            "card": {"type": "AdaptiveCard", "body": [], "actions": fit_actions(actions[keep:], notes)}}
    return [*actions[:keep], more]


def _more_line(notes: Notes) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": notes.more, "isSubtle": True}]}


def fit_card(content: dict[str, Any], notes: Notes = Notes(), budget: int = CARD_BUDGET) -> dict[str, Any]:
    """A copy of a card within Teams' limits (see the module). The actions at the bottom are kept; body
    elements are dropped from the end until the card fits, replaced by one line with `notes.more`."""
    out: dict[str, Any] = json.loads(json.dumps(content))
    _walk(out, notes)
    if size(out) <= budget:
        return out
    body = out.get("body") or []
    base = size({**out, "body": [_more_line(notes)]})
    kept: list[dict[str, Any]] = []
    used = base
    for element in body:
        extra = size(element) + 1
        if used + extra > budget:
            break
        kept.append(element)
        used += extra
    out["body"] = [*kept, _more_line(notes)]
    if size(out) > budget and out.get("actions"):  # very many actions on their own: keep what fits
        while out["actions"] and size(out) > budget:
            out["actions"].pop()
    return out


def fits(content: dict[str, Any], budget: int = CARD_BUDGET) -> bool:
    """True when the card is within Teams' size and action limits as it is."""
    if size(content) > budget:
        return False

    def ok(node: Any) -> bool:
        if isinstance(node, list):
            return all(ok(v) for v in node)
        if isinstance(node, dict):
            actions = node.get("actions")
            if isinstance(actions, list) and len(actions) > ACTIONS_PER_SET:
                return False
            return all(ok(v) for v in node.values() if isinstance(v, dict | list))
        return True

    return ok(content)


def fit_long_text(text: str, limit: int, notes: Notes = Notes()) -> str:
    """Free text cut to `limit` with the note (the short note for short limits)."""
    return cut(text, limit, notes.cut if limit >= _LONG else SHORT)
