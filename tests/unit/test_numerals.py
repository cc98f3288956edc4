"""`is_number`: what a person types or a client sends back is a number only as ASCII digits, few enough for the
store (str.isdigit took `²`, which int() refuses, and twenty nines, which overflow the store's integers)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.numerals import MOST_DIGITS, is_number


@pytest.mark.parametrize(("text", "number"), [
    ("1", True), ("0", True), ("123456789012345678", True), ("1234567890123456789", False), ("", False),
    ("²", False), ("٣", False), ("12²", False), ("-1", False), ("+1", False), (" 1", False), ("1.0", False),
    ("abc", False), ("１２", False),
])
def test_a_number_is_ascii_digits_few_enough(text: str, number: bool) -> None:
    assert is_number(text) is number


@given(st.text(max_size=25))
def test_what_is_a_number_int_reads_and_the_store_holds(text: str) -> None:
    if is_number(text):
        assert 0 <= int(text) < 2**63 and len(text) <= MOST_DIGITS
