"""What is due or overdue right now: awaiting answers, reminders and undelivered messages (`gfi-bot due`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.store import Database
from bot.store import due as store


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
        # the report also reads databases migrated by older versions
        if await store.has_table(tx, "awaiting"):
            rows = await store.awaiting_due(tx, at, limit)
            report.awaiting = [{**r, "answerers": json.loads(r["answerers"]),
                                "due_at": datetime.fromisoformat(r["due_at"]),
                                "since": datetime.fromisoformat(r["since"])} for r in rows]
            report.open_awaiting = await store.awaiting_open_count(tx)
        if await store.has_table(tx, "timers"):
            rows = await store.timers_due(tx, at, limit)
            report.timers = [{**r, "due_at": datetime.fromisoformat(r["due_at"])} for r in rows]
        rows = await store.outbox_due(tx, at, limit)
        report.outbox = [{**r, "next_attempt_at": datetime.fromisoformat(r["next_attempt_at"]),
                          "not_before": datetime.fromisoformat(r["not_before"])} for r in rows]
        report.failed = await store.outbox_failed_count(tx)
        report.waiting = await store.outbox_waiting_count(tx, at)
    return report
