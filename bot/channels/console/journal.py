"""Console command for the journal record: /journal <ref>."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.console.args import case_ref
from bot.journal import journal_for

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession


async def journal(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/journal <ref>`: the text to paste into the individual's journal (for those in the case)."""
    core = s.core
    record = await journal_for(core.db, core.cases.load, core.directory, core.renderer, person_id=s.person,
                               ref=case_ref(positional), now=s.clock.now(), channel="console")
    s.say(record.text)


COMMANDS = {"journal": journal}
ALIASES = {"journal": "journal", "journalunderlag": "journal"}
