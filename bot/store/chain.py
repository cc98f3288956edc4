"""The hash chain of the append-only logs (`audit`, `case_reads`): each row stores `hash`, a SHA-256 over the
table's name, the previous row's hash and the row's own columns, so that a row changed, removed or slipped in
breaks the chain from there on, and a truncation shows against a head hash kept elsewhere (the application
log writes the heads every night, `bot/logchain.py`).

The hash is computed here, in Python, inside the writing transaction, so it is the same on every engine. What
the chain needs from an engine: appends to one log serialised (the last row read and the next row written by
one writer at a time; SQLite's single writer gives it, PostgreSQL needs a lock per log), ids given by the
writer (last id + 1), and the columns read back as the same values (text, integers, NULL) they were written as.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.store.db import Tx
from bot.store.dialects import postgresql, sqlite
from bot.store.tx import Soon

_DIALECTS = {"sqlite": sqlite, "postgresql": postgresql}

GENESIS = ""  # the "previous hash" of a log's first row

# The columns each log's hash covers, in order (never change them: every stored hash depends on them).
COLUMNS: dict[str, tuple[str, ...]] = {
    "audit": ("id", "at", "actor_id", "action", "result", "case_id", "case_ref", "detail"),
    "case_reads": ("id", "at", "person_id", "case_ref", "view", "channel"),
}
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


async def reserve(tx: Tx, table: str) -> Soon:
    """Take the log's append lock and send the read of its head, not waiting for the answer (`chained(…, head=)`
    reads it): a unit that has another read to make sends this first, and both are answered in one trip.
    The lock is held from here to the commit, so nothing may be appended to the log in between but through
    `chained` with this head."""
    await serialise(tx, table)
    return await tx.fetchone_soon(f"SELECT id, hash FROM {_table(table)} ORDER BY id DESC LIMIT 1")


async def chained(tx: Tx, table: str, rows: Sequence[dict[str, Any]], head: Soon | None = None
                  ) -> list[dict[str, Any]]:
    """`rows` (without id) as the next rows of the log: ids after the head, each with its hash. Call it in the
    transaction that inserts them; `head`: the head `reserve` sent for, in this transaction (used once)."""
    if head is None:
        await serialise(tx, table)
        last = _head(await tx.fetchone(f"SELECT id, hash FROM {_table(table)} ORDER BY id DESC LIMIT 1"))
    else:
        last = _head(await tx.answer(head))
    out: list[dict[str, Any]] = []
    prev_id, prev_hash = last.id, last.hash
    for row in rows:
        full = {**row, "id": prev_id + 1}
        full["hash"] = prev_hash = row_hash(table, prev_hash, full)
        prev_id += 1
        out.append(full)
    return out


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
