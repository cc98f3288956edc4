"""Delivery views: what screens and reports read from the outbox (failed deliveries, escalations queued).

Read-only but for `cancel_failure_notices`. The outbox's writes (queueing, sending, retrying) are in `bot.outbox` and
`bot.dispatcher` for now.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bot.store.db import Tx

Row = dict[str, Any]


async def failed(tx: Tx, limit: int) -> list[Row]:
    """The latest permanently failed messages, newest first (id, case_ref, recipient_id, last_error, created_at)."""
    return await tx.fetchall(
        "SELECT id, case_ref, recipient_id, last_error, created_at FROM outbox WHERE status = 'failed' "
        "ORDER BY id DESC LIMIT ?",
        (limit,),
    )


async def told_about_failure(tx: Tx, case_id: int) -> list[str]:
    """Everyone told that a message of the case could not be delivered."""
    rows = await tx.fetchall(
        "SELECT DISTINCT recipient_id FROM outbox WHERE template = 'delivery_failed' "
        "AND case_ref = (SELECT ref FROM cases WHERE id = ?)", (case_id,)
    )
    return [r["recipient_id"] for r in rows]


async def told_of_failed(tx: Tx, outbox_id: int, case_ref: str | None) -> list[str]:
    """Who was told that the message `outbox_id` (of case `case_ref`, or none) could not be delivered: the
    recipients of its failure notices (`failed:<id>:<person>`) still to go or delivered, in the order told (found by
    the case's reference, or among the notices of no case)."""
    where, params = _failure_notices(outbox_id, case_ref)
    rows = await tx.fetchall(
        f"SELECT recipient_id FROM outbox WHERE {where} AND status IN ('pending', 'sent') ORDER BY id", params)
    return list(dict.fromkeys(str(r["recipient_id"]) for r in rows))


def _failure_notices(outbox_id: int, case_ref: str | None) -> tuple[str, tuple[Any, ...]]:
    """The failure notices (`failed:<id>:<person>`) of the message `outbox_id`, found by its case's reference (or
    among the notices of no case)."""
    of_case = "case_ref = ?" if case_ref is not None else "case_ref IS NULL"
    return (f"{of_case} AND template = 'delivery_failed' AND dedupe_key LIKE ?",
            (*((case_ref,) if case_ref is not None else ()), f"failed:{outbox_id}:%"))


async def cancel_failure_notices(tx: Tx, outbox_id: int, case_ref: str | None, reason: str,
                                 in_flight: Collection[int] = ()) -> int:
    """Cancel the failure notices of the message `outbox_id` that have not gone out and are not being sent: still
    pending, claimed by no instance (`claimed_by`, PostgreSQL) and not among `in_flight` (this process's sends, as
    SQLite claims nothing). Returns how many."""
    where, params = _failure_notices(outbox_id, case_ref)
    busy = sorted(set(in_flight))
    not_busy = f" AND id NOT IN ({', '.join('?' * len(busy))})" if busy else ""
    return await tx.execute(
        f"UPDATE outbox SET status = 'cancelled', last_error = ? WHERE {where} AND status = 'pending' "
        f"AND claimed_by IS NULL{not_busy}", (reason, *params, *busy))


async def told_about_failures(tx: Tx, refs: list[str]) -> list[Row]:
    """`told_about_failure` of several cases by reference, in one statement: (case_ref, recipient_id)."""
    if not refs:
        return []
    return await tx.fetchall(
        "SELECT DISTINCT case_ref, recipient_id FROM outbox WHERE template = 'delivery_failed' "
        f"AND case_ref IN ({', '.join('?' * len(refs))})", refs,
    )


async def escalation_recipients(tx: Tx, after_id: int, since: str) -> list[Row]:
    """Escalation, resolution and reassigned-away messages queued after outbox id `after_id` and at or after
    `since` (stored form; "" for any time): (id, recipient_id), in queue order."""
    return await tx.fetchall(
        "SELECT id, recipient_id FROM outbox WHERE id > ? AND created_at >= ? "
        "AND template IN ('escalation', 'escalation_resolved', 'case_reassigned_away') ORDER BY id",
        (after_id, since),
    )


async def last_id(tx: Tx) -> int:
    """The id of the newest queued message (0 when none)."""
    return int(await tx.scalar("SELECT COALESCE(MAX(id), 0) FROM outbox"))
