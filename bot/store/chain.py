"""The hash chain of the append-only logs (`audit`, `case_reads`): each row stores `hash`, a SHA-256 over the
table's name, the previous row's hash and the row's own columns, so that a row changed, removed or slipped in
breaks the chain from there on, and a truncation shows against a head hash kept elsewhere (the application
log writes the heads every night, `bot/logchain.py`).

The hash is computed inside the writing transaction: in Python here, or, where the engine can (PostgreSQL,
`append`), by the server in the INSERT itself, from the head it reads under the log's lock, so that the lock is
taken by the statement that appends and not a trip earlier; both make the same bytes (`row_hash`, the
dialect's `chain_hash`; tests/integration/test_chain_sql.py). What the chain needs from an engine: appends to
one log serialised (the last row read and the next row written by one writer at a time; SQLite's single writer
gives it, PostgreSQL needs a lock per log), ids given by the writer (last id + 1), and the columns read back as
the same values (text, integers, NULL) they were written as.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.store.db import Tx
from bot.store.dialects import postgresql, sqlite

_DIALECTS = {"sqlite": sqlite, "postgresql": postgresql}

GENESIS = ""  # the "previous hash" of a log's first row

# The columns each log's hash covers, in order (never change them: every stored hash depends on them).
COLUMNS: dict[str, tuple[str, ...]] = {
    "audit": ("id", "at", "actor_id", "action", "result", "case_id", "case_ref", "detail"),
    "case_reads": ("id", "at", "person_id", "case_ref", "view", "channel"),
}
# The columns whose values are integers (JSON numbers in the hashed text); the others are text.
INTEGERS = frozenset({"id", "case_id"})
PAGE = 2000  # rows per read while a log is walked
# The advisory lock number of each log's appends on PostgreSQL ("gfichain" + a log number); never reuse.
LOCKS: dict[str, int] = {"audit": 0x6766_6963_6861_0001, "case_reads": 0x6766_6963_6861_0002}


@dataclass(frozen=True)
class Head:
    """The last row of a log: its id and hash (id 0 and GENESIS for an empty log)."""

    id: int
    hash: str


def row_hash(table: str, prev: str, row: Mapping[str, Any]) -> str:
    """The hash of `row` (a mapping of at least the table's COLUMNS) after a row whose hash is `prev`."""
    content = [table, prev, [row[c] for c in COLUMNS[table]]]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


async def head(tx: Tx, table: str) -> Head:
    """The log's last row (the one the next append chains to)."""
    return _head(await tx.fetchone(f"SELECT id, hash FROM {_table(table)} ORDER BY id DESC LIMIT 1"))


def _head(row: dict[str, Any] | None) -> Head:
    return Head(int(row["id"]), str(row["hash"] or GENESIS)) if row else Head(0, GENESIS)


async def chained(tx: Tx, table: str, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` (without id) as the next rows of the log: ids after the head, each with its hash (made in Python).
    Call it in the transaction that inserts them."""
    await serialise(tx, table)
    last = _head(await tx.fetchone(f"SELECT id, hash FROM {_table(table)} ORDER BY id DESC LIMIT 1"))
    out: list[dict[str, Any]] = []
    prev_id, prev_hash = last.id, last.hash
    for row in rows:
        full = {**row, "id": prev_id + 1}
        full["hash"] = prev_hash = row_hash(table, prev_hash, full)
        prev_id += 1
        out.append(full)
    return out


async def append(tx: Tx, table: str, row: Mapping[str, Any]) -> None:
    """Append `row` (the table's COLUMNS without id) as the log's next row. Where the engine hashes in SQL
    (PostgreSQL) the lock is one statement and the head read, the id, the hash and the INSERT another, neither
    waited for: the lock is held from here to the commit, with no trip of the client in between when this is
    sent last. Elsewhere as `chained`. A row about a case stored under a provisional reference (a filing's,
    `Tx.provisional`: its number is taken in its last trip, `bot.store.cases.take_ref`) is held with the unit's
    hot writes (`Tx.hold_hot`, sent after `take_ref`, before the rollups), its `case_ref` the one the case
    `row["case_id"]` has by then, read by the server."""
    columns = COLUMNS[_table(table)]
    dialect = _DIALECTS[tx.engine]
    head_sql, hashed, insert = _append_sql(tx.engine, table)
    if hashed is None:
        [full] = await chained(tx, table, [dict(row)])
        await tx.write(insert, tuple(full[c] for c in (*columns, "hash")))
        return
    ref_of_case = row.get("case_ref") in tx.provisional
    if ref_of_case and not tx.holding:
        raise RuntimeError("a row about a case under a provisional reference is appended with hot writes held")
    lock = dialect.serialise_appends()
    assert lock is not None
    await tx.write_hot(lock, (LOCKS[table],), rank=0)
    given = [c for c in columns if c != "id"]
    exprs = ["(SELECT ref FROM cases WHERE id = CAST(? AS bigint))" if c == "case_ref" and ref_of_case
             else f"CAST(? AS {'bigint' if c in INTEGERS else 'text'})" for c in given]
    params = [row["case_id"] if c == "case_ref" and ref_of_case else row[c] for c in given]
    await tx.write_hot(
        f"INSERT INTO {table} ({', '.join(columns)}, hash) SELECT {', '.join(f'v.{c}' for c in columns)}, {hashed} "
        f"FROM (SELECT h.id + 1 AS id, {', '.join(f'{e} AS {c}' for e, c in zip(exprs, given, strict=True))}, "
        f"h.hash AS prev FROM (SELECT 0 AS id, '' AS hash UNION ALL ({head_sql}) ORDER BY id DESC LIMIT 1) AS h) AS v",
        params, rank=0,
    )


@functools.cache
def _append_sql(engine: str, table: str) -> tuple[str, str | None, str]:
    """What `append` sends for `table` on `engine`, made once (each filing appends): the head's read, the hash's SQL
    expression where the engine hashes (else None), and the INSERT of a row hashed in Python."""
    columns = COLUMNS[_table(table)]
    head_sql = f"SELECT id, coalesce(hash, '') AS hash FROM {table} ORDER BY id DESC LIMIT 1"
    values = [(f"v.{c}", "bigint" if c in INTEGERS else "text") for c in columns]
    hashed = _DIALECTS[engine].chain_hash(table, "v.prev", values)
    marks = ", ".join("?" for _ in columns)
    return head_sql, hashed, f"INSERT INTO {table} ({', '.join(columns)}, hash) VALUES ({marks}, ?)"


async def page(tx: Tx, table: str, after_id: int, limit: int = PAGE) -> list[dict[str, Any]]:
    """The rows of a log after `after_id`, in id order, with their hash (for walking the chain)."""
    columns = ", ".join((*COLUMNS[table], "hash"))
    return await tx.fetchall(f"SELECT {columns} FROM {_table(table)} WHERE id > ? ORDER BY id LIMIT ?",
                             (after_id, limit))


async def row_exists(tx: Tx, table: str, row_id: int) -> dict[str, Any] | None:
    """One row of a log by id (with its hash), or None."""
    return await tx.fetchone(f"SELECT id, hash FROM {_table(table)} WHERE id = ?", (row_id,))


async def seal_unchained(tx: Tx, table: str) -> int:
    """Give the rows written before the chain existed (hash NULL) their hashes, once, oldest first; returns how
    many. Only before the first chained row: after it, a row without hash is a break that `verify` names.
    The update trigger allows setting a NULL hash and nothing else."""
    await serialise(tx, table)
    if await tx.scalar(f"SELECT 1 FROM {_table(table)} WHERE hash IS NOT NULL LIMIT 1") is not None:
        return 0  # the chain has begun: a row without hash now is a break for verify to name, never sealed
    columns = ", ".join(COLUMNS[table])
    rows = await tx.fetchall(f"SELECT {columns} FROM {_table(table)} WHERE hash IS NULL ORDER BY id")
    prev = GENESIS
    for row in rows:
        prev = row_hash(table, prev, row)
        await tx.execute(f"UPDATE {_table(table)} SET hash = ? WHERE id = ? AND hash IS NULL", (prev, row["id"]))
    return len(rows)


async def serialise(tx: Tx, table: str) -> None:
    """Hold the log's append lock until the transaction ends, where the engine needs one (PostgreSQL: several
    instances write; SQLite's single writer needs nothing)."""
    lock = _DIALECTS[tx.engine].serialise_appends()
    if lock is not None:
        await tx.write(lock, (LOCKS[_table(table)],))  # waited for with the head read after it


def _table(table: str) -> str:
    if table not in COLUMNS:
        raise ValueError(f"not a chained log: {table}")
    return table
