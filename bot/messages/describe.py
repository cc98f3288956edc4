"""Describe a message once, channel-neutrally, from `templates/messages/<kind>.msg.j2`.

The template writes records (title, lines with free-text marks, a note; see `_msg.j2`); the caller adds
the actions offered (`bot.cases.offers`). A kind without a `.msg.j2` (a plain `<kind>.txt.j2`) becomes a
message whose first line is the title and whose other lines are plain lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from jinja2 import TemplateNotFound

from bot.messages.model import Line, Message, Offer
from bot.rendering import Renderer


def records(text: str) -> list[dict[str, Any]]:
    """The JSON records a `.msg.j2` template wrote, in order."""
    decoder = json.JSONDecoder()
    out: list[dict[str, Any]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return out
        record, pos = decoder.raw_decode(text, pos)
        out.append(record)


def has_description(renderer: Renderer, kind: str) -> bool:
    try:
        renderer.env.get_template(f"{kind}.msg.j2")
    except TemplateNotFound:
        return False
    return True


def describe(renderer: Renderer, kind: str, /, *, offers: Iterable[Offer] = (), case_ref: str | None = None,
             **ctx: Any) -> Message:
    """The message `kind` says with `ctx`, offering `offers`."""
    try:
        template = renderer.env.get_template(f"{kind}.msg.j2")
    except TemplateNotFound:
        return from_text(kind, renderer.render(kind, **ctx), offers=offers, case_ref=case_ref)
    title, note = "", None
    lines: list[Line] = []
    extra: dict[str, Any] = {}
    for record in records(template.render(**ctx)):
        k = record["k"]
        if k == "title":
            title = record["text"]
        elif k == "note":
            note = record["text"] or None
        elif k == "extra":
            extra[record["key"]] = record["text"]
        elif record["text"] or record.get("style"):
            lines.append(Line(record["text"], record.get("label"), bool(record.get("free")), record.get("style"),
                              record.get("ref")))
    return Message(kind, title, tuple(lines), tuple(offers), case_ref, note, extra)


def from_text(kind: str, text: str, /, *, offers: Iterable[Offer] = (), case_ref: str | None = None) -> Message:
    """A message from a plain text: the first line is the title, the rest are lines."""
    first, _, rest = text.strip().partition("\n")
    lines = tuple(Line(t) for t in rest.splitlines() if t.strip())
    return Message(kind, first, lines, tuple(offers), case_ref)
