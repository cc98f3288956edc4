"""Absence repository (table `absences`): registered absences, cancelled ones kept with `cancelled_at`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.clock import iso
from bot.store.db import Tx

Row = dict[str, Any]


async def insert(
    tx: Tx, *, person_id: str, start: date, end: date, stand_in: str | None, created_by: str, now: datetime
) -> int:
    """Store one absence; returns its number."""
    return await tx.insert(
        "INSERT INTO absences (person_id, start_date, end_date, stand_in, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (person_id, start.isoformat(), end.isoformat(), stand_in, created_by, iso(now)),
    )


async def active_rows(tx: Tx, since: date) -> list[Row]:
    """Absences not cancelled that end on or after `since`, oldest start first."""
    return await tx.fetchall(
        "SELECT * FROM absences WHERE cancelled_at IS NULL AND end_date >= ? ORDER BY start_date, id",
        (since.isoformat(),),
    )


async def person_rows(tx: Tx, person_id: str, since: date) -> list[Row]:
    """One person's absences not cancelled that end on or after `since` (index absences_person)."""
    return await tx.fetchall(
        "SELECT * FROM absences WHERE person_id = ? AND cancelled_at IS NULL AND end_date >= ? ORDER BY start_date, id",
        (person_id, since.isoformat()),
    )


async def row(tx: Tx, absence_id: int) -> Row | None:
    return await tx.fetchone("SELECT * FROM absences WHERE id = ? AND cancelled_at IS NULL", (absence_id,))


async def cancel(tx: Tx, absence_id: int, actor_id: str, now: datetime) -> bool:
    """Cancel one absence; False when it was already cancelled."""
    changed = await tx.execute(
        "UPDATE absences SET cancelled_by = ?, cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL",
        (actor_id, iso(now), absence_id),
    )
    return changed != 0


async def covers_ended(tx: Tx, today: date) -> list[Row]:
    """Absences with a stand-in whose cover ended (cancelled, or its last day before `today`) and whose pass has not
    run (`cover_passed_at`, schema 41; index absences_cover_due): id, person_id, stand_in, cancelled_at, oldest
    first."""
    return await tx.fetchall(
        "SELECT id, person_id, stand_in, cancelled_at FROM absences WHERE stand_in IS NOT NULL"
        " AND cover_passed_at IS NULL AND (cancelled_at IS NOT NULL OR end_date < ?) ORDER BY id",
        (today.isoformat(),),
    )


async def claim_cover(tx: Tx, absence_id: int, now: datetime) -> bool:
    """Mark the pass after this cover ended as run, first in the pass's own unit (it takes the absence's row: a
    second pass, another instance's, waits here and then finds it run). False when it already ran."""
    changed = await tx.execute(
        "UPDATE absences SET cover_passed_at = ? WHERE id = ? AND cover_passed_at IS NULL", (iso(now), absence_id))
    return changed != 0
