"""Guard against Swedish identity numbers (personnummer, samordningsnummer) in free text.

The bot must never store or send an identity number (DESIGN.md §7). Every free-text input is run
through `check_free_text` / `check_fields` before anything is saved. Only *validated* numbers are
reported (real calendar date, Luhn checksum, not part of a longer digit run), so phone numbers,
dates, postal codes and case references pass.

Accepted forms, each either a personnummer or a samordningsnummer (day of month + 60):

* 10 digits ``YYMMDD`` + 4, separated by ``-``, ``+``, one space or nothing;
* 12 digits ``YYYYMMDD`` + 4, same separators, century 18, 19 or 20.

A no-break space (U+00A0, U+202F) counts as a space. The century of a 10-digit number depends on
the caller's `today`; ``+`` means the person is 100 years or older. Nothing here keeps the digits:
matches are offsets only, so they can be logged safely.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from stdnum import luhn

IdentityKind = Literal["personnummer", "samordningsnummer"]

__all__ = [
    "IdentityKind",
    "IdentityMatch",
    "IdentityNumberFound",
    "check_fields",
    "check_free_text",
    "find_identity_numbers",
]

# Digits are ASCII only; the look-arounds keep a match from being part of a longer digit run.
_CANDIDATE = re.compile(
    r"(?<![0-9])"
    r"(?P<cc>[0-9]{2})?"
    r"(?P<yy>[0-9]{2})(?P<mm>[0-9]{2})(?P<dd>[0-9]{2})"
    r"(?P<sep>[-+ \u00a0\u202f]?)"
    r"(?P<serial>[0-9]{4})"
    r"(?![0-9])"
)

_CENTURIES_12 = frozenset({18, 19, 20})
_COORDINATION_OFFSET = 60


@dataclass(frozen=True, slots=True)
class IdentityMatch:
    """Where an identity number was found: `text[start:end]`. Holds no digits by design."""

    start: int
    end: int
    kind: IdentityKind


class IdentityNumberFound(ValueError):
    """A free-text field contains a personnummer or samordningsnummer; nothing may be saved.

    `code`/`params` name the macro `identity_number(field, kind)` in
    `templates/messages/fields.j2`. The message never contains the number itself.
    """

    code = "identity_number"

    def __init__(self, field: str, kind: IdentityKind, match: IdentityMatch | None = None) -> None:
        self.field = field
        self.kind = kind
        self.match = match
        super().__init__(f"{kind} in field {field!r}")

    @property
    def params(self) -> dict[str, str]:
        """Parameters for the Swedish error template."""
        return {"field": self.field, "kind": self.kind}


def _full_year(m: re.Match[str], today: date) -> int | None:
    """The four-digit birth year, or None when a 12-digit form has an impossible century."""
    yy = int(m["yy"])
    if m["cc"] is not None:
        century = int(m["cc"])
        return century * 100 + yy if century in _CENTURIES_12 else None
    century = today.year // 100
    if yy > today.year % 100:
        century -= 1
    if m["sep"] == "+":
        century -= 1
    return century * 100 + yy


def _is_real_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _classify(m: re.Match[str], today: date) -> IdentityKind | None:
    """The kind of a validated candidate, or None when it is not a valid identity number."""
    year = _full_year(m, today)
    if year is None:
        return None
    month = int(m["mm"])
    day = int(m["dd"])
    kind: IdentityKind = "personnummer"
    if day > _COORDINATION_OFFSET:
        kind = "samordningsnummer"
        day -= _COORDINATION_OFFSET
    if not _is_real_date(year, month, day):
        return None
    if not luhn.is_valid(m["yy"] + m["mm"] + m["dd"] + m["serial"]):
        return None
    return kind


def find_identity_numbers(text: str, today: date) -> list[IdentityMatch]:
    """Return every validated personnummer/samordningsnummer in `text`, in order of position.

    `today` decides the century of 10-digit numbers (and thus whether a 29 February exists).
    """
    found: list[IdentityMatch] = []
    for m in _CANDIDATE.finditer(text):
        kind = _classify(m, today)
        if kind is not None:
            found.append(IdentityMatch(start=m.start(), end=m.end(), kind=kind))
    return found


def check_free_text(field: str, text: str | None, today: date) -> None:
    """Raise `IdentityNumberFound` for the first identity number in `text` (None/empty is fine)."""
    if not text:
        return
    matches = find_identity_numbers(text, today)
    if matches:
        first = matches[0]
        raise IdentityNumberFound(field, first.kind, first)


def check_fields(fields: Mapping[str, str | None], today: date) -> None:
    """Check every field; raise `IdentityNumberFound` for the first offending one in mapping order."""
    for field, text in fields.items():
        check_free_text(field, text, today)
