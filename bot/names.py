"""A warning, before filing, when a brief looks like it names the individual or gives an address (issue #18
item 20: "skriv inte namn eller adress").

Unlike the identity-number guard (`bot.privacy`), this is a warning, not a refusal: the text is filed once the
person has confirmed that it names nobody (the form's tick box, `kontrollerat=ja` in the console). So it looks
for what is very likely a name or an address and accepts missing some:

* a street address: a word ending in a Swedish street suffix (`-gatan`, `-vägen`, `-gränd`, …) followed by a
  house number, after a space, a hyphen or nothing (`Storgatan 12`, `Lilla vägen 4B`, `Storgatan-5`,
  `Drottninggatan12`); not other words with a number (`vecka-12`, `Covid-19`, `SoL-4`), nor an abbreviated street
  (`Storg. 5`: "Ang. 4 kap." and "Avslag. 2 veckor" end the same way);
  a postal code followed by a town (`211 45 Malmö`), `c/o`;
* a common Swedish first name written with a capital letter (`Folke`, `Anna`), where it is not also an
  everyday word (`Bo`, `Per`, `Dag`, `Björn` are left out);
* a capitalised word ending like a Swedish surname (`Andersson`, `Lindqvist`, `Bergström`, `Lindgren`); not
  `-berg`, `-holm` or `-lund`, which end as many place names (Stockholm, Lund).

Only the kind of find is returned, never the text: the warning does not echo what was typed.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path


class Finding(StrEnum):
    NAME = "name"
    ADDRESS = "address"


_L = r"[^\W\d_]"  # a letter
# A street's name: a word ending as a street does. Not an abbreviation ("Storg. 5"): every capitalised word ending in
# "g." before a number would be one ("Ang. 4 kap.", "Avslag. 2 veckor", "Göteborg. 12 deltog").
_STREET_WORD = (rf"{_L}*(?:gatan|vägen|gränden|gränd|stigen|allén|torget|backen|leden|platsen|stråket|esplanaden)"
                rf"|{_L}+(?:gata|väg|allé|torg|backe)")
# Its house number: after white space, a hyphen or en dash, or nothing ("Storgatan 5", "Storgatan-5",
# "Drottninggatan12"), up to four digits and a letter ("5B", "5 B"). A dash between spaces is prose
# ("arbetsplatsen – 3 dagar"), not an address.
_NUMBER_AFTER = r"(?:\s*|[-–])\d{1,4}\s?[A-Za-z]?\b"
# A street address: a street's name, then its number. What `_STREET` finds, found faster (`_is_street`).
_STREET = re.compile(rf"\b(?:{_STREET_WORD}){_NUMBER_AFTER}", re.IGNORECASE)
# `_STREET` tries each ending at every position of every word (20 µs for a brief of 60 characters, 480 µs for
# 1,000, on the event loop, for every request filed). The names it can match are whole words (letters only, from a
# word's start to the number or its dash), so: each word followed by a number, whole, against the names.
_WORD_BEFORE_NUMBER = re.compile(rf"\b({_L}++)(?={_NUMBER_AFTER})", re.IGNORECASE)  # ++: a shorter word never fits
_STREET_NAME = re.compile(_STREET_WORD, re.IGNORECASE)
_NUMBER_HINT = re.compile(r"[^\W\d_](?:\s*+|[-–])\d")  # in every match of either: most texts have none
_POSTAL = re.compile(r"\b\d{3}\s?\d{2}\s+[A-ZÅÄÖ][a-zåäöé]+")
_CARE_OF = re.compile(r"\bc/o\b", re.IGNORECASE)
_WORD = re.compile(r"\b[A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖÉ][a-zåäöéü]+)?\b")
_SURNAME = re.compile(r"(?:sson|qvist|kvist|ström|gren|stedt)$")
# Common first names in Sweden (women's and men's), from the handbook's examples too (Folke, Sascha, Robin).
# Left out: those that are also everyday Swedish words (Bo, Per, Dag, Sten, Björn, Stig, Maj, Rut, Hans, Max).
FIRST_NAMES = frozenset(
    line.strip() for line in (Path(__file__).parent / "first_names.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)


def findings(text: str) -> list[Finding]:
    """What in `text` looks like a name or an address (each kind once, addresses first); [] when nothing."""
    out: list[Finding] = []
    if _is_street(text) or _POSTAL.search(text) or _CARE_OF.search(text):
        out.append(Finding.ADDRESS)
    for match in _WORD.finditer(text):
        word = match.group(0)
        if any(part.lower() in FIRST_NAMES for part in word.split("-")) or _SURNAME.search(word.lower()):
            out.append(Finding.NAME)
            break
    return out


def _is_street(text: str) -> bool:
    """Whether `_STREET` finds a street address in `text` (tests/unit/test_names.py holds them equal)."""
    return bool(_NUMBER_HINT.search(text)) and any(
        _STREET_NAME.fullmatch(m.group(1)) for m in _WORD_BEFORE_NUMBER.finditer(text))
