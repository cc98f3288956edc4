"""A running bot picks up a changed directory file without a restart.

`DirectoryWatcher.check()` is called by the background scheduler every `CHECK_SECONDS` and at once on
SIGHUP (bot/runtime.py, bot/channels/slack/server.py). On PostgreSQL a valid new file is published to every
instance through the store first (`bot.directory.shared`), unless the store knows it as an older version.
A file whose modification time, size and inode are unchanged is not read again; a changed one is read and validated
off the event loop, and when valid its contents replace the directory in place (every service holds that one object;
absences registered in the bot stay). A broken file keeps the old directory and logs why: the YAML paths and line
numbers of the problems, never their text (which may name people); `gfi-bot check-directory FILE` prints the same in
full.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.directory.loading import read_file
from bot.directory.lookup import Directory
from bot.directory.model import DirectoryError, DirectoryFile
from bot.directory.shared import SharedDirectory

log = logging.getLogger(__name__)

CHECK_SECONDS = 30
Signature = tuple[int, int, int]


def _signature(path: Path) -> Signature | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _read(path: Path) -> tuple[bytes, Directory]:
    """The file's bytes and the directory they validate to (DirectoryError when they do not)."""
    raw, _, directory = read_file(path)
    return raw, directory


class DirectoryWatcher:
    """Watches `directory.source`; `on_change` callbacks run after a successful reload."""

    def __init__(self, directory: Directory, path: Path, shared: SharedDirectory | None = None,
                 replaced: Callable[[DirectoryFile], Awaitable[None]] | None = None) -> None:
        self.directory = directory
        self.path = path
        self.shared = shared  # PostgreSQL: a valid file is published to every instance (bot/directory/shared.py)
        self.on_change: list[Callable[[], None]] = []
        # after a reload, given the directory replaced: the cases' lost-access pass (`SharedDirectory.replaced`,
        # through `shared`; the console, which never publishes, passes it here)
        self.replaced = shared.replaced if shared is not None else replaced
        # From the file as it was read at start, when it was (an edit since is applied at the first check); else
        # from the file as it is now.
        seen = directory.seen if directory.source == path else None
        self._signature, self._digest = seen if seen is not None else (_signature(path), _digest(path))
        self._lock = asyncio.Lock()
        self.reloads = 0
        self.refusals = 0

    async def check(self, *, forced: bool = False) -> bool:
        """Reload when the file changed (or on `forced`, e.g. SIGHUP); True when the directory was replaced."""
        async with self._lock:
            if self.shared is not None:
                await self.shared.still_here(self.path)  # about once a day: this machine still runs
            signature = _signature(self.path)
            if signature is None:
                if forced or self._signature is not None:
                    log.warning("directory file unreadable, old directory kept",
                                extra={"event": "directory.reload_refused", "reason": "unreadable"})
                self._signature = None
                return False
            if signature == self._signature and not forced:
                return False
            self._signature = signature
            digest = await asyncio.to_thread(_digest, self.path)
            if digest == self._digest and not forced:
                return False
            try:
                raw, new = await asyncio.to_thread(_read, self.path)
            except DirectoryError as exc:
                self._digest = digest  # logged once per version of the file, not every check
                self.refusals += 1
                log.warning("directory file invalid, old directory kept", extra={
                    "event": "directory.reload_refused", "reason": "invalid", "problems": len(exc.problems),
                    "where": [f"{p.line}:{p.path}" if p.line else p.path for p in exc.problems[:20]],
                })
                return False
            self._digest = digest
            old = self.directory.data
            if self.shared is not None and not await self.shared.offer(raw, self.path, forced=forced,
                                                                       modified=signature[0] / 1e9):
                return False  # an older version than the store's: this instance serves the store's (replaced there)
            replaced = self.directory.replace(new)
            self.reloads += 1
            log.info("directory reloaded", extra={"event": "directory.reloaded", "units": len(new.units),
                                                  "people": len(new.people)})
            del new
            await asyncio.to_thread(replaced.clear)  # the old directory is freed on a thread, not on the loop
        for callback in self.on_change:
            callback()
        if self.replaced is not None:  # the cases' lost-access pass for the people whose roles changed (`bot.core`)
            await self.replaced(old)
        return True
