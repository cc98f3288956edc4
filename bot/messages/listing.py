"""The walk over a list message's lines, once for every channel: which entries show, where the headings and
small print go, and how many entries each group leaves out ("… och N till"). Slack's blocks
(`bot/channels/slack/render.py`) and Teams' card body (`bot/channels/teams/listing.py`) only draw what it yields.

A list message has lines styled `item` (an entry, with its case reference), followed by the entry's own lines;
`heading` starts a group, `context` is small print, `more` says how many entries of the group the message
itself does not list (its `ref` is the number). At most `list_max` entries of each group are shown; the rest
are counted with those `more` lines into one `Omitted` at the end of the group.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bot.messages.model import Line


@dataclass
class Entry:
    """One entry to draw: its item line's text and reference, and its own lines. The lines before the first
    entry come as an Entry without a reference and text (always yielded first, maybe with no lines)."""

    ref: str | None
    text: str | None
    lines: list[Line] = field(default_factory=list)


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Small:
    """Small print (a `context` line)."""

    text: str


@dataclass(frozen=True)
class Omitted:
    """How many entries of the group just ended are not shown."""

    count: int


Part = Entry | Heading | Small | Omitted


def walk(lines: Iterable[Line], list_max: int | None) -> Iterator[Part]:
    """The parts of a list message to draw, in order (see the module's docstring)."""
    entry = Entry(None, None)
    first = True
    visible = True
    shown = hidden = 0

    def flush() -> Iterator[Part]:
        nonlocal first
        if first or (visible and (entry.text is not None or entry.lines)):
            yield entry
        first = False

    def close_group() -> Iterator[Part]:
        nonlocal shown, hidden
        if hidden:
            yield Omitted(hidden)
        shown = hidden = 0

    for line in lines:
        if line.style == "more":
            yield from flush()
            entry, visible = Entry(None, None), True
            hidden += int(line.ref or 0)
            yield from close_group()
        elif line.style in ("heading", "context"):
            yield from flush()
            entry, visible = Entry(None, None), True
            if line.style == "heading":
                yield from close_group()
                yield Heading(line.text)
            else:
                yield Small(line.text)
        elif line.style == "item":
            yield from flush()
            shown += 1
            visible = list_max is None or shown <= list_max
            hidden += 0 if visible else 1
            entry = Entry(line.ref, line.text)
        else:
            entry.lines.append(line)
    yield from flush()
    yield from close_group()
