"""SQL of the outbox's erasure: a consent withdrawal's (or lost access's) cancelling, erasing and retracting of the
rows of a case and of the messages that show it, and who was told of a case (`bot.store.outbox` re-exports it)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.store import Tx, dialects

# A case's own messages, by its reference and id (parameters: ref, id): found through the index on case_ref (schema
# 40: every row with a case id carries its case's reference; PostgreSQL has no index on case_id).
OWN = "case_ref = ? AND case_id = ?"
# The same, where only the case's id is at hand (parameters: id, id).
OWN_BY_ID = "case_ref = (SELECT ref FROM cases WHERE id = ?) AND case_id = ?"


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
    with that case's id, a queue with none), so the two are found by index: the case's own by its reference (every
    row with a case id carries it, schema 40), those of no case by `case_id IS NULL` (PostgreSQL's partial
    outbox_no_case, SQLite's outbox_case). `case_id = ? OR <shows>` read the whole outbox and parsed every row's
    `reads` (10^5 rows: 170-250 ms on PostgreSQL, 100-140 ms on SQLite, a scan; now 5-20 ms, the queues' rows
    only)."""
    ref = await tx.scalar("SELECT ref FROM cases WHERE id = ?", (case_id,))
    where, params = ("false", ()) if shown_only else ("case_id = ?", (case_id,))
    if ref is not None:
        shows, refs = showing([str(ref)])
        own, own_params = OWN, (str(ref), case_id)
        if shown_only:
            own, own_params = f"{own} AND {shows}", (*own_params, *refs)
        # of the case-less rows (queues), only those whose text names the ref (as JSON: `bot.outbox`) are parsed
        where = (f"outbox.id IN (SELECT id FROM outbox WHERE {own} "
                 f"UNION ALL SELECT id FROM outbox WHERE case_id IS NULL AND outbox.reads LIKE ? AND {shows})")
        params = (*own_params, f"%{json.dumps(str(ref))}%", *refs)
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
        f"SELECT recipient_id FROM outbox WHERE {OWN_BY_ID} AND status = 'sent' AND kind = 'message' "
        "GROUP BY recipient_id ORDER BY MIN(id)",
        (case_id, case_id),
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
