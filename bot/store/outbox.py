"""SQL of the outbox: queueing, delivery bookkeeping and erasure of message rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store import Database, Tx, dialects
from bot.store.tx import Soon

# Announced (`bot.store.changes`) by PostgreSQL itself when rows are queued: a trigger on the table (migration 28).
TOPIC = "outbox"

_INSERT = """INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, message,
                               urgent, not_before, next_attempt_at, dedupe_key, reads)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""


async def insert(tx: Tx, *, created_at: datetime, case_id: int | None, case_ref: str | None, recipient_id: str,
                 channel: str, template: str, text: str, message: str | None, urgent: bool, earliest: datetime,
                 dedupe_key: str | None, reads: str | None, want_id: bool = True) -> int | None:
    """Queue one row; its id, None when `dedupe_key` was queued before. A row without `dedupe_key` whose id is
    not wanted (`want_id=False`, None returned) is queued without waiting for the answer (`Tx.write`)."""
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


def showing(refs: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
    """SQL condition (and its parameters) for the rows whose `reads` names any of these cases: a message that
    shows cases without being their own message (a distribution queue lists several; its case_id is NULL).
    Used by consent withdrawal (`withdraw`) and by the retention purge (`bot.store.stats`)."""
    marks = ",".join("?" * len(refs))
    return (f"(outbox.reads IS NOT NULL AND EXISTS "
            f"(SELECT 1 FROM json_each(outbox.reads) WHERE json_each.value IN ({marks})))", tuple(refs))


async def _scope(tx: Tx, case_id: int, person_ids: Sequence[str] | None,
                 shown_only: bool = False) -> tuple[str, tuple[Any, ...]]:
    """The rows a withdrawal treats: the case's own (or only those of them that show its free text), and the
    messages of no case that show it (a distribution queue). A message that shows a case is that case's own or of
    none (`bot.cases.visibility`: a message shows its context's case, a queue the cases it lists, and is queued
    with that case's id, a queue with none), so the two are found by the index on `case_id` (`= ?`, `IS NULL`):
    `case_id = ? OR <shows>` read the whole outbox and parsed every row's `reads` (10^5 rows: 170-250 ms on
    PostgreSQL, 100-140 ms on SQLite, a scan; now 5-20 ms, the queues' rows only)."""
    ref = await tx.scalar("SELECT ref FROM cases WHERE id = ?", (case_id,))
    where, params = ("false", ()) if shown_only else ("case_id = ?", (case_id,))
    if ref is not None:
        shows, refs = showing([str(ref)])
        own, own_params = (f"case_id = ? AND {shows}", (case_id, *refs)) if shown_only else ("case_id = ?", (case_id,))
        where = (f"outbox.id IN (SELECT id FROM outbox WHERE {own} "
                 f"UNION ALL SELECT id FROM outbox WHERE case_id IS NULL AND {shows})")
        params = (*own_params, *refs)
    if person_ids is None:
        return where, params
    marks = ", ".join("?" for _ in person_ids)
    return f"{where} AND recipient_id IN ({marks})", (*params, *person_ids)


# The error of a failed row cancelled (a withdrawal, lost access) with the reason given as the parameter: why it
# failed, then why it was cancelled ("slack:user_not_found; case closed: consent withdrawn").
KEPT_ERROR = "COALESCE(last_error || '; ', '') || ?"


# The notices a withdrawal queues (`bot.cases.messaging`): the reference and who withdrew, never the case's text
# (it is erased, or the recipient may no longer see it). A later withdrawal neither cancels, erases nor retracts
# them: the staff of a unit cut off first must still be told that they lost access.
_NOT_NOTICE = "outbox.template NOT IN ('consent_withdrawn', 'consent_withdrawn_unit')"


async def withdraw(tx: Tx, case_id: int, now: datetime, reason: str, person_ids: Sequence[str] | None = None,
                   *, shown_only: bool = False) -> int:
    """Cancel the undelivered rows of a case (to `person_ids`, or everyone), queue a retraction of each
    delivered one, and erase the stored message of all of them. The rows of other messages that show the
    case (`showing`: a distribution queue) are treated the same: the message is erased whole (it cannot be
    edited without the case once rendered), a pending one cancelled, a delivered one retracted; the next queue
    shows the remaining cases again. `shown_only`: only the rows that show the case's free text (`reads`), not
    every row of the case. Returns how many were cancelled."""
    where, params = await _scope(tx, case_id, person_ids, shown_only)
    where = f"{where} AND {_NOT_NOTICE}"  # a withdrawal's own notices show no text: a later one leaves them be
    # every row in scope locked in id order (PostgreSQL) before any is written, as a batch of outcomes locks its
    # rows (`lock_in_order`): pending, failed and sent rows taken status by status, a batch holding a lower failed
    # row and waiting for a higher pending one deadlocked with it. A late send being recorded as a copy of a
    # delivered row (`bot.store.copies`, whose batch locks that row) then commits first, and its copy row is seen
    # by the retractions' INSERT below, or waits for this withdrawal and finds its retraction
    lock = dialects.of(tx.engine).lock_rows()
    if lock:
        await tx.fetchall(f"SELECT id FROM outbox WHERE {where} ORDER BY id{lock}", params)
    cancelled = await tx.execute(  # messages only: a retraction queued by an earlier withdrawal still goes
        f"UPDATE outbox SET status = 'cancelled', last_error = ? WHERE {where} AND status = 'pending' "
        "AND kind = 'message'",
        (reason, *params),
    )
    # a row given up (failed) may yet be delivered by a send in flight whose lease ran out (`bot.store.copies`):
    # cancelled too, so that the late send is retracted when recorded (`retract_withdrawn`), not marked sent; its
    # error stays first (`KEPT_ERROR`: the operator still sees why it failed)
    await tx.execute(
        f"UPDATE outbox SET status = 'cancelled', last_error = {KEPT_ERROR} WHERE {where} AND status = 'failed' "
        "AND kind = 'message'",
        (reason, *params),
    )
    at = now.isoformat()
    await tx.execute(
        f"""INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, urgent,
                                not_before, next_attempt_at, dedupe_key, kind, target)
            SELECT ?, case_id, case_ref, recipient_id, channel, 'retract', '', 1, ?, ?,
                   'retract:' || id, 'retract', external_id
            FROM outbox
            WHERE {where} AND status = 'sent' AND kind = 'message' AND external_id IS NOT NULL
            ON CONFLICT (dedupe_key) DO NOTHING""",
        (at, at, at, *params),
    )
    await tx.execute(f"UPDATE outbox SET text = '', blocks = NULL, message = NULL WHERE {where}", params)
    return cancelled


async def retract_withdrawn(tx: Tx, sent: Sequence[tuple[int, str | None, datetime]]) -> set[int]:
    """Rows sent while the consent was withdrawn (the send in flight when `withdraw` cancelled its row), as
    (id, the channel's message id or None, sent at): record the channel's id on the row and queue its
    retraction, as `withdraw` does for a row delivered before; a channel that gives no id (the console, e-mail)
    cannot delete what it delivered. Each copy of a row sent twice (a lease lost mid-send) is retracted: the
    retraction is keyed by the copy's id. Only a consent withdrawal, or its recipient's lost access to the case
    (`bot.cases.access_lost`), cancels a message row. Returns the ids of
    such rows whose copy is new here (their text was shown: the caller logs the read); the same send recorded
    again (a batch committed whose acknowledgement was lost) is not new: one read, one read-log row."""
    found: set[int] = set()
    for outbox_id, external_id, at in sent:
        when = at.isoformat()
        if external_id is None:
            # the send's time is the copy's marker: the same send recorded again (its batch committed, the
            # acknowledgement lost) finds it there and is no new read
            row = await tx.fetchone(
                "UPDATE outbox SET sent_at = ? WHERE id = ? AND status = 'cancelled' AND kind = 'message' "
                "AND sent_at IS NULL RETURNING id",
                (when, outbox_id),
            )
            if row is not None:
                found.add(outbox_id)
            continue
        row = await tx.fetchone(
            "UPDATE outbox SET external_id = COALESCE(external_id, ?), sent_at = COALESCE(sent_at, ?) "
            "WHERE id = ? AND status = 'cancelled' AND kind = 'message' RETURNING id",
            (external_id, when, outbox_id),
        )
        if row is None:
            continue
        queued = await tx.execute(  # a copy is new when its retraction is: the same send recorded again is not
            """INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, urgent,
                                    not_before, next_attempt_at, dedupe_key, kind, target)
                SELECT ?, case_id, case_ref, recipient_id, channel, 'retract', '', 1, ?, ?,
                       'retract:' || id || ':' || ?, 'retract', ?
                FROM outbox WHERE id = ?
                ON CONFLICT (dedupe_key) DO NOTHING""",
            (when, when, when, external_id, external_id, outbox_id),
        )
        if queued > 0:
            found.add(outbox_id)
    return found


async def delivered_to(tx: Tx, case_id: int) -> list[str]:
    rows = await tx.fetchall(
        "SELECT recipient_id FROM outbox WHERE case_id = ? AND status = 'sent' AND kind = 'message' "
        "GROUP BY recipient_id ORDER BY MIN(id)",
        (case_id,),
    )
    return [r["recipient_id"] for r in rows]


async def was_told(tx: Tx, case_id: int, ref: str, person_id: str) -> bool:
    """True when a message about the case (its own, or one that shows it) was delivered to the person."""
    shows, refs = showing([ref])
    return await tx.scalar(
        f"SELECT 1 FROM outbox WHERE recipient_id = ? AND status = 'sent' AND kind = 'message' "
        f"AND (case_id = ? OR {shows}) LIMIT 1",
        (person_id, case_id, *refs),
    ) is not None


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
