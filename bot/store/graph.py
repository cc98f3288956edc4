"""Microsoft Graph's tables: the Outlook event of each case, calendar rows in the outbox, used action links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store.db import Tx


async def queue_calendar_sync(tx: Tx, *, case_id: int, case_ref: str, recipient: str, channel: str, reason: str,
                              now: datetime) -> int:
    """An outbox row of kind 'calendar': bring the case's Outlook event up to date (`reason` = the action)."""
    return await tx.insert(
        """INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, urgent,
                               not_before, next_attempt_at, kind, target)
           VALUES (?, ?, ?, ?, ?, 'calendar_event', '', 1, ?, ?, 'calendar', ?)""",
        (now.isoformat(), case_id, case_ref, recipient, channel, now.isoformat(), now.isoformat(), reason),
    )


async def calendar_event(tx: Tx, case_id: int) -> dict[str, Any] | None:
    return await tx.fetchone("SELECT * FROM calendar_events WHERE case_id = ?", (case_id,))


async def calendar_event_by_ref(tx: Tx, case_ref: str) -> dict[str, Any] | None:
    return await tx.fetchone("SELECT * FROM calendar_events WHERE case_ref = ?", (case_ref,))


async def begin_calendar_create(tx: Tx, *, case_id: int, case_ref: str, seq: int, transaction_id: str,
                                now: datetime, was: tuple[str, str | None, str | None] | None) -> bool:
    """Store the transaction id of a create before it is first sent, so that retries reuse it; only if the case's
    event row is still as the sync read it (`was`: state, transaction id, event id; None: no row). False when
    another sync wrote it meanwhile (then nothing is written and Graph must not be called)."""
    if was is None:
        changed = await tx.execute(
            """INSERT INTO calendar_events (case_id, case_ref, seq, transaction_id, event_id, state, fingerprint,
                                            updated_at)
               VALUES (?, ?, ?, ?, NULL, 'creating', NULL, ?)
               ON CONFLICT (case_id) DO NOTHING""",
            (case_id, case_ref, seq, transaction_id, now.isoformat()),
        )
        return changed > 0
    changed = await tx.execute(
        "UPDATE calendar_events SET seq = ?, transaction_id = ?, event_id = NULL, state = 'creating', "
        "fingerprint = NULL, updated_at = ? WHERE case_id = ? AND state = ? "
        "AND COALESCE(transaction_id, '') = COALESCE(?, '') AND COALESCE(event_id, '') = COALESCE(?, '')",
        (seq, transaction_id, now.isoformat(), case_id, *was),
    )
    return changed > 0


async def set_calendar_state(tx: Tx, case_id: int, *, state: str, event_id: str | None, fingerprint: str | None,
                             now: datetime, was: tuple[str, str | None, str | None] | None = None) -> bool:
    """Write the case's event row after a call to Graph; with `was` (state, transaction id, event id as the sync
    read them before the call), only if the row is still so: another sync of the case (another instance, a lease
    lost) may have moved it on meanwhile. False when it had."""
    where = "case_id = ?"
    params: list[object] = [case_id]
    if was is not None:
        where += (" AND state = ? AND COALESCE(transaction_id, '') = COALESCE(?, '') "
                  "AND COALESCE(event_id, '') = COALESCE(?, '')")
        params += list(was)
    changed = await tx.execute(
        "UPDATE calendar_events SET state = ?, event_id = COALESCE(?, event_id), "
        f"fingerprint = COALESCE(?, fingerprint), updated_at = ? WHERE {where}",
        (state, event_id, fingerprint, now.isoformat(), *params),
    )
    return changed > 0


async def link_used_at(tx: Tx, token_id: str) -> str | None:
    """When a link was used (ISO time), or None."""
    value = await tx.scalar("SELECT used_at FROM link_uses WHERE token_id = ?", (token_id,))
    return None if value is None else str(value)


async def mark_link_used(tx: Tx, *, token_id: str, person_id: str, case_ref: str | None, action: str,
                         now: datetime) -> bool:
    """Record a link's use; False when it was already used."""
    changed = await tx.execute(
        "INSERT INTO link_uses (token_id, person_id, case_ref, action, used_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (token_id) DO NOTHING",
        (token_id, person_id, case_ref, action, now.isoformat()),
    )
    return changed > 0


async def forget_link_use(tx: Tx, token_id: str) -> None:
    """The action behind a link failed unexpectedly: nothing happened, so the link may be tried again."""
    await tx.execute("DELETE FROM link_uses WHERE token_id = ?", (token_id,))
