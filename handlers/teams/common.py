"""What the Teams listeners share for wiring: `bind` gives a module-level listener its context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.channels.teams.app import TeamsContext


def bind(ctx: TeamsContext, listener: Callable[..., Any]) -> Callable[..., Any]:
    """The SDK route handler for a module-level `listener(ctx, context, state, ...)`: the context bound, the
    listener's own name kept (the SDK logs route handlers by name)."""

    async def wired(*args: Any) -> Any:
        return await listener(ctx, *args)

    wired.__name__ = wired.__qualname__ = listener.__name__
    wired.__doc__ = listener.__doc__
    return wired
