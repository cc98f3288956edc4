"""SQLite: the dialect the repositories are written in, so statements run as written.

- placeholders `?` and `:name`; upserts `INSERT … ON CONFLICT … DO UPDATE/NOTHING`; `RETURNING`;
- times are ISO 8601 text (UTC offsets as written by `datetime.isoformat()`), compared as text;
- JSON lists are text, opened with `json_each(x)` (its column `value`);
- locking: one write connection per process, `BEGIN IMMEDIATE`, and the process lock (`bot.store.lock`);
- erasure on disk: `secure_delete` zeroes deleted content; a TRUNCATE checkpoint empties the -wal file
  (`Database.scrub`).
"""

from __future__ import annotations

NAME = "sqlite"


def translate(sql: str) -> str:
    """The statement as SQLite runs it: unchanged."""
    return sql


def serialise_appends() -> str | None:
    """The statement that makes one writer at a time append to a hash-chained log (`bot.store.chain`), taking
    the log's lock number as its parameter: none on SQLite, whose single writer gives it already."""
    return None
