"""SQL of a second copy of a message: a row another instance already marked sent, sent again here (a lease lost
mid-send, the row claimed and sent elsewhere meanwhile). The copy is in the channel and was read like the first, so
it is kept as a row of its own (`status = 'sent'`, no text, its own channel id): a later consent withdrawal retracts
it as it retracts every delivered row of the case, and the read log has its read. A copy made after the withdrawal
already retracted the first is retracted at once. A send of a row another instance marked failed meanwhile (its
attempts used up, a permanent error) delivered it after all: the row is marked sent by it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.store import dialects
from bot.store.db import Tx


async def record_copies(tx: Tx, sent: Sequence[tuple[int, str | None, datetime]],
                        recovered: set[int] | None = None) -> set[int]:
    """Sends recorded late, as (id, the channel's message id or None, sent at). A row another instance marked
    failed meanwhile is marked sent by this send. One already 'sent' by another copy: keep each copy as a row of
    its own (keyed `copy:<id>:<channel id>`, or `copy:<id>:<sent at>` when the channel gives none) and queue its
    retraction when the first was retracted already. The same send recorded again (its batch committed, the
    acknowledgement lost) is the row's own copy, or a copy kept before: nothing new. Returns the ids of the rows
    whose copy is new here (its text was shown: the caller logs the read); those of them that had failed are added
    to `recovered` (their failure was reported: the caller says it was delivered after all)."""
    found: set[int] = set()
    # in id order, as a withdrawal locks the sent rows it retracts: the two never hold rows the other waits for
    for outbox_id, external_id, at in sorted(sent, key=lambda s: s[0]):
        when = at.isoformat()
        # a row another instance gave up meanwhile (max attempts, a permanent error) was delivered after all: it is
        # sent, with this send's channel id and time, for a withdrawal to retract it and the read log to have it
        if await tx.fetchone(
                "UPDATE outbox SET status = 'sent', external_id = ?, sent_at = ?, last_error = NULL, "
                "claimed_by = NULL, claimed_until = NULL "
                "WHERE id = ? AND status = 'failed' AND kind = 'message' RETURNING id",
                (external_id, when, outbox_id)) is not None:
            found.add(outbox_id)
            if recovered is not None:
                recovered.add(outbox_id)
            continue
        # locked (PostgreSQL), as a withdrawal locks the case's sent rows before it queues their retractions: the
        # withdrawal either commits first (its retract:<id> is seen below) or waits and then sees this copy
        first = await tx.fetchone(
            "SELECT external_id, sent_at FROM outbox WHERE id = ? AND status = 'sent' AND kind = 'message' "
            + dialects.of(tx.engine).lock_rows(), (outbox_id,))
        if first is None:
            continue
        if external_id is not None and first["external_id"] == external_id:
            continue  # this send is the row's own
        if external_id is None and first["external_id"] is None and first["sent_at"] == when:
            continue
        copy_id = await tx.scalar(
            """INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, urgent,
                                   not_before, next_attempt_at, dedupe_key, kind, status, attempts, sent_at,
                                   external_id, reads)
               SELECT ?, case_id, case_ref, recipient_id, channel, template, '', urgent, ?, ?,
                      'copy:' || id || ':' || ?, 'message', 'sent', attempts, ?, ?, reads
               FROM outbox WHERE id = ?
               ON CONFLICT (dedupe_key) DO NOTHING RETURNING id""",
            (when, when, when, external_id or when, when, external_id, outbox_id))
        if copy_id is None:
            continue
        found.add(outbox_id)
        if external_id is not None:  # the first retracted already (consent withdrawn): this copy goes too
            await tx.execute(
                """INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, urgent,
                                       not_before, next_attempt_at, dedupe_key, kind, target)
                   SELECT ?, case_id, case_ref, recipient_id, channel, 'retract', '', 1, ?, ?,
                          'retract:' || id, 'retract', external_id
                   FROM outbox WHERE id = ?
                     AND EXISTS (SELECT 1 FROM outbox r WHERE r.dedupe_key = ?)
                   ON CONFLICT (dedupe_key) DO NOTHING""",
                (when, when, when, int(copy_id), f"retract:{outbox_id}"))
    return found
