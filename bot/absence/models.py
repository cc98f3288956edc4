"""An absence as stored (defined in `bot.presence`, which the directory imports; re-exported here)."""

from __future__ import annotations

from bot.presence import Absence

__all__ = ["Absence"]
