"""argparse speaking Swedish: usage errors (missing or unknown arguments, bad values) in the staff's language,
one line after the usage, exit 2 as argparse does."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

from bot.cli.common import say

_PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"the following arguments are required: (?P<names>.+)"),
     lambda m: say("required", names=m["names"])),
    (re.compile(r"unrecognized arguments: (?P<args>.+)"), lambda m: say("unrecognized", args=m["args"])),
    (re.compile(r"argument (?P<arg>\S+): invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)"),
     lambda m: say("invalid_choice", argument=m["arg"], value=m["value"], choices=m["choices"])),
    (re.compile(r"argument (?P<arg>\S+): invalid (?P<kind>int|float) value: (?P<value>.+)"),
     lambda m: say("invalid_value", argument=m["arg"], kind=say(f"kind_{m['kind']}"), value=m["value"])),
    (re.compile(r"argument (?P<arg>\S+): expected one argument"), lambda m: say("expected_one", argument=m["arg"])),
]


def swedish(message: str) -> str:
    """argparse's English error message in Swedish (unknown messages pass unchanged)."""
    for pattern, render in _PATTERNS:
        match = pattern.fullmatch(message)
        if match is not None:
            return str(render(match))
    return message


class SwedishFormatter(argparse.HelpFormatter):
    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix if prefix is not None else say("usage_prefix") + " ")


class SwedishParser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", SwedishFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, say("usage_error", prog=self.prog, message=swedish(message)) + "\n")
