"""The directory's units in Slack forms as a typeahead (external select) once they are too many for a list.

A static select holds 100 options (or 100 groups of 100), and a modal that lists 10,000 units twice is a
megabyte to send and useless to scroll. So a form's units field (`UNIT_BLOCKS`) with more than
`TYPEAHEAD_AFTER` units becomes an `external_select` (`multi_external_select`): Slack asks the bot for the
options as the person types (`block_suggestion`, handlers/slack/suggest.py), and the submitted value is the
same unit id the list would have given. A small directory keeps its plain list. A chosen value is checked by
the service like any other (a unit id that does not exist is a field error).
"""

from __future__ import annotations

from typing import Any

from bot.channels.slack import limits
from bot.directory import Directory
from bot.shorten import cut

UNIT_BLOCKS = frozenset({"enhet", "omfattar", "berorda", "enheter"})  # input blocks listing the directory's units
TYPEAHEAD_AFTER = 500  # up to this many, the list as option groups (5 of 100); beyond it, a typeahead
MIN_QUERY_LENGTH = 1
EXTERNAL = {"static_select": "external_select", "multi_static_select": "multi_external_select"}
KEPT = ("action_id", "placeholder", "initial_option", "initial_options", "max_selected_items", "focus_on_load",
        "confirm")


def _count(element: dict[str, Any]) -> int:
    groups = element.get("option_groups") or []
    return len(element.get("options") or []) + sum(len(g.get("options") or []) for g in groups)


def long_lists(view: dict[str, Any]) -> dict[str, Any]:
    """The view with every long units list turned into a typeahead (in place; returned for chaining)."""
    for block in view.get("blocks") or []:
        if not isinstance(block, dict) or block.get("block_id") not in UNIT_BLOCKS:
            continue
        element = block.get("element")
        if not isinstance(element, dict) or element.get("type") not in EXTERNAL:
            continue
        if _count(element) <= TYPEAHEAD_AFTER:
            continue
        typeahead = {k: element[k] for k in KEPT if k in element}
        typeahead["type"] = EXTERNAL[str(element["type"])]
        typeahead["min_query_length"] = MIN_QUERY_LENGTH
        block["element"] = typeahead
    return view


def unit_options(directory: Directory, query: str, limit: int = limits.SELECT_OPTIONS) -> list[dict[str, Any]]:
    """The units whose name or id holds `query` (case-insensitive), by name, at most `limit` (Slack shows
    100): the answer to a `block_suggestion` for a units field."""
    needle = query.strip().casefold()
    found = sorted((u.name.casefold(), u.id, u.name) for u in directory.units.values()
                   if needle in u.name.casefold() or needle in u.id.casefold())
    return [{"text": {"type": "plain_text", "text": cut(name, limits.OPTION_TEXT)}, "value": unit_id}
            for _, unit_id, name in found[:limit]]
