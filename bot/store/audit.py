"""Audit repository: the append-only audit log (table `audit`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.store.db import Tx

Row = dict[str, Any]


async def insert(
    tx: Tx, *, at: datetime, actor_id: str, action: str, result: str, case_id: int | None, case_ref: str | None,
    detail: dict[str, Any],
) -> None:
    """Append one row; `detail` is stored as JSON."""
    await tx.insert(
        "INSERT INTO audit (at, actor_id, action, result, case_id, case_ref, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at.isoformat(), actor_id, action, result, case_id, case_ref, json.dumps(detail, ensure_ascii=False)),
    )


async def for_case(tx: Tx, case_ref: str) -> list[Row]:
    """The rows of one case, oldest first."""
    return await tx.fetchall("SELECT * FROM audit WHERE case_ref = ? ORDER BY id", (case_ref,))
