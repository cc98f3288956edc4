"""How the outbox stands, for coordinators and operators: counts per delivery status, and the messages that
could not be delivered (no message text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store import Database
from bot.store import outbox as store


async def status_counts(db: Database) -> dict[str, int]:
    """How many outbox rows are in each delivery status."""
    return await store.status_counts(db)


@dataclass(frozen=True)
class FailedMessage:
    """A message that could not be delivered, as coordinators see it (no message text)."""

    id: int
    case_ref: str | None
    recipient_id: str
    channel: str
    template: str
    reason: str
    attempts: int
    created_at: datetime


async def failed_deliveries(db: Database, limit: int = 50) -> list[FailedMessage]:
    """The most recent permanently failed messages, newest first (for coordinators: console, App Home)."""
    rows = await store.failed(db, limit)
    return [
        FailedMessage(
            id=r["id"], case_ref=r["case_ref"], recipient_id=r["recipient_id"], channel=r["channel"],
            template=r["template"], reason=r["last_error"] or "unknown", attempts=int(r["attempts"]),
            created_at=datetime.fromisoformat(r["created_at"]),
        )
        for r in rows
    ]
