"""Timer repository: one-shot reminders of cases (table `timers`).

Functions take an open `Tx` (the caller owns the transaction). Instants are stored as UTC ISO 8601 text;
rows come back as stored, and `bot.reminders` turns them into `Timer` records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.clock import iso
from bot.store import dialects
from bot.store.db import Tx

Row = dict[str, Any]


async def pending_rows(tx: Tx, case_id: int) -> list[Row]:
    """The case's timers not yet done, earliest first."""
    return await tx.fetchall("SELECT * FROM timers WHERE case_id = ? AND done_at IS NULL ORDER BY due_at, id",
                             (case_id,))


async def pending_row(tx: Tx, timer_id: int) -> Row | None:
    """One timer by id, if it is not done yet."""
    return await tx.fetchone("SELECT * FROM timers WHERE id = ? AND done_at IS NULL", (timer_id,))


async def rows_for_case(tx: Tx, case_id: int) -> list[Row]:
    """Every timer of a case, earliest first."""
    return await tx.fetchall("SELECT * FROM timers WHERE case_id = ? ORDER BY due_at, id", (case_id,))


async def due_rows(tx: Tx, now: datetime, limit: int) -> list[Row]:
    """The pending timers due at or before `now`, earliest first, at most `limit` (id, due_at);
    one range scan of the partial index on (due_at, id), so an idle sweep reads nothing."""
    return await tx.fetchall(
        "SELECT id, due_at FROM timers WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
        (iso(now), limit),
    )


async def rows_by_id(tx: Tx, ids: list[int]) -> dict[int, Row]:
    """The pending timers among `ids`, by id, in one query."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = await tx.fetchall(f"SELECT * FROM timers WHERE id IN ({marks}) AND done_at IS NULL", ids)
    return {r["id"]: r for r in rows}


async def due_timers(tx: Tx, now: datetime, limit: int) -> list[Row]:
    """The pending timers due at or before `now`, whole, earliest first, at most `limit` (the sweep's read)."""
    return await tx.fetchall(
        "SELECT * FROM timers WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?", (iso(now), limit)
    )


async def is_due(tx: Tx, row_id: int, now: datetime) -> bool:
    """Whether the timer is pending and due at or before `now`."""
    return bool(await tx.scalar(
        "SELECT COUNT(*) FROM timers WHERE id = ? AND done_at IS NULL AND due_at <= ?", (row_id, iso(now))
    ))


async def earliest_due(tx: Tx, now: datetime) -> Row | None:
    """The pending timer due first at or before `now` (id, due_at), or None."""
    return await tx.fetchone(
        "SELECT id, due_at FROM timers WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT 1",
        (iso(now),),
    )


async def arm(tx: Tx, case_id: int, case_ref: str, kind: str, key: str, due_at: datetime, now: datetime) -> None:
    """Arm a (case, kind, key) timer: new, or re-armed if it was cancelled; otherwise left as it is."""
    await tx.write(
        """INSERT INTO timers (case_id, case_ref, kind, key, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (case_id, kind, key) DO UPDATE SET due_at = excluded.due_at, done_at = NULL,
               outcome = NULL WHERE timers.outcome = 'cancelled'""",
        (case_id, case_ref, kind, key, iso(due_at), iso(now)),
    )


async def cancel(tx: Tx, timer_id: int, now: datetime) -> None:
    """Cancel a pending timer (no-op if it is done)."""
    await tx.execute(
        "UPDATE timers SET done_at = ?, outcome = 'cancelled' WHERE id = ? AND done_at IS NULL", (iso(now), timer_id)
    )


async def finish(tx: Tx, timer_id: int, outcome: str, now: datetime) -> None:
    """Mark a timer done with `outcome` ('fired' or 'stale')."""
    await tx.execute("UPDATE timers SET done_at = ?, outcome = ? WHERE id = ?", (iso(now), outcome, timer_id))


async def finish_many(tx: Tx, rows: list[tuple[int, str, str, int, int | None]], now: datetime) -> set[int]:
    """Mark several timers done in one statement, each with its outcome and only if it is still pending at the
    due time it was read with and its case still at the version it was planned from: (id, due_at as read,
    outcome, the case's id and version as read, None: not checked). Returns the ids marked. (The case is not
    locked: see `bot.store.ladder.climb_many`.)"""
    if not rows:
        return set()
    source, values = dialects.of(tx.engine).rows(("bigint", "text", "text", "bigint", "bigint"), rows)
    found = await tx.fetchall(
        f"""UPDATE timers SET done_at = ?, outcome = v.column3
            FROM {source} AS v JOIN cases ON cases.id = v.column4
            WHERE timers.id = v.column1 AND timers.done_at IS NULL AND timers.due_at = v.column2
              AND (v.column5 IS NULL OR cases.version = v.column5)
            RETURNING timers.id""",
        [iso(now), *values],
    )
    return {int(r["id"]) for r in found}


async def postpone(tx: Tx, timer_id: int, due_at: datetime) -> None:
    """Move a timer's due time (a failed one is retried later)."""
    await tx.execute("UPDATE timers SET due_at = ? WHERE id = ?", (iso(due_at), timer_id))
