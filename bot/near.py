"""Near matches for what was typed wrong: an unknown command, unit or person gets "Menade du …?" (issue #18 item
22). One place, stdlib difflib (ratio of matching characters), for every channel's texts."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches

CUTOFF = 0.6  # difflib's default: "kvitera" → "kvittera", "beroend" → "beroende"; unrelated words stay out


def near(typed: str, known: Iterable[str], n: int = 2) -> list[str]:
    """Up to `n` of `known` closest to `typed` (case-insensitive), best first; none when nothing is close."""
    value = typed.strip().lower()
    if not value:
        return []
    by_lower = {k.lower(): k for k in known}
    return [by_lower[m] for m in get_close_matches(value, list(by_lower), n=n, cutoff=CUTOFF)]
