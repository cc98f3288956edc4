"""Versioned schema migrations, one folder of numbered SQL files per engine, applied in order at start-up.

`sqlite/NNNN_name.sql` and `postgresql/NNNN_name.sql`: the number is the schema version, shared by both
engines (PostgreSQL's `0019_baseline.sql` is SQLite's 1-19 in one step). Add a new migration as the next
number in BOTH folders; never edit one that has shipped. A store whose schema is newer than the newest file
here was written by a newer bot: it is refused at start (`store_newer`), never migrated down.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).parent
ENGINES = ("sqlite", "postgresql")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@cache
def migrations(engine: str) -> tuple[tuple[int, str], ...]:
    """The (version, sql) pairs of one engine, in version order."""
    found: list[tuple[int, str]] = []
    for path in sorted((FOLDER / engine).iterdir()):
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path.read_text(encoding="utf-8")))
    return tuple(found)


def latest(engine: str) -> int:
    """The newest schema version this code knows for `engine`."""
    return max(version for version, _ in migrations(engine))


# SQLite's, as before the folders (tests and tools read it).
MIGRATIONS: list[tuple[int, str]] = list(migrations("sqlite"))
