"""Persistence: one SQLite database reached through `Database`, and every SQL statement the bot runs.

The rest of the bot calls repository functions per domain (`cases`, `ladder`, `timers`, `audit`, `reads`,
`distribution`, `slack`, `deliveries`, `due`), each taking an open `Tx` and returning rows or plain values,
so that another database can be added here without touching services, handlers or templates. The store
never imports the domain (`bot.cases`, `bot.ladder`, ...): domain objects are built there from the rows.
"""

from pathlib import Path

from bot.startup import StartupError
from bot.store.db import Database, Tx

__all__ = ["Database", "Tx", "open_database", "uses_postgres"]


def uses_postgres(url: str | None) -> bool:
    """Whether a GFI_DATABASE_URL names PostgreSQL (postgresql:// or postgres://)."""
    return bool(url) and str(url).split("://", 1)[0].lower() in ("postgresql", "postgres")


def open_database(url: str | None, path: Path | str) -> Database:
    """The store: PostgreSQL when `url` names it, else the SQLite file at `path` (not opened yet)."""
    if not url:
        return Database(path)
    if not uses_postgres(url):
        raise StartupError("store_bad_url", reason="postgresql:// eller postgres://")
    from bot.store.postgres import PostgresDatabase  # the driver is loaded only when it is used

    return PostgresDatabase(url)
