"""SQL of the outbox: queueing message rows and reading them. The delivery bookkeeping (`bot.store.outbox_marks`)
and the erasure (`bot.store.outbox_erase`) live beside it and are importable from here, as callers use them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store import Database, Tx, dialects
from bot.store.outbox_erase import KEPT_ERROR as KEPT_ERROR
from bot.store.outbox_erase import OWN as OWN
from bot.store.outbox_erase import OWN_BY_ID as OWN_BY_ID
from bot.store.outbox_erase import delivered_to as delivered_to
from bot.store.outbox_erase import retract_withdrawn as retract_withdrawn
from bot.store.outbox_erase import showing as showing
from bot.store.outbox_erase import was_told as was_told
from bot.store.outbox_erase import withdraw as withdraw
from bot.store.outbox_marks import SENT_ROWS as SENT_ROWS
from bot.store.outbox_marks import lock_in_order as lock_in_order
from bot.store.outbox_marks import mark_failed as mark_failed
from bot.store.outbox_marks import mark_retry as mark_retry
from bot.store.outbox_marks import mark_sent as mark_sent
from bot.store.outbox_marks import mark_sent_many as mark_sent_many
from bot.store.outbox_marks import stamp_failed as stamp_failed
from bot.store.tx import Soon

# Announced (`bot.store.changes`) by PostgreSQL itself when rows are queued: a trigger on the table (migration 28).
TOPIC = "outbox"

_INSERT = """INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, message,
                               urgent, not_before, next_attempt_at, dedupe_key, reads)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""


def _with_ref(case_id: int | None, case_ref: str | None) -> None:
    """A case's message carries the case's reference: its own messages are found by it (schema 40: on PostgreSQL
    there is no index on case_id), a withdrawal's, a purge's, a hand-over's."""
    if case_id is not None and case_ref is None:
        raise ValueError("an outbox row with a case id needs the case's reference")


async def insert(tx: Tx, *, created_at: datetime, case_id: int | None, case_ref: str | None, recipient_id: str,
                 channel: str, template: str, text: str, message: str | None, urgent: bool, earliest: datetime,
                 dedupe_key: str | None, reads: str | None, want_id: bool = True) -> int | None:
    """Queue one row; its id, None when `dedupe_key` was queued before. A row without `dedupe_key` whose id is
    not wanted (`want_id=False`, None returned) is queued without waiting for the answer (`Tx.write`)."""
    _with_ref(case_id, case_ref)
    values = (created_at.isoformat(), case_id, case_ref, recipient_id, channel, template, text, message, int(urgent),
              earliest.isoformat(), earliest.isoformat(), dedupe_key, reads)
    if dedupe_key is None and not want_id:
        await tx.write(_INSERT, values)
        return None
    row_id = await tx.scalar(f"{_INSERT} ON CONFLICT (dedupe_key) DO NOTHING RETURNING id", values)
    return None if row_id is None else int(row_id)


_COLUMNS = ("created_at", "case_id", "case_ref", "recipient_id", "channel", "template", "text", "message", "urgent",
            "not_before", "next_attempt_at", "dedupe_key", "reads")
INSERT_ROWS = 500  # rows per multi-row INSERT (13 parameters a row: well under either engine's limit)


OutboxRow = tuple[Any, ...]


def row(*, created_at: datetime, case_id: int | None, case_ref: str | None, recipient_id: str, channel: str,
        template: str, text: str, message: str | None, urgent: bool, earliest: datetime, dedupe_key: str | None,
        reads: str | None) -> OutboxRow:
    """One row for `insert_many` (as `insert` takes it), made before the transaction: plain values only."""
    _with_ref(case_id, case_ref)
    at = earliest.isoformat()
    return (created_at.isoformat(), case_id, case_ref, recipient_id, channel, template, text, message, int(urgent),
            at, at, dedupe_key, reads)


_TYPES = ("text", "bigint", "text", "text", "text", "text", "text", "text", "integer", "text", "text", "text", "text")


@dataclass(frozen=True)
class Encoded:
    """Outbox rows (`row`) made into `insert_many`'s parameters for one engine, before the transaction (on
    PostgreSQL one JSON text per INSERT_ROWS rows: encoding a sweep batch's messages took 1–2 ms of the write
    unit's own time). `rows` are the rows encoded."""

    engine: str
    rows: tuple[OutboxRow, ...]
    chunks: tuple[tuple[str, tuple[Any, ...]], ...]


def encode(engine: str, rows: Sequence[OutboxRow]) -> Encoded:
    """`rows` as `send_many` sends them on `engine` (plain code: runs before the transaction, off its thread)."""
    chunks = []
    for start in range(0, len(rows), INSERT_ROWS):
        source, params = dialects.of(engine).rows(_TYPES, rows[start:start + INSERT_ROWS])
        chunks.append((source, tuple(params)))
    return Encoded(engine, tuple(rows), tuple(chunks))


async def send_many(tx: Tx, encoded: Encoded) -> list[Soon]:
    """`insert_many` of rows encoded before (`encode`), without waiting for the answers where the engine allows
    it: each INSERT's channels come back as one row (`{"channels": [...]}`) read later (`Soon`: with the next
    statement read, or once committed), so on PostgreSQL the messages ride with the statements after them
    instead of costing the batch a trip of their own. An error in them is raised at the next read or the
    commit, and rolls the unit back all the same."""
    if encoded.engine != tx.engine:
        raise ValueError("rows encoded for another engine")
    soons: list[Soon] = []
    for source, params in encoded.chunks:
        insert = (f"INSERT INTO outbox ({', '.join(_COLUMNS)}) SELECT * FROM {source} AS v WHERE true "
                  "ON CONFLICT (dedupe_key) DO NOTHING RETURNING channel")
        if dialects.of(tx.engine).WRITES_IN_WITH:
            soons.append(await tx.fetchone_soon(
                f"WITH queued AS ({insert}) SELECT array_agg(channel) AS channels FROM queued", params))
        else:  # SQLite: no INSERT in a WITH, and every statement is answered at once anyway
            found = await tx.fetchall(insert, params)
            soons.append(Soon(value={"channels": [str(r["channel"]) for r in found]}))
    return soons


async def insert_many(tx: Tx, rows: Sequence[OutboxRow]) -> list[str]:
    """Queue several rows (`row`) with one multi-row INSERT per INSERT_ROWS (the rows as one relation, in the
    engine's form: `dialects.rows`); a row whose `dedupe_key` was queued before is left out. Returns the channel
    of each row queued."""
    queued: list[str] = []
    for start in range(0, len(rows), INSERT_ROWS):
        source, params = dialects.of(tx.engine).rows(_TYPES, rows[start:start + INSERT_ROWS])
        found = await tx.fetchall(
            f"INSERT INTO outbox ({', '.join(_COLUMNS)}) SELECT * FROM {source} AS v WHERE true "
            "ON CONFLICT (dedupe_key) DO NOTHING RETURNING channel",
            params,
        )
        queued += [str(r["channel"]) for r in found]
    return queued

async def due(db: Database, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Every row that may be tried now, oldest first (regardless of the order per recipient)."""
    async with db.transaction() as tx:
        return await tx.fetchall(
            "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND not_before <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            (now.isoformat(), now.isoformat(), limit),
        )


async def drop_texts(db: Database, before: datetime, batch: int = 500) -> int:
    """Blank the text, blocks and stored message of the rows final (sent, failed, cancelled) before `before`,
    `batch` rows per transaction; status, recipient, times, case reference, external id and `reads` stay.
    Idempotent. Returns how many rows were blanked."""
    total = 0
    while True:
        async with db.transaction() as tx:
            count = await tx.execute(
                """UPDATE outbox SET text = '', blocks = NULL, message = NULL WHERE id IN (
                       SELECT id FROM outbox
                       WHERE (text != '' OR blocks IS NOT NULL OR message IS NOT NULL) AND created_at < :before
                         AND status != 'pending' AND COALESCE(sent_at, created_at) < :before
                       LIMIT :batch)""",
                {"before": before.isoformat(), "batch": batch},
            )
        total += count
        if count < batch:
            return total


async def next_due(db: Database) -> datetime | None:
    """When the first pending row may be tried (None: nothing is pending); a past time when one may be now."""
    due = await db.run_read(lambda tx: tx.scalar(
        "SELECT MIN(CASE WHEN next_attempt_at > not_before THEN next_attempt_at ELSE not_before END) "
        "FROM outbox WHERE status = 'pending'"))
    return None if due is None else datetime.fromisoformat(str(due))


async def by_id(db: Database, outbox_id: int) -> dict[str, Any] | None:
    """One row (a delivered card being refreshed in Teams), or None."""
    async with db.transaction() as tx:
        return await tx.fetchone("SELECT * FROM outbox WHERE id = ?", (outbox_id,))


async def last_id(db: Database) -> int:
    """The id of the newest row (0 when there is none): one trip to a read connection. Every dispatch pass asks
    (after each filing, in a burst); as a hop-form `transaction()` it held the write connection, and the filings
    queued behind it, for three trips to its thread."""

    async def newest(tx: Tx) -> int:
        return int(await tx.scalar("SELECT COALESCE(MAX(id), 0) FROM outbox"))

    return await db.run_read(newest)

async def status_counts(db: Database) -> dict[str, int]:
    async with db.transaction() as tx:
        rows = await tx.fetchall("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
    return {r["status"]: int(r["n"]) for r in rows}


async def failed(db: Database, limit: int) -> list[dict[str, Any]]:
    async with db.transaction() as tx:
        return await tx.fetchall(
            "SELECT id, case_ref, recipient_id, channel, template, last_error, attempts, created_at FROM outbox "
            "WHERE status = 'failed' ORDER BY id DESC LIMIT ?",
            (limit,),
        )
