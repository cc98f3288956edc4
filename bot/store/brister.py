"""Brist-i-samverkan repository: every SQL statement of the report service (reports and the ladder's drafts).

Like `bot.store.cases`: functions take an open `Tx` and plain values; dates, times and lists are serialised
here (ISO 8601 text, JSON). Rows come back as dicts; `bot.brister` turns them into records.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from bot.store import dialects
from bot.store.db import Tx

Row = dict[str, Any]

_REPORT = "SELECT b.*, d.id AS draft_id FROM brister b LEFT JOIN brist_drafts d ON d.brist_id = b.id"


# --- reports ------------------------------------------------------------------------------------
async def find_by_ref(tx: Tx, ref: str) -> Row | None:
    """The report with this (normalised) reference, or None."""
    return await tx.fetchone(f"{_REPORT} WHERE b.ref = ?", (ref,))


async def lock_report(tx: Tx, ref: str) -> None:
    """Hold the report's row until the transaction ends (a change decided on the report as read next: another
    instance's change to it waits, then reads this one's; `bot.store.cases.lock`'s rule). Nothing on SQLite."""
    clause = dialects.of(tx.engine).lock_rows()
    if clause:
        await tx.fetchone("SELECT id FROM brister WHERE ref = ?" + clause, (ref,))


def _filter(*, year: int | None = None, units: list[str] | None = None, filed_by: str | None = None,
            open_only: bool = False) -> tuple[str, list[Any]] | None:
    """The WHERE clause of a reports list (None: the list is empty whatever is stored)."""
    where: list[str] = []
    params: list[Any] = []
    if year is not None:
        where.append("b.year = ?")
        params.append(year)
    if open_only:
        where.append("b.state IN ('submitted', 'dialogue_held')")
    if units is not None:
        if not units and filed_by is None:
            return None
        marks = ", ".join("?" for _ in units)
        named = f"EXISTS (SELECT 1 FROM json_each(b.units) WHERE value IN ({marks}))" if units else "1 = 0"
        where.append(f"({named} OR b.filed_by = ?)" if filed_by is not None else named)
        params.extend(units)
        if filed_by is not None:
            params.append(filed_by)
    return (" WHERE " + " AND ".join(where) if where else ""), params


async def list_reports(tx: Tx, *, year: int | None = None, units: list[str] | None = None,
                       filed_by: str | None = None) -> list[Row]:
    """Reports, oldest first; of one year, and/or naming at least one of `units` (None: any unit) or, with
    `filed_by`, filed by that person. Every one of them: for the yearly report (a file), never a list view."""
    found = _filter(year=year, units=units, filed_by=filed_by)
    if found is None:
        return []
    where, params = found
    return await tx.fetchall(_REPORT + where + " ORDER BY b.year, b.id", params)


async def report_page(tx: Tx, *, limit: int, offset: int = 0, year: int | None = None,
                      units: list[str] | None = None, filed_by: str | None = None,
                      open_only: bool = False) -> tuple[list[Row], int]:
    """A page of the reports `list_reports` would give (open ones only with `open_only`), newest first, and how
    many there are in all: two statements at most, whatever the number of reports."""
    found = _filter(year=year, units=units, filed_by=filed_by, open_only=open_only)
    if found is None:
        return [], 0
    where, params = found
    # newest first by id (reports are numbered as they come, so a year's are after the year before's): read
    # backwards along the key (or `brister_year` for one year) and stopped at the page, never sorted in full
    rows = await tx.fetchall(_REPORT + where + " ORDER BY b.id DESC LIMIT ? OFFSET ?", [*params, limit, offset])
    if offset == 0 and len(rows) < limit:
        return rows, len(rows)
    return rows, int(await tx.scalar("SELECT COUNT(*) FROM brister b" + where, params))


async def year_count(tx: Tx, year: int) -> int:
    """How many reports a year has."""
    return int(await tx.scalar("SELECT COUNT(*) FROM brister WHERE year = ?", (year,)))


async def next_ref_number(tx: Tx, year: int) -> int:
    """Take the next report number of the year (1, 2, ...)."""
    await tx.execute(
        "INSERT INTO brist_counters (year, last) VALUES (?, 1) "
        "ON CONFLICT (year) DO UPDATE SET last = brist_counters.last + 1",
        (year,),
    )
    return int(await tx.scalar("SELECT last FROM brist_counters WHERE year = ?", (year,)))


async def insert_report(
    tx: Tx,
    *,
    ref: str,
    year: int,
    state: str,
    incident_date: date,
    units: list[str],
    principals: list[str],
    causes: list[str],
    what: str,
    measures: str | None,
    dialogue: str | None,
    case_ref: str | None,
    filed_by: str,
    now: datetime,
) -> int:
    """Store a submitted report; returns its id. Measures and dialogue given at filing are stamped now."""
    stamp = now.isoformat()
    return await tx.insert(
        """INSERT INTO brister (ref, year, state, incident_date, units, principals, causes, what, measures,
                                dialogue, case_ref, filed_by, submitted_at, measures_at, dialogue_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            ref, year, state, incident_date.isoformat(), json.dumps(units), json.dumps(principals),
            json.dumps(causes), what, measures, dialogue, case_ref, filed_by, stamp,
            stamp if measures else None, stamp if dialogue else None, stamp,
        ),
    )


async def set_measures(tx: Tx, report_id: int, version: int, text: str, now: datetime) -> bool:
    """Record the measures taken (replaces earlier text); False if the report changed meanwhile."""
    changed = await tx.execute(
        "UPDATE brister SET measures = ?, measures_at = ?, updated_at = ?, version = version + 1 "
        "WHERE id = ? AND version = ?",
        (text, now.isoformat(), now.isoformat(), report_id, version),
    )
    return changed == 1


async def set_dialogue(tx: Tx, report_id: int, version: int, text: str, state: str, now: datetime) -> bool:
    """Record the outcome of the dialogue and move the report to `state`."""
    changed = await tx.execute(
        "UPDATE brister SET dialogue = ?, dialogue_at = ?, state = ?, updated_at = ?, version = version + 1 "
        "WHERE id = ? AND version = ?",
        (text, now.isoformat(), state, now.isoformat(), report_id, version),
    )
    return changed == 1


async def set_closed(tx: Tx, report_id: int, version: int, state: str, now: datetime) -> bool:
    changed = await tx.execute(
        "UPDATE brister SET state = ?, closed_at = ?, updated_at = ?, version = version + 1 "
        "WHERE id = ? AND version = ?",
        (state, now.isoformat(), now.isoformat(), report_id, version),
    )
    return changed == 1


# --- drafts from the ladder ---------------------------------------------------------------------
async def find_draft(tx: Tx, draft_id: int, *, lock: bool = False) -> Row | None:
    """The draft, or None. `lock`: held until the transaction ends (it is submitted or dismissed from what was
    read: a second coordinator, on this instance or another, waits and then finds it decided)."""
    clause = dialects.of(tx.engine).lock_rows() if lock else ""
    return await tx.fetchone("SELECT * FROM brist_drafts WHERE id = ?" + clause, (draft_id,))


async def open_drafts(tx: Tx) -> list[Row]:
    """Drafts still waiting for a coordinator, oldest first."""
    return await tx.fetchall("SELECT * FROM brist_drafts WHERE status = 'draft' ORDER BY id")


_MINE = "status = 'draft' AND EXISTS (SELECT 1 FROM json_each(coordinators) WHERE value = ?)"


async def open_draft_page(tx: Tx, coordinator: str, limit: int, offset: int = 0) -> tuple[list[Row], int]:
    """A page of the drafts still waiting for this coordinator (one of those the ladder alerted at its top
    rung), oldest first, and how many there are in all."""
    rows = await tx.fetchall(f"SELECT * FROM brist_drafts WHERE {_MINE} ORDER BY id LIMIT ? OFFSET ?",
                             (coordinator, limit, offset))
    if offset == 0 and len(rows) < limit:
        return rows, len(rows)
    return rows, int(await tx.scalar(f"SELECT COUNT(*) FROM brist_drafts WHERE {_MINE}", (coordinator,)))


async def set_draft_submitted(tx: Tx, draft_id: int, brist_id: int, by: str, now: datetime) -> bool:
    changed = await tx.execute(
        "UPDATE brist_drafts SET status = 'submitted', brist_id = ?, decided_by = ?, decided_at = ? "
        "WHERE id = ? AND status = 'draft'",
        (brist_id, by, now.isoformat(), draft_id),
    )
    return changed == 1


async def set_draft_dismissed(tx: Tx, draft_id: int, reason: str, by: str, now: datetime) -> bool:
    changed = await tx.execute(
        "UPDATE brist_drafts SET status = 'dismissed', dismissed_reason = ?, decided_by = ?, decided_at = ? "
        "WHERE id = ? AND status = 'draft'",
        (reason, by, now.isoformat(), draft_id),
    )
    return changed == 1
