"""Guard against Swedish identity numbers (personnummer, samordningsnummer) in free text.

The bot must never store or send an identity number in any form a person may type (DESIGN.md §7).
Every free-text input is run through `bot.fields.clean_fields`, which calls `check_free_text` here.
Nothing here keeps the digits: matches are offsets only, so they can be logged safely.

**Reading.** The guard works on what a person would read: the text is first folded by `bot.folding`
(Unicode compatibility normalisation, NFKC, so superscript, subscript, circled and full-width digits are
digits; combining marks, variation selectors and the keycap mark removed; bidi controls removed), once as
typed and once after each round of HTML character reference decoding (`&#45;` is a dash on a web page, and
shown as typed in Slack): a number in any reading is refused. Matches are reported at the offsets of the
typed text. Each reading is then read as *chains* of digit groups:

* a digit is any Unicode decimal digit (ASCII, full-width, Arabic-Indic, Devanagari, …);
* invisible format characters (zero-width space/joiners, word joiner, BOM, soft hyphen) between digits are
  a *soft* separator: the digits on both sides are read both as two groups and as one
  (``8\u200b1\u200b1…`` is spaced digits, ``81121\u200b8-9876`` is ``811218-9876``);
* a letter (of any script) ends the chain; **any run of up to 20 other characters** (spaces, dashes, dots,
  ``:``, ``,``, ``;``, brackets, ``*``, symbols, emoji …) is a *separator* joining two digit groups into one
  chain (``811218:9876``, ``(811218)9876``, ``*811218*-*9876*``, ``811218`` + 9 spaces + ``9876``);
  21 or more end the chain. A list break in a run (``,``, ``;``, a bracket, a line break) ends an item: a
  candidate crossing one must start and end on one (or on the chain's ends), so ``811218,9876`` is read
  whole, but not the tail of one item and the head of the next (``08-00 00 00, 01.01.1990``).

**What is refused.** A candidate is a run of whole groups of one chain holding 10 digits
(``YYMMDD`` + 4) or 12 digits (``CCYYMMDD`` + 4, century 18–20, not after `today`), whose date is a
real date (day + 60 for a samordningsnummer). The century of a 10-digit number depends on `today`;
a ``+`` between date and serial means 100 years or older. A candidate is *shaped like an identity
number* when its groups follow the parts of the number: every group is either one digit (digits written
with a space between each) or starts and ends on a part boundary (``YY|MM|DD|NNNN``, century too for
12 digits) — so ``811218-9876``, ``8112189876``, ``81-12-18-9876``, ``1981 12 18 9876`` and
``8 1 1 2 1 8 9 8 7 6`` are shaped, ``070-123 45 67`` and ``08-123 456 78`` are not.

* Valid check digit (Luhn): refused when shaped, or when the chain is exactly those 10 digits in any
  grouping (``811-218 98 76``). This is the deliberate choice for the real collision with phone
  numbers: ``070-123 45 67`` whose digits are also a valid personnummer (born 2007-01-23, correct
  check digit, about 1 in 100 mobile numbers) is refused; nothing can tell them apart, and a
  wrongly refused phone number costs less than a stored personnummer. ``+46 70 123 45 67`` passes.
* Wrong check digit: refused (as "looks like an identity number") only when shaped — people mistype,
  and a mistyped number still identifies someone. Phone groupings (``070-123 45 67``, ``08-123 456 78``,
  ``+46 70 …``) therefore pass, but a *bare* 10-digit number with a valid date (``0701234568``) is
  refused: it has exactly the shape of a personnummer. The error text asks for phone numbers with
  spaces.

**Look-alikes that pass.** Dates and times: a chain ending or starting with a clock time
(``22.11.26 10.05``, ``2001-02-09 20:00``) is not read as a 10-digit number in a free grouping, and a
candidate whose last four digits start a further date (``2026-11-20 – 2026-12-01``) is a date range.
Organisation numbers have month ≥ 20 (``212000-1124``); case references (``GFI-2026-0042``), postal
codes and amounts are too short. `bench/bench_privacy.py` measures the false-refusal rate on generated
look-alikes (phone numbers, dates, times, postal codes, organisation numbers, case references).

**Accepted limits** (what no check of digits can catch; the reason is that each would refuse ordinary text):

* *letters for digits* (``8II2I8-9876`` with I for 1, O for 0, ``B`` for 8): reading letters as digits
  would turn words, unit codes and case references into numbers;
* *digits as words* (``åtta ett ett …``): any count of spoken digits is also ordinary Swedish;
* *the date and the serial far apart* (more than 20 separators, or a word between them: ``född 811218,
  nummer 9876``): joining digit groups across words would refuse every text with a date and a number;
* *the parts in another order* (serial first, or reordered by right-to-left letters around them without
  bidi controls): the bidi controls themselves are refused in stored text (`bot.fields`), and a reader of a
  right-to-left script reads the groups in their typed order;
* *a number split over several fields* (date in one, serial in another): each field is checked alone;
* *a date and serial that read as a day-first date after another number* (``81 01.05.1990`` is 81 and
  1 May 1990 to a reader too), and *a number inside a list* that starts or ends mid-item
  (``12 811218:9876``): read otherwise, every list of dates, times and phone numbers would be refused.

These are written down so that nobody mistakes the guard for a proof: it stops the number typed in any
form a reader would recognise as one, which is the mistake that happens; it cannot stop someone set on
hiding one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from stdnum import luhn

from bot.folding import readings

IdentityKind = Literal["personnummer", "samordningsnummer"]

__all__ = [
    "IdentityKind",
    "IdentityMatch",
    "IdentityNumberFound",
    "check_fields",
    "check_free_text",
    "find_identity_numbers",
    "is_invisible",
]

_CENTURIES_12 = frozenset({18, 19, 20})
_COORDINATION_OFFSET = 60
MAX_SEPARATOR_RUN = 20
# Separators that end one item of a list: a candidate crossing one must start and end on one (or the chain).
_ITEM_BREAKS = frozenset(",;:()[]{}\n")
# Separators between the parts of a day-first date (`31.12.2011`, `31/12/2011`).
_DAY_FIRST_SEPARATORS = frozenset({".", "/"})
# Invisible characters that are not of category Cf (Hangul fillers, braille blank).
_INVISIBLE_EXTRA = frozenset("\u115f\u1160\u3164\uffa0\u2800")
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


class IdentityNumberFound(ValueError):
    """A free-text field contains a personnummer or samordningsnummer; nothing may be saved.

    `code`/`params` name the macro `identity_number(field, kind, exact)` in
    `templates/messages/fields.j2`. The message never contains the number itself.
    """

    code = "identity_number"

    def __init__(self, field: str, kind: IdentityKind, match: IdentityMatch | None = None) -> None:
        self.field = field
        self.kind = kind
        self.match = match
        self.exact = match.exact if match is not None else True
        super().__init__(f"{kind} in field {field!r}")

    @property
    def params(self) -> dict[str, str | bool]:
        """Parameters for the Swedish error template."""
        return {"field": self.field, "kind": self.kind, "exact": self.exact}


# --- normalisation -------------------------------------------------------------------------------


def is_invisible(ch: str) -> bool:
    """A zero-width or otherwise invisible character (ignored by the guard, stripped from field edges)."""
    return unicodedata.category(ch) == "Cf" or ch in _INVISIBLE_EXTRA


def _digit(ch: str) -> str | None:
    value = unicodedata.decimal(ch, None)
    return None if value is None else str(value)


@dataclass(slots=True)
class _Group:
    start: int
    end: int
    digits: str
    sep_before: str  # the separator run before this group within its chain ("" for the first)
    soft: bool = False  # only invisible characters separate it from the group before


def _chains(text: str) -> list[list[_Group]]:
    """The digit groups of folded `text`, as chains of groups joined by separator runs."""
    chains: list[list[_Group]] = []
    chain: list[_Group] = []
    group: _Group | None = None
    run = ""  # separators seen since the last group of the chain
    invisible = False  # an invisible character since the last digit
    for i, ch in enumerate(text):
        d = _digit(ch)
        if d is not None:
            if group is None or invisible:
                soft = group is not None
                group = _Group(start=i, end=i + 1, digits=d, sep_before=run if chain else "", soft=soft)
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
                chains.append(chain)
            chain, run = [], ""
        else:  # any other character (punctuation, space, symbol, emoji) separates
            group = None
            if chain:
                run += ch
                if len(run) > MAX_SEPARATOR_RUN:
                    chains.append(chain)
                    chain, run = [], ""
    if chain:
        chains.append(chain)
    return chains


# --- validation ----------------------------------------------------------------------------------


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


def _shaped(groups: list[_Group], n: int) -> bool:
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


def _is_clock(hh: _Group, mm: _Group) -> bool:
    return (
        len(hh.digits) in (1, 2) and len(mm.digits) == 2 and mm.sep_before.strip() in (".", ":")
        and int(hh.digits) <= 23 and int(mm.digits) <= 59
    )


def _has_clock_end(chain: list[_Group], text: str) -> bool:
    """The chain starts or ends with a clock time: `HH.MM` inside it, or `HH:MM` across its edge."""
    if len(chain) >= 2 and (_is_clock(chain[0], chain[1]) or _is_clock(chain[-2], chain[-1])):
        return True
    start, end = chain[0].start, chain[-1].end
    after = text[end : end + 2]
    before = text[max(start - 2, 0) : start]
    return (after[:1] == ":" and after[1:].isdigit()) or (before[1:] == ":" and before[:1].isdigit())


def _starts_date(chain: list[_Group], j: int) -> bool:
    """Group j (four digits) is the year of a date `YYYY-MM-DD` that goes on in the chain."""
    if len(chain[j].digits) != 4 or j + 2 >= len(chain):
        return False
    month, day = chain[j + 1].digits, chain[j + 2].digits
    return len(month) <= 2 and len(day) <= 2 and 1 <= int(month) <= 12 and 1 <= int(day) <= 31


def _plus_before_serial(groups: list[_Group], n: int) -> bool:
    """A `+` in the separator run right before the serial of a 10-digit number."""
    if n != 10:
        return False
    offset = 0
    for g in groups:
        if offset == 6:
            return "+" in g.sep_before
        offset += len(g.digits)
    return False


def _ends_item(group: _Group) -> bool:
    """The separator run before `group` ends an item of a list (``, `` ``: `` ``(`` a line break, `` / ``)."""
    sep = group.sep_before
    return any(c in _ITEM_BREAKS for c in sep) or ("/" in sep and any(c.isspace() for c in sep))


def _ends_day_first_date(groups: list[_Group]) -> bool:
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


def _straddles_items(chain: list[_Group], i: int, j: int) -> bool:
    """The candidate crosses a list break (``,``, ``;``, a bracket, a line break) but does not start and end on
    one: the tail of one item and the head of the next (``08-00 00 00, 01.01.1990``), not a number written
    with a comma inside (``811218,9876``, ``(811218)9876``)."""
    if not any(_ends_item(g) for g in chain[i + 1 : j + 1]):
        return False
    starts = i == 0 or _ends_item(chain[i])
    ends = j == len(chain) - 1 or _ends_item(chain[j + 1])
    return not (starts and ends)


def _candidate(chain: list[_Group], i: int, j: int, n: int, today: date, clock_end: bool) -> IdentityMatch | None:
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


def find_identity_numbers(text: str, today: date) -> list[IdentityMatch]:
    """Return every personnummer/samordningsnummer in `text` (see the module docstring), by position.

    Matches with `exact=False` are shaped like an identity number but have a wrong check digit.
    `today` decides the century of 10-digit numbers (and thus whether a 29 February exists).
    """
    found: list[IdentityMatch] = []
    for folded in readings(text):
        for m in _find_in(folded.text, today):
            start, end = folded.span(m.start, m.end)
            found.append(replace(m, start=start, end=end))
    if len(found) > 1:  # the readings agree on most: keep one match per place, the exact one first
        found.sort(key=lambda m: (m.start, not m.exact, m.start - m.end))
        kept: list[IdentityMatch] = []
        for m in found:
            if not kept or m.start >= kept[-1].end:
                kept.append(m)
        found = kept
    return found


def _find_in(text: str, today: date) -> list[IdentityMatch]:
    found: list[IdentityMatch] = []
    for chain in _chains(text):
        candidates: list[IdentityMatch] = []
        clock_end = _has_clock_end(chain, text)
        for i in range(len(chain)):
            total = 0
            for j in range(i, len(chain)):
                total += len(chain[j].digits)
                if total in (10, 12):
                    match = _candidate(chain, i, j, total, today, clock_end)
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


def check_free_text(field: str, text: str | None, today: date) -> None:
    """Raise `IdentityNumberFound` for the first identity number in `text` (None/empty is fine).

    A number with a correct check digit is reported before one that only looks like an identity number.
    """
    if not text:
        return
    matches = find_identity_numbers(text, today)
    if matches:
        first = next((m for m in matches if m.exact), matches[0])
        raise IdentityNumberFound(field, first.kind, first)


def check_fields(fields: Mapping[str, str | None], today: date) -> None:
    """Check every field; raise `IdentityNumberFound` for the first offending one in mapping order."""
    for field, text in fields.items():
        check_free_text(field, text, today)
