"""The statements behind `/readyz` and the outbox gauges of `/metrics`: cheap, index-backed counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.store.db import Database


@dataclass(frozen=True)
class OutboxHealth:
    pending: int
    oldest_pending: datetime | None
    failed_24h: int


async def outbox_health(db: Database, now: datetime) -> OutboxHealth:
    since = (now - timedelta(hours=24)).isoformat()
    async with db.read() as tx:
        row = await tx.fetchone(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE status = 'pending'")
        failed = await tx.scalar(
            "SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND COALESCE(failed_at, next_attempt_at) >= ?",
            (since,))
    assert row is not None
    oldest = datetime.fromisoformat(row["oldest"]) if row["oldest"] else None
    return OutboxHealth(int(row["n"]), oldest, int(failed or 0))
