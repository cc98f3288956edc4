"""The identity-number guard's shortcuts read what its full reading reads (issue #21 item 2: CPU per filing).

A text of characters that fold to themselves is its own only reading (`bot.folding.readings` skips the loop
per character), and a text with fewer than ten digits holds no candidate (`bot.privacy.shapes.find_in`); `\\d`
is exactly the digits `chains` reads. Each shortcut is compared here with the full path it skips."""

from __future__ import annotations

import sys
from datetime import date

from hypothesis import example, given
from hypothesis import strategies as st

from bot.folding import _fold, readings
from bot.privacy import find_identity_numbers
from bot.privacy.digits import DIGIT, chains, digit
from bot.privacy.shapes import find_in

TODAY = date(2026, 11, 22)

# Swedish text, digits of several scripts, and the characters folding changes (superscripts, marks, bidi
# controls, invisible ones, HTML references).
CHARS = st.one_of(
    st.characters(max_codepoint=0x24F),
    st.sampled_from("åäöÅÄÖéü²³¹½ªº\u00ad\u00a0\u0301\u200b\u202e٣੩８①❶&#;"),
    st.characters(),
)


def full_readings(text: str) -> list[object]:
    """The first reading as the loop per character makes it."""
    return [_fold([(c, i, i + 1) for i, c in enumerate(text)])]


@given(st.lists(CHARS, max_size=40).map("".join))
@example("Man, 45 år, alkohol, vill veta vad mottagningen kan erbjuda.")
@example("811218\u00ad9876")
@example("8112189876²")
def test_a_text_reads_as_its_full_reading(text: str) -> None:
    got = readings(text)
    assert got[0] == full_readings(text)[0]
    if "&" not in text:
        assert len(got) == 1


@given(st.lists(CHARS, max_size=40).map("".join))
@example("81 12 18 98 7")
@example("８１１２１８-９８７６")
def test_fewer_than_ten_digits_hold_no_number(text: str) -> None:
    digits = sum(len(g.digits) for chain in chains(text) for g in chain)
    assert digits == len(DIGIT.findall(text))
    if digits < 10:
        assert find_in(text, TODAY) == []


def test_re_reads_as_digits_what_the_guard_reads_as_digits() -> None:
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        assert (DIGIT.fullmatch(ch) is not None) == (digit(ch) is not None), hex(code)


def test_a_number_in_plain_text_is_still_found() -> None:
    assert find_identity_numbers("Född 811218-9876, bor i Malmö.", TODAY)
    assert find_identity_numbers("nr ８１１２１８-９８７６ å", TODAY)
