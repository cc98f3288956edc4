"""Dispute repository (tvist om ansvarsfördelning, issue #10 item 7): the open dispute on `cases`
(`disputed_at`, `disputed_by`, `dispute_reason`) and every dispute of a case in `disputes`.

Functions take an open `Tx` (the caller owns the transaction). Reasons and agreements are free text, already
guarded by `bot.fields`; they are erased with the case's other free text (`closing.close_and_erase`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.clock import iso
from bot.store import ladder
from bot.store.db import Tx

Row = dict[str, Any]


async def open_dispute(
    tx: Tx, *, case_id: int, case_ref: str, unit_id: str, other_unit: str, opened_by: str, reason: str,
    now: datetime,
) -> int:
    """Record a new dispute and mark the case disputed; returns the dispute's id."""
    dispute_id = await tx.insert(
        """INSERT INTO disputes (case_id, case_ref, unit_id, other_unit, opened_by, opened_at, reason)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (case_id, case_ref, unit_id, other_unit, opened_by, iso(now), reason),
    )
    await tx.execute(
        "UPDATE cases SET disputed_at = ?, disputed_by = ?, dispute_reason = ? WHERE id = ?",
        (iso(now), opened_by, reason, case_id),
    )
    return dispute_id


async def current(tx: Tx, case_id: int) -> Row | None:
    """The case's unsettled dispute, or None."""
    return await tx.fetchone(
        "SELECT * FROM disputes WHERE case_id = ? AND settled_at IS NULL ORDER BY id DESC LIMIT 1", (case_id,)
    )


async def propose(tx: Tx, dispute_id: int, proposed_by: str, side: str, proposal: str, now: datetime) -> None:
    """One side's proposal of what was agreed (replacing an earlier one); the other side is to confirm it."""
    await tx.execute(
        "UPDATE disputes SET proposal = ?, proposed_by = ?, proposed_at = ?, proposed_side = ? "
        "WHERE id = ? AND settled_at IS NULL",
        (proposal, proposed_by, iso(now), side, dispute_id),
    )


async def settle(tx: Tx, dispute_id: int, case_id: int, settled_by: str, agreement: str, now: datetime) -> None:
    """Record what was agreed (confirmed by `settled_by`) and clear the case's open dispute."""
    await tx.execute(
        "UPDATE disputes SET settled_by = ?, settled_at = ?, agreement = ? WHERE id = ? AND settled_at IS NULL",
        (settled_by, iso(now), agreement, dispute_id),
    )
    await tx.execute(
        "UPDATE cases SET disputed_at = NULL, disputed_by = NULL, dispute_reason = NULL WHERE id = ?", (case_id,)
    )


async def for_case(tx: Tx, case_id: int) -> list[Row]:
    """Every dispute of a case, oldest first."""
    return await tx.fetchall("SELECT * FROM disputes WHERE case_id = ? ORDER BY id", (case_id,))


async def mark_alerted(tx: Tx, item_id: int, people: list[str]) -> None:
    """Record who a dispute item asked on its first rung (they may see the case's summary and are told when
    it is settled), without counting it as an escalation."""
    await tx.execute("UPDATE awaiting SET alerted = ? WHERE id = ?", (json.dumps(people), item_id))
    await ladder.track_alerts(tx, [item_id])  # a dispute is an open escalation for those it asked


async def add_draft_coordinator(tx: Tx, draft_id: int, person_id: str) -> None:
    """Let one more coordinator work on a brist draft (one who takes the question to the samverkansnivå)."""
    row = await tx.fetchone("SELECT coordinators FROM brist_drafts WHERE id = ?", (draft_id,))
    if row is None:
        return
    people = json.loads(row["coordinators"])
    if person_id not in people:
        await tx.execute("UPDATE brist_drafts SET coordinators = ? WHERE id = ?",
                         (json.dumps([*people, person_id]), draft_id))
