"""Closing and consent repository: closing and reopening a case, erasing its free text on a consent withdrawal,
and the consent's changes (renewed, withdrawn for one unit, expired).

Functions take an open `Tx` (the caller owns the transaction), like `bot.store.cases`, from which they were split.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.store import dialects, holdings
from bot.store import outbox as outbox_store
from bot.store.db import Tx


async def set_closed(tx: Tx, case_id: int, reason: str, note: str | None, state_before: str, now: datetime) -> None:
    await tx.execute(
        "UPDATE cases SET closed_reason = ?, closed_note = ?, closed_at = ?, state_before_close = ? WHERE id = ?",
        (reason, note, now.isoformat(), state_before, case_id),
    )


async def clear_closed(tx: Tx, case_id: int) -> None:
    await tx.execute(
        "UPDATE cases SET closed_reason = NULL, closed_note = NULL, closed_at = NULL, "
        "state_before_close = NULL WHERE id = ?",
        (case_id,),
    )


async def close_and_erase(tx: Tx, case_id: int, reason: str, state_before: str, now: datetime) -> None:
    """Close the case and erase its free text (brief, contact, "annan" name, place, note, consent note,
    waiting reason, dispute reasons, proposals and agreements, samverkan outcomes, follow-up texts, external
    participants' first names, other contacts, where a lotsning led, the evaluation's comment)."""
    await tx.execute(
        "UPDATE cases SET closed_reason = ?, closed_at = ?, state_before_close = ?, brief = NULL, "
        "contact = NULL, other_assignee = CASE WHEN other_assignee IS NULL THEN NULL ELSE '–' END, "
        "meeting_place = NULL, closed_note = NULL, consent_note = NULL, waiting_reason = NULL, "
        "dispute_reason = NULL, other_contacts = NULL, guided_to = NULL, evaluation_comment = NULL, "
        "erased_at = ? WHERE id = ?",
        (reason, now.isoformat(), state_before, now.isoformat(), case_id),
    )
    await tx.execute("UPDATE follow_ups SET what = NULL WHERE case_id = ?", (case_id,))
    await tx.execute("UPDATE disputes SET reason = NULL, agreement = NULL, proposal = NULL WHERE case_id = ?",
                     (case_id,))
    await tx.execute("UPDATE meeting_participants SET first_name = NULL WHERE case_id = ?", (case_id,))
    await tx.execute("UPDATE samverkan_matters SET outcome = NULL WHERE case_id = ?", (case_id,))


async def set_consent(
    tx: Tx,
    case_id: int,
    until: date,
    scope: list[str],
    *,
    withdrawn: list[str] | None = None,
    covers: list[str] | None = None,
    note: str | None = None,
    form: str | None = None,
    obtained_by: str | None = None,
) -> None:
    """A renewed (or widened) consent: new valid-until date and scope; the case is no longer paused.
    The other details are changed only when given."""
    await tx.execute(
        "UPDATE cases SET consent_valid_until = ?, consent_scope = ?, consent_expired_at = NULL, "
        "consent_withdrawn = COALESCE(?, consent_withdrawn), consent_covers = COALESCE(?, consent_covers), "
        "consent_note = COALESCE(?, consent_note), consent_form = COALESCE(?, consent_form), "
        "consent_obtained_by = COALESCE(?, consent_obtained_by) WHERE id = ?",
        (
            until.isoformat(), json.dumps(scope), json.dumps(withdrawn) if withdrawn is not None else None,
            json.dumps(covers) if covers is not None else None, note, form, obtained_by, case_id,
        ),
    )


async def withdraw_unit(tx: Tx, case_id: int, scope: list[str], withdrawn: list[str], meeting_units: list[str]) -> None:
    """Consent withdrawn for one unit: the narrower scope, the units withdrawn so far, the meeting without it."""
    await tx.execute(
        "UPDATE cases SET consent_scope = ?, consent_withdrawn = ?, "
        "meeting_units = CASE WHEN meeting_units IS NULL THEN NULL ELSE ? END WHERE id = ?",
        (json.dumps(scope), json.dumps(withdrawn), json.dumps(meeting_units), case_id),
    )
    # nobody attends the meeting for a unit the consent no longer covers
    await tx.execute(
        "DELETE FROM meeting_participants WHERE case_id = ? AND unit_id IS NOT NULL AND unit_id NOT IN "
        "(SELECT value FROM json_each(?))", (case_id, json.dumps(meeting_units)),
    )


async def mark_consent_expired(tx: Tx, case_id: int, now: datetime) -> None:
    """Note when the consent ran out (the first time only): the case is paused."""
    await tx.execute(
        "UPDATE cases SET consent_expired_at = COALESCE(consent_expired_at, ?) WHERE id = ?",
        (now.astimezone(UTC).isoformat(), case_id),
    )


async def lock_open_rows(tx: Tx, case_id: int) -> None:
    """Hold the case's open awaited items and pending timers until the transaction ends, in id order, items first
    (DESIGN, "lock order": case, audit chain, items, timers): a consent withdrawal waits here for a sweep's batch
    that holds one of them and queued messages from the case as it read it (`bot.cases.closing.WithdrawalWaits`).
    Nothing on SQLite, whose one writer holds the whole store. The same statements as for several cases
    (`bot.store.holdings.lock_open_rows`)."""
    await holdings.lock_open_rows(tx, [case_id])


async def cancel_shown(tx: Tx, case_id: int, ref: str, person_ids: list[str], reason: str) -> int:
    """Cancel the case's pending messages to `person_ids` that show its free text (`reads` names it), and erase
    their stored message: they no longer may read the case (`bot.cases.access_lost`). Delivered ones stay. Failed
    ones are cancelled too (not counted): a send in flight whose lease ran out may yet deliver one, and is then
    retracted (`bot.store.outbox.retract_withdrawn`) rather than marked sent. Returns how many pending ones were
    cancelled (`stop_shown` returns the rows)."""
    return sum(1 for row in await stop_shown(tx, case_id, ref, person_ids, reason) if row.pending)


@dataclass(frozen=True)
class Stopped:
    """A message row `stop_shown` cancelled: `pending` (else it had failed)."""

    id: int
    case_id: int
    recipient_id: str
    template: str
    pending: bool


async def stop_shown(tx: Tx, case_id: int, ref: str, person_ids: list[str], reason: str) -> list[Stopped]:
    """`cancel_shown`, returning the rows it cancelled, in id order (`bot.cases.leavers` sends on exactly the urgent
    requests its pass stopped)."""
    shows, refs = outbox_store.showing([ref])
    marks = ", ".join("?" for _ in person_ids)
    lock = dialects.of(tx.engine).lock_rows()
    if lock:  # in id order, as a batch of outcomes locks its rows (`outbox.lock_in_order`): failed rows before
        # pending ones, a batch holding a lower pending row and waiting for a higher failed one deadlocked with it
        await tx.fetchall(
            f"SELECT id FROM outbox WHERE recipient_id IN ({marks}) AND status IN ('failed', 'pending') "
            f"AND kind = 'message' AND {outbox_store.OWN} AND {shows} ORDER BY id{lock}",
            (*person_ids, ref, case_id, *refs))
    failed = await tx.fetchall(  # why it failed stays first (`outbox.KEPT_ERROR`)
        f"UPDATE outbox SET status = 'cancelled', last_error = {outbox_store.KEPT_ERROR}, text = '', blocks = NULL, "
        f"message = NULL WHERE recipient_id IN ({marks}) AND status = 'failed' AND kind = 'message' "
        f"AND {outbox_store.OWN} AND {shows} RETURNING id, recipient_id, template",
        (reason, *person_ids, ref, case_id, *refs))
    pending = await tx.fetchall(
        f"UPDATE outbox SET status = 'cancelled', last_error = ?, text = '', blocks = NULL, message = NULL "
        f"WHERE recipient_id IN ({marks}) AND status = 'pending' AND kind = 'message' AND {outbox_store.OWN} "
        f"AND {shows} RETURNING id, recipient_id, template",
        (reason, *person_ids, ref, case_id, *refs))
    rows = [Stopped(int(r["id"]), case_id, str(r["recipient_id"]), str(r["template"]), False) for r in failed]
    rows += [Stopped(int(r["id"]), case_id, str(r["recipient_id"]), str(r["template"]), True) for r in pending]
    return sorted(rows, key=lambda r: r.id)
