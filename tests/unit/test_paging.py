"""A page of a longer list (bot/paging.py): what it says it shows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.paging import BadPage, Page, page_number, skip_of


@given(total=st.integers(0, 10_000), number=st.integers(1, 300), size=st.integers(1, 100))
def test_a_page_says_what_it_shows_and_what_comes_after(total: int, number: int, size: int) -> None:
    skip = skip_of(number, size)
    items = list(range(skip, min(total, skip + size)))
    page = Page(items, total, skip, size)
    assert page.number == number
    assert page.after == max(0, total - skip - len(items))
    assert page.last - page.first + 1 == len(items) or not items
    assert page.partial == (total > len(items) or skip > 0)
    if items:
        assert (page.first, page.last) == (skip + 1, skip + len(items))



@given(st.text(max_size=30))
def test_a_page_number_is_one_to_six_ascii_digits_or_refused(raw: str) -> None:
    try:
        number = page_number(raw)
    except BadPage as exc:
        assert exc.value == raw.strip()
        assert not (raw.strip().isascii() and raw.strip().isdigit() and 0 < len(raw.strip()) <= 6
                    and int(raw.strip()) > 0)
    else:
        assert 1 <= number <= 999_999 and str(number) == raw.strip().lstrip("0")


def test_page_numbers() -> None:
    assert page_number(None) == 1 and page_number(" 2 ") == 2 and page_number("999999") == 999_999
    for bad in ("²", "٣", "0", "-1", "+1", "1e3", "abc", "", "1234567", "999999999999999999999"):
        with pytest.raises(BadPage):
            page_number(bad)
