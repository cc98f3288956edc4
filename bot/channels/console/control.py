"""The console's own commands: /som (act as someone else), /tid (move the clock), /hjälp, /avsluta-konsol."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.console.args import UsageError, local_datetime
from bot.near import near

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession


async def act_as(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/som <person>`: the next commands are this person's."""
    if len(positional) != 1:
        raise UsageError("need_person")
    person = s.core.directory.person(positional[0])
    if person is None:
        s.say(s.text("unknown_person", person=positional[0], file=str(s.core.directory.source),
                     near=near(positional[0], s.core.directory.people)))
        return
    s.person = person.id
    s.say(s.text("switched", person=person.id, unit=person.unit))


async def move_clock(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/tid <tidpunkt>`: move the clock forward; what falls due on the way fires."""
    if len(positional) != 1:
        raise UsageError("need_when")
    at = local_datetime(positional[0], s.tz)
    if at < s.clock.now():
        s.say(s.text("clock_backwards", at=s.clock.now()))
        return
    await s.advance_to(at)
    s.say(s.text("clock_moved", at=at))


async def help_text(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/hjälp`: every command; `/hjälp <kommando>`: one command, what it does and an example."""
    if not positional:
        s.say(s.core.renderer.render("console_help", units=sorted(s.core.directory.units)))
        return
    typed = positional[0].lstrip("/")
    name = s.aliases.get(typed.lower())
    if name is None:
        s.say(s.text("unknown_command", cmd="/" + typed, near=near(typed, s.aliases, n=1)))
        return
    s.say(s.text("help_one", command=name, usage=s.usage[name]))


async def quit_console(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/avsluta-konsol`."""
    s.running = False


COMMANDS = {"som": act_as, "tid": move_clock, "hjalp": help_text, "quit": quit_console}
ALIASES = {
    "som": "som", "tid": "tid", "hjälp": "hjalp", "hjalp": "hjalp", "help": "hjalp",
    "avsluta-konsol": "quit", "quit": "quit", "exit": "quit",
}
