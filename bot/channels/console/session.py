"""One console conversation: read a line, find the command, run it, say what the bot answers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot import readlog
from bot.cases import access, offers
from bot.cases.models import Case
from bot.cases.visibility import shown_free_text
from bot.channels.console.args import UsageError, split_args
from bot.channels.console.commands import ALIASES, COMMANDS
from bot.channels.console.output import ConsoleClock, print_message
from bot.channels.console.reload import ConsoleReload
from bot.channels.terminal import neutralise
from bot.core import Core
from bot.errors import FieldError, Refusal, StoreFull
from bot.logs import log_to_file
from bot.messages.model import Offer
from bot.messages.text import plain_text
from bot.near import near
from bot.paging import Page


class ConsoleSession:
    """One console conversation. `handle(line)` runs one command and prints what the bot says."""

    def __init__(self, core: Core, person_id: str, clock: ConsoleClock, out: TextIO) -> None:
        self.core = core
        self.person = person_id
        self.clock = clock
        self.out = out
        self.tz = ZoneInfo(core.settings.timezone)
        self.running = True
        self.aliases: Mapping[str, str] = ALIASES  # what one may type → the command (`/hjälp <kommando>` asks it)
        self.usage: dict[str, str] = {
            **core.renderer.env.get_template("console.j2").module.USAGE,  # type: ignore[attr-defined]
            **core.renderer.env.get_template("brister.j2").module.USAGE,  # type: ignore[attr-defined]
        }

    # --- output -----------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        print_message(self.out, self.person, text)

    def text(self, name: str, **ctx: object) -> str:
        """A macro of console.j2."""
        return self.core.renderer.macro("console", name, **ctx)

    def page_note(self, page: Page[Any], command: str) -> None:
        """Under a list that is one page of a longer one: what is shown, and the next page's command."""
        note = self.text("page_note", page=page, command=command)
        if note:
            self.say(note)

    async def show(self, template: str, **ctx: object) -> None:
        """Say a rendered template; a case's free text in it is logged as read."""
        self.say(self.core.renderer.render(template, **ctx))
        await self.log_reads(template, [c.ref for c in shown_free_text(template, ctx)])

    async def log_reads(self, view: str, refs: list[str]) -> None:
        await readlog.record_now(self.core.db, at=self.clock.now(), person_id=self.person, refs=refs, view=view,
                                 channel="console")

    async def done(self, action: str, case: Case, offered: tuple[Offer, ...] | None = None, **ctx: object) -> None:
        """Answer the one who acted, with their next steps on the case (or `offered`)."""
        if offered is None:
            offered = offers.after_action(case, self.person, self.core.directory)
        message = self.core.outbox.describe(
            "action_done", recipient_id=self.person, case_ref=case.ref, action=action, case=case,
            offers=offered, **ctx)
        self.say(plain_text(message))
        await self.log_reads("action_done", [c.ref for c in shown_free_text("action_done", {"action": action,
                                                                                          "case": case})])

    # --- loop -------------------------------------------------------------------------------------
    async def handle(self, line: str) -> None:
        """Run one input line; never raises for user errors."""
        line = line.strip()
        if not line or line.startswith("#"):
            return
        if not line.startswith("/"):
            self.say(self.text("not_a_command"))
            return
        try:
            tokens = shlex.split(line[1:])
        except ValueError:
            self.say(self.text("bad_args", why=self.text("why", code="unbalanced_quote"), usage="/hjälp"))
            return
        name = ALIASES.get(tokens[0].lower()) if tokens else None
        if name is None:
            typed = tokens[0] if tokens else ""
            self.say(self.text("unknown_command", cmd=line.split()[0], near=near(typed, ALIASES, n=1)))
            return
        positional, options = split_args(tokens[1:])
        try:
            await COMMANDS[name](self, positional, options)
        except UsageError as exc:
            why = self.core.renderer.usage_error("console", "why", code=exc.code, **exc.params)
            self.say(self.text("bad_args", why=why, usage=self.usage[name]))
        except FieldError as exc:
            messages = self.core.renderer.field_errors(exc, channel="console")
            self.say("\n".join(messages.values()))
        except Refusal as exc:
            exc = await access.masked(self.core.db, self.core.cases.load, self.core.directory, self.person, exc)
            self.say(self.core.renderer.refusal(exc, channel="console"))
        except StoreFull:  # nothing was stored; the store told the operator (bot/store/space.py)
            self.say(self.core.renderer.render("store_full", ref=None))
            return
        await self.tick()

    async def tick(self) -> None:
        """What falls due now; with the disk full it waits for the next command (the store told the operator)."""
        with contextlib.suppress(StoreFull):
            await self.core.tick()

    async def welcome(self) -> None:
        person = self.core.directory.people[self.person]
        now = self.clock.now()
        opens = self.core.outbox.policy(person, now, False)
        quiet_until = opens if opens > now else None
        self.say(self.text("welcome", person=self.person, unit=person.unit, now=now, opens=quiet_until))
        await self.tick()

    async def advance_to(self, at: datetime) -> None:
        """Move the clock to `at` in steps, so what falls due on the way fires in order and at its time."""
        step = timedelta(minutes=15)
        while self.clock.now() + step < at:
            self.clock.move_to(self.clock.now() + step)
            await self.tick()
        self.clock.move_to(at)


async def run_console(core: Core, person_id: str, clock: ConsoleClock, stdin: TextIO, out: TextIO) -> None:
    """Read commands until EOF or /avsluta-konsol. Echoes scripted input so transcripts are readable."""
    session = ConsoleSession(core, person_id, clock, out)
    interactive = stdin.isatty()
    if interactive and sys.stderr.isatty() and "GFI_LOG_LEVEL" not in os.environ:
        # typed at a terminal: stderr is the conversation's screen too, so log lines go next to the database
        log_to_file(Path(core.settings.db_path).with_suffix(".log"))
    reload = ConsoleReload(session)  # a changed directory file is read again, as in the run mode
    with reload.on_sighup():
        await session.welcome()
        while session.running:
            if interactive:
                out.write(f"{session.person}> ")
                out.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            if not interactive and line.strip():
                out.write(f"@{session.person}> {neutralise(line.strip())}\n")
            await reload.check()
            await session.handle(line)
