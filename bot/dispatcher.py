"""Delivers outbox rows through the channel senders: to many recipients at once, to each in order and at its pace.

Delivery is at-least-once: a crash between sending and marking a row sent may send it once more,
but a business action is never repeated because of it. Every row ends `sent`, `failed` (with a
reason, shown to coordinators) or `cancelled`; nothing is retried forever.

Order. A recipient's messages go one at a time, in the order queued: the next one is read only after the
previous one's outcome is recorded (`bot.store.outbox.heads`), and a message waiting for its retry holds the
ones after it. An urgent message never waits for a non-urgent one, nor a message for one queued for later.

Pace. Different recipients are served at the same time, at most `concurrency` sends in flight. After a send
the recipient is held for the sender's `min_interval` (Slack: one message per second per channel). A 429
holds the recipient for its `Retry-After`; when three recipients of one channel are held by 429s at once, the
limit is taken to be the workspace's and the whole channel is held. The holds are written to the store with
the send's outcome (`bot.store.outbox_lanes`), so they hold on every instance and across a restart; a held
message is not written to (only the one that got the 429 is, with its retry time). The dispatcher also keeps
its own holds in memory (`bot.pacing`), to leave held recipients out of its reads and to know when to look.

Instances (issue #22). On PostgreSQL every instance delivers: each pass claims the heads it sends with a
lease (`FOR UPDATE SKIP LOCKED`), so a message goes out once, a recipient's next message is nobody's until
the previous one's outcome is written, and a row claimed by an instance that died is sent by another once
its lease is over (`GFI_OUTBOX_LEASE_SECONDS`). The lease is renewed while the pass sends (`bot.leases`), so a
slow send is not sent again by another instance; a row whose lease was lost anyway is not sent. On SQLite the
one process delivers, as before.

Runs. One at a time per instance. `run_once` delivers what was queued when it began and can go now; `drain` (the
runtime's job) also waits for the holds that end within a second, so a paced recipient is served at its pace.
A call during a run makes that run look again, and returns once it has.

Recording. Outcomes are written as soon as they are known; sends that finish together are recorded in one
transaction (group commit), so a crash can send again only the messages in flight, each once more.

Modules. This one runs the passes (when to look, waiting for holds, one run at a time); `bot.sends` is one pass
(claims, sends, at most `concurrency` in flight), `bot.outcomes` the writes of its outcomes, `bot.leases` the
claims' lease, `bot.pacing` the holds in memory, and `bot.senders` what a channel's sender is.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.outbox import OutboxMessage
from bot.outbox_status import FailedMessage, failed_deliveries, status_counts
from bot.outcomes import FailureHook, RecoveryHook, RetryWindow
from bot.pacing import Holds
from bot.senders import DeliveryError, DispatchResult, Sender
from bot.sends import CLOCK_BACK, Sends
from bot.store import Database, dialects
from bot.store import outbox as store

__all__ = ["DEFAULT_CONCURRENCY", "DeliveryError", "DispatchResult", "Dispatcher", "FailedMessage", "FailureHook",
           "RecoveryHook", "RetryWindow", "Sender", "failed_deliveries", "status_counts"]

log = logging.getLogger(__name__)


DEFAULT_CONCURRENCY = 32  # sends in flight (GFI_DISPATCH_CONCURRENCY)
PAGE = 500  # recipients read per pass
DEFAULT_LEASE = 120.0  # seconds a claimed row is this instance's (GFI_OUTBOX_LEASE_SECONDS): longer than a send
IDLE_POLL = 10.0  # seconds between two looks of an idle dispatcher that is told of new rows (PostgreSQL)


class Dispatcher(Sends):
    """Sends what is due in the outbox. Safe to call repeatedly; one run at a time."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        senders: dict[str, Sender],
        *,
        fallback: Sender | None = None,
        max_attempts: int = 8,
        base_backoff: float = 30.0,
        max_backoff: float = 3600.0,
        concurrency: int = DEFAULT_CONCURRENCY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        lease: float = DEFAULT_LEASE,
    ) -> None:
        self.db = db
        self.clock = clock
        self.senders = senders
        self.fallback = fallback
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.concurrency = max(1, concurrency)
        self.sleep = sleep
        self.lease = lease
        # This instance, as its claims name it (no person, no secret): host, process, and a random part.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.on_failed: FailureHook | None = None
        self.on_recovered: RecoveryHook | None = None  # a failed row delivered after all (`bot.outcomes`)
        self.window: RetryWindow | None = None
        self._running = asyncio.Lock()
        self._again = False  # a call came while a run was under way: look once more before ending
        self._wake = asyncio.Event()  # ... and stop waiting for a hold to end
        self._looked = asyncio.Event()  # set when the run under way has looked (again); then replaced
        self.holds = Holds()
        self._holds_forgotten_at: datetime | None = None
        self._marks = []  # outcomes waiting to be written, with their futures (`Outcomes._record`)
        self._recording = asyncio.Lock()
        # Sent, but the store could not record it (its disk full): outbox id -> (message, attempts, external id,
        # paced). The next pass records it first (in this process; a restart would send it again).
        self._unrecorded: dict[int, tuple[OutboxMessage, int, str | None, datetime | None, datetime]] = {}
        self._sending: set[int] = set()  # claimed by a pass, outcome not yet recorded (`Sends.in_flight`)
        self._last_pass: datetime | None = None  # the clock at the last pass: a step back drops the holds
        # Idle (PostgreSQL): new outbox rows are announced (`poke`), so while nothing is due the runtime's drain
        # every second does not look; it looks when poked, when the next row falls due, or every IDLE_POLL s.
        self.idle_poll: float | None = IDLE_POLL if dialects.of(db.engine).notify() is not None else None
        self._poked = False
        self._quiet_until: datetime | None = None

    def poke(self) -> None:
        """Rows were queued (announced by the store on any instance): the next drain looks, idle or not."""
        self._poked = True

    async def heard(self) -> None:
        """`poke`, as a change listener's reload (`bot.store.changes`, topic `outbox`)."""
        self.poke()

    async def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        return [OutboxMessage.from_row(r) for r in await store.due(self.db, now, limit)]

    async def run_once(self, limit: int = PAGE) -> DispatchResult:
        """Deliver every message that can go now, each recipient's next in line per pass (`limit` recipients
        a pass), until nothing more can. A call during a run waits until that run has looked again (what it
        delivers is counted there)."""
        if self._running.locked():
            return await self._ask()
        async with self._running:
            return await self._passes(limit)

    async def drain(self, max_wait: float = 1.0, max_seconds: float = 5.0) -> DispatchResult:
        """Deliver like `run_once`, then wait for the holds that end within `max_wait` seconds and deliver
        again, until nothing can go that soon or `max_seconds` have passed (the runtime calls again a second
        later; a stop never waits long): a paced recipient is served at its pace, not at the pace of whoever
        calls (the runtime's dispatch job). A call meanwhile wakes it up."""
        if self._running.locked():
            return await self._ask()
        if self._idle(self.clock.now()):
            return DispatchResult()
        self._poked = False
        total = DispatchResult()
        until = self.clock.now() + timedelta(seconds=max_seconds)
        async with self._running:
            while True:
                total.add(await self._passes(PAGE))
                now = self.clock.now()
                wait = self.holds.next_end(now)
                if wait is None or wait > max_wait or now + timedelta(seconds=wait) > until:
                    break
                if not await self._nap(wait) and self.clock.now() <= now:
                    break  # a clock that does not move (tests, the console): nothing more to wait for
            await self._rest(total)
        return total

    def _idle(self, now: datetime) -> bool:
        """True when the last drain found nothing to do, nothing was announced since, and nothing falls due yet."""
        if self.idle_poll is None or self._poked or self._quiet_until is None or now >= self._quiet_until:
            return False
        return self._last_pass is None or now >= self._last_pass - CLOCK_BACK  # a step back: look

    async def _rest(self, total: DispatchResult) -> None:
        """After a drain: when it found nothing to do and nothing is held, rest until the next row falls due (at
        most IDLE_POLL seconds, the fall-back if an announcement was missed) or a row is announced."""
        self._quiet_until = None
        busy = total.sent or total.retried or total.failed or total.deferred or self._unrecorded
        if self.idle_poll is None or busy or self.holds.next_end(self.clock.now()) is not None:
            return
        now = self.clock.now()
        due = await store.next_due(self.db)
        if due is None or due > now:
            rest = now + timedelta(seconds=self.idle_poll)
            self._quiet_until = rest if due is None else min(rest, due)

    async def _ask(self) -> DispatchResult:
        """Ask the run under way to look again (now, if it is waiting for a hold), and wait until it has."""
        looked = self._looked
        self._again = True
        self._wake.set()
        await looked.wait()
        return DispatchResult()

    async def _nap(self, seconds: float) -> bool:
        """Sleep (the injected `sleep`) unless woken by a call first; True when woken."""
        nap = asyncio.ensure_future(self.sleep(seconds))
        woken = asyncio.ensure_future(self._wake.wait())
        await asyncio.wait({nap, woken}, return_when=asyncio.FIRST_COMPLETED)
        for task in (nap, woken):
            task.cancel()
        return self._wake.is_set()

    async def _passes(self, limit: int) -> DispatchResult:
        """Passes until nothing more can go. Messages queued during the run (e.g. the coordinators' notice of a
        failure) wait for the next run, unless someone asked for one meanwhile (`_ask`)."""
        result = DispatchResult()
        self._again = False
        self._wake.clear()
        up_to = await store.last_id(self.db)
        while True:
            if not await self._pass(limit, up_to, result):
                if not self._again:
                    break
                self._again = False
                self._wake.clear()
                up_to = await store.last_id(self.db)
        looked, self._looked = self._looked, asyncio.Event()
        looked.set()
        return result
