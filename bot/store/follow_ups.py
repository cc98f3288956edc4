"""Follow-up statements beyond adding, answering and completing one (those are in `cases`): what becomes of the
follow-ups still open when their case is closed."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.db import Tx


async def set_status(tx: Tx, follow_up_ids: Sequence[int], status: str) -> None:
    """Give the follow-ups `status` (cancelled or handed over at closing); a done one is left as it is."""
    for fid in follow_up_ids:
        await tx.execute("UPDATE follow_ups SET status = ? WHERE id = ? AND done_at IS NULL", (status, fid))
