"""The console picks up a changed directory file as a running bot does (bot/directory/reload.py): the file is
checked before each command, and read again at once on SIGHUP. A valid new file replaces the directory and the
console says so; a broken one keeps the old directory (logged, as in the run mode)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bot.directory.reload import DirectoryWatcher

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession


class ConsoleReload:
    def __init__(self, session: ConsoleSession) -> None:
        self.session = session
        core = session.core
        source = core.directory.source
        # never published (the console serves the store's newest), but its own file's reload runs the reload pass
        replaced = core.shared_directory.replaced if core.shared_directory is not None else None
        self.watcher = DirectoryWatcher(core.directory, source, replaced=replaced) if source is not None else None
        self._tasks: set[asyncio.Task[None]] = set()

    async def check(self, *, forced: bool = False) -> None:
        """Reload when the file changed (or `forced`), and tell the person at the console."""
        if self.watcher is None or not await self.watcher.check(forced=forced):
            return
        session, directory = self.session, self.session.core.directory
        session.say(session.text("directory_reloaded", units=len(directory.units), people=len(directory.people)))
        if directory.person(session.person) is None:
            session.say(session.text("person_gone", person=session.person))

    @contextlib.contextmanager
    def on_sighup(self) -> Iterator[None]:
        """While the console runs, SIGHUP (`kill -HUP`) reads the file again at once."""
        loop = asyncio.get_running_loop()

        def hup() -> None:
            task = loop.create_task(self.check(forced=True))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        try:
            loop.add_signal_handler(signal.SIGHUP, hup)
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):  # no signals here (not the main
            yield  # thread, or not POSIX): the check before each command still runs
            return
        try:
            yield
        finally:
            loop.remove_signal_handler(signal.SIGHUP)
