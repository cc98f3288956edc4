"""The sweep's read of one batch (`bot.ladder.scheduled.read_batch`): the earliest due timers and awaited items,
whole, and the rows of their cases (in one snapshot: the read is a read-only unit).

The batch itself is `_DUE`: the earliest `limit` of both tables merged in due order, a timer before an item due at
the same time (two range scans of the partial due indexes), and only the rows the batch fires are read whole
(reading `limit` of each table whole and keeping `limit` of the two read twice as many rows as were used). The
engines read it in their own way (`dialects.ANSWERED_AT_ONCE`):

- PostgreSQL: six statements sent together (`Tx.fetchall_soon`), one trip to the server. Each finds the batch
  itself, so none waits for another's answer.
- SQLite: every statement is answered at once, in process, so the batch is found once and the other six read
  their rows by id or reference (finding it in each of six statements was a third of the read: 2.1 against
  1.4 ms a batch of 100, with 10⁵ open cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import iso
from bot.store import dialects
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
    if dialects.of(tx.engine).ANSWERED_AT_ONCE:
        return await _found_once(tx, params)
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


async def _found_once(tx: Tx, params: dict[str, Any]) -> DueRead:
    """`due_batch` where each statement is answered at once (SQLite): the batch found once, then its rows read by
    id or reference."""
    dialect = dialects.of(tx.engine)
    due = await tx.fetchall(f"{_DUE}SELECT k, id, case_ref FROM due", params)

    async def where(sql: str, column: str, values: list[Any], kind: str, order: str = "") -> list[Row]:
        if not values:
            return []
        condition, args = dialect.one_of(column, values, kind)
        return await tx.fetchall(f"{sql} WHERE {condition}{order}", args)

    timers = await where("SELECT * FROM timers", "id", [r["id"] for r in due if r["k"] == 0], "bigint")
    items = await where("SELECT * FROM awaiting", "id", [r["id"] for r in due if r["k"] == 1], "bigint")
    cases = await where("SELECT * FROM cases", "ref", sorted({r["case_ref"] for r in due}), "text")
    ids = [r["id"] for r in cases]
    return DueRead(
        timers, items, cases,
        await where("SELECT case_id, person_id FROM case_assignees", "case_id", ids, "bigint",
                    " ORDER BY case_id, position"),
        await where("SELECT * FROM follow_ups", "case_id", ids, "bigint", " ORDER BY case_id, id"),
        await where("SELECT case_id, unit_id, person_id, role, first_name FROM meeting_participants", "case_id", ids,
                    "bigint", " ORDER BY case_id, position"),
    )
