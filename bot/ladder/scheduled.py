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
    """Fire every due awaiting item and timer, earliest first, one transaction each; returns how many.

    Each step finds the earliest due row and fires it in the same transaction that marks it, so a
    repeated or concurrent sweep cannot fire it twice, and its messages commit with the mark.
    """
    hook = TimeHook(core.ladder, core.reminders)
    fired = 0
    while fired < MAX_PER_SWEEP:
        now = core.clock.now()
        picked: tuple[str, int] | None = None
        try:
            async with core.db.transaction() as tx:
                timer = await timers.earliest_due(tx, now)
                item = await awaiting.earliest_due(tx, now)
                if timer is None and item is None:
                    break
                if timer is not None and (item is None or timer["due_at"] <= item["due_at"]):
                    picked = ("timers", timer["id"])
                    paused = await core.reminders.fire(tx, timer["id"], now)
                    if paused is not None:
                        case = await core.cases.load(tx, paused.ref)
                        await hook.after_action(tx, case, "consent_expired", SYSTEM, now)
                else:
                    assert item is not None  # both None ended the sweep above
                    picked = ("awaiting", item["id"])
                    await core.ladder.climb(tx, item["id"], now)
        except Exception:
            # A broken item must not block every other one: roll back, log, and try it again later.
            if picked is None:
                raise
            log.exception("due item failed", extra={"event": "sweep.failed", "table": picked[0], "id": picked[1]})
            async with core.db.transaction() as tx:
                postpone = timers.postpone if picked[0] == "timers" else awaiting.postpone
                await postpone(tx, picked[1], now + RETRY_AFTER)
        fired += 1
    if fired >= MAX_PER_SWEEP:
        log.warning("sweep limit reached", extra={"event": "sweep.limit", "fired": fired})
    return fired
