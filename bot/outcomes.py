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
from bot.store import Database, Tx
from bot.store import outbox as store
from bot.store import outbox_lanes as lanes_store

log = logging.getLogger("bot.dispatcher")

# Called inside the transaction that marks a row failed (e.g. to tell the coordinators).
FailureHook = Callable[[Tx, OutboxMessage, str], Awaitable[None]]
# (message, proposed retry time) -> the time to retry; quiet hours move a non-urgent retry to office hours.
RetryWindow = Callable[[OutboxMessage, datetime], datetime]
# A write of one send's outcome, applied in a shared transaction.
Mark = Callable[[Tx], Awaitable[None]]


@dataclass(frozen=True)
class Sent:
    """A message delivered, to be recorded with the others of its group (`_write_sent`)."""

    message: OutboxMessage
    attempts: int
    at: datetime
    external_id: str | None
    paced: datetime | None  # its recipient's next message waits until then (on every instance)


async def _write_sent(tx: Tx, sent: list[Sent]) -> None:
    """Record several sends: their recipients' pacing holds (a later hold already there stays), their rows (those
    still pending: a row recorded meanwhile is not written again), and for those the read log of the free text
    they showed."""
    holds: dict[tuple[str, str], datetime] = {}
    for s in sent:
        if s.paced is not None:
            key = (s.message.channel, s.message.recipient_id)
            holds[key] = max(s.paced, holds.get(key, s.paced))
    await lanes_store.hold_many(tx, [(channel, recipient, until) for (channel, recipient), until in holds.items()],
                                "pace")
    changed = await store.mark_sent_many(tx, [(s.message.id, s.attempts, s.at, s.external_id) for s in sent])
    await readlog.record_many(tx, [(s.at, s.message.recipient_id, s.message.reads, s.message.template,
                                    s.message.channel) for s in sent if s.message.id in changed and s.message.reads])

FORGET_HOLDS_EVERY = 60.0  # seconds between two clean-ups of the holds that are over


class Outcomes:
    """The writes of a dispatcher (`bot.dispatcher.Dispatcher` sets these attributes)."""

    db: Database
    clock: Clock
    owner: str
    holds: Holds
    on_failed: FailureHook | None
    window: RetryWindow | None
    _holds_forgotten_at: datetime | None
    _marks: list[tuple[Mark | Sent, asyncio.Future[None]]]
    _recording: asyncio.Lock

    async def _record(self, mark: Mark | Sent) -> None:
        """Write one outcome, together with those of the sends that finished meanwhile (group commit);
        returns once it is committed, raises if its transaction failed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((mark, done))
        async with self._recording:
            if not done.done():
                batch, self._marks = self._marks, []
                now = self.clock.now()
                forget = self._holds_forgotten_at is None or (now - self._holds_forgotten_at).total_seconds() >= \
                    FORGET_HOLDS_EVERY
                async def work(tx: Tx) -> None:  # one trip to the store's thread for the whole batch
                    sent = [write for write, _ in batch if isinstance(write, Sent)]
                    if sent:
                        await _write_sent(tx, sent)
                    for write, _ in batch:
                        if not isinstance(write, Sent):
                            await write(tx)

                try:
                    await self.db.run(work)
                except Exception as exc:
                    for _, waiting in batch:
                        waiting.set_exception(exc)
                else:
                    for _, waiting in batch:
                        waiting.set_result(None)
                    if forget:  # on its own, after: the batch's outcomes do not wait for it, nor it for a lock
                        self._holds_forgotten_at = now
                        try:
                            await lanes_store.forget_holds(self.db, now)
                        except Exception:  # the store is away: the next time
                            log.warning("holds not forgotten", extra={"event": "outbox.holds_not_forgotten"})
        await done

    async def _release(self, message: OutboxMessage) -> None:
        async def write(tx: Tx) -> None:
            await lanes_store.release(tx, message.id, self.owner)

        await self._record(write)

    async def _mark_sent(self, message: OutboxMessage, attempts: int, external_id: str | None,
                         paced: datetime | None) -> None:
        # with the other sends of its group (`_write_sent`): the recipient's next message waits on every instance,
        # and a message that showed free text is in the read log
        await self._record(Sent(message, attempts, self.clock.now(), external_id, paced))
        metrics.outbox_event(message.channel, "sent")
        log.info("sent", extra={"event": "outbox.sent", "outbox_id": message.id, "case_ref": message.case_ref})

    def _in_window(self, message: OutboxMessage, at: datetime) -> datetime:
        return self.window(message, at) if self.window is not None else at

    async def _mark_limited(self, message: OutboxMessage, sender: Any, reason: str, until: datetime) -> None:
        """A Retry-After: the recipient is held (in the store, so on every instance), the whole channel too when
        several of its recipients are, and the message is tried again once the hold is over."""
        now = self.clock.now()
        whole: list[datetime] = []

        async def hold(tx: Tx) -> None:
            until_all = await lanes_store.limit_hold(tx, message.channel, message.recipient_id, until, now,
                                                     WORKSPACE_LIMIT_AFTER)
            if until_all is not None:
                whole.append(until_all)

        await self._mark_retry(message, message.attempts, reason, until, before=hold)
        for until_all in whole:  # held by limits met on several instances: this one holds the sender too
            self.holds.hold_sender(sender, until_all)

    async def _mark_retry(self, message: OutboxMessage, attempts: int, reason: str, at: datetime,
                          before: Mark | None = None) -> None:
        at = self._in_window(message, at)

        async def write(tx: Tx) -> None:
            if before is not None:
                await before(tx)
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

    async def close(self) -> None:
        """Give back the rows this instance still claims (it stops): others need not wait for the leases."""
        await lanes_store.release_all(self.db, self.owner)
