"""Persistence: one SQLite database reached through `Database`."""

from bot.store.db import Database, Tx

__all__ = ["Database", "Tx"]
