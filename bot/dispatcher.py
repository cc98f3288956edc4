"""Delivers outbox rows through the channel senders: to many recipients at once, to each in order and at its pace.

Delivery is at-least-once: a crash between sending and marking a row sent may send it once more,
but a business action is never repeated because of it. Every row ends `sent`, `failed` (with a
reason, shown to coordinators) or `cancelled`; nothing is retried forever.

Order. A recipient's messages go one at a time, in the order queued: the next one is read only after the
previous one's outcome is recorded (`bot.store.outbox.heads`), and a message waiting for its retry holds the
ones after it. An urgent message never waits for a non-urgent one, nor a message for one queued for later.

Pace. Different recipients are served at the same time, at most `concurrency` sends in flight. After a send
the recipient is held for the sender's `min_interval` (Slack: one message per second per channel). A 429
holds the recipient for its `Retry-After`; when three recipients of one sender are held by 429s at once, the
limit is taken to be the workspace's and the whole sender is held. Holds live in memory: a held message is
not written to (only the one that got the 429 is, with its retry time), and after a restart the first send
meets the limit again.

Runs. One at a time. `run_once` delivers what was queued when it began and can go now; `drain` (the
runtime's job) also waits for the holds that end within a second, so a paced recipient is served at its pace.
A call during a run makes that run look again, and returns once it has.

Recording. Outcomes are written as soon as they are known; sends that finish together are recorded in one
transaction (group commit), so a crash can send again only the messages in flight, each once more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot import metrics, readlog
from bot.clock import Clock
from bot.outbox import OutboxMessage
from bot.store import Database, Tx
from bot.store import outbox as store

log = logging.getLogger(__name__)

# Called inside the transaction that marks a row failed (e.g. to tell the coordinators).
FailureHook = Callable[[Tx, OutboxMessage, str], Awaitable[None]]
# (message, proposed retry time) -> the time to retry; quiet hours move a non-urgent retry to office hours.
RetryWindow = Callable[[OutboxMessage, datetime], datetime]
# A write of one send's outcome, applied in a shared transaction.
Mark = Callable[[Tx], Awaitable[None]]

DEFAULT_CONCURRENCY = 32  # sends in flight (GFI_DISPATCH_CONCURRENCY)
PAGE = 500  # recipients read per pass
WORKSPACE_LIMIT_AFTER = 3  # recipients of one sender held by 429s at once: the limit is the workspace's


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


class Dispatcher:
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
        self.on_failed: FailureHook | None = None
        self.window: RetryWindow | None = None
        self.leads: Callable[[], bool] = lambda: True  # only the timekeeper delivers (bot.store.leader)
        self._running = asyncio.Lock()
        self._again = False  # a call came while a run was under way: look once more before ending
        self._wake = asyncio.Event()  # ... and stop waiting for a hold to end
        self._looked = asyncio.Event()  # set when the run under way has looked (again); then replaced
        # Earliest time the next message may go to a (sender, recipient) pair: pacing and 429s.
        self._free_at: dict[tuple[int, str], datetime] = {}
        # Per sender: the recipients held by a 429, until when; and the senders held whole.
        self._limited: dict[int, dict[str, datetime]] = {}
        self._sender_free_at: dict[int, datetime] = {}
        self._marks: list[tuple[Mark, asyncio.Future[None]]] = []
        self._recording = asyncio.Lock()

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
        if not self.leads():
            return DispatchResult()
        if self._running.locked():
            return await self._ask()
        async with self._running:
            return await self._passes(limit)

    async def drain(self, max_wait: float = 1.0, max_seconds: float = 5.0) -> DispatchResult:
        """Deliver like `run_once`, then wait for the holds that end within `max_wait` seconds and deliver
        again, until nothing can go that soon or `max_seconds` have passed (the runtime calls again a second
        later; a stop never waits long): a paced recipient is served at its pace, not at the pace of whoever
        calls (the runtime's dispatch job). A call meanwhile wakes it up."""
        if not self.leads():
            return DispatchResult()
        if self._running.locked():
            return await self._ask()
        total = DispatchResult()
        until = self.clock.now() + timedelta(seconds=max_seconds)
        async with self._running:
            while True:
                total.add(await self._passes(PAGE))
                now = self.clock.now()
                wait = self._next_hold_end(now)
                if wait is None or wait > max_wait or now + timedelta(seconds=wait) > until:
                    return total
                if not await self._nap(wait) and self.clock.now() <= now:
                    return total  # a clock that does not move (tests, the console): nothing more to wait for

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
        """Send the next message of each recipient that is free now; False when there was none."""
        now = self.clock.now()
        self._forget_expired(now)
        held_channels = [c for c, s in self.senders.items() if id(s) in self._sender_free_at]
        rows = await store.heads(self.db, now, limit, up_to=up_to, held=sorted({r for _, r in self._free_at}),
                                 held_channels=held_channels)
        lanes: dict[tuple[str, str | None], OutboxMessage] = {}
        for row in rows:
            message = OutboxMessage.from_row(row)
            sender = self.sender_for(message.channel)
            if sender is not None and self._is_held(sender, message.recipient_id, now):  # e.g. the fallback
                result.deferred += 1
                continue
            lane = (message.recipient_id, message.case_ref if message.kind == "calendar" else None)
            lanes.setdefault(lane, message)  # one at a time, even when an urgent one is also first in line
        if not lanes:
            return False
        gate = asyncio.Semaphore(self.concurrency)

        async def deliver(message: OutboxMessage) -> None:
            async with gate:
                await self._deliver(message, result)

        outcomes = await asyncio.gather(*(deliver(m) for m in lanes.values()), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return True

    def _forget_expired(self, now: datetime) -> None:
        """Drop pacing/rate-limit holds that are over, so the maps stay as small as the busy recipients."""
        for key in [k for k, at in self._free_at.items() if at <= now]:
            del self._free_at[key]
        for sender_id, limited in list(self._limited.items()):
            for recipient in [r for r, at in limited.items() if at <= now]:
                del limited[recipient]
            if not limited:
                del self._limited[sender_id]
        for sender_id in [s for s, at in self._sender_free_at.items() if at <= now]:
            del self._sender_free_at[sender_id]

    def _next_hold_end(self, now: datetime) -> float | None:
        """Seconds until the first hold ends (None: nothing is held)."""
        ends = [at for at in (*self._free_at.values(), *self._sender_free_at.values()) if at > now]
        return (min(ends) - now).total_seconds() if ends else None

    def _is_held(self, sender: Sender, recipient_id: str, now: datetime) -> bool:
        holds = (self._sender_free_at.get(id(sender)), self._free_at.get((id(sender), recipient_id)))
        return any(until is not None and until > now for until in holds)

    def _hold(self, sender: Sender, recipient_id: str, until: datetime) -> None:
        """Rate limited: hold the recipient, or the whole sender when several recipients are held at once."""
        key = (id(sender), recipient_id)
        self._free_at[key] = max(until, self._free_at.get(key, until))
        limited = self._limited.setdefault(id(sender), {})
        limited[recipient_id] = until
        now = self.clock.now()
        current = {r: at for r, at in limited.items() if at > now}
        if len(current) >= WORKSPACE_LIMIT_AFTER:
            self._sender_free_at[id(sender)] = max(current.values())
            log.warning("sender rate limited", extra={"event": "outbox.sender_held", "recipients": len(current),
                                                      "until": max(current.values()).isoformat()})

    async def _deliver(self, message: OutboxMessage, result: DispatchResult) -> None:
        sender = self.sender_for(message.channel)
        attempts = message.attempts + 1
        if sender is None:
            await self._mark_failed(message, attempts, f"no_sender:{message.channel}")
            result.failed += 1
            return
        now = self.clock.now()
        if self._is_held(sender, message.recipient_id, now):  # a limit met since this pass began
            result.deferred += 1
            return
        try:
            external_id = await sender.send(message)
        except DeliveryError as exc:
            if exc.retry_after is not None:
                # Rate limited: hold this recipient's queue, and don't count it towards giving up.
                until = self.clock.now() + timedelta(seconds=max(exc.retry_after, 0.0))
                self._hold(sender, message.recipient_id, until)
                await self._mark_retry(message, message.attempts, exc.reason, until)
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
        if interval > 0:  # counted from when this one was sent, as the channel counts it
            self._free_at[(id(sender), message.recipient_id)] = now + timedelta(seconds=interval)
        await self._mark_sent(message, attempts, external_id)
        result.sent += 1

    async def _record(self, mark: Mark) -> None:
        """Write one outcome, together with those of the sends that finished meanwhile (group commit);
        returns once it is committed, raises if its transaction failed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((mark, done))
        async with self._recording:
            if not done.done():
                batch, self._marks = self._marks, []
                try:
                    async with self.db.transaction() as tx:
                        for write, _ in batch:
                            await write(tx)
                except Exception as exc:
                    for _, waiting in batch:
                        waiting.set_exception(exc)
                else:
                    for _, waiting in batch:
                        waiting.set_result(None)
        await done

    async def _mark_sent(self, message: OutboxMessage, attempts: int, external_id: str | None) -> None:
        at = self.clock.now()

        async def write(tx: Tx) -> None:
            changed = await store.mark_sent(tx, message.id, attempts, at, external_id)
            if changed and message.reads:  # the message showed free text: the recipient has read it
                await readlog.record(tx, at=at, person_id=message.recipient_id, refs=message.reads,
                                     view=message.template, channel=message.channel)

        await self._record(write)
        metrics.outbox_event(message.channel, "sent")
        log.info("sent", extra={"event": "outbox.sent", "outbox_id": message.id, "case_ref": message.case_ref})

    def _in_window(self, message: OutboxMessage, at: datetime) -> datetime:
        return self.window(message, at) if self.window is not None else at

    async def _mark_retry(self, message: OutboxMessage, attempts: int, reason: str, at: datetime) -> None:
        at = self._in_window(message, at)

        async def write(tx: Tx) -> None:
            await store.mark_retry(tx, message.id, attempts, reason, at)

        await self._record(write)
        metrics.outbox_event(message.channel, "retried")
        log.warning(
            "delivery retry",
            extra={"event": "outbox.retry", "outbox_id": message.id, "case_ref": message.case_ref,
                   "reason": reason, "attempts": attempts, "next_attempt_at": at.isoformat()},
        )

    async def _mark_failed(self, message: OutboxMessage, attempts: int, reason: str) -> None:
        # its own transaction: the failure hook queues notices, and must not take other outcomes down with it
        async with self.db.transaction() as tx:
            changed = await store.mark_failed(tx, message.id, attempts, reason)
            if changed and self.on_failed is not None:
                await self.on_failed(tx, message, reason)
        metrics.outbox_event(message.channel, "failed")
        log.error(
            "delivery failed",
            extra={"event": "outbox.failed", "outbox_id": message.id, "case_ref": message.case_ref, "reason": reason},
        )


async def status_counts(db: Database) -> dict[str, int]:
    """How many outbox rows are in each delivery status."""
    return await store.status_counts(db)


@dataclass(frozen=True)
class FailedMessage:
    """A message that could not be delivered, as coordinators see it (no message text)."""

    id: int
    case_ref: str | None
    recipient_id: str
    channel: str
    template: str
    reason: str
    attempts: int
    created_at: datetime


async def failed_deliveries(db: Database, limit: int = 50) -> list[FailedMessage]:
    """The most recent permanently failed messages, newest first (for coordinators: console, App Home)."""
    rows = await store.failed(db, limit)
    return [
        FailedMessage(
            id=r["id"], case_ref=r["case_ref"], recipient_id=r["recipient_id"], channel=r["channel"],
            template=r["template"], reason=r["last_error"] or "unknown", attempts=int(r["attempts"]),
            created_at=datetime.fromisoformat(r["created_at"]),
        )
        for r in rows
    ]
