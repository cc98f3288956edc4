"""Case lists: a unit's queue of undistributed requests and the open cases a person requested or is responsible
for (*mina*, the Home), each a bounded read along an index with its count. Like `cases`: functions take an open
`Tx` and plain values; rows come back as dicts."""

from __future__ import annotations

from typing import Any

from bot.store.db import Tx

Row = dict[str, Any]


async def queue_page(tx: Tx, unit_id: str, limit: int, offset: int = 0) -> list[Row]:
    """`limit` undistributed requests to a unit in queue order (urgent first, then oldest first), from the
    `offset`th on; read in index order (`cases_queue_order`), so a long queue costs no more than a short one."""
    return await tx.fetchall(
        "SELECT * FROM cases WHERE target_unit = ? AND state = 'requested' ORDER BY urgent DESC, created_at, id "
        "LIMIT ? OFFSET ?",
        (unit_id, limit, offset),
    )


async def queue_count(tx: Tx, unit_id: str) -> int:
    """How many undistributed requests a unit has."""
    return int(await tx.scalar("SELECT COUNT(*) FROM cases WHERE target_unit = ? AND state = 'requested'",
                               (unit_id,)))


async def open_requests_count(tx: Tx, person_id: str, cap: int) -> int:
    """How many open cases this person requested, counted up to `cap` (from the `cases_requester_state` index)."""
    return int(await tx.scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM cases WHERE requester_id = ? AND state != 'closed' LIMIT ?) AS capped",
        (person_id, cap),
    ))


async def open_cases_responsible_count(tx: Tx, person_id: str, cap: int) -> int:
    """How many open cases this person is responsible for, counted up to `cap` for each of the two kinds."""
    return int(await tx.scalar(
        "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM case_assignees a JOIN cases c ON c.id = a.case_id "
        "WHERE a.person_id = :p AND c.state != 'closed' LIMIT :cap) AS mine) "
        "+ (SELECT COUNT(*) FROM (SELECT 1 FROM cases c "
        "WHERE c.assigned_by = :p AND c.other_assignee IS NOT NULL AND c.state != 'closed' "
        "AND NOT EXISTS (SELECT 1 FROM case_assignees a WHERE a.case_id = c.id) LIMIT :cap) AS others)",
        {"p": person_id, "cap": cap},
    ))


def _order(newest_first: bool) -> str:
    """The direction of a list's index-ordered read: filing order, or backwards from the last filed."""
    return "DESC" if newest_first else "ASC"


async def open_requests_of(tx: Tx, person_id: str, limit: int, *, newest_first: bool = False) -> list[Row]:
    """The `limit` oldest (first filed) open cases this person requested, oldest first, or with `newest_first`
    the `limit` newest, newest first: read along the `cases_requester` index (forwards or backwards), so it stops
    after `limit` open ones however many there are."""
    return await tx.fetchall(
        f"SELECT * FROM cases WHERE requester_id = ? AND state != 'closed' ORDER BY id {_order(newest_first)} LIMIT ?",
        (person_id, limit),
    )


async def open_cases_responsible(tx: Tx, person_id: str, limit: int, *, newest_first: bool = False) -> list[Row]:
    """The `limit` oldest open cases this person is responsible for: as a named assignee, or as the distributor
    of an "annan" case without named assignees. Oldest (first filed) first, or with `newest_first` the `limit`
    newest, newest first: two index-ordered reads that each stop after `limit` open cases, merged (a UNION
    sorted every one of them: 0.4 s for 45 000)."""
    order = _order(newest_first)
    named = await tx.fetchall(
        "SELECT c.* FROM case_assignees a JOIN cases c ON c.id = a.case_id "
        f"WHERE a.person_id = ? AND c.state != 'closed' ORDER BY a.case_id {order} LIMIT ?",
        (person_id, limit),
    )
    other = await tx.fetchall(
        "SELECT c.* FROM cases c WHERE c.assigned_by = ? AND c.other_assignee IS NOT NULL AND c.state != 'closed' "
        f"AND NOT EXISTS (SELECT 1 FROM case_assignees a WHERE a.case_id = c.id) ORDER BY c.id {order} LIMIT ?",
        (person_id, limit),
    )
    merged = sorted({r["id"]: r for r in [*named, *other]}.values(), key=lambda r: r["id"], reverse=newest_first)
    return merged[:limit]
