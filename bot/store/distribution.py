"""Distribution repository: the slots that have run, one row per (unit, slot) (table `distribution_runs`)."""

from __future__ import annotations

import json
from datetime import datetime

from bot.clock import iso
from bot.store.db import Tx


async def last_slots(tx: Tx) -> dict[str, str]:
    """{unit id: its latest slot that ran, as stored (UTC ISO 8601)}."""
    rows = await tx.fetchall("SELECT unit_id, MAX(slot_at) AS last FROM distribution_runs GROUP BY unit_id")
    return {r["unit_id"]: r["last"] for r in rows}


async def record_run(
    tx: Tx, unit_id: str, slot: datetime, ran_at: datetime, case_count: int, recipients: list[str]
) -> bool:
    """Record that the unit's slot ran; False when it had already been recorded."""
    inserted = await tx.execute(
        "INSERT INTO distribution_runs (unit_id, slot_at, ran_at, case_count, recipients) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (unit_id, slot_at) DO NOTHING",
        (unit_id, iso(slot), iso(ran_at), case_count, json.dumps(recipients)),
    )
    return inserted != 0
