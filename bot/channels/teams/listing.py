"""A channel-neutral list message (lines styled heading/context/item/more, e.g. the distribution queue) as the
body of a Teams card: one container per entry with its own button beside it, at most `list_max` entries per
group and the rest counted ("… och N till"), free text cut (`limits.LIST_FREE_TEXT`). `card_body` shortens
the lists until the card is within Teams' limits, as Slack's renderer does for its blocks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.channels.teams import limits
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
    entry: list[Element] = []
    entry_ref: str | None = None
    visible = True
    shown = hidden = 0

    def flush() -> None:
        nonlocal entry, entry_ref
        if entry and visible:
            items = list(entry)
            if entry_ref in beside:
                items.append({"type": "ActionSet", "actions": [action(beside[entry_ref])]})
            body.append({"type": "Container", "separator": True, "items": items})
            if entry_ref:
                shown_refs.add(entry_ref)
        entry, entry_ref = [], None

    def close_group() -> None:
        nonlocal shown, hidden
        if hidden:
            body.append(plain(more(hidden), isSubtle=True, size="small"))
        shown = hidden = 0

    for line in message.lines:
        if line.style == "more":
            flush()
            visible = True
            hidden += int(line.ref or 0)
            close_group()
        elif line.style in ("heading", "context"):
            flush()
            visible = True
            if line.style == "heading":
                close_group()
                body.append(plain(line.text, weight="bolder"))
            else:
                body.append(plain(line.text, isSubtle=True, size="small"))
        elif line.style == "item":
            flush()
            shown += 1
            visible = list_max is None or shown <= list_max
            hidden += 0 if visible else 1
            entry, entry_ref = [plain(line.text, weight="bolder")], line.ref
        else:
            text = limits.fit_long_text(line.text, limits.LIST_FREE_TEXT, notes) if line.free else line.text
            entry.append(line_block(Line(text, line.label, line.free)))
    flush()
    close_group()
    return body, shown_refs
