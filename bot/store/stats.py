"""Statistics and retention repository: the anonymous fact tables and the purge of old closed cases (the fact
rows themselves and the rollups the reports read: `rollups.py`).

Functions take an open `Tx` (the caller owns the transaction) and plain values; times are stored as UTC
ISO 8601 text, so they sort and compare as text. Rows come back as dicts; `bot.stats` turns them into records.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.store import dialects, rollups
from bot.store import outbox as outbox_store
from bot.store.db import Tx

Row = dict[str, Any]


def iso(dt: datetime | None) -> str | None:
    """The stored form of an instant: UTC ISO 8601, or None."""
    return dt.astimezone(UTC).isoformat() if dt is not None else None


# --- facts --------------------------------------------------------------------------------------
async def fill_principals(tx: Tx, principals: dict[str, str]) -> None:
    """Set the principal of facts that have none (rows backfilled by the migration), from {unit: principal}."""
    missing = await tx.scalar(
        "SELECT 1 FROM case_facts WHERE target_principal IS NULL OR requester_principal IS NULL LIMIT 1"
    )
    if missing is None:
        return
    for unit_id, principal in principals.items():
        await tx.execute(
            "UPDATE case_facts SET target_principal = ? WHERE target_principal IS NULL AND target_unit = ?",
            (principal, unit_id),
        )
        await tx.execute(
            "UPDATE case_facts SET requester_principal = ? WHERE requester_principal IS NULL AND requester_unit = ?",
            (principal, unit_id),
        )


async def insert_escalation_fact(tx: Tx, unit_id: str, kind: str, rung: int, rung_title: str, at: datetime) -> None:
    """One escalation, and one more in the rollup of its hour (`bot.store.rollups`)."""
    when = iso(at)
    assert when is not None
    await tx.execute(
        "INSERT INTO escalation_facts (unit_id, kind, rung, rung_title, at) VALUES (?, ?, ?, ?, ?)",
        (unit_id, kind, rung, rung_title, when),
    )
    await rollups.add_escalation(tx, when[:13], unit_id, rung, rung_title)


async def insert_escalation_facts(tx: Tx, rows: list[tuple[str, str, int, str]], at: datetime) -> None:
    """Several escalations in one statement, all at `at`: (unit_id, kind, rung, rung_title); and as many more in
    the rollup of their hour, in one more (`bot.store.rollups`)."""
    when = iso(at)
    assert when is not None
    if rows:  # nobody reads the answer: on PostgreSQL it goes with the next statement (`Tx.write`)
        source, params = dialects.of(tx.engine).rows(("text", "text", "integer", "text", "text"),
                                                     [(*row, when) for row in rows])
        await tx.write(
            f"INSERT INTO escalation_facts (unit_id, kind, rung, rung_title, at) SELECT * FROM {source} AS v", params)
        await rollups.add_escalations(tx, when[:13], [(unit_id, rung, title) for unit_id, _, rung, title in rows])


# --- retention ----------------------------------------------------------------------------------
_PURGEABLE = "FROM cases WHERE state = 'closed' AND closed_at IS NOT NULL AND closed_at < ?"


async def purgeable_cases(tx: Tx, closed_before: datetime, *, lock: bool = False) -> list[Row]:
    """Closed cases whose closing is older than `closed_before`, oldest first (id, ref, closed_at, reason).

    `lock` (the purge that deletes them): their rows are locked first, in id order, as the DELETE locks them
    (DESIGN, "lock order": a case's row is the first lock of a unit that changes it, before the audit chain), so
    a case another instance reopens meanwhile is either reopened before (then read as open, and left out) or
    after the purge (then it is gone). Nothing more on SQLite, whose one writer holds the whole store."""
    clause = dialects.of(tx.engine).lock_to_delete() if lock else ""
    if clause:
        await tx.fetchall(f"SELECT id {_PURGEABLE} ORDER BY id{clause}", (iso(closed_before),))
    return await tx.fetchall(f"SELECT id, ref, closed_at, closed_reason {_PURGEABLE} ORDER BY closed_at, id",
                             (iso(closed_before),))


async def related_counts(tx: Tx, case_id: int, ref: str) -> Row:
    """How many rows hang on a case (for the dry run's list)."""
    row = await tx.fetchone(
        """SELECT (SELECT COUNT(*) FROM follow_ups WHERE case_id = :id) AS follow_ups,
                  (SELECT COUNT(*) FROM outbox WHERE case_ref = :ref) AS outbox,
                  (SELECT COUNT(*) FROM awaiting WHERE case_id = :id) AS awaiting,
                  (SELECT COUNT(*) FROM timers WHERE case_id = :id) AS timers""",
        {"id": case_id, "ref": ref},
    )
    assert row is not None
    return row


async def delete_case(tx: Tx, case_id: int, ref: str, now: datetime, closed_before: datetime) -> bool:
    """Delete a case with everything that holds its text or hangs on it; keep its fact row, unlinked. Only if
    it is still closed before `closed_before` (False: nothing deleted; `purgeable_cases(lock=True)` read it so).

    Deleting the case row cascades to assignees, follow-ups, awaiting items (and their brist drafts), timers
    and inbound idempotency keys. Outbox rows only lose the link on delete, so they go first, by reference: every
    row with the case's id carries it (schema 40), and so do the notices about the case that have no id (messages
    that show several cases, e.g. a distribution queue: `delete_messages_showing`).
    The audit log and the read log are append-only and hold no content: they stay.
    """
    if await tx.scalar(f"SELECT id {_PURGEABLE} AND id = ?", (iso(closed_before), case_id)) is None:
        return False
    await tx.execute("DELETE FROM outbox WHERE case_ref = ?", (ref,))  # every row with its id carries it (schema 40)
    # drafts go with their awaiting item (cascade); this also catches a draft that lost its item
    await tx.execute("DELETE FROM brist_drafts WHERE (case_id = ? OR case_ref = ?) AND status = 'draft'",
                     (case_id, ref))
    await tx.execute("DELETE FROM cases WHERE id = ?", (case_id,))
    await tx.execute("UPDATE case_facts SET case_ref = NULL, purged_at = ? WHERE case_ref = ?", (iso(now), ref))
    return True


async def delete_messages_showing(tx: Tx, refs: list[str]) -> int:
    """Delete the outbox rows that show any of these cases' free text without being their own messages (a
    distribution queue lists several cases: `reads` names them). One pass over the outbox per 500 refs."""
    deleted = 0
    for i in range(0, len(refs), 500):
        chunk = refs[i : i + 500]
        where, params = outbox_store.showing(chunk)
        deleted += await tx.execute(f"DELETE FROM outbox WHERE {where}", params)
    return deleted


async def purge_ran(tx: Tx, day: str) -> bool:
    """True when the daily purge already ran for this local day (ISO date)."""
    return await tx.scalar("SELECT 1 FROM purge_runs WHERE day = ?", (day,)) is not None


async def record_purge_run(tx: Tx, day: str, now: datetime, cases: int) -> None:
    await tx.execute(
        "INSERT INTO purge_runs (day, ran_at, cases) VALUES (?, ?, ?) ON CONFLICT (day) DO NOTHING",
        (day, iso(now), cases),
    )
