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

Layout: `digits.py` cuts a folded text into chains of digit groups, `shapes.py` decides which runs of a chain
are identity numbers, and this module reads every folding of the text (bot/folding.py) and raises for a field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from bot.folding import readings
from bot.privacy.digits import MAX_SEPARATOR_RUN, is_invisible
from bot.privacy.shapes import IdentityKind, IdentityMatch, find_in

__all__ = [
    "MAX_SEPARATOR_RUN",
    "IdentityKind",
    "IdentityMatch",
    "IdentityNumberFound",
    "check_fields",
    "check_free_text",
    "find_identity_numbers",
    "is_invisible",
]


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


def find_identity_numbers(text: str, today: date) -> list[IdentityMatch]:
    """Return every personnummer/samordningsnummer in `text` (see the module docstring), by position.

    Matches with `exact=False` are shaped like an identity number but have a wrong check digit.
    `today` decides the century of 10-digit numbers (and thus whether a 29 February exists).
    """
    found: list[IdentityMatch] = []
    for folded in readings(text):
        for m in find_in(folded.text, today):
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
