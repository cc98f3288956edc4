"""SQL of the outbox's delivery bookkeeping: the outcomes of sends written on their rows (sent, retried, failed), and
the rows of a batch of outcomes locked in id order (`bot.store.outbox` re-exports it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.store import Tx, dialects


async def lock_in_order(tx: Tx, ids: Sequence[int]) -> None:
    """Lock these rows in id order until the transaction ends (PostgreSQL; nothing on SQLite, whose one writer
    holds the whole store), before a batch of outcomes writes them in whatever order its statements take them
    (`UPDATE … FROM (VALUES …)` locks in the join's order, the single writes in the batch's): a withdrawal or a
    lost-access pass locks the rows of a case in id order too, so the two never each hold a row the other waits
    for. Sent without waiting for the answer (`Tx.write`): the locks are taken in the server's order all the
    same, in one trip with the batch's next statement."""
    clause = dialects.of(tx.engine).lock_rows()
    if not clause or not ids:
        return
    where, params = dialects.of(tx.engine).one_of("id", sorted(set(ids)), "bigint")
    await tx.write(f"SELECT id FROM outbox WHERE {where} ORDER BY id{clause}", params)


async def mark_sent(tx: Tx, outbox_id: int, attempts: int, at: datetime, external_id: str | None) -> int:
    return await tx.execute(
        "UPDATE outbox SET status = 'sent', attempts = ?, sent_at = ?, external_id = ?, last_error = NULL, "
        "claimed_by = NULL, claimed_until = NULL WHERE id = ? AND status = 'pending'",
        (attempts, at.isoformat(), external_id, outbox_id),
    )


SENT_ROWS = 500  # rows per UPDATE of mark_sent_many (4 parameters a row)


async def mark_sent_many(tx: Tx, rows: Sequence[tuple[int, int, datetime, str | None]]) -> set[int]:
    """`mark_sent` for several rows, (id, attempts, sent at, external id) each, in one statement per SENT_ROWS;
    the ids that were still pending (and are sent now)."""
    changed: set[int] = set()
    for start in range(0, len(rows), SENT_ROWS):
        chunk = rows[start:start + SENT_ROWS]
        values = ", ".join(["(?, ?, ?, ?)"] * len(chunk))
        found = await tx.fetchall(
            f"""UPDATE outbox SET status = 'sent', attempts = v.column2, sent_at = v.column3, external_id = v.column4,
                       last_error = NULL, claimed_by = NULL, claimed_until = NULL
                FROM (VALUES {values}) AS v
                WHERE outbox.id = v.column1 AND outbox.status = 'pending'
                RETURNING outbox.id""",
            [value for outbox_id, attempts, at, external_id in chunk
             for value in (outbox_id, attempts, at.isoformat(), external_id)],
        )
        changed |= {int(r["id"]) for r in found}
    return changed


async def mark_retry(tx: Tx, outbox_id: int, attempts: int, reason: str, at: datetime) -> None:
    await tx.execute(
        "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL "
        "WHERE id = ? AND status = 'pending'",
        (attempts, reason, at.isoformat(), outbox_id),
    )


async def mark_failed(tx: Tx, outbox_id: int, attempts: int, reason: str) -> int:
    return await tx.execute(
        "UPDATE outbox SET status = 'failed', attempts = ?, last_error = ?, claimed_by = NULL, claimed_until = NULL "
        "WHERE id = ? AND status = 'pending'",
        (attempts, reason, outbox_id),
    )


async def stamp_failed(tx: Tx, outbox_id: int, at: datetime) -> None:
    """When a message failed for good (the dispatcher's failure hook, in the transaction that failed it)."""
    await tx.execute("UPDATE outbox SET failed_at = ? WHERE id = ? AND status = 'failed'", (at.isoformat(), outbox_id))
