"""Background work of a running bot: the periodic sweep and the outbox dispatcher.

`Background.start(core)` inside the event loop; `await background.stop()` on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.core import Core

log = logging.getLogger(__name__)


class Background:
    """Runs `core.tick()` every `settings.sweep_seconds` until stopped."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, core: Core) -> Background:
        bg = cls(core)
        bg._task = asyncio.create_task(bg._loop(), name="gfi-background")
        return bg

    async def _loop(self) -> None:
        while True:
            try:
                await self.core.tick()
            except Exception:
                log.exception("background tick failed", extra={"event": "background.error"})
            await asyncio.sleep(self.core.settings.sweep_seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
