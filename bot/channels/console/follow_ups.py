"""Console commands for follow-ups proposed across principals: /acceptera, /avböj-uppföljning."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.cases import offers
from bot.channels.console.args import UsageError, case_ref
from bot.numerals import is_number

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession


async def accept(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/acceptera <ref> <nr>`: accept a follow-up proposed to me (or, as distributor, to my unit's staff)."""
    ref = case_ref(positional)
    if len(positional) != 2 or not is_number(positional[1]):
        raise UsageError("need_number")
    n = int(positional[1])
    case = await s.core.cases.accept_follow_up(s.person, ref, n)
    await s.done("accept_follow_up", case, offers.after_accept(case, s.person, s.core.directory, n), number=n)


async def decline(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/avböj-uppföljning <ref> <nr>`: decline a follow-up proposed to me (or, as distributor, to my unit)."""
    ref = case_ref(positional)
    if len(positional) != 2 or not is_number(positional[1]):
        raise UsageError("need_number")
    n = int(positional[1])
    await s.done("decline_follow_up", await s.core.cases.decline_follow_up(s.person, ref, n), number=n)


COMMANDS = {"acceptera": accept, "avboj_uppfoljning": decline}
ALIASES = {"acceptera": "acceptera", "acceptera-uppföljning": "acceptera", "acceptera-uppfoljning": "acceptera",
           "avböj-uppföljning": "avboj_uppfoljning", "avboj-uppfoljning": "avboj_uppfoljning"}
