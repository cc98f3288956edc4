"""Every console command: the table the session looks a command up in, assembled from one module per concern.

A command is `async def name(session, positional, options) -> None`. Each module has `COMMANDS` (canonical
name → function) and `ALIASES` (what a user may type → canonical name; Swedish spellings and their ASCII
forms). The canonical name is also the key of the command's usage line in console.j2/brister.j2 `USAGE`.
A new command goes in the module of its concern, or a new module added to `MODULES`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import TYPE_CHECKING, TypeAlias

from bot.channels.console import (
    absence,
    brister,
    closing,
    control,
    disputes,
    follow_ups,
    journal,
    ladder,
    meetings,
    oversight,
    participants,
    requests,
)

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession

Command: TypeAlias = "Callable[[ConsoleSession, list[str], dict[str, str]], Awaitable[None]]"

MODULES: tuple[ModuleType, ...] = (requests, meetings, participants, follow_ups, closing, journal, ladder, oversight,
                                   brister, control, absence, disputes)

COMMANDS: dict[str, Command] = {}
ALIASES: dict[str, str] = {}
for _module in MODULES:
    for _name in _module.COMMANDS:
        if _name in COMMANDS:
            raise RuntimeError(f"console command {_name!r} is defined twice")
    COMMANDS.update(_module.COMMANDS)
    ALIASES.update(_module.ALIASES)
