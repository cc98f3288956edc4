"""The sweep's read of one batch (`bot.ladder.scheduled.read_batch`): the earliest due timers and awaited items,
whole, and the rows of their cases, as six statements sent together (`Tx.fetchall_soon`), so that on PostgreSQL
the read is one trip to the server instead of seven (and in one snapshot: the read is a read-only unit).

Each statement finds the batch itself (`_DUE`: the earliest `limit` of both tables merged in due order, a timer
before an item due at the same time; two range scans of the partial due indexes), so none waits for another's
answer, and only the rows the batch fires are read whole (reading `limit` of each table whole and keeping
`limit` of the two read twice as many rows as were used).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import iso
from bot.store.db import Tx

Row = dict[str, Any]

_DUE = (
    "WITH t AS (SELECT due_at, 0 AS k, id, case_ref FROM timers WHERE done_at IS NULL AND due_at <= :now "
    "ORDER BY due_at, id LIMIT :limit), "
    "a AS (SELECT due_at, 1 AS k, id, case_ref FROM awaiting WHERE resolved_at IS NULL AND due_at IS NOT NULL "
    "AND due_at <= :now ORDER BY due_at, id LIMIT :limit), "
    "due AS (SELECT due_at, k, id, case_ref FROM (SELECT * FROM t UNION ALL SELECT * FROM a) AS u "
    "ORDER BY due_at, k, id LIMIT :limit) "
)
_CASE_IDS = "SELECT id FROM cases WHERE ref IN (SELECT case_ref FROM due)"


@dataclass
class DueRead:
    """A batch as read: its timers and awaited items (whole rows, in no order), its cases' rows, and their
    assignees, follow-ups and meeting participants (ordered by case, then as each case lists them)."""

    timers: list[Row]
    awaiting: list[Row]
    cases: list[Row]
    assignees: list[Row]
    follow_ups: list[Row]
    participants: list[Row]


async def due_batch(tx: Tx, now: datetime, limit: int) -> DueRead:
    """The earliest `limit` due timers and awaited items and their cases' rows (see the module)."""
    params = {"now": iso(now), "limit": limit}
    statements = (
        f"{_DUE}SELECT timers.* FROM due JOIN timers ON timers.id = due.id WHERE due.k = 0",
        f"{_DUE}SELECT awaiting.* FROM due JOIN awaiting ON awaiting.id = due.id WHERE due.k = 1",
        f"{_DUE}SELECT * FROM cases WHERE ref IN (SELECT case_ref FROM due)",
        f"{_DUE}SELECT case_id, person_id FROM case_assignees WHERE case_id IN ({_CASE_IDS}) "
        "ORDER BY case_id, position",
        f"{_DUE}SELECT * FROM follow_ups WHERE case_id IN ({_CASE_IDS}) ORDER BY case_id, id",
        f"{_DUE}SELECT case_id, unit_id, person_id, role, first_name FROM meeting_participants "
        f"WHERE case_id IN ({_CASE_IDS}) ORDER BY case_id, position",
    )
    sent = [await tx.fetchall_soon(sql, params) for sql in statements]
    return DueRead(*[await tx.answer(soon) for soon in sent])
