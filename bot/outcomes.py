"""Recording what became of a send (the dispatcher's half that writes): sent, retried, rate limited, failed,
or given back. Outcomes are written as soon as they are known; the ones that finish together are written in
one transaction (group commit), with the holds they cause (`bot.store.outbox_lanes`), so a recipient's next
message never becomes free before its hold is in the store, where every instance sees it. The sends of a group
(the common outcome) are written together: one statement for their pacing holds, one for their rows (the one
answer waited for), one for their read-log rows; the rarer outcomes one by one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import metrics, readlog
from bot.clock import Clock
from bot.outbox import OutboxMessage
from bot.pacing import WORKSPACE_LIMIT_AFTER, Holds
from bot.store import Database, Tx, copies
from bot.store import outbox as store
from bot.store import outbox_lanes as lanes_store

log = logging.getLogger("bot.dispatcher")

# Called inside the transaction that marks a row failed (e.g. to tell the coordinators).
FailureHook = Callable[[Tx, OutboxMessage, str], Awaitable[None]]
# Called inside the batch's transaction for a failed row a late send delivered after all (`bot.store.copies`): to
# tell those told of its failure.
RecoveryHook = Callable[[Tx, OutboxMessage], Awaitable[None]]
# (message, proposed retry time) -> the time to retry; quiet hours move a non-urgent retry to office hours.
RetryWindow = Callable[[OutboxMessage, datetime], datetime]
# A write of one send's outcome, applied in a shared transaction.
Mark = Callable[[Tx], Awaitable[None]]


@dataclass(frozen=True)
class Write:
    """Another outcome of one row (`outbox_id`: given back, retried), applied in the batch's transaction after the
    batch has locked its rows in id order (`_write_batch`)."""

    outbox_id: int
    apply: Mark


@dataclass(frozen=True)
class Sent:
    """A message delivered, to be recorded with the others of its group (`_write_sent`)."""

    message: OutboxMessage
    attempts: int
    at: datetime
    external_id: str | None
    paced: datetime | None  # its recipient's next message waits until then (on every instance)


@dataclass(frozen=True)
class Limited:
    """A Retry-After, recorded with the others of its batch (`_write_batch`): its recipient held until `until`
    (the whole channel too when several of its recipients are), its row tried again at `at`."""

    message: OutboxMessage
    reason: str
    until: datetime
    at: datetime
    now: datetime


async def _write_batch(tx: Tx, sent: list[Sent], limited: list[Limited], others: list[Write],
                       on_recovered: RecoveryHook | None = None) -> dict[str, datetime]:
    """Record a batch in one global lock order: every hold first (the sends' pacing and the Retry-Afters, per
    recipient in key order, a later hold already there stays; then the channel-wide ones), then the rows, every one
    of the batch locked first in id order (`store.lock_in_order`, as a withdrawal locks a case's rows: written in
    the batch's order, a batch and a withdrawal could each hold a row the other waited for), then written (those of
    the sends still pending: a row recorded meanwhile is not written again), and last the read log of the free text
    the sends showed (its chain lock is held to the commit). Returns the channels held as a whole, with their
    times."""
    await lanes_store.hold_all(tx, [(s.message.channel, s.message.recipient_id, s.paced, "pace")
                                    for s in sent if s.paced is not None]
                               + [(x.message.channel, x.message.recipient_id, x.until, "limit") for x in limited])
    whole = await lanes_store.hold_channels(tx, [x.message.channel for x in limited], limited[0].now,
                                            WORKSPACE_LIMIT_AFTER) if limited else {}
    await store.lock_in_order(tx, [s.message.id for s in sent] + [x.message.id for x in limited]
                              + [w.outbox_id for w in others])
    changed = await store.mark_sent_many(tx, [(s.message.id, s.attempts, s.at, s.external_id) for s in sent]) \
        if sent else set()
    # a send whose row was cancelled while it was in flight (consent withdrawn): retracted in the channel, as a
    # message delivered before the withdrawal is (its text was shown: it is in the read log too)
    late = [(s.message.id, s.external_id, s.at) for s in sent if s.message.id not in changed]
    if late:
        changed |= await store.retract_withdrawn(tx, late)
        # a row another instance marked sent meanwhile (a lease lost mid-send): this send is a second copy in the
        # channel, kept as a row of its own so that a withdrawal retracts it too, and read like the first
        recovered: set[int] = set()
        changed |= await copies.record_copies(tx, late, recovered)
        if on_recovered is not None:  # a failed row delivered after all: its failure was reported
            for s in sorted((s for s in sent if s.message.id in recovered), key=lambda s: s.message.id):
                await on_recovered(tx, s.message)
    for x in limited:
        await store.mark_retry(tx, x.message.id, x.message.attempts, x.reason, x.at)
    for other in others:
        await other.apply(tx)
    await readlog.record_many(tx, [(s.at, s.message.recipient_id, s.message.reads, s.message.template,
                                    s.message.channel) for s in sent if s.message.id in changed and s.message.reads])
    return whole


async def _write_sent(tx: Tx, sent: list[Sent]) -> None:
    """Record several sends (`_write_batch` with nothing else)."""
    await _write_batch(tx, sent, [], [])


BATCH_ATTEMPTS = 3  # runs of a batch's transaction PostgreSQL aborted for another's sake (deadlock, serialization)

FORGET_HOLDS_EVERY = 60.0  # seconds between two clean-ups of the holds that are over


class Outcomes:
    """The writes of a dispatcher (`bot.dispatcher.Dispatcher` sets these attributes)."""

    db: Database
    clock: Clock
    owner: str
    holds: Holds
    on_failed: FailureHook | None
    on_recovered: RecoveryHook | None
    window: RetryWindow | None
    _holds_forgotten_at: datetime | None
    _marks: list[tuple[Write | Sent | Limited, asyncio.Future[dict[str, datetime]]]]
    _recording: asyncio.Lock

    async def _record(self, mark: Write | Sent | Limited) -> dict[str, datetime]:
        """Write one outcome, together with those of the sends that finished meanwhile (group commit);
        returns once it is committed (with the channels the batch held as a whole), raises if its transaction
        failed (run again first when PostgreSQL aborted it for another's sake)."""
        done: asyncio.Future[dict[str, datetime]] = asyncio.get_running_loop().create_future()
        self._marks.append((mark, done))
        async with self._recording:
            if not done.done():
                batch, self._marks = self._marks, []
                now = self.clock.now()
                forget = self._holds_forgotten_at is None or (now - self._holds_forgotten_at).total_seconds() >= \
                    FORGET_HOLDS_EVERY
                sent = [write for write, _ in batch if isinstance(write, Sent)]
                limited = [write for write, _ in batch if isinstance(write, Limited)]
                others = [write for write, _ in batch if isinstance(write, Write)]

                async def work(tx: Tx) -> dict[str, datetime]:  # one trip to the store's thread for the whole batch
                    return await _write_batch(tx, sent, limited, others, self.on_recovered)

                for attempt in range(1, BATCH_ATTEMPTS + 1):
                    try:
                        whole = await self.db.run(work)
                    except Exception as exc:
                        if attempt < BATCH_ATTEMPTS and lanes_store.conflicted(exc):
                            log.warning("outcomes run again", extra={"event": "outbox.batch_conflict",
                                                                     "attempt": attempt, "size": len(batch)})
                            continue
                        for _, waiting in batch:
                            waiting.set_exception(exc)
                    else:
                        for _, waiting in batch:
                            waiting.set_result(whole)
                        if forget:  # on its own, after: the batch's outcomes do not wait for it, nor it for a lock
                            self._holds_forgotten_at = now
                            try:
                                await lanes_store.forget_holds(self.db, now)
                            except Exception:  # the store is away: the next time
                                log.warning("holds not forgotten", extra={"event": "outbox.holds_not_forgotten"})
                    break
        return await done

    async def _release(self, message: OutboxMessage) -> None:
        async def write(tx: Tx) -> None:
            await lanes_store.release(tx, message.id, self.owner)

        await self._record(Write(message.id, write))

    async def _mark_sent(self, message: OutboxMessage, attempts: int, external_id: str | None,
                         paced: datetime | None, at: datetime | None = None) -> None:
        # with the other sends of its group (`_write_sent`): the recipient's next message waits on every instance,
        # and a message that showed free text is in the read log
        await self._record(Sent(message, attempts, at or self.clock.now(), external_id, paced))
        metrics.outbox_event(message.channel, "sent")
        log.info("sent", extra={"event": "outbox.sent", "outbox_id": message.id, "case_ref": message.case_ref})

    def _in_window(self, message: OutboxMessage, at: datetime) -> datetime:
        return self.window(message, at) if self.window is not None else at

    async def _mark_limited(self, message: OutboxMessage, sender: Any, reason: str, until: datetime) -> None:
        """A Retry-After: the recipient is held (in the store, so on every instance), the whole channel too when
        several of its recipients are, and the message is tried again once the hold is over."""
        at = self._in_window(message, until)
        whole = await self._record(Limited(message, reason, until, at, self.clock.now()))
        metrics.outbox_event(message.channel, "retried")
        log.warning(
            "delivery retry",
            extra={"event": "outbox.retry", "outbox_id": message.id, "case_ref": message.case_ref,
                   "reason": reason, "attempts": message.attempts, "next_attempt_at": at.isoformat()},
        )
        until_all = whole.get(message.channel)
        if until_all is not None:  # held by limits met on several instances: this one holds the sender too
            self.holds.hold_sender(sender, until_all)

    async def _mark_retry(self, message: OutboxMessage, attempts: int, reason: str, at: datetime) -> None:
        at = self._in_window(message, at)

        async def write(tx: Tx) -> None:
            await store.mark_retry(tx, message.id, attempts, reason, at)

        await self._record(Write(message.id, write))
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

    async def close(self) -> None:
        """Give back the rows this instance still claims (it stops): others need not wait for the leases."""
        await lanes_store.release_all(self.db, self.owner)
