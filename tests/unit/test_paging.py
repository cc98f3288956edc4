"""A page of a longer list (bot/paging.py): what it says it shows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.paging import Page, skip_of


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

