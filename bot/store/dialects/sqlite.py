"""SQLite: the dialect the repositories are written in, so statements run as written.

- placeholders `?` and `:name`; upserts `INSERT … ON CONFLICT … DO UPDATE/NOTHING`; `RETURNING`;
- times are ISO 8601 text (UTC offsets as written by `datetime.isoformat()`), compared as text;
- JSON lists are text, opened with `json_each(x)` (its column `value`);
- locking: one write connection per process, `BEGIN IMMEDIATE`, and the process lock (`bot.store.lock`);
  the one process delivers the outbox, so its rows are not claimed (`CLAIMS`);
- erasure on disk: `secure_delete` zeroes deleted content; a TRUNCATE checkpoint empties the -wal file
  (`Database.scrub`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

NAME = "sqlite"
# Whether outbox rows being sent are claimed with a lease (`bot.store.outbox_lanes`): one process, no need.
CLAIMS = False
# A WITH holds SELECTs only: the statements that PostgreSQL joins in one stay apart (`cases.send_case`).
WRITES_IN_WITH = False
# A filing's reference number is taken at once (`cases.send_case`): the one writer holds the whole store anyway.
LATE_REF = False
# Every statement is answered at once, in process: a read that needs another's answer first costs no trip.
ANSWERED_AT_ONCE = True


def translate(sql: str) -> str:
    """The statement as SQLite runs it: unchanged."""
    return sql


def serialise_appends() -> str | None:
    """The statement that makes one writer at a time append to a hash-chained log (`bot.store.chain`), taking
    the log's lock number as its parameter: none on SQLite, whose single writer gives it already."""
    return None


def chain_hash(table: str, prev: str, values: Sequence[tuple[str, str]]) -> str | None:
    """The SQL that hashes a chained log's row (`bot.store.chain`): none here, the hash is made in Python."""
    return None


def zero_pad(expr: str, digits: int) -> str:
    """The integer `expr` as text with at least `digits` digits, zero-padded (Python's `f"{n:0{digits}d}"`)."""
    return f"printf('%0{digits}d', {expr})"


def lock_rows() -> str:
    """The clause that locks the rows a write transaction reads until it ends: none on SQLite, whose one writer
    holds the whole store."""
    return ""


def unflushed_commit() -> str | None:
    """The statement that lets a transaction's COMMIT return before it is on disk: none. In WAL mode with
    `synchronous=NORMAL` SQLite syncs the log at checkpoints, not at each commit, for every transaction alike."""
    return None


def lock_to_delete() -> str:
    """The clause that locks rows a write transaction will delete: none on SQLite (one writer)."""
    return ""


def skip_locked(alias: str) -> str:
    """The clause that locks the rows read from `alias` and skips those another transaction holds: none on
    SQLite, where one writer at a time reads them."""
    return ""


def notify() -> str | None:
    """The statement that tells other instances about a change (`bot.store.changes`): none, one process."""
    return None


def one_of(column: str, values: Sequence[Any], kind: str) -> tuple[str, list[Any]]:
    """The condition that `column` is one of `values` (`kind` is PostgreSQL's type name, unused here), and its
    parameters: an IN list, as written (SQLite keeps each size's statement in its cache)."""
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def rows(types: Sequence[str], values: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """Many rows as one relation to select from, its columns `column1`…`columnN` of `types` (PostgreSQL's names:
    "bigint", "integer", "text"): the FROM item (use it `AS v`) and its parameters. Here a VALUES list, as
    written; SQLite parses a statement of a given size once and keeps it (the sqlite3 module's statement cache)."""
    marks = "(" + ", ".join("?" * len(types)) + ")"
    return f"(VALUES {', '.join([marks] * len(values))})", [value for row in values for value in row]
