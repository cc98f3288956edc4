"""Delivers outbox rows through the channel senders, with retries, backoff and per-recipient pacing.

Delivery is at-least-once: a crash between sending and marking a row sent may send it once more,
but a business action is never repeated because of it. Every row ends `sent`, `failed` (with a
reason, shown to coordinators) or `cancelled`; nothing is retried forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot import readlog
from bot.clock import Clock
from bot.outbox import OutboxMessage
from bot.store import Database, Tx
from bot.store import outbox as store

log = logging.getLogger(__name__)

# Called inside the transaction that marks a row failed (e.g. to tell the coordinators).
FailureHook = Callable[[Tx, OutboxMessage, str], Awaitable[None]]
# (message, proposed retry time) -> the time to retry; quiet hours move a non-urgent retry to office hours.
RetryWindow = Callable[[OutboxMessage, datetime], datetime]


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
    deferred: int = 0


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
    ) -> None:
        self.db = db
        self.clock = clock
        self.senders = senders
        self.fallback = fallback
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.on_failed: FailureHook | None = None
        self.window: RetryWindow | None = None
        self._running = asyncio.Lock()
        # Earliest time the next message may go to a (sender, recipient) pair: pacing and 429s.
        self._free_at: dict[tuple[int, str], datetime] = {}

    def sender_for(self, channel: str) -> Sender | None:
        return self.senders.get(channel, self.fallback)

    def backoff(self, attempts: int) -> float:
        """Seconds to wait before attempt number `attempts + 1`: 30 s, 60 s, 120 s, … capped."""
        return min(self.max_backoff, self.base_backoff * (2.0 ** max(0, attempts - 1)))

    async def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        return [OutboxMessage.from_row(r) for r in await store.due(self.db, now, limit)]

    async def run_once(self, limit: int = 100) -> DispatchResult:
        """Deliver every message that is due now (up to `limit`), oldest first."""
        result = DispatchResult()
        async with self._running:
            self._forget_expired(self.clock.now())
            for message in await self.due(self.clock.now(), limit):
                await self._deliver(message, result)
        return result

    def _forget_expired(self, now: datetime) -> None:
        """Drop pacing/rate-limit holds that are over, so the map stays as small as the busy recipients."""
        for key in [k for k, at in self._free_at.items() if at <= now]:
            del self._free_at[key]

    async def _deliver(self, message: OutboxMessage, result: DispatchResult) -> None:
        sender = self.sender_for(message.channel)
        attempts = message.attempts + 1
        if sender is None:
            await self._mark_failed(message, attempts, f"no_sender:{message.channel}")
            result.failed += 1
            return
        key = (id(sender), message.recipient_id)
        now = self.clock.now()
        free_at = self._free_at.get(key)
        if free_at is not None and free_at > now:
            await self._defer(message, free_at)
            result.deferred += 1
            return
        try:
            external_id = await sender.send(message)
        except DeliveryError as exc:
            if exc.retry_after is not None:
                # Rate limited: hold this recipient's queue, and don't count it towards giving up.
                until = self.clock.now() + timedelta(seconds=max(exc.retry_after, 0.0))
                self._free_at[key] = until
                await self._mark_retry(message, message.attempts, exc.reason, until)
                result.retried += 1
            elif exc.permanent or attempts >= self.max_attempts:
                await self._mark_failed(message, attempts, exc.reason)
                result.failed += 1
            else:
                retry_at = now + timedelta(seconds=self.backoff(attempts))
                self._free_at[key] = retry_at  # the recipient's later messages wait behind this one (order)
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
                self._free_at[key] = retry_at  # the recipient's later messages wait behind this one (order)
                await self._mark_retry(message, attempts, reason, retry_at)
                result.retried += 1
            return
        interval = float(getattr(sender, "min_interval", 0.0) or 0.0)
        if interval > 0:
            self._free_at[key] = self.clock.now() + timedelta(seconds=interval)
        await self._mark_sent(message, attempts, external_id)
        result.sent += 1

    async def _mark_sent(self, message: OutboxMessage, attempts: int, external_id: str | None) -> None:
        async with self.db.transaction() as tx:
            changed = await store.mark_sent(tx, message.id, attempts, self.clock.now(), external_id)
            if changed and message.reads:  # the message showed free text: the recipient has read it
                await readlog.record(tx, at=self.clock.now(), person_id=message.recipient_id, refs=message.reads,
                                     view=message.template, channel=message.channel)
        log.info("sent", extra={"event": "outbox.sent", "outbox_id": message.id, "case_ref": message.case_ref})

    def _in_window(self, message: OutboxMessage, at: datetime) -> datetime:
        return self.window(message, at) if self.window is not None else at

    async def _defer(self, message: OutboxMessage, until: datetime) -> None:
        until = self._in_window(message, until)
        async with self.db.transaction() as tx:
            await store.defer(tx, message.id, until)

    async def _mark_retry(self, message: OutboxMessage, attempts: int, reason: str, at: datetime) -> None:
        at = self._in_window(message, at)
        async with self.db.transaction() as tx:
            await store.mark_retry(tx, message.id, attempts, reason, at)
        log.warning(
            "delivery retry",
            extra={"event": "outbox.retry", "outbox_id": message.id, "case_ref": message.case_ref,
                   "reason": reason, "attempts": attempts, "next_attempt_at": at.isoformat()},
        )

    async def _mark_failed(self, message: OutboxMessage, attempts: int, reason: str) -> None:
        async with self.db.transaction() as tx:
            changed = await store.mark_failed(tx, message.id, attempts, reason)
            if changed and self.on_failed is not None:
                await self.on_failed(tx, message, reason)
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
