"""Audit repository: the append-only, hash-chained audit log (table `audit`, chain in `chain.py`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.store import chain
from bot.store.db import Tx

Row = dict[str, Any]


async def insert(
    tx: Tx, *, at: datetime, actor_id: str, action: str, result: str, case_id: int | None, case_ref: str | None,
    detail: dict[str, Any],
) -> None:
    """Append one row, chained to the one before (`chain.append`: on PostgreSQL the server hashes it, so the log's
    lock is taken by this statement, not waited across); `detail` is stored as JSON."""
    await chain.append(tx, "audit", {
        "at": at.isoformat(), "actor_id": actor_id, "action": action, "result": result, "case_id": case_id,
        "case_ref": case_ref, "detail": json.dumps(detail, ensure_ascii=False),
    })


async def for_case(tx: Tx, case_ref: str) -> list[Row]:
    """The rows of one case, oldest first."""
    return await tx.fetchall("SELECT * FROM audit WHERE case_ref = ? ORDER BY id", (case_ref,))
