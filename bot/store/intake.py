"""SQL of the intake: forms kept durably before a late filing is answered "registreras" (`bot.intake`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store.db import Tx


async def keep(tx: Tx, *, key: str, channel: str, person_id: str, form: str, now: datetime) -> None:
    """Keep a submission's form under its idempotency key, unless it is kept already or filed already."""
    await tx.write(
        "INSERT INTO intake (key, channel, person_id, form, received_at) SELECT ?, ?, ?, ?, ? "
        "WHERE NOT EXISTS (SELECT 1 FROM inbound_requests WHERE key = ? AND case_id IS NOT NULL) "
        "ON CONFLICT (key) DO NOTHING",
        (key, channel, person_id, form, now.isoformat(), key),
    )


async def forget(tx: Tx, key: str) -> None:
    """The submission's filing has ended (filed, refused or failed and told): its form is not kept."""
    await tx.write("DELETE FROM intake WHERE key = ?", (key,))


async def kept(tx: Tx, before: datetime | None = None) -> list[dict[str, Any]]:
    """Every form kept (received before `before`, when given), oldest first (a few at most: each lives until its
    filing ends)."""
    if before is None:
        return await tx.fetchall(
            "SELECT key, channel, person_id, form, received_at FROM intake ORDER BY received_at, key")
    return await tx.fetchall(
        "SELECT key, channel, person_id, form, received_at FROM intake WHERE received_at < ? "
        "ORDER BY received_at, key", (before.isoformat(),))


async def drop_older(tx: Tx, before: datetime) -> int:
    """Forget the forms received before `before` that could never be filed (their text goes with them)."""
    return await tx.execute("DELETE FROM intake WHERE received_at < ?", (before.isoformat(),))
