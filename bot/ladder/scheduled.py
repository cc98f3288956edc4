"""The case hook that keeps awaited items and reminders in step, and the sweep that fires what is due."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.cases.models import Case
from bot.ladder.models import AwaitingKind
from bot.ladder.service import SYSTEM, LadderService
from bot.reminders.service import ReminderService
from bot.store import Tx, timers
from bot.store import ladder as awaiting

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

MAX_PER_SWEEP = 5000
# Due items fired per transaction: enough to keep the per-commit cost small, few enough that one batch holds the
# write lock for tens of milliseconds at most (an ack waits behind at most one batch).
BATCH = 25
RETRY_AFTER = timedelta(hours=1)


class TimeHook:
    """CaseHook: after every case action, open/resolve awaited items and arm/cancel reminders."""

    def __init__(self, ladder: LadderService, reminders: ReminderService) -> None:
        self.ladder = ladder
        self.reminders = reminders

    async def after_action(self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime) -> None:
        # A (re)assignment names new answerers: re-arm the acknowledgement even if one is open.
        force = (AwaitingKind.ACKNOWLEDGEMENT,) if action == "assign" else ()
        await self.ladder.sync(tx, case, action, actor_id, now, force=force)
        await self.reminders.sync(tx, case, now)


async def sweep_due(core: Core) -> int:
    """Fire every due awaiting item and timer, earliest first, in batches; returns how many were fired.

    Each batch is one short transaction (at most BATCH items, so an ack never waits long behind a sweep):
    it reads the earliest due rows and fires them, each marking its row in the same transaction, so a
    repeated, concurrent or interrupted sweep cannot fire an item twice and its messages commit with the
    mark. An item that fails is rolled back alone (a savepoint) and retried later.
    """
    hook = TimeHook(core.ladder, core.reminders)
    fired = 0
    while fired < MAX_PER_SWEEP:
        now = core.clock.now()
        async with core.db.transaction() as tx:
            batch = await _due_batch(tx, now, min(BATCH, MAX_PER_SWEEP - fired))
            for table, row_id in batch:
                await _fire_one(core, hook, tx, table, row_id, now)
        if not batch:
            break
        fired += len(batch)
    if fired >= MAX_PER_SWEEP:
        log.warning("sweep limit reached", extra={"event": "sweep.limit", "fired": fired})
    return fired


async def _due_batch(tx: Tx, now: datetime, limit: int) -> list[tuple[str, int]]:
    """The earliest due timers and awaiting items, at most `limit`, as (table, id); a timer comes
    before an item due at the same time."""
    due = [(r["due_at"], 0, r["id"]) for r in await timers.due_rows(tx, now, limit)]
    due += [(r["due_at"], 1, r["id"]) for r in await awaiting.due_rows(tx, now, limit)]
    due.sort()
    return [("timers" if kind == 0 else "awaiting", row_id) for _, kind, row_id in due[:limit]]


async def _fire_one(core: Core, hook: TimeHook, tx: Tx, table: str, row_id: int, now: datetime) -> None:
    """Fire one due row inside the batch's transaction; a failure undoes only this row's changes and
    postpones it (a broken item must not block every other one)."""
    await tx.execute("SAVEPOINT due_item")
    try:
        if table == "timers":
            paused = await core.reminders.fire(tx, row_id, now)
            if paused is not None:
                case = await core.cases.load(tx, paused.ref)
                await hook.after_action(tx, case, "consent_expired", SYSTEM, now)
        else:
            await core.ladder.climb(tx, row_id, now)
    except Exception:
        await tx.execute("ROLLBACK TO due_item")
        log.exception("due item failed", extra={"event": "sweep.failed", "table": table, "id": row_id})
        postpone = timers.postpone if table == "timers" else awaiting.postpone
        await postpone(tx, row_id, now + RETRY_AFTER)
    await tx.execute("RELEASE due_item")
