"""The lease on the outbox rows one dispatcher pass claimed (issue #22), kept while they are being sent.

A claimed row is nobody else's until its lease ends (`GFI_OUTBOX_LEASE_SECONDS`); an instance that dies
mid-send loses it, and another sends the row after the lease. A send that takes longer than the lease (a slow
Slack, many rows waiting for their turn behind the concurrency limit) would otherwise lose it too, while still
alive, and the row would go twice. So while a pass sends, its claims are renewed every third of the lease, for
the rows not yet recorded. A row whose lease was lost all the same (the store unreachable for a whole lease) is
not sent: another instance may be sending it, and its outcome is that instance's to write.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.store import Database
from bot.store import outbox_lanes as lanes_store

log = logging.getLogger("bot.dispatcher")


class Lease:
    """The claims of one pass: `keep()` renews them until every row is `done` (or the task is cancelled)."""

    def __init__(self, db: Database, clock: Clock, owner: str, seconds: float, until: datetime,
                 ids: Iterable[int], sleep: Callable[[float], Awaitable[None]]) -> None:
        self.db = db
        self.clock = clock
        self.owner = owner
        self.seconds = seconds
        self.until = until  # the claims hold until then (at least: renewed further while sending)
        self.pending = set(ids)
        self.sleep = sleep

    def done(self, outbox_id: int) -> None:
        """Its send is over (its outcome is being recorded, which ends the claim): no longer renewed."""
        self.pending.discard(outbox_id)

    def lost(self, now: datetime) -> bool:
        """True when the claims may be another instance's by now (not renewed in time)."""
        return now >= self.until

    def holds(self, outbox_id: int, now: datetime) -> bool:
        """True while the row is still this pass's: claimed, renewed in time, and not found taken by another
        instance at a renewal (which renews the others all the same)."""
        return outbox_id in self.pending and not self.lost(now)

    async def keep(self) -> None:
        """Renew the claims every third of the lease while rows are pending; a failed renewal is tried again
        at the next turn (the rows are not sent once their lease is over, see `lost`)."""
        while self.pending:
            await self.sleep(self.seconds / 3)
            if not self.pending:
                return
            until = self.clock.now() + timedelta(seconds=self.seconds)
            asked = sorted(self.pending)
            try:
                kept = await lanes_store.renew(self.db, asked, self.owner, until)
            except Exception:  # the store is away: the next turn tries again
                log.warning("lease not renewed", extra={"event": "outbox.lease_not_renewed", "rows": len(asked)})
                continue
            self.until = until
            lost = (set(asked) - kept) & self.pending  # a row done meanwhile is not lost
            if lost:  # taken by another instance: its lease had ended before this renewal
                self.pending -= lost
                log.warning("lease lost", extra={"event": "outbox.lease_lost", "outbox_ids": sorted(lost)})
