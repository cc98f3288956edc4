"""What is due or overdue right now: awaiting answers, reminders and undelivered messages (`gfi-bot due`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.store import Database, Tx


async def _has_table(tx: Tx, name: str) -> bool:
    """True if the table exists (the report also reads databases migrated by older versions)."""
    return bool(await tx.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))


@dataclass
class DueReport:
    now: datetime
    awaiting: list[dict[str, Any]] = field(default_factory=list)
    timers: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    failed: int = 0
    open_awaiting: int = 0
    waiting: int = 0  # pending messages not due yet (quiet hours, backoff, pacing)

    @property
    def empty(self) -> bool:
        return not (self.awaiting or self.timers or self.outbox)


async def due_report(db: Database, now: datetime, limit: int = 200) -> DueReport:
    """Read (never fire) everything whose time has come by `now`, oldest first."""
    at = now.isoformat()
    report = DueReport(now=now)
    async with db.transaction() as tx:
        if await _has_table(tx, "awaiting"):
            rows = await tx.fetchall(
                "SELECT id, case_ref, kind, rung, due_at, since, answerers FROM awaiting "
                "WHERE resolved_at IS NULL AND due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
                (at, limit),
            )
            report.awaiting = [{**r, "answerers": json.loads(r["answerers"]),
                                "due_at": datetime.fromisoformat(r["due_at"]),
                                "since": datetime.fromisoformat(r["since"])} for r in rows]
            report.open_awaiting = int(
                await tx.scalar("SELECT COUNT(*) FROM awaiting WHERE resolved_at IS NULL")
            )
        if await _has_table(tx, "timers"):
            rows = await tx.fetchall(
                "SELECT id, case_ref, kind, due_at FROM timers WHERE done_at IS NULL AND due_at <= ? "
                "ORDER BY due_at, id LIMIT ?",
                (at, limit),
            )
            report.timers = [{**r, "due_at": datetime.fromisoformat(r["due_at"])} for r in rows]
        rows = await tx.fetchall(
            "SELECT id, case_ref, recipient_id, template, status, attempts, last_error, next_attempt_at, not_before "
            "FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND not_before <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            (at, at, limit),
        )
        report.outbox = [{**r, "next_attempt_at": datetime.fromisoformat(r["next_attempt_at"]),
                          "not_before": datetime.fromisoformat(r["not_before"])} for r in rows]
        report.failed = int(await tx.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'"))
        report.waiting = int(await tx.scalar(
            "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND (next_attempt_at > ? OR not_before > ?)",
            (at, at),
        ))
    return report
