"""Slack repository: remembered identity matches (`slack_identities`) and inbound idempotency keys
(`slack_inbound`)."""

from __future__ import annotations

from datetime import datetime

from bot.store.db import Tx


async def remember_identity(tx: Tx, slack_user_id: str, person_id: str, matched_by: str, now: datetime) -> None:
    """Store (or replace) the person a Slack user was matched to."""
    await tx.execute(
        "INSERT INTO slack_identities (slack_user_id, person_id, matched_by, matched_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (slack_user_id) DO UPDATE SET person_id = excluded.person_id, "
        "matched_by = excluded.matched_by, matched_at = excluded.matched_at",
        (slack_user_id, person_id, matched_by, now.isoformat()),
    )


async def person_of(tx: Tx, slack_user_id: str) -> str | None:
    """The person a Slack user was matched to before, if any."""
    row = await tx.fetchone("SELECT person_id FROM slack_identities WHERE slack_user_id = ?", (slack_user_id,))
    return str(row["person_id"]) if row is not None else None


async def slack_user_of(tx: Tx, person_id: str) -> str | None:
    """The Slack user most recently matched to a person, if any."""
    row = await tx.fetchone(
        "SELECT slack_user_id FROM slack_identities WHERE person_id = ? ORDER BY matched_at DESC LIMIT 1",
        (person_id,),
    )
    return str(row["slack_user_id"]) if row is not None else None


async def claim_inbound(tx: Tx, key: str, kind: str, now: datetime) -> bool:
    """Record an inbound key; False when it was recorded before."""
    changed = await tx.execute(
        "INSERT INTO slack_inbound (key, kind, at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
        (key, kind, now.isoformat()),
    )
    return changed == 1


async def release_inbound(tx: Tx, key: str) -> None:
    """Forget an inbound key."""
    await tx.execute("DELETE FROM slack_inbound WHERE key = ?", (key,))
