"""Console commands and options for who attends the GFI meeting (issue #10 item 2): `/utse <ref> <person>`, and
the `deltagare=` and `extern=` options of /boka and /hölls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.console.args import UsageError, case_ref

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession


def named(value: str | None) -> list[tuple[str | None, str]] | None:
    """`deltagare=soc-vuxen:olle.berg,maria.sand` → [("soc-vuxen", "olle.berg"), (None, "maria.sand")] (no unit:
    the person's own unit); None when the option was not given."""
    if value is None:
        return None
    out: list[tuple[str | None, str]] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        unit, sep, person = part.partition(":")
        if sep and (not unit.strip() or not person.strip() or ":" in person):
            raise UsageError("bad_participant", value=part)
        out.append((unit.strip(), person.strip()) if sep else (None, part))
    return out


def externals(value: str | None) -> list[tuple[str, str | None]] | None:
    """`extern="närstående:Eva, god man"` → [("närstående", "Eva"), ("god man", None)]: a role, and at most a
    first name after the colon; None when the option was not given (a rebooking keeps the earlier ones)."""
    if value is None:
        return None
    out: list[tuple[str, str | None]] = []
    for part in (p.strip() for p in value.split(",")):
        if part:
            role, _, name = part.partition(":")
            out.append((role.strip(), name.strip() or None))
    return out


async def appoint(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/utse <ref> <person>`: name who attends the booked meeting for the person's unit."""
    ref = case_ref(positional)
    if len(positional) != 2:
        raise UsageError("need_person")
    await s.done("appoint", await s.core.cases.appoint(s.person, ref, positional[1]))


COMMANDS = {"utse": appoint}
ALIASES = {"utse": "utse", "utse-deltagare": "utse"}
