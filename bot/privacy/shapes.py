"""Which digit runs are identity numbers: the second half of the identity-number guard (bot/privacy).

A run of 10 or 12 digits in one chain (bot/privacy/digits.py) is a personnummer or samordningsnummer when its
date part is a possible birth date and it is shaped like one (its groups on the number's part boundaries, or
the whole chain with a correct check digit), unless it is a date `YYYY-MM-DD` going on, a list's items run
together or a day-first date's year. The rules and their accepted limits are written in bot/privacy/__init__.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from stdnum import luhn

from bot.privacy.digits import DIGIT, Group, chains

IdentityKind = Literal["personnummer", "samordningsnummer"]

_CENTURIES_12 = frozenset({18, 19, 20})
_COORDINATION_OFFSET = 60
# Separators that end one item of a list: a candidate crossing one must start and end on one (or the chain).
_ITEM_BREAKS = frozenset(",;:()[]{}\n")
# Separators between the parts of a day-first date (`31.12.2011`, `31/12/2011`).
_DAY_FIRST_SEPARATORS = frozenset({".", "/"})
# Part boundaries (offsets into the digits) of the two lengths.
_BOUNDARIES = {10: frozenset({0, 2, 4, 6, 10}), 12: frozenset({0, 2, 4, 6, 8, 12})}


@dataclass(frozen=True, slots=True)
class IdentityMatch:
    """Where an identity number was found: `text[start:end]`. Holds no digits by design.

    `exact` is False for a number shaped like an identity number whose check digit is wrong.
    """

    start: int
    end: int
    kind: IdentityKind
    exact: bool = True


def _is_real_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _birth_kind(digits: str, plus: bool, today: date) -> IdentityKind | None:
    """The kind when the date part of `digits` (10 or 12) is a possible birth date, else None."""
    if len(digits) == 12:
        century = int(digits[:2])
        if century not in _CENTURIES_12:
            return None
        year = century * 100 + int(digits[2:4])
        rest = digits[4:]
    else:
        yy = int(digits[:2])
        century = today.year // 100
        if yy > today.year % 100:
            century -= 1
        if plus:
            century -= 1
        year = century * 100 + yy
        rest = digits[2:]
    month, day = int(rest[:2]), int(rest[2:4])
    kind: IdentityKind = "personnummer"
    if day > _COORDINATION_OFFSET:
        kind = "samordningsnummer"
        day -= _COORDINATION_OFFSET
    if not _is_real_date(year, month, day):
        return None
    if len(digits) == 12 and date(year, month, day) > today:
        return None
    return kind


def _shaped(groups: list[Group], n: int) -> bool:
    """Every group is one digit or runs from one part boundary to another, with soft boundaries kept or
    (all of them) dropped."""
    lengths = [len(g.digits) for g in groups]
    merged: list[int] = []
    for g in groups:
        if g.soft and merged:
            merged[-1] += len(g.digits)
        else:
            merged.append(len(g.digits))
    return _aligned(lengths, n) or _aligned(merged, n)


def _aligned(lengths: list[int], n: int) -> bool:
    bounds = _BOUNDARIES[n]
    offset = 0
    for length in lengths:
        if length != 1 and (offset not in bounds or offset + length not in bounds):
            return False
        offset += length
    return True


def _is_clock(hh: Group, mm: Group) -> bool:
    return (
        len(hh.digits) in (1, 2) and len(mm.digits) == 2 and mm.sep_before.strip() in (".", ":")
        and int(hh.digits) <= 23 and int(mm.digits) <= 59
    )


def _has_clock_end(chain: list[Group], text: str) -> bool:
    """The chain starts or ends with a clock time: `HH.MM` inside it, or `HH:MM` across its edge."""
    if len(chain) >= 2 and (_is_clock(chain[0], chain[1]) or _is_clock(chain[-2], chain[-1])):
        return True
    start, end = chain[0].start, chain[-1].end
    after = text[end : end + 2]
    before = text[max(start - 2, 0) : start]
    return (after[:1] == ":" and after[1:].isdigit()) or (before[1:] == ":" and before[:1].isdigit())


def _starts_date(chain: list[Group], j: int) -> bool:
    """Group j (four digits) is the year of a date `YYYY-MM-DD` that goes on in the chain."""
    if len(chain[j].digits) != 4 or j + 2 >= len(chain):
        return False
    month, day = chain[j + 1].digits, chain[j + 2].digits
    return len(month) <= 2 and len(day) <= 2 and 1 <= int(month) <= 12 and 1 <= int(day) <= 31


def _plus_before_serial(groups: list[Group], n: int) -> bool:
    """A `+` in the separator run right before the serial of a 10-digit number."""
    if n != 10:
        return False
    offset = 0
    for g in groups:
        if offset == 6:
            return "+" in g.sep_before
        offset += len(g.digits)
    return False


def _ends_item(group: Group) -> bool:
    """The separator run before `group` ends an item of a list (``, `` ``: `` ``(`` a line break, `` / ``)."""
    sep = group.sep_before
    return any(c in _ITEM_BREAKS for c in sep) or ("/" in sep and any(c.isspace() for c in sep))


def _ends_day_first_date(groups: list[Group]) -> bool:
    """The candidate's last three groups are a day-first date (``31.12.2011``) set apart from the group
    before it by another separator (``55: 01.07.2011``, ``16 % / 08/10/1997``): the serial is its year."""
    if len(groups) < 4:
        return False
    day, month, year = groups[-3:]
    sep = year.sep_before
    return (
        sep in _DAY_FIRST_SEPARATORS and month.sep_before == sep and day.sep_before != sep
        and len(year.digits) == 4 and 1900 <= int(year.digits) <= 2099 and len(month.digits) <= 2
        and len(day.digits) <= 2 and 1 <= int(month.digits) <= 12 and 1 <= int(day.digits) <= 31
    )


def _straddles_items(chain: list[Group], i: int, j: int) -> bool:
    """The candidate crosses a list break (``,``, ``;``, a bracket, a line break) but does not start and end on
    one: the tail of one item and the head of the next (``08-00 00 00, 01.01.1990``), not a number written
    with a comma inside (``811218,9876``, ``(811218)9876``)."""
    if not any(_ends_item(g) for g in chain[i + 1 : j + 1]):
        return False
    starts = i == 0 or _ends_item(chain[i])
    ends = j == len(chain) - 1 or _ends_item(chain[j + 1])
    return not (starts and ends)


def candidate(chain: list[Group], i: int, j: int, n: int, today: date, clock_end: bool) -> IdentityMatch | None:
    groups = chain[i : j + 1]
    digits = "".join(g.digits for g in groups)
    kind = _birth_kind(digits, _plus_before_serial(groups, n), today)
    if kind is None or _starts_date(chain, j) or _straddles_items(chain, i, j) or _ends_day_first_date(groups):
        return None
    exact = luhn.is_valid(digits[-10:])
    shaped = _shaped(groups, n)
    whole = (n == 10 and i == 0 and j == len(chain) - 1 and not clock_end
             and not any(_ends_item(g) for g in groups[1:]))
    if shaped or (exact and whole):
        return IdentityMatch(start=groups[0].start, end=groups[-1].end, kind=kind, exact=exact)
    return None


def find_in(text: str, today: date) -> list[IdentityMatch]:
    found: list[IdentityMatch] = []
    if len(DIGIT.findall(text)) < 10:  # a candidate has 10 or 12 of the text's digits: none here (no loop per char)
        return found
    for chain in chains(text):
        candidates: list[IdentityMatch] = []
        clock_end = _has_clock_end(chain, text)
        for i in range(len(chain)):
            total = 0
            for j in range(i, len(chain)):
                total += len(chain[j].digits)
                if total in (10, 12):
                    match = candidate(chain, i, j, total, today, clock_end)
                    if match is not None:
                        candidates.append(match)
                if total >= 12:
                    break
        candidates.sort(key=lambda m: (m.start, not m.exact, m.start - m.end))
        end = -1
        for m in candidates:
            if m.start >= end:
                found.append(m)
                end = m.end
    return found
