"""A channel-neutral list message (lines styled heading/context/item/more, e.g. the distribution queue) as the
body of a Teams card: one container per entry with its own button beside it, at most `list_max` entries per
group and the rest counted ("… och N till"), free text cut (`limits.LIST_FREE_TEXT`). `card_body` shortens
the lists until the card is within Teams' limits, as Slack's renderer does for its blocks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.channels.teams import limits
from bot.messages.listing import Entry, Heading, Small, walk
from bot.messages.model import Line, Message, Offer

LIST_STEPS = (10, 5, 3, 2, 1)
Element = dict[str, Any]


def is_list(message: Message) -> bool:
    return any(ln.style == "item" for ln in message.lines)


def list_body(message: Message, *, plain: Callable[..., Element], line_block: Callable[[Line], Element],
              action: Callable[[Offer], Element], more: Callable[[int], str], notes: limits.Notes,
              list_max: int | None) -> tuple[list[Element], set[str]]:
    """The body of a list message (title first) and the references of the entries shown."""
    item_refs = {ln.ref for ln in message.lines if ln.style == "item"}
    beside = {o.ref: o for o in reversed(message.offers) if o.ref in item_refs}
    body: list[Element] = [plain(message.title, weight="bolder", size="medium")]
    shown_refs: set[str] = set()
    for part in walk(message.lines, list_max):  # one walk for every channel: here it is drawn as containers
        if isinstance(part, Entry):
            items = [plain(part.text, weight="bolder")] if part.text is not None else []
            items += [line_block(Line(limits.fit_long_text(ln.text, limits.LIST_FREE_TEXT, notes) if ln.free
                                      else ln.text, ln.label, ln.free)) for ln in part.lines]
            if not items:
                continue
            if part.ref in beside:
                items.append({"type": "ActionSet", "actions": [action(beside[part.ref])]})
            body.append({"type": "Container", "separator": True, "items": items})
            if part.ref:
                shown_refs.add(part.ref)
        elif isinstance(part, Heading):
            body.append(plain(part.text, weight="bolder"))
        elif isinstance(part, Small):
            body.append(plain(part.text, isSubtle=True, size="small"))
        else:
            body.append(plain(more(part.count), isSubtle=True, size="small"))
    return body, shown_refs
