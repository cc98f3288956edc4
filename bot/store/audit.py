"""Audit repository: the append-only, hash-chained audit log (table `audit`, chain in `chain.py`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.store import chain
from bot.store.db import Tx
from bot.store.tx import Soon

Row = dict[str, Any]


async def reserve(tx: Tx) -> Soon:
    """Take the log's append lock and send for its head (`chain.reserve`): `insert(…, head=)` reads it."""
    return await chain.reserve(tx, "audit")


async def insert(
    tx: Tx, *, at: datetime, actor_id: str, action: str, result: str, case_id: int | None, case_ref: str | None,
    detail: dict[str, Any], head: Soon | None = None,
) -> None:
    """Append one row, chained to the one before (`head`: as `chain.reserve` sent for it); `detail` is stored
    as JSON."""
    [row] = await chain.chained(tx, "audit", [{
        "at": at.isoformat(), "actor_id": actor_id, "action": action, "result": result, "case_id": case_id,
        "case_ref": case_ref, "detail": json.dumps(detail, ensure_ascii=False),
    }], head)
    await tx.write(
        "INSERT INTO audit (id, at, actor_id, action, result, case_id, case_ref, detail, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        tuple(row[c] for c in (*chain.COLUMNS["audit"], "hash")),
    )


async def for_case(tx: Tx, case_ref: str) -> list[Row]:
    """The rows of one case, oldest first."""
    return await tx.fetchall("SELECT * FROM audit WHERE case_ref = ? ORDER BY id", (case_ref,))
