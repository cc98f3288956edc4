"""Pruning of the per-request bookkeeping tables (#22 item 6): the inbound idempotency keys of Slack and Teams
(`slack_inbound`, `teams_inbound`) and the single-use record of action links (`link_uses`). Each row is deleted
in bounded batches, one short transaction per batch, through an index on its time column (migration 0039), so
no transaction grows with the table."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from bot.store import Database

# table -> its time column; the only names this module puts into SQL (never user input)
PRUNABLE: Final[dict[str, str]] = {"slack_inbound": "at", "teams_inbound": "at", "link_uses": "used_at"}
KEYS: Final[dict[str, str]] = {"slack_inbound": "key", "teams_inbound": "key", "link_uses": "token_id"}


async def prune(db: Database, table: str, before: datetime, batch: int = 1000) -> int:
    """Delete the rows of `table` (one of PRUNABLE) recorded before `before`, `batch` rows per transaction.
    Idempotent; returns how many rows were deleted."""
    column, key = PRUNABLE[table], KEYS[table]
    # names from PRUNABLE/KEYS only, never input
    statement = (f"DELETE FROM {table} WHERE {key} IN ("
                 f"SELECT {key} FROM {table} WHERE {column} < :before LIMIT :batch)")
    total = 0
    while True:
        async with db.transaction() as tx:
            count = await tx.execute(statement, {"before": before.isoformat(), "batch": batch})
        total += count
        if count < batch:
            return total
