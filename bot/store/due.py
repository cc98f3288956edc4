"""Due-report reads: what is due or overdue across awaiting items, timers and the outbox (`gfi-bot due`).

Read-only, and tolerant of databases migrated by older versions (a missing table reads as empty).
`at` is the report's instant in stored form (ISO 8601 text).
"""

from __future__ import annotations

from typing import Any

from bot.store.db import Tx

Row = dict[str, Any]


async def has_table(tx: Tx, name: str) -> bool:
    """True if the table exists."""
    return bool(await tx.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))


async def awaiting_due(tx: Tx, at: str, limit: int) -> list[Row]:
    """Open awaiting items due by `at`, earliest first."""
    return await tx.fetchall(
        "SELECT id, case_ref, kind, rung, due_at, since, answerers FROM awaiting "
        "WHERE resolved_at IS NULL AND due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
        (at, limit),
    )


async def awaiting_open_count(tx: Tx) -> int:
    """How many awaiting items are open."""
    return int(await tx.scalar("SELECT COUNT(*) FROM awaiting WHERE resolved_at IS NULL"))


async def timers_due(tx: Tx, at: str, limit: int) -> list[Row]:
    """Pending timers due by `at`, earliest first."""
    return await tx.fetchall(
        "SELECT id, case_ref, kind, due_at FROM timers WHERE done_at IS NULL AND due_at <= ? "
        "ORDER BY due_at, id LIMIT ?",
        (at, limit),
    )


async def outbox_due(tx: Tx, at: str, limit: int) -> list[Row]:
    """Pending messages whose (re)try and quiet hours have passed by `at`, earliest first."""
    return await tx.fetchall(
        "SELECT id, case_ref, recipient_id, template, status, attempts, last_error, next_attempt_at, not_before "
        "FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND not_before <= ? "
        "ORDER BY next_attempt_at, id LIMIT ?",
        (at, at, limit),
    )


async def outbox_failed_count(tx: Tx) -> int:
    """How many messages failed for good."""
    return int(await tx.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'"))


async def outbox_waiting_count(tx: Tx, at: str) -> int:
    """How many pending messages are not due yet at `at` (quiet hours, backoff, pacing)."""
    return int(await tx.scalar(
        "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND (next_attempt_at > ? OR not_before > ?)",
        (at, at),
    ))
