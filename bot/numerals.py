"""A number typed or sent back by a client: ASCII digits only, and few enough for the store's integers.

`str.isdigit()` also takes `²`, `٣` and other scripts' digits: `int()` then refuses some (ValueError) and reads
others, and twenty nines overflow SQLite's and PostgreSQL's 64-bit integers. Every place that turns a person's
text, or a button's value a client sends back, into a number asks `is_number` instead.

A leaf: it imports nothing of the bot, so the store may ask it too (tests/unit/test_store_layer.py)."""

from __future__ import annotations

MOST_DIGITS = 18  # below 2**63: any store integer


def is_number(text: str, most: int = MOST_DIGITS) -> bool:
    """`text` is 1 to `most` ASCII digits."""
    return 0 < len(text) <= most and text.isascii() and text.isdigit()
