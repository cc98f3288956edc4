"""The one walk over a list message's lines that Slack and Teams both draw (bot/messages/listing.py)."""

from __future__ import annotations

from bot.messages.listing import Entry, Heading, Omitted, Small, walk
from bot.messages.model import Line


def item(ref: str) -> Line:
    return Line(f"{ref} text", style="item", ref=ref)


LINES = [
    Line("before the first entry"),
    Line("Beroende", style="heading"),
    Line("3 att fördela", style="context"),
    item("A"), Line("brief A", label="Kort", free=True),
    item("B"), Line("brief B", free=True),
    item("C"), Line("brief C", free=True),
    Line("", style="more", ref="5"),
    Line("Psykiatri", style="heading"),
    item("D"),
]


def test_groups_entries_and_counts_what_is_not_shown() -> None:
    parts = list(walk(LINES, list_max=2))
    assert parts == [
        Entry(None, None, [Line("before the first entry")]),
        Heading("Beroende"), Small("3 att fördela"),
        Entry("A", "A text", [Line("brief A", label="Kort", free=True)]),
        Entry("B", "B text", [Line("brief B", free=True)]),
        Omitted(1 + 5),  # C is cut here, five more the message itself does not list
        Heading("Psykiatri"),
        Entry("D", "D text"),
    ]


def test_without_a_limit_every_entry_shows_and_the_lead_comes_first_even_empty() -> None:
    parts = list(walk(LINES[1:], list_max=None))
    assert parts[0] == Entry(None, None)
    assert [p.ref for p in parts if isinstance(p, Entry) and p.ref] == ["A", "B", "C", "D"]
    assert [p for p in parts if isinstance(p, Omitted)] == [Omitted(5)]
    assert list(walk([], None)) == [Entry(None, None)]
