"""A console command's arguments: split into positionals and `key=value` options, and checked.

A malformed argument raises `UsageError`; the session answers with the reason and the command's usage.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot import paging
from bot.cases.models import parse_ref
from bot.numerals import is_number


class UsageError(Exception):
    """Malformed arguments: `code` names a branch of the `why` macro in console.j2, shown with the usage."""

    def __init__(self, code: str, **params: str) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


def split_args(tokens: list[str]) -> tuple[list[str], dict[str, str]]:
    """Split tokens into positionals and key=value options (keys lower-cased)."""
    positional: list[str] = []
    options: dict[str, str] = {}
    for tok in tokens:
        key, sep, value = tok.partition("=")
        if sep and key and key.replace("-", "_").isidentifier():  # `följ-upp=` has a dash
            options[key.lower()] = value
        else:
            positional.append(tok)
    return positional, options


def option(options: dict[str, str], *keys: str) -> str | None:
    """The first of `keys` given (a Swedish spelling and its ASCII form: `skäl`, `skal`)."""
    return next((options[k] for k in keys if k in options), None)


def case_ref(positional: list[str], index: int = 0) -> str:
    """The case reference at `index`, normalised."""
    if len(positional) <= index:
        raise UsageError("need_ref")
    ref = parse_ref(positional[index])
    if ref is None:
        raise UsageError("bad_ref", value=positional[index])
    return ref


def local_datetime(value: str, tz: ZoneInfo) -> datetime:
    """`2026-11-24T10:00` in the bot's time zone (or with an explicit offset), as UTC."""
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError("bad_datetime", value=value) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=tz)
    return local.astimezone(UTC)


def day(value: str) -> date:
    """`ÅÅÅÅ-MM-DD`."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError("bad_date", value=value) from None


def yes_no(value: str | None, what: str) -> bool:
    """`ja`/`nej` (and `j`, `n`, `yes`, `no`) for the option named `what`."""
    if value is None:
        raise UsageError("need_yes_no", what=what)
    if value.lower() in ("ja", "j", "yes"):
        return True
    if value.lower() in ("nej", "n", "no"):
        return False
    raise UsageError("yes_no", what=what)


def number(positional: list[str], code: str) -> int:
    """The one positional, a whole number (an escalation, a draft); `code` says what is missing."""
    if len(positional) != 1 or not is_number(positional[0]):
        raise UsageError(code)
    return int(positional[0])


def units(value: str) -> list[str]:
    """`enhet,enhet` as a list, empty parts dropped."""
    return [u for u in value.split(",") if u]


def page_number(options: dict[str, str]) -> int:
    """`sida=N` (1 when not given): which page of a list to show."""
    try:
        return paging.page_number(option(options, "sida"))
    except paging.BadPage as exc:
        raise UsageError("bad_page", value=exc.value) from None
