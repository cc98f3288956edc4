"""Follow-up repository: adding, answering and completing a follow-up, reading a case's follow-ups and the open
proposals, and what becomes of the follow-ups still open when their case is closed. Like `cases`: functions take
an open `Tx` and plain values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from bot.store import dialects
from bot.store.db import Tx

Row = dict[str, Any]


async def follow_up_rows(tx: Tx, case_id: int) -> list[Row]:
    """The follow-ups of a case, in the order they were added."""
    return await tx.fetchall("SELECT * FROM follow_ups WHERE case_id = ? ORDER BY id", (case_id,))


async def follow_ups_of(tx: Tx, case_ids: list[int]) -> dict[int, list[Row]]:
    """{case id: follow-up rows, oldest first} for several cases in one query."""
    if not case_ids:
        return {}
    where, params = dialects.of(tx.engine).one_of("case_id", case_ids, "bigint")
    rows = await tx.fetchall(f"SELECT * FROM follow_ups WHERE {where} ORDER BY case_id, id", params)
    out: dict[int, list[Row]] = {i: [] for i in case_ids}
    for r in rows:
        out[r["case_id"]].append(r)
    return out


async def insert_follow_up(
    tx: Tx, case_id: int, owner_id: str, due: date, what: str, created_by: str, now: datetime,
    *, proposed: bool = False,
) -> int:
    """Store a follow-up; returns its id. A proposal (`proposed`) counts once it is accepted."""
    if proposed:
        return await tx.insert(
            "INSERT INTO follow_ups (case_id, owner_id, due_date, what, created_by, created_at, status)"
            " VALUES (?, ?, ?, ?, ?, ?, 'proposed')",
            (case_id, owner_id, due.isoformat(), what, created_by, now.isoformat()),
        )
    return await tx.insert(
        "INSERT INTO follow_ups (case_id, owner_id, due_date, what, created_by, created_at, status, accepted_by,"
        " accepted_at) VALUES (?, ?, ?, ?, ?, ?, 'accepted', ?, ?)",
        (case_id, owner_id, due.isoformat(), what, created_by, now.isoformat(), created_by, now.isoformat()),
    )


async def accept_follow_up(tx: Tx, follow_up_id: int, accepted_by: str, now: datetime) -> None:
    """Accept a proposed follow-up (no-op if it already counts)."""
    await tx.execute(
        "UPDATE follow_ups SET status = 'accepted', accepted_by = ?, accepted_at = ? WHERE id = ?"
        " AND status = 'proposed'",
        (accepted_by, now.isoformat(), follow_up_id),
    )


async def decline_follow_up(tx: Tx, follow_up_id: int, declined_by: str, now: datetime) -> None:
    """Decline a proposed follow-up (no-op unless it is still a proposal)."""
    await tx.execute(
        "UPDATE follow_ups SET status = 'declined', declined_by = ?, declined_at = ? WHERE id = ?"
        " AND status = 'proposed'",
        (declined_by, now.isoformat(), follow_up_id),
    )


# Owners read one by one (each a bounded walk of their own proposals), up to this many; more (a distributor of a
# very large unit) in one walk of their proposals together (SQLite allows 500 parts in a compound SELECT).
OWNER_ARMS = 100


async def open_proposal_rows(tx: Tx, owners: list[str], states: list[str], limit: int) -> tuple[list[Row], int]:
    """The oldest `limit` proposed follow-ups owned by one of `owners`, of cases in one of `states`, with the
    case's reference (for *mina*), and how many there are in all. Read along each owner's proposals
    (`follow_ups_owner_proposed`), never along every proposal of the store."""
    if not owners or not states:
        return [], 0
    proposed = ("FROM follow_ups f JOIN cases c ON c.id = f.case_id WHERE f.status = 'proposed' AND f.done_at IS NULL "
                f"AND c.state IN ({', '.join('?' * len(states))})")
    where = f"{proposed} AND f.owner_id IN ({', '.join('?' * len(owners))})"
    params = [*states, *owners]
    if 1 < len(owners) <= OWNER_ARMS:  # each owner's oldest along `follow_ups_owner_proposed`, then merged
        arms = " UNION ALL ".join(
            f"SELECT * FROM (SELECT f.*, c.ref AS case_ref {proposed} AND f.owner_id = ? ORDER BY f.id LIMIT ?) AS a{n}"
            for n in range(len(owners)))
        rows = await tx.fetchall(f"SELECT * FROM ({arms}) AS p ORDER BY id LIMIT ?",
                                 [*(v for owner in owners for v in (*states, owner, limit)), limit])
    else:
        rows = await tx.fetchall(f"SELECT f.*, c.ref AS case_ref {where} ORDER BY f.id LIMIT ?", [*params, limit])
    total = len(rows) if len(rows) < limit else int(await tx.scalar(f"SELECT COUNT(*) {where}", params))
    return rows, total


async def complete_follow_up(tx: Tx, follow_up_id: int, done_by: str, now: datetime) -> None:
    """Mark a follow-up done (no-op if it already is)."""
    await tx.execute(
        "UPDATE follow_ups SET done_at = ?, done_by = ? WHERE id = ? AND done_at IS NULL",
        (now.isoformat(), done_by, follow_up_id),
    )




async def set_status(tx: Tx, follow_up_ids: Sequence[int], status: str) -> None:
    """Give the follow-ups `status` (cancelled or handed over at closing); a done one is left as it is."""
    for fid in follow_up_ids:
        await tx.execute("UPDATE follow_ups SET status = ? WHERE id = ? AND done_at IS NULL", (status, fid))
