"""Distribution slots: at each slot, the unit's active distributor gets the queue (DESIGN §6).

A slot on a non-working day moves to the next working day at the same time. Each (unit, slot) runs
once, recorded in `distribution_runs`; after downtime only the latest missed slot of a unit is sent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.calendar import BusinessCalendar
from bot.cases import offers
from bot.cases.models import Case
from bot.clock import Clock, iso
from bot.directory import Directory, Unit
from bot.outbox import Outbox
from bot.store import Database, Tx, case_lists
from bot.store import cases as case_store
from bot.store import distribution as store

if TYPE_CHECKING:
    from bot.cases.service import CaseService

log = logging.getLogger(__name__)

# Cases a slot's message lists (the oldest, urgent first); the rest are counted, and the message points to the
# whole queue (App Home, the queue view). Within every channel's limits: Slack lists 20 per group, a Teams card
# stays under 28 KB with 15 briefs of at most 1,000 characters, and an e-mail stays short enough to read.
QUEUE_LISTED = 15
# Far enough back that a slot moved forward by the longest Swedish holiday run is still seen.
_LOOKBACK = timedelta(days=21)


class DistributionService:
    """Runs the distribution slots that are due."""

    def __init__(
        self, db: Database, directory: Directory, clock: Clock, calendar: BusinessCalendar, outbox: Outbox,
        cases: CaseService,
    ) -> None:
        self.db = db
        self.directory = directory
        self.clock = clock
        self.calendar = calendar
        self.outbox = outbox
        self.cases = cases

    def latest_slot(self, unit: Unit, now: datetime) -> datetime | None:
        """The unit's latest slot at or before `now` (after moving slots off non-working days)."""
        latest: datetime | None = None
        for weekday in unit.distribution.days:
            slot = self.calendar.next_weekly_slot(now - _LOOKBACK, weekday, unit.distribution.time)
            while slot <= now:
                if latest is None or slot > latest:
                    latest = slot
                slot = self.calendar.next_weekly_slot(slot, weekday, unit.distribution.time)
        return latest

    async def run(self) -> int:
        """Send the queue of every unit whose latest slot has not run yet; returns how many queues were sent.

        One transaction per unit: recording the run and queueing its messages commit together.
        """
        now = self.clock.now()
        async with self.db.transaction() as tx:
            done = await store.last_slots(tx)
        sent = 0
        for unit in self.directory.units.values():
            slot = self.latest_slot(unit, now)
            if slot is None or (done.get(unit.id) is not None and done[unit.id] >= iso(slot)):
                continue
            # A unit that never ran (new install, new unit) starts from its latest slot without sending it.
            if await self._run_slot(unit, slot, now, send=unit.id in done):
                sent += 1
        return sent

    async def _locked_queue(self, tx: Tx, unit_id: str) -> tuple[list[Case], int]:
        """The queue's first QUEUE_LISTED cases and its length, its listed cases locked (DESIGN, "lock order"):
        their rows in id order, then the queue read again, so what the message lists is what was committed when
        the locks were taken. A case assigned, closed or whose consent was withdrawn on another instance meanwhile
        is not listed (a withdrawal that comes after waits for this slot, then cancels or retracts its message).
        A case that entered the queue after the first read is counted, not listed: it is not locked."""
        first = await case_lists.queue_page(tx, unit_id, QUEUE_LISTED)
        if not await case_store.lock_many(tx, [int(r["id"]) for r in first]):
            return await self.cases.queue_page(tx, unit_id, QUEUE_LISTED)  # SQLite: its one writer holds them all
        locked = {r["id"] for r in first}
        queue, total = await self.cases.queue_page(tx, unit_id, QUEUE_LISTED)
        return [c for c in queue if c.id in locked], total

    async def _run_slot(self, unit: Unit, slot: datetime, now: datetime, *, send: bool = True) -> bool:
        async with self.db.transaction() as tx:
            recipients = self.directory.active_distributors(unit.id, now)
            queue, total = await self._locked_queue(tx, unit.id) if send else ([], 0)
            inserted = await store.record_run(tx, unit.id, slot, now, total, recipients if queue else [])
            if not inserted or not queue:
                return False
            if not recipients:
                log.warning("no distributor present", extra={"event": "distribution.vacant", "unit": unit.id,
                                                             "slot_at": iso(slot)})
                return False
            ages = {c.ref: self.outbox.renderer.age(now - c.created_at) for c in queue}
            for pid in recipients:
                await self.outbox.enqueue(
                    tx, pid, "queue", dedupe_key=f"dist:{unit.id}:{iso(slot)}:{pid}",
                    queues=[(unit.id, queue)], totals={unit.id: total}, ages=ages, slot=slot,
                    offers=[o for c in queue for o in offers.next_steps(c, pid, self.directory)],
                )
            log.info("queue sent", extra={"event": "distribution.sent", "unit": unit.id, "slot_at": iso(slot),
                                          "cases": total, "listed": len(queue), "recipients": recipients})
            return True
