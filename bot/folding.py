"""Text folded the way a reader sees it, with a map back to the typed text (for the identity-number guard).

A person reading `⁸¹¹²¹⁸⁻⁹⁸⁷⁶`, `8̃1̃…`, `8️⃣1️⃣…` or `811218&#45;9876` (in a page that decodes HTML) reads
`811218-9876`. `fold` turns text into what is read, in this order:

1. HTML character references are decoded (`&#45;`, `&#x2d;`, `&ndash;`) `html_rounds` times (0 to
   `HTML_ROUNDS`: double encoding `&amp;#45;` needs two). How often a text is decoded before someone reads it
   depends on where it is shown (Slack and Teams show `&#45;` as typed, a web page decodes it once), and
   decoding once more can also *remove* a digit (`&#&#56;` is `&#8` to a browser, a control character when
   decoded twice), so `readings` gives every reading and the guard checks each;
2. each character is replaced by its Unicode compatibility form (NFKC: superscripts, subscripts, circled,
   parenthesised and full-width digits become plain digits, `⁻` a minus sign);
3. a character that still is not a decimal digit but has a digit value (`❶`, `➀`) becomes that digit;
4. combining marks (categories Mn, Mc, Me: accents, the enclosing circle, the keycap mark U+20E3, the
   variation selectors U+FE00–FE0F and U+E0100–E01EF) and bidi controls are removed.

Invisible format characters (zero-width space and friends) are kept: the guard reads them as a soft separator.

Bidi controls (`BIDI_CONTROLS`) reorder what is shown: `\u202e6789-812118` is *shown* as `811218-9876` but
stored reversed, so no reading of the stored characters finds the number. They are removed here and
refused in stored text (`bot.fields`), and removed from echoed values (`bot.rendering.echo`).

Every folded character keeps the span of typed characters it came from (`Folded.span`), so a match in the
folded text masks exactly the typed disguise.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["BIDI_CONTROLS", "HTML_ROUNDS", "Folded", "fold", "has_bidi_control", "readings",
           "without_bidi_controls"]

# The Unicode Bidi_Control characters: ALM, LRM, RLM, the embeddings and overrides (LRE, RLE, PDF, LRO, RLO)
# and the isolates (LRI, RLI, FSI, PDI).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
HTML_ROUNDS = 3
_HTML_REFERENCE = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{1,31});?")
_DROPPED_CATEGORIES = frozenset({"Mn", "Mc", "Me"})


@dataclass(frozen=True, slots=True)
class Folded:
    """The folded text; `starts[i]`/`ends[i]` is the span of the typed text that folded character i came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The typed text's span for the folded text's `[start, end)` (end > start)."""
        return self.starts[start], self.ends[end - 1]


def has_bidi_control(text: str) -> bool:
    return not BIDI_CONTROLS.isdisjoint(text)  # in C: every field of every form is read for them


def without_bidi_controls(text: str) -> str:
    return "".join(c for c in text if c not in BIDI_CONTROLS) if has_bidi_control(text) else text


_Piece = tuple[str, int, int]  # (one character, start and end in the typed text)


def _decode_html(pieces: list[_Piece]) -> list[_Piece] | None:
    """One round of decoding; None when there was nothing to decode."""
    text = "".join(p[0] for p in pieces)
    if "&" not in text:
        return None
    out: list[_Piece] = []
    last = 0
    for m in _HTML_REFERENCE.finditer(text):
        decoded = html.unescape(m.group())
        if decoded == m.group():
            continue
        out.extend(pieces[last : m.start()])
        start, end = pieces[m.start()][1], pieces[m.end() - 1][2]
        out.extend((c, start, end) for c in decoded)
        last = m.end()
    if last == 0:
        return None
    out.extend(pieces[last:])
    return out


def _read(ch: str) -> str:
    """What one character reads as: its NFKC form, digits for digit-valued symbols, marks and bidi dropped."""
    if ch.isascii():
        return ch
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        if c in BIDI_CONTROLS or unicodedata.category(c) in _DROPPED_CATEGORIES:
            continue
        if unicodedata.decimal(c, None) is None:
            value = unicodedata.digit(c, None)
            if value is not None:
                c = str(value)
        out.append(c)
    return "".join(out)


def _reads_as_itself(ch: str) -> bool:
    return _read(ch) == ch


# The characters below U+0250 that read as themselves (ASCII, and the Latin letters Swedish and its neighbours
# are written in: å, ä, ö, é, ü, ø, …), found at import by `_read` itself; a text of these alone folds to itself.
_AS_TYPED = re.compile("[" + re.escape("".join(chr(c) for c in range(0x250) if _reads_as_itself(chr(c)))) + "]*")


def readings(text: str) -> list[Folded]:
    """Every way `text` may be read: folded after 0, 1, … `HTML_ROUNDS` rounds of HTML decoding (fewer when a
    round decodes nothing)."""
    if "&" not in text and _AS_TYPED.fullmatch(text):  # one reading, the typed text: no loop per character
        return [Folded(text, tuple(range(len(text))), tuple(range(1, len(text) + 1)))]
    pieces: list[_Piece] | None = [(c, i, i + 1) for i, c in enumerate(text)]
    out: list[Folded] = []
    for _ in range(HTML_ROUNDS + 1):
        if pieces is None:
            break
        out.append(_fold(pieces))
        pieces = _decode_html(pieces)
    return out


def fold(text: str, html_rounds: int = 1) -> Folded:
    """`text` as a reader sees it (see the module docstring), after `html_rounds` rounds of HTML decoding."""
    all_readings = readings(text)
    return all_readings[min(html_rounds, len(all_readings) - 1)]


def _fold(pieces: list[_Piece]) -> Folded:
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for ch, start, end in pieces:
        read = _read(ch)
        if not read:  # a dropped mark belongs to the character before it (masking covers it too)
            if ends:
                ends[-1] = max(ends[-1], end)
            continue
        for c in read:
            chars.append(c)
            starts.append(start)
            ends.append(end)
    return Folded("".join(chars), tuple(starts), tuple(ends))
