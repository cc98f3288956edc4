"""A bounded page of a list a person opens (issue #21 item 4): the items from the `skip`th on, at most a page,
and how many the list holds in all, so the view can say "visar 51–100 av 1 234" and offer the next page.

Every list view reads one page plus a count, never the whole list: the store's functions take `limit` and
`offset`, and count only when the page is full or not the first (a short first page is the whole list)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.numerals import is_number

T = TypeVar("T")

LIST_PAGE = 50  # items of a list one look shows (console, Teams, e-mail); the rest are counted, a page away
PAGE_DIGITS = 6  # `sida=`: at most six ASCII digits (`bot.numerals.is_number`), few enough for any store's integer


class BadPage(ValueError):
    """`sida=` is not a page number (the channel answers with the `bad_page` text, showing `value`)."""

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(value)


def page_number(raw: str | None) -> int:
    """The page a person asked for with `sida=` (1 when not given): 1 to 6 ASCII digits, at least 1, else
    `BadPage`. One parser for every channel, so `sida=²`, `sida=0` or twenty nines are refused in Swedish and
    never reach int() or the store (where they raised ValueError or an integer overflow and ended the session)."""
    value = "1" if raw is None else raw.strip()
    if not is_number(value, PAGE_DIGITS) or int(value) < 1:
        raise BadPage(value)
    return int(value)


@dataclass(frozen=True)
class Page(Generic[T]):
    """`items` of a list, from its `skip`th item (0-based) on, and `total`: how many the list holds in all."""

    items: list[T] = field(default_factory=list)
    total: int = 0
    skip: int = 0
    size: int = LIST_PAGE

    @property
    def after(self) -> int:
        """How many items of the list come after this page."""
        return max(0, self.total - self.skip - len(self.items))

    @property
    def first(self) -> int:
        """The 1-based position of the first item shown (0 when the page is empty)."""
        return self.skip + 1 if self.items else 0

    @property
    def last(self) -> int:
        """The 1-based position of the last item shown."""
        return self.skip + len(self.items)

    @property
    def number(self) -> int:
        """This page's number (1-based)."""
        return self.skip // self.size + 1 if self.size else 1

    @property
    def partial(self) -> bool:
        """Whether the list holds more than this page shows (the view says so, and how to go on)."""
        return self.skip > 0 or self.after > 0

    def __len__(self) -> int:
        return len(self.items)


def skip_of(number: int, size: int = LIST_PAGE) -> int:
    """The number of items before page `number` (1-based)."""
    return max(0, number - 1) * size

