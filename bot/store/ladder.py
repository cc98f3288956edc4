"""Ladder repository: awaiting-answer items (table `awaiting`) and brist-i-samverkan drafts (`brist_drafts`).

Functions take an open `Tx` (the caller owns the transaction). Instants are stored as UTC ISO 8601 text
and lists as JSON; rows come back as stored, and `bot.ladder` turns them into `AwaitingItem` records.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.clock import iso
from bot.store import dialects
from bot.store.db import Tx
from bot.store.tx import Soon

Row = dict[str, Any]


# --- reading ------------------------------------------------------------------------------------
async def item_row(tx: Tx, item_id: int) -> Row | None:
    """One item by id, or None."""
    return await tx.fetchone("SELECT * FROM awaiting WHERE id = ?", (item_id,))


async def open_rows(tx: Tx, case_id: int) -> list[Row]:
    """The unresolved items of a case, oldest first."""
    return await tx.fetchall("SELECT * FROM awaiting WHERE case_id = ? AND resolved_at IS NULL ORDER BY id", (case_id,))


async def rows_for_case(tx: Tx, case_id: int) -> list[Row]:
    """Who answers and who was alerted, for every item of a case (open or resolved), oldest first."""
    return await tx.fetchall(
        "SELECT kind, answerers, alerted, resolved_at FROM awaiting WHERE case_id = ? ORDER BY id", (case_id,)
    )


async def rows_for_cases(tx: Tx, case_ids: list[int]) -> list[Row]:
    """`rows_for_case` of several cases in one statement (with `case_id`), oldest first."""
    if not case_ids:
        return []
    return await tx.fetchall(
        f"SELECT case_id, kind, answerers, alerted, resolved_at FROM awaiting "
        f"WHERE case_id IN ({', '.join('?' * len(case_ids))}) ORDER BY id", case_ids,
    )


async def history_rows(tx: Tx, case_ref: str) -> list[Row]:
    """Every item of a case by reference, oldest first."""
    return await tx.fetchall("SELECT * FROM awaiting WHERE case_ref = ? ORDER BY id", (case_ref,))


async def open_escalation_rows(tx: Tx) -> list[Row]:
    """Open items that have climbed at least one rung, and open disputes (whose line managers are asked at once),
    oldest first."""
    return await tx.fetchall(
        "SELECT * FROM awaiting WHERE resolved_at IS NULL AND (rung > 0 OR kind = 'dispute') ORDER BY since, id")


_OPEN_ESCALATION = "resolved_at IS NULL AND (rung > 0 OR kind = 'dispute')"  # index awaiting_open_escalations


async def open_escalation_page(tx: Tx, alerted: str | None, limit: int) -> tuple[list[Row], int]:
    """The first `limit` of `open_escalation_rows` (oldest first) and how many there are in all; with `alerted`,
    only the items that person was alerted or asked about: read along that person's rows of `escalation_alerts`
    (`track_alerts`), so someone alerted on none reads none."""
    if alerted is None:
        rows = await tx.fetchall(f"SELECT * FROM awaiting WHERE {_OPEN_ESCALATION} ORDER BY since, id LIMIT ?",
                                 (limit,))
        total = len(rows) if len(rows) < limit else int(
            await tx.scalar(f"SELECT COUNT(*) FROM awaiting WHERE {_OPEN_ESCALATION}"))
        return rows, total
    # the item re-checked in the join (a row by row look-up of the page's items, and of the person's rows for the
    # count): a row an instance of older code left behind (it resolved the item without keeping the table, during
    # a rolling upgrade) does not list a closed item (deploy/POSTGRESQL.md: stop every instance before a migration)
    open_item = "a.resolved_at IS NULL AND (a.rung > 0 OR a.kind = 'dispute')"
    rows = await tx.fetchall(
        "SELECT a.* FROM escalation_alerts e JOIN awaiting a ON a.id = e.awaiting_id WHERE e.person_id = ? "
        f"AND {open_item} ORDER BY e.since, e.awaiting_id LIMIT ?", (alerted, limit))
    total = len(rows) if len(rows) < limit else int(await tx.scalar(
        f"SELECT COUNT(*) FROM escalation_alerts e JOIN awaiting a ON a.id = e.awaiting_id WHERE e.person_id = ? "
        f"AND {open_item}", (alerted,)))
    return rows, total


async def track_alerts(tx: Tx, item_ids: list[int]) -> None:
    """Keep `escalation_alerts` (who was alerted about each open escalation) in step with these items, after a
    change of their alerted, rung or resolution in this transaction (which holds their rows): their rows
    replaced by one per person alerted while the item is an open escalation. Two statements whose answers
    nobody waits for, whatever the number of items."""
    if not item_ids:
        return
    source, params = dialects.of(tx.engine).rows(("bigint",), [(i,) for i in sorted(set(item_ids))])
    await tx.write(f"DELETE FROM escalation_alerts WHERE awaiting_id IN (SELECT column1 FROM {source} AS v)", params)
    await tx.write(
        "INSERT INTO escalation_alerts (person_id, since, awaiting_id) SELECT DISTINCT json_each.value, a.since, a.id "
        f"FROM {source} AS v JOIN awaiting a ON a.id = v.column1, json_each(a.alerted) "
        "WHERE a.resolved_at IS NULL AND (a.rung > 0 OR a.kind = 'dispute')", params)


async def nudged(tx: Tx, case_id: int, item_id: int) -> list[str]:
    """Who was reminded (*påminn*) to answer an awaiting item, from the audit log, first reminded first."""
    rows = await tx.fetchall(
        "SELECT detail FROM audit WHERE case_id = ? AND action = 'ladder_nudge' AND result = 'ok' ORDER BY id",
        (case_id,),
    )
    out: list[str] = []
    for row in rows:
        detail = json.loads(row["detail"])
        if detail.get("item_id") == item_id:
            out.extend(p for p in detail.get("nudged", []) if p not in out)
    return out


async def escalation_alerts_since(tx: Tx, case_id: int, since: datetime) -> list[list[str]]:
    """Who was alerted, per escalation of the case (climbed at least one rung) that is open or was resolved
    at or after `since`."""
    rows = await tx.fetchall(
        "SELECT alerted FROM awaiting WHERE case_id = ? AND rung > 0 AND (resolved_at IS NULL OR resolved_at >= ?)",
        (case_id, iso(since)),
    )
    return [json.loads(r["alerted"]) for r in rows]


async def due_rows(tx: Tx, now: datetime, limit: int) -> list[Row]:
    """The open items due at or before `now`, earliest first, at most `limit` (id, due_at);
    one range scan of the partial index on (due_at, id), so an idle sweep reads nothing."""
    return await tx.fetchall(
        "SELECT id, due_at FROM awaiting WHERE resolved_at IS NULL AND due_at IS NOT NULL AND due_at <= ? "
        "ORDER BY due_at, id LIMIT ?",
        (iso(now), limit),
    )


async def rows_by_id(tx: Tx, ids: list[int]) -> dict[int, Row]:
    """The open items among `ids`, by id, in one query."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = await tx.fetchall(f"SELECT * FROM awaiting WHERE id IN ({marks}) AND resolved_at IS NULL", ids)
    return {r["id"]: r for r in rows}


async def due_items(tx: Tx, now: datetime, limit: int) -> list[Row]:
    """The open items due at or before `now`, whole, earliest first, at most `limit` (the sweep's read)."""
    return await tx.fetchall(
        "SELECT * FROM awaiting WHERE resolved_at IS NULL AND due_at IS NOT NULL AND due_at <= ? "
        "ORDER BY due_at, id LIMIT ?",
        (iso(now), limit),
    )


async def is_due(tx: Tx, row_id: int, now: datetime) -> bool:
    """Whether the item is open and due at or before `now`."""
    return bool(await tx.scalar(
        "SELECT COUNT(*) FROM awaiting WHERE id = ? AND resolved_at IS NULL AND due_at IS NOT NULL AND due_at <= ?",
        (row_id, iso(now)),
    ))


async def earliest_due(tx: Tx, now: datetime) -> Row | None:
    """The open item due first at or before `now` (id, due_at), or None."""
    return await tx.fetchone(
        "SELECT id, due_at FROM awaiting WHERE resolved_at IS NULL AND due_at IS NOT NULL "
        "AND due_at <= ? ORDER BY due_at, id LIMIT 1",
        (iso(now),),
    )


# --- opening, climbing, resolving ---------------------------------------------------------------
async def next_arm(tx: Tx, case_id: int, kind: str, subject: str) -> int:
    """The arm number a new item of this kind and subject gets (1, 2, ... per re-arming)."""
    return int(await tx.scalar(
        "SELECT COALESCE(MAX(arm), 0) + 1 FROM awaiting WHERE case_id = ? AND kind = ? AND subject = ?",
        (case_id, kind, subject),
    ))


async def last_resolution(tx: Tx, case_id: int, kind: str, subject: str) -> str | None:
    """How the latest item of this kind and subject ended (None: none yet, or still open)."""
    row = await tx.fetchone(
        "SELECT resolution FROM awaiting WHERE case_id = ? AND kind = ? AND subject = ? ORDER BY arm DESC LIMIT 1",
        (case_id, kind, subject),
    )
    return None if row is None else row["resolution"]


async def insert_item(
    tx: Tx,
    *,
    case_id: int,
    case_ref: str,
    kind: str,
    subject: str,
    arm: int,
    unit_id: str,
    answerers: list[str],
    since: datetime,
    due_at: datetime,
    ladder: str,
    skipped: list[str],
    now: datetime,
) -> Soon:
    """Store a new item on its first rung; `ladder` is the frozen ladder's JSON. Its id is read later
    (`Tx.answer`, or `value` after the commit): a filing does not wait for it."""
    return await tx.insert_soon(
        """INSERT INTO awaiting (case_id, case_ref, kind, subject, arm, unit_id, answerers, since, due_at,
                                 ladder, rung, skipped, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)""",
        (case_id, case_ref, kind, subject, arm, unit_id, json.dumps(answerers),
         iso(since), iso(due_at), ladder, json.dumps(skipped), iso(now)),
    )


async def resolve(tx: Tx, item_id: int, resolved_by: str, resolution: str, now: datetime) -> bool:
    """Mark an open item resolved; False when it already was."""
    changed = await tx.execute(
        "UPDATE awaiting SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ? AND resolved_at IS NULL",
        (iso(now), resolved_by, resolution, item_id),
    )
    if changed == 1:
        await tx.write("DELETE FROM escalation_alerts WHERE awaiting_id = ?", (item_id,))  # no longer open
    return changed == 1


async def park(tx: Tx, item_id: int, rung: int, skipped: list[str]) -> None:
    """Stop the climb on `rung` with no due time (nobody left to alert)."""
    await tx.execute(
        "UPDATE awaiting SET due_at = NULL, rung = ?, skipped = ? WHERE id = ?", (rung, json.dumps(skipped), item_id)
    )
    await track_alerts(tx, [item_id])


async def set_climbed(
    tx: Tx, item_id: int, *, rung: int, due_at: datetime | None, alerted: list[str], skipped: list[str],
    now: datetime,
) -> None:
    """Record a climb: the new rung, its due time (None on the top rung), who was alerted, skipped rungs."""
    await tx.execute(
        "UPDATE awaiting SET rung = ?, due_at = ?, alerted = ?, skipped = ?, escalated_at = ? WHERE id = ?",
        (rung, iso(due_at) if due_at else None, json.dumps(alerted), json.dumps(skipped), iso(now), item_id),
    )
    await track_alerts(tx, [item_id])


async def climb_many(
    tx: Tx, rows: list[tuple[int, int, str, int, str | None, list[str], list[str], int, int | None]], now: datetime
) -> set[int]:
    """Record several climbs in one statement, each only if its item is still as it was read and its case still
    at the version it was planned from: (id, rung and due_at as read, then the new rung, due_at as stored or None
    on the top rung, alerted, skipped, then the case's id and version as read, None: not checked). Returns the
    ids climbed; the rows are locked until the commit (an item another transaction holds is waited for, then
    checked again). The case is not locked: a case action takes its case's row first, then the audit chain and
    its awaited items (DESIGN, "lock order"), while a batch already holds its awaited items here, so locking
    their cases now, against that order, could deadlock with it. The version check stands in for the lock: a
    fire whose case changed is left to the next batch (on PostgreSQL also once committed while this waited:
    `fires._check_versions`)."""
    if not rows:
        return set()
    source, values = dialects.of(tx.engine).rows(
        ("bigint", "integer", "text", "integer", "text", "text", "text", "bigint", "bigint"),
        [(item_id, rung, due_at, new_rung, new_due, json.dumps(alerted), json.dumps(skipped), case_id, version)
         for item_id, rung, due_at, new_rung, new_due, alerted, skipped, case_id, version in rows])
    found = await tx.fetchall(
        f"""UPDATE awaiting SET rung = v.column4, due_at = v.column5, alerted = v.column6, skipped = v.column7,
                   escalated_at = ?
            FROM {source} AS v JOIN cases ON cases.id = v.column8
            WHERE awaiting.id = v.column1 AND awaiting.resolved_at IS NULL AND awaiting.rung = v.column2
              AND awaiting.due_at = v.column3 AND (v.column9 IS NULL OR cases.version = v.column9)
            RETURNING awaiting.id""",
        [iso(now), *values],
    )
    climbed = {int(r["id"]) for r in found}
    await track_alerts(tx, sorted(climbed))
    return climbed


async def case_versions(tx: Tx, case_ids: list[int]) -> dict[int, int]:
    """{case id: version} of the cases, as committed now (on PostgreSQL at READ COMMITTED each statement reads
    afresh: a change committed while this transaction waited on a row lock is seen). One statement, the ids as one
    relation (`dialects.rows`)."""
    if not case_ids:
        return {}
    source, values = dialects.of(tx.engine).rows(("bigint",), [(i,) for i in case_ids])
    found = await tx.fetchall(f"SELECT cases.id, cases.version FROM {source} AS v JOIN cases ON cases.id = v.column1",
                              values)
    return {int(r["id"]): int(r["version"]) for r in found}


async def cases_moved_soon(tx: Tx, planned: list[tuple[int, int]]) -> Soon:
    """How many of the cases (id, version as planned from) are no longer at that version, as committed now (see
    `case_versions`), as one row `{"moved": n}` read later (`Tx.answer`): on PostgreSQL it rides with the batch's
    next statements instead of costing a trip of its own. A case deleted meanwhile counts as moved."""
    source, values = dialects.of(tx.engine).rows(("bigint", "bigint"), planned)
    return await tx.fetchone_soon(
        f"SELECT COUNT(*) AS moved FROM {source} AS v LEFT JOIN cases ON cases.id = v.column1 "
        "WHERE cases.version IS NOT v.column2", values)


async def postpone(tx: Tx, item_id: int, due_at: datetime) -> None:
    """Move an item's due time (a failed climb is retried later)."""
    await tx.execute("UPDATE awaiting SET due_at = ? WHERE id = ?", (iso(due_at), item_id))


# --- brist-i-samverkan drafts -------------------------------------------------------------------
async def brist_draft_id(tx: Tx, awaiting_id: int) -> int | None:
    """The draft already made for an item, if any."""
    found = await tx.scalar("SELECT id FROM brist_drafts WHERE awaiting_id = ?", (awaiting_id,))
    return int(found) if found is not None else None


async def insert_brist_draft(
    tx: Tx,
    *,
    awaiting_id: int,
    case_id: int,
    case_ref: str,
    coordinators: list[str],
    units: list[str],
    principals: list[str],
    what_happened: str,
    causes: list[str],
    now: datetime,
) -> int:
    """Store a prefilled draft; returns its id."""
    return await tx.insert(
        """INSERT INTO brist_drafts (awaiting_id, case_id, case_ref, coordinators, units, principals,
                                     what_happened, causes, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (awaiting_id, case_id, case_ref, json.dumps(coordinators), json.dumps(units),
         json.dumps(principals), what_happened, json.dumps(causes), now.isoformat()),
    )
