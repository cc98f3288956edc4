"""Samverkan repository (issue #18 item 4): the matters handed to a samverkansgrupp or lokalt samråd, open until
someone records what was decided. Functions take an open `Tx`; the outcome is free text, already guarded by
`bot.fields`, erased with the case's other free text (`closing.close_and_erase`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.clock import iso
from bot.store.db import Tx

Row = dict[str, Any]


async def open_matter(tx: Tx, case_id: int, group_id: str) -> Row | None:
    """The case's open matter with this group, if any."""
    return await tx.fetchone(
        "SELECT * FROM samverkan_matters WHERE case_id = ? AND group_id = ? AND handled_at IS NULL", (case_id, group_id)
    )


async def insert(tx: Tx, *, case_id: int, case_ref: str, group_id: str, awaiting_id: int | None,
                 draft_id: int | None, opened_by: str, now: datetime) -> int:
    return await tx.insert(
        """INSERT INTO samverkan_matters (case_id, case_ref, group_id, awaiting_id, draft_id, opened_by, opened_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (case_id, case_ref, group_id, awaiting_id, draft_id, opened_by, iso(now)),
    )


async def get(tx: Tx, matter_id: int) -> Row | None:
    return await tx.fetchone("SELECT * FROM samverkan_matters WHERE id = ?", (matter_id,))


async def of_groups(tx: Tx, group_ids: list[str], limit: int, offset: int = 0) -> tuple[list[Row], int]:
    """A page of the matters of these groups, open ones first, then the newest, and how many there are: the
    open ones (index `samverkan_matters_open`), then the handled ones newest first, each read stopped at the
    page (one ORDER BY over both sorted every matter)."""
    if not group_ids:
        return [], 0
    marks = ", ".join("?" for _ in group_ids)
    where = f"group_id IN ({marks})"
    open_total = int(await tx.scalar(
        f"SELECT COUNT(*) FROM samverkan_matters WHERE {where} AND handled_at IS NULL", group_ids))
    rows = await tx.fetchall(
        f"SELECT * FROM samverkan_matters WHERE {where} AND handled_at IS NULL ORDER BY id DESC LIMIT ? OFFSET ?",
        [*group_ids, max(0, min(limit, open_total - offset)), offset])
    rows += await tx.fetchall(
        f"SELECT * FROM samverkan_matters WHERE {where} AND handled_at IS NOT NULL ORDER BY id DESC "
        "LIMIT ? OFFSET ?", [*group_ids, limit - len(rows), max(0, offset - open_total)])
    if offset == 0 and len(rows) < limit:
        return rows, len(rows)
    handled = await tx.scalar(f"SELECT COUNT(*) FROM samverkan_matters WHERE {where} AND handled_at IS NOT NULL",
                              group_ids)
    return rows, open_total + int(handled)


async def decide(tx: Tx, matter_id: int, handled_by: str, outcome: str | None, now: datetime) -> bool:
    """Record what the samverkansnivå decided (None: handled, its text not kept: the case's text was erased);
    False when the matter was already handled."""
    changed = await tx.execute(
        "UPDATE samverkan_matters SET handled_by = ?, handled_at = ?, outcome = ? WHERE id = ? AND handled_at IS NULL",
        (handled_by, iso(now), outcome, matter_id),
    )
    return bool(changed)
