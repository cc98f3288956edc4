"""Progress of long work on a terminal (backup, purge, the yearly report, the store's migration, the directory's
Entra sync), and nothing when the output is not a terminal (a pipe, a log, cron): one line rewritten in place
on stderr. A module of its own (texts only), so the commands outside bot/cli (bot.directory.command,
bot.migrate_store) use it without an import cycle."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from bot import texts


def say(name: str, **params: Any) -> str:
    return texts.text("cli", name, **params)


class Progress:
    """`update(done, total)` redraws `label: 42 %`; `finish()` ends the line with the time taken."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.on = self.stream.isatty()
        self.label = label
        self.started = time.monotonic()
        self._last = -1
        self._drawn = False

    def update(self, done: int, total: int) -> None:
        if not self.on:
            return
        percent = 100 * done // total if total else 100
        if percent != self._last:
            self._last = percent
            self.stream.write(f"\r{say('progress', label=self.label, percent=percent)}")
            self.stream.flush()
            self._drawn = True

    def start(self) -> None:
        if self.on:
            self.stream.write(say("progress_busy", label=self.label))
            self.stream.flush()
            self._drawn = True

    def finish(self) -> None:
        if self.on:
            seconds = time.monotonic() - self.started
            self.stream.write(f"\r{say('progress_done', label=self.label, seconds=f'{seconds:.1f}')}\n")
            self.stream.flush()
            self.on = False

    def abandon(self) -> None:
        """The work failed: end a drawn line, so the error that follows starts on a line of its own."""
        if self.on and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
        self.on = False


@contextmanager
def busy(label: str, stream: TextIO | None = None) -> Iterator[Progress]:
    """`label …` while the block runs and `label: klart (n s)` after it, on a terminal only."""
    progress = Progress(label, stream)
    progress.start()
    yield progress
    progress.finish()
