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
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.leases import Lease
from bot.outbox import OutboxMessage
from bot.outbox_status import FailedMessage, failed_deliveries, status_counts
from bot.outcomes import FailureHook, Mark, Outcomes, RetryWindow
from bot.pacing import Holds
from bot.store import Database, dialects
from bot.store import outbox as store
from bot.store import outbox_lanes as lanes_store

__all__ = ["DEFAULT_CONCURRENCY", "DeliveryError", "DispatchResult", "Dispatcher", "FailedMessage", "FailureHook",
           "RetryWindow", "Sender", "failed_deliveries", "status_counts"]

log = logging.getLogger(__name__)


DEFAULT_CONCURRENCY = 32  # sends in flight (GFI_DISPATCH_CONCURRENCY)
PAGE = 500  # recipients read per pass
DEFAULT_LEASE = 120.0  # seconds a claimed row is this instance's (GFI_OUTBOX_LEASE_SECONDS): longer than a send
CLOCK_BACK = timedelta(seconds=2)  # the clock went back more than this since the last pass: drop the holds
IDLE_POLL = 10.0  # seconds between two looks of an idle dispatcher that is told of new rows (PostgreSQL)


class DeliveryError(Exception):
    """A send failed. `permanent` failures are not retried; `retry_after` (seconds) overrides backoff."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(reason)


class Sender(Protocol):
    """Delivers one message on one channel; returns an external id (e.g. Slack ts) or None.

    A sender may set `min_interval` (seconds between two messages to the same recipient); Slack's
    chat.postMessage allows about one message per second per channel.
    """

    async def send(self, message: OutboxMessage) -> str | None: ...


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0  # due, but its sender is held (Retry-After): left in line, not written to

    def add(self, other: DispatchResult) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.deferred += other.deferred


class Dispatcher(Outcomes):
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
        self.window: RetryWindow | None = None
        self._running = asyncio.Lock()
        self._again = False  # a call came while a run was under way: look once more before ending
        self._wake = asyncio.Event()  # ... and stop waiting for a hold to end
        self._looked = asyncio.Event()  # set when the run under way has looked (again); then replaced
        self.holds = Holds()
        self._holds_forgotten_at: datetime | None = None
        self._marks: list[tuple[Mark, asyncio.Future[None]]] = []
        self._recording = asyncio.Lock()
        # Sent, but the store could not record it (its disk full): outbox id -> (attempts, external id, paced).
        # The next pass records it instead of sending it again (in this process; a restart would send it again).
        self._unrecorded: dict[int, tuple[int, str | None, datetime | None]] = {}
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

    def sender_for(self, channel: str) -> Sender | None:
        return self.senders.get(channel, self.fallback)

    def backoff(self, attempts: int) -> float:
        """Seconds to wait before attempt number `attempts + 1`: 30 s, 60 s, 120 s, … capped."""
        return min(self.max_backoff, self.base_backoff * (2.0 ** max(0, attempts - 1)))

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

    async def _pass(self, limit: int, up_to: int, result: DispatchResult) -> bool:
        """Send the next message of each recipient that is free now; False when there was none.

        The heads are claimed `limit` at a time in one transaction, and the next ones are claimed as soon as
        the sends waiting for their turn run out (not when the last send of the batch is over): the sends in
        flight never drop to a few while a slow one ends. The recipients in flight are left out of those
        claims (on SQLite nothing is claimed, and their head is still pending)."""
        now = self.clock.now()
        if self._last_pass is not None and now < self._last_pass - CLOCK_BACK:
            await self._clock_went_back(now, self._last_pass)
        self._last_pass = now
        self.holds.forget_expired(now)
        gate = asyncio.Semaphore(self.concurrency)
        waiting: set[int] = set()  # claimed, not yet sending
        in_flight: dict[int, str] = {}  # claimed and not yet recorded: outbox id -> recipient
        tasks: set[asyncio.Task[None]] = set()
        keeping: list[asyncio.Future[None]] = []
        claims = dialects.of(self.db.engine).CLAIMS
        failure: BaseException | None = None
        any_claimed = False

        async def deliver(message: OutboxMessage, lease: Lease) -> None:
            try:
                async with gate:
                    waiting.discard(message.id)
                    await self._deliver(message, result, lease)
            finally:
                waiting.discard(message.id)
                in_flight.pop(message.id, None)
                lease.done(message.id)

        def ended(task: asyncio.Task[None]) -> None:
            nonlocal failure
            tasks.discard(task)
            if not task.cancelled() and task.exception() is not None and failure is None:
                failure = task.exception()

        try:
            while failure is None:
                messages = await self._claim(limit, up_to, result, set(in_flight.values()))
                if messages:
                    any_claimed = True
                    lease = Lease(self.db, self.clock, self.owner, self.lease,
                                  self.clock.now() + timedelta(seconds=self.lease), (m.id for m in messages),
                                  self.sleep)
                    if claims:
                        keeping.append(asyncio.ensure_future(lease.keep()))
                    for message in messages:
                        waiting.add(message.id)
                        in_flight[message.id] = message.recipient_id
                        task = asyncio.ensure_future(deliver(message, lease))
                        tasks.add(task)
                        task.add_done_callback(ended)
                if not tasks:
                    break
                if messages:  # more may be free: claim again once the ones waiting for their turn run out
                    while waiting and tasks and failure is None:
                        await asyncio.wait(set(tasks), return_when=asyncio.FIRST_COMPLETED)
                else:  # nothing more now: let the sends end, then look once more (their recipients' next)
                    await asyncio.wait(set(tasks))
        except asyncio.CancelledError:  # the instance stops: so do its sends; `close` gives their claims back
            for task in tasks:
                task.cancel()
            raise
        finally:  # a claim that failed (a full disk) ends the pass once the sends made record or remember it
            if tasks:
                await asyncio.wait(set(tasks))
            for renewal in keeping:
                renewal.cancel()
        if failure is not None:
            raise failure
        return any_claimed

    async def _claim(self, limit: int, up_to: int, result: DispatchResult, busy: set[str]) -> list[OutboxMessage]:
        """Claim the next heads that can go now (`limit` at most), leaving out the recipients in `busy` and
        those held here; the chosen rows as messages."""
        now = self.clock.now()
        held_channels = [c for c, s in self.senders.items() if self.holds.sender_held(s)]
        deferred = 0

        def pick(rows: list[dict[str, object]]) -> list[dict[str, object]]:
            """Runs inside the claim's transaction: the row's plain fields only (its message is parsed after)."""
            nonlocal deferred
            lanes: dict[tuple[str, str | None], dict[str, object]] = {}
            for row in rows:
                recipient, channel = str(row["recipient_id"]), str(row["channel"])
                sender = self.sender_for(channel)
                if sender is not None and self.holds.is_held(sender, recipient, now):  # the fallback's holds
                    deferred += 1
                    continue
                lane = (recipient, str(row["case_ref"]) if row.get("kind") == "calendar" else None)
                lanes.setdefault(lane, row)  # one at a time, even when an urgent one is also first in line
            return list(lanes.values())

        rows = await lanes_store.claim(
            self.db, now, limit, up_to=up_to, owner=self.owner, lease_until=now + timedelta(seconds=self.lease),
            pick=pick, held=sorted(set(self.holds.recipients()) | busy), held_channels=held_channels,
        )
        result.deferred += deferred
        return [OutboxMessage.from_row(r) for r in rows]

    async def _clock_went_back(self, now: datetime, was: datetime) -> None:
        """The wall clock stepped back. The holds were set on the clock before the step and would hold a
        recipient as long as the clock went back: drop them. What was due before the step is due now."""
        self.holds.clear()
        moved = await lanes_store.due_again(self.db, now, was)
        log.warning("clock went back", extra={"event": "outbox.clock_back", "seconds": (was - now).total_seconds(),
                                              "due_again": moved})

    async def _deliver(self, message: OutboxMessage, result: DispatchResult, lease: Lease | None = None) -> None:
        unrecorded = self._unrecorded.get(message.id)
        if unrecorded is not None:  # delivered already, only the record of it failed: record it, do not send again
            await self._sent(message, *unrecorded)
            result.sent += 1
            return
        sender = self.sender_for(message.channel)
        attempts = message.attempts + 1
        if sender is None:
            await self._mark_failed(message, attempts, f"no_sender:{message.channel}")
            result.failed += 1
            return
        now = self.clock.now()
        if self.holds.is_held(sender, message.recipient_id, now):  # a limit met since this pass began
            await self._release(message)
            result.deferred += 1
            return
        if lease is not None and not lease.holds(message.id, now):  # it may be another instance's by now
            result.deferred += 1
            return
        # The claim is renewed until the outcome is recorded (`deliver` ends it): a send recorded late is not
        # another instance's to send again meanwhile.
        try:
            external_id = await sender.send(message)
        except DeliveryError as exc:
            if exc.retry_after is not None:
                # Rate limited: hold this recipient's queue, and don't count it towards giving up.
                until = self.clock.now() + timedelta(seconds=max(exc.retry_after, 0.0))
                self.holds.limit(sender, message.recipient_id, until, self.clock.now())
                await self._mark_limited(message, sender, exc.reason, until)
                result.retried += 1
            elif exc.permanent or attempts >= self.max_attempts:
                await self._mark_failed(message, attempts, exc.reason)
                result.failed += 1
            else:
                retry_at = now + timedelta(seconds=self.backoff(attempts))
                await self._mark_retry(message, attempts, exc.reason, retry_at)
                result.retried += 1
            return
        except Exception as exc:  # a bug or an unexpected library error: retry, never lose the message
            log.exception("sender crashed", extra={"event": "outbox.crash", "outbox_id": message.id})
            reason = f"unexpected:{type(exc).__name__}"
            if attempts >= self.max_attempts:
                await self._mark_failed(message, attempts, reason)
                result.failed += 1
            else:
                retry_at = now + timedelta(seconds=self.backoff(attempts))
                await self._mark_retry(message, attempts, reason, retry_at)
                result.retried += 1
            return
        interval = float(getattr(sender, "min_interval", 0.0) or 0.0)
        paced = now + timedelta(seconds=interval) if interval > 0 else None  # from when it was sent, as Slack counts
        if paced is not None:
            self.holds.pace(sender, message.recipient_id, paced)
        await self._sent(message, attempts, external_id, paced)
        result.sent += 1

    async def _sent(self, message: OutboxMessage, attempts: int, external_id: str | None,
                    paced: datetime | None) -> None:
        """Record a send; when that fails (a full store, a lost connection), remember it so that it is recorded,
        not sent, the next time this instance meets the row."""
        try:
            await self._mark_sent(message, attempts, external_id, paced)
        except Exception:
            self._unrecorded[message.id] = (attempts, external_id, paced)
            raise
        self._unrecorded.pop(message.id, None)
