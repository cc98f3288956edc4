"""One pass of the dispatcher (`bot.dispatcher.Dispatcher`): claim the heads that can go now, send them with at
most `concurrency` in flight, and record what became of each send (`bot.outcomes`).

The heads are claimed `limit` at a time in one transaction, with a lease where several instances deliver
(`bot.leases`, renewed while the claims are being sent). They wait in this process's queue for a free place;
the next ones are claimed as soon as the queue runs out (not when the last send of the batch is over), so the
sends in flight never drop to a few while a slow one ends. The recipients claimed and not yet recorded are left
out of those claims (on SQLite nothing is claimed, and their head is still pending).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.leases import Lease
from bot.outbox import OutboxMessage
from bot.outcomes import Outcomes
from bot.senders import DeliveryError, DispatchResult, Sender
from bot.store import Tx, dialects
from bot.store import outbox_lanes as lanes_store

log = logging.getLogger("bot.dispatcher")

CLOCK_BACK = timedelta(seconds=2)  # the clock went back more than this since the last pass: drop the holds


async def _stop(tasks: set[asyncio.Task[None]], keeping: list[asyncio.Future[None]]) -> None:
    """Cancel a stopping pass's sends and lease renewals, and wait until they have ended (a send already made
    still records its outcome, see `Sends._sent`)."""
    running = set(tasks) | set(keeping)
    for task in running:
        task.cancel()
    if running:
        await asyncio.wait(running)


class Sends(Outcomes):
    """The sending half of a dispatcher (`bot.dispatcher.Dispatcher` sets these attributes)."""

    senders: dict[str, Sender]
    fallback: Sender | None
    max_attempts: int
    base_backoff: float
    max_backoff: float
    concurrency: int
    sleep: Callable[[float], Awaitable[None]]
    lease: float
    # Sent, but the store could not record it (its disk full): outbox id -> (message, attempts, external id, paced,
    # sent at: the same time when it is recorded again, so that a copy recorded twice is known as one).
    # The next pass records it first, and never sends it again (in this process; a restart would send it again).
    _unrecorded: dict[int, tuple[OutboxMessage, int, str | None, datetime | None, datetime]]
    _last_pass: datetime | None  # the clock at the last pass: a step back drops the holds
    _sending: set[int]  # claimed by this process's pass and not yet recorded (`in_flight`)

    def in_flight(self) -> set[int]:
        """The rows this process may be sending or have sent unrecorded: a pending row among them can still go out
        (SQLite claims nothing, so the store cannot tell; `bot.delivery.tell_recovered`)."""
        return self._sending | set(self._unrecorded)

    def sender_for(self, channel: str) -> Sender | None:
        return self.senders.get(channel, self.fallback)

    def backoff(self, attempts: int) -> float:
        """Seconds to wait before attempt number `attempts + 1`: 30 s, 60 s, 120 s, … capped."""
        return min(self.max_backoff, self.base_backoff * (2.0 ** max(0, attempts - 1)))

    async def _pass(self, limit: int, up_to: int, result: DispatchResult) -> bool:
        """Send the next message of each recipient that is free now; False when there was none."""
        now = self.clock.now()
        if self._last_pass is not None and now < self._last_pass - CLOCK_BACK:
            await self._clock_went_back(now, self._last_pass)
        self._last_pass = now
        self.holds.forget_expired(now)
        if self._unrecorded:
            await self._record_unrecorded(result)
        queued: deque[tuple[OutboxMessage, Lease]] = deque()  # claimed, waiting for a place
        in_flight: dict[int, str] = {}  # claimed and not yet recorded: outbox id -> recipient
        tasks: set[asyncio.Task[None]] = set()
        keeping: list[asyncio.Future[None]] = []
        ended = asyncio.Event()  # a send ended (the places and the failure are looked at again)
        claims = dialects.of(self.db.engine).CLAIMS
        failure: BaseException | None = None
        any_claimed = False

        async def deliver(message: OutboxMessage, lease: Lease) -> None:
            try:
                await self._deliver(message, result, lease)
            finally:
                in_flight.pop(message.id, None)
                self._sending.discard(message.id)
                lease.done(message.id)

        def done(task: asyncio.Task[None]) -> None:
            nonlocal failure
            tasks.discard(task)
            if not task.cancelled() and task.exception() is not None and failure is None:
                failure = task.exception()
            ended.set()

        async def until(ready: Callable[[], bool]) -> None:
            while not ready():
                ended.clear()
                await ended.wait()

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
                        in_flight[message.id] = message.recipient_id
                        self._sending.add(message.id)
                        queued.append((message, lease))
                while queued and failure is None:  # start the claimed sends as places free up
                    while queued and len(tasks) < self.concurrency:
                        task = asyncio.ensure_future(deliver(*queued.popleft()))
                        tasks.add(task)
                        task.add_done_callback(done)
                    await until(lambda: len(tasks) < self.concurrency or failure is not None)
                if not tasks:
                    break
                if not messages:  # nothing more now: let the sends end, then look once more (their recipients' next)
                    await until(lambda: not tasks)
        except asyncio.CancelledError:  # the instance stops: so do its sends; `close` gives their claims back
            await _stop(tasks, keeping)
            raise
        finally:  # a claim that failed (a full disk) ends the pass once the sends made record or remember it
            try:
                if tasks:
                    await asyncio.wait(set(tasks))
            except asyncio.CancelledError:
                # the instance stops while this pass waits for its sends: they stop too, and the pass ends only
                # once they have (else `close` would give their claims back while they still send: sent twice)
                await _stop(tasks, keeping)
                raise
            finally:
                for renewal in keeping:
                    renewal.cancel()
            self._sending.difference_update(m.id for m, _ in queued)
            if queued and claims:  # claimed, never started (a write failed): given back now, not after their lease
                await self._give_back(queued)
        if failure is not None:
            raise failure
        return any_claimed

    async def _give_back(self, queued: deque[tuple[OutboxMessage, Lease]]) -> None:
        """Give back the claims of messages a failed pass did not start (best effort: the store may be away; then
        their lease ends them)."""
        messages = [message for message, lease in queued]
        for message, lease in queued:
            lease.done(message.id)
        queued.clear()

        async def work(tx: Tx) -> None:
            for message in messages:
                await lanes_store.release(tx, message.id, self.owner)

        try:
            await self.db.run(work)
        except Exception:
            log.warning("claims not given back", extra={"event": "outbox.not_given_back", "rows": len(messages)})

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
            chosen = list(lanes.values())
            # in flight from here, inside the claim's transaction: a recovery recorded right after it (SQLite's group
            # commit runs both before either answer comes back) does not cancel a notice this pass is about to send
            picked.extend(int(str(r["id"])) for r in chosen)
            self._sending.update(picked)
            return chosen

        picked: list[int] = []
        try:
            rows = await lanes_store.claim(
                self.db, now, limit, up_to=up_to, owner=self.owner, lease_until=now + timedelta(seconds=self.lease),
                pick=pick, held=sorted(set(self.holds.recipients()) | busy), held_channels=held_channels,
            )
        except BaseException:
            self._sending.difference_update(picked)  # not claimed: not sent
            raise
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
            await self._sent(message, *unrecorded[1:])
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
                await self._mark_retry(message, attempts, exc.reason, now + timedelta(seconds=self.backoff(attempts)))
                result.retried += 1
            return
        except Exception as exc:  # a bug or an unexpected library error: retry, never lose the message
            log.exception("sender crashed", extra={"event": "outbox.crash", "outbox_id": message.id})
            reason = f"unexpected:{type(exc).__name__}"
            if attempts >= self.max_attempts:
                await self._mark_failed(message, attempts, reason)
                result.failed += 1
            else:
                await self._mark_retry(message, attempts, reason, now + timedelta(seconds=self.backoff(attempts)))
                result.retried += 1
            return
        interval = float(getattr(sender, "min_interval", 0.0) or 0.0)
        paced = now + timedelta(seconds=interval) if interval > 0 else None  # from when it was sent, as Slack counts
        if paced is not None:
            self.holds.pace(sender, message.recipient_id, paced)
        await self._sent(message, attempts, external_id, paced)
        result.sent += 1

    async def _record_unrecorded(self, result: DispatchResult) -> None:
        """Record the sends whose record failed before, without waiting for their rows to be claimed again: a row
        cancelled meanwhile (a consent withdrawn) never is, and its send must still be retracted (and the
        dispatcher would never rest). While the store still fails, they wait for the next pass."""
        for message, attempts, external_id, paced, at in list(self._unrecorded.values()):
            try:
                await self._sent(message, attempts, external_id, paced, at)
            except Exception:
                log.warning("send still unrecorded", extra={"event": "outbox.unrecorded", "outbox_id": message.id})
                return
            result.sent += 1

    async def _sent(self, message: OutboxMessage, attempts: int, external_id: str | None,
                    paced: datetime | None, at: datetime | None = None) -> None:
        """Record a send; when that fails (a full store, a lost connection), remember it so that it is recorded,
        not sent, the next time this instance meets the row.
        A send made is recorded even when its pass is stopped meanwhile: the record goes on, and the stop waits for
        it (a second stop does not: the send is then remembered, like a failed record)."""
        at = at or self.clock.now()
        record = asyncio.ensure_future(self._mark_sent(message, attempts, external_id, paced, at))

        def recorded(task: asyncio.Future[None]) -> None:  # also when it ends after a second stop gave up on it
            if not task.cancelled() and task.exception() is None:
                self._unrecorded.pop(message.id, None)

        record.add_done_callback(recorded)
        try:
            try:
                await asyncio.shield(record)
            except asyncio.CancelledError:
                await asyncio.wait({record})
                raise
        except BaseException:
            if not record.done() or record.cancelled() or record.exception() is not None:
                self._unrecorded[message.id] = (message, attempts, external_id, paced, at)
            raise
        self._unrecorded.pop(message.id, None)
