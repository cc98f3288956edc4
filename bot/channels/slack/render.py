"""Render a channel-neutral message (`bot.messages.model.Message`) as a Slack message: Block Kit and text.

Generic over every kind: the title and lines in plain-text sections (free text is never read as mrkdwn),
the note as small print, and every offered action as a button (`bot/messages/actions.py`: action id,
value, confirmation). A list (lines styled heading/context/item) gets one section per entry, with the
entry's button beside it, shortened until it fits Slack's limits. No console command is ever shown.
"""

from __future__ import annotations

from typing import Any

from bot.channels.slack import limits
from bot.channels.slack.markup import escape
from bot.channels.slack.views import LIST_STEPS, slack_notes
from bot.messages.actions import ACTIONS, confirm_words
from bot.messages.listing import Entry, Heading, Small, walk
from bot.messages.model import Line, Message, Offer
from bot.messages.text import body_lines, line_text
from bot.shorten import cut

MAX_BUTTONS = 25  # elements of one actions block
LIST_FREE_TEXT = 400  # characters of an entry's free text in a list (the whole text is in the form)
LIST_MAX = 20  # entries of a list per group; fewer when the message would not fit


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "emoji": False, "text": text}


def section(text: str, accessory: dict[str, Any] | None = None, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": _plain(text)}
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_plain(text)]}


def button(offer: Offer) -> dict[str, Any] | None:
    """The Slack button of an offer (None for an action without a Slack listener)."""
    spec = ACTIONS[offer.action]
    if spec.slack_action_id is None:
        return None
    out: dict[str, Any] = {"type": "button", "action_id": spec.slack_action_id, "value": spec.value_for(offer),
                           "text": {"type": "plain_text", "text": spec.label}}
    style = "primary" if offer.primary and spec.style is None else spec.style
    if style:
        out["style"] = style
    confirm = spec.confirm_for(offer)
    if confirm:
        yes, no = confirm_words()
        out["confirm"] = {"title": {"type": "plain_text", "text": confirm[0]},
                          "text": {"type": "plain_text", "text": confirm[1]},
                          "confirm": {"type": "plain_text", "text": yes}, "deny": {"type": "plain_text", "text": no}}
    return out


def _actions(offers: list[Offer], block_id: str) -> dict[str, Any] | None:
    elements = [b for b in (button(o) for o in offers) if b is not None]
    if not elements:
        return None
    return {"type": "actions", "block_id": block_id, "elements": elements[:MAX_BUTTONS]}


def _block_id(message: Message) -> str:
    items = {o.item for o in message.offers}
    ladder = {ACTIONS[n].name for n in ("take_over", "nudge", "reassign")}
    if message.offers and all(o.action in ladder for o in message.offers) and len(items) == 1:
        return f"ladder-{message.offers[0].item}"
    return "case"


def _entry_text(line: Line, cut_note: str | None) -> str:
    if line.free and cut_note is not None:
        return line_text(Line(cut(line.text, LIST_FREE_TEXT, cut_note), line.label))
    return line_text(line)


def blocks(message: Message, list_max: int | None = LIST_MAX) -> list[dict[str, Any]]:
    """The message as Block Kit (not yet fitted); a list shows at most `list_max` entries per group."""
    out: list[dict[str, Any]] = []
    listed = any(ln.style == "item" for ln in message.lines)
    item_refs = {ln.ref for ln in message.lines if ln.style == "item"}
    beside = {o.ref: o for o in reversed(message.offers) if listed and o.ref in item_refs}
    rest = [o for o in message.offers if not (listed and o.ref in item_refs)]
    cut_note = message.extra.get("cut") if listed else None
    current: list[str] = []
    grouped = any(ln.style == "heading" for ln in message.lines)
    if listed and grouped:  # a list of groups: each group has its header, the title is the notification
        pass
    elif listed and message.title:  # a list: its title as the header
        out.append({"type": "header", "text": {"type": "plain_text", "text": cut(message.title, 150)}})
    elif message.title:
        current = [message.title]
    for part in walk(message.lines, list_max):  # one walk for every channel: here it is drawn as blocks
        if isinstance(part, Entry):
            texts = [*current, *([part.text] if part.text is not None else []),
                     *(_entry_text(line, cut_note) for line in part.lines)]
            current = []  # the title goes with the lines before the first entry
            if texts:
                accessory = button(beside[part.ref]) if part.ref in beside else None
                out.append(section("\n".join(texts), accessory, f"q-{part.ref}" if part.ref else None))
        elif isinstance(part, Heading):
            out.append({"type": "header", "text": {"type": "plain_text", "text": part.text}})
        elif isinstance(part, Small):
            out.append(context(part.text))
        elif message.extra.get("more"):  # entries not shown: those the message counts and those cut here
            out.append(context(str(message.extra["more"]).format(n=part.count)))
    if message.note:
        out.append(context(message.note))
    actions = _actions(rest, _block_id(message))
    if actions:
        out.append(actions)
    return out


def fitted_blocks(message: Message) -> list[dict[str, Any]]:
    """The blocks within Slack's limits: a list is shortened (LIST_STEPS) before anything is cut."""
    notes = slack_notes()
    out = limits.fit_fields(blocks(message), notes, copy=False)  # made here: cut in place, not copied
    if any(ln.style == "item" for ln in message.lines):
        for list_max in LIST_STEPS:
            if limits.fits(out):
                break
            out = limits.fit_fields(blocks(message, list_max), notes, copy=False)
    return limits.fit_blocks(out, notes, fitted=True)


def fallback_text(message: Message) -> str:
    """The notification text, with no command: a list's title, any other message as plain text."""
    if any(ln.style == "item" for ln in message.lines):
        return message.title
    return "\n".join(body_lines(message))


def payload(message: Message) -> dict[str, Any]:
    """`text` and `blocks` for chat.postMessage: the text escaped (it is mrkdwn) and within its limit."""
    rendered = fitted_blocks(message)
    text = limits.fit_text(escape(fallback_text(message)), slack_notes(), with_blocks=bool(rendered))
    return {"text": text, "blocks": rendered}
