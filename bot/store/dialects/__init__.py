"""What differs between the engines, one module each: the repositories write every statement once, in
SQLite's dialect (`?` and `:name` placeholders, `json_each`, ISO 8601 text for times), and an engine whose
dialect differs translates it here, once per distinct statement (cached), as Synapse's storage engines do.
SQLite runs the statements as written (`sqlite.py`); PostgreSQL translates them (`postgresql.py`)."""

from __future__ import annotations

from types import ModuleType


def of(engine: str) -> ModuleType:
    """The dialect module of an engine (`Tx.engine`, `Database.engine`)."""
    from bot.store.dialects import postgresql, sqlite

    return postgresql if engine == postgresql.NAME else sqlite
