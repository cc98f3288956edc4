"""The digit groups of a text as a reader sees it: the first half of the identity-number guard (bot/privacy).

A text (already folded, bot/folding.py) is cut into chains of digit groups joined by runs of separators: any
character that is neither a letter nor a digit separates, a letter ends the chain, an invisible character
between digits makes a soft boundary, and a run longer than `MAX_SEPARATOR_RUN` ends the chain. Which chains
hold an identity number is decided in bot/privacy/shapes.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_SEPARATOR_RUN = 20
# Invisible characters that are not of category Cf (Hangul fillers, braille blank).
_INVISIBLE_EXTRA = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_invisible(ch: str) -> bool:
    """A zero-width or otherwise invisible character (ignored by the guard, stripped from field edges)."""
    return unicodedata.category(ch) == "Cf" or ch in _INVISIBLE_EXTRA


# A character `digit` reads as a digit (Unicode's decimal digits, category Nd, as `re` reads `\d` in text).
DIGIT = re.compile(r"\d")


def digit(ch: str) -> str | None:
    value = unicodedata.decimal(ch, None)
    return None if value is None else str(value)


@dataclass(slots=True)
class Group:
    start: int
    end: int
    digits: str
    sep_before: str  # the separator run before this group within its chain ("" for the first)
    soft: bool = False  # only invisible characters separate it from the group before


def chains(text: str) -> list[list[Group]]:
    """The digit groups of folded `text`, as chains of groups joined by separator runs."""
    found: list[list[Group]] = []
    chain: list[Group] = []
    group: Group | None = None
    run = ""  # separators seen since the last group of the chain
    invisible = False  # an invisible character since the last digit
    for i, ch in enumerate(text):
        d = digit(ch)
        if d is not None:
            if group is None or invisible:
                soft = group is not None
                group = Group(start=i, end=i + 1, digits=d, sep_before=run if chain else "", soft=soft)
                chain.append(group)
                run = ""
                invisible = False
            else:
                group.digits += d
                group.end = i + 1
        elif is_invisible(ch):
            invisible = group is not None
        elif ch.isalnum():
            group = None  # a letter ends the chain
            if chain:
                found.append(chain)
            chain, run = [], ""
        else:  # any other character (punctuation, space, symbol, emoji) separates
            group = None
            if chain:
                run += ch
                if len(run) > MAX_SEPARATOR_RUN:
                    found.append(chain)
                    chain, run = [], ""
    if chain:
        found.append(chain)
    return found
