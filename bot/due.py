"""What is due or overdue right now: awaiting answers, reminders and undelivered messages (`gfi-bot due`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.store import Database


@dataclass
class DueReport:
    now: datetime
    awaiting: list[dict[str, Any]] = field(default_factory=list)
    timers: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    failed: int = 0
    open_awaiting: int = 0

    @property
    def empty(self) -> bool:
        return not (self.awaiting or self.timers or self.outbox)


async def due_report(db: Database, now: datetime, limit: int = 200) -> DueReport:
    """Read (never fire) everything whose time has come by `now`, oldest first."""
    at = now.isoformat()
    report = DueReport(now=now)
    async with db.transaction() as tx:
        rows = await tx.fetchall(
            "SELECT id, case_ref, kind, rung, due_at, since, answerers FROM awaiting "
            "WHERE resolved_at IS NULL AND due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            (at, limit),
        )
        report.awaiting = [{**r, "answerers": json.loads(r["answerers"]),
                            "due_at": datetime.fromisoformat(r["due_at"]),
                            "since": datetime.fromisoformat(r["since"])} for r in rows]
        rows = await tx.fetchall(
            "SELECT id, case_ref, kind, due_at FROM timers WHERE done_at IS NULL AND due_at <= ? "
            "ORDER BY due_at, id LIMIT ?",
            (at, limit),
        )
        report.timers = [{**r, "due_at": datetime.fromisoformat(r["due_at"])} for r in rows]
        rows = await tx.fetchall(
            "SELECT id, case_ref, recipient_id, template, attempts, last_error, next_attempt_at, not_before "
            "FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND not_before <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            (at, at, limit),
        )
        report.outbox = [{**r, "next_attempt_at": datetime.fromisoformat(r["next_attempt_at"])} for r in rows]
        report.failed = int(await tx.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'"))
        report.open_awaiting = int(await tx.scalar("SELECT COUNT(*) FROM awaiting WHERE resolved_at IS NULL"))
    return report
