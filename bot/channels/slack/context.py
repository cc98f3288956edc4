"""What the Slack listeners share: the core, the Web API client, identities, inbound idempotency, Home refresh."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import readlog
from bot.cases.models import FILED, Case
from bot.channels.slack.home import free_text_refs, home_view, load_home
from bot.channels.slack.identity import IdentityLookupError, SlackIdentity
from bot.channels.slack.views import ViewCache
from bot.core import Core
from bot.store import Tx, deliveries
from bot.store import ladder as awaiting
from bot.store import slack as slack_store

log = logging.getLogger(__name__)


def state_hash(values: Any) -> str:
    """A stable short hash of a view's state (for idempotency keys; the state itself is never stored)."""
    raw = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


# Outbox ids are taken in one order and committed in another (PostgreSQL's write pool, other instances): a look
# reads again the last LOOKBACK_IDS ids before the newest it saw, and skips the escalations it has noted, so an
# escalation committed after a higher id was seen is still noted.
LOOKBACK_IDS = 1000


class HomeRefresher:
    """A case hook that notes whose Home tab changed; a debounced background task republishes them.

    `after_action` runs inside the business transaction and only records person ids. `schedule()` starts (once)
    the background task that publishes them (`views.publish`) after the commit, outside any request and any
    sweep transaction: a person noted many times within `window` seconds is published once, at most
    `concurrency` at a time. Changes made elsewhere (timers, ladder, console) are found by the sweep's
    `note_escalations`.
    """

    window: float = 2.0  # seconds: every change to one person's cases within it → one refresh
    concurrency: int = 4  # Home tabs published at the same time

    def __init__(self, core: Core, identity: SlackIdentity, client: AsyncWebClient,
                 spawn: Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]] | None = None) -> None:
        self.core = core
        self.identity = identity
        self.client = client
        self.pending: set[str] = set()
        self._noted: dict[str, datetime] = {}  # when each pending person was first noted (the injected clock)
        self._lock = asyncio.Lock()
        self._spawn = spawn
        self._worker: asyncio.Task[Any] | None = None
        self._seen_outbox_id: int | None = None  # escalation messages up to here have been looked at
        self._recent: set[int] = set()  # escalation messages looked at within LOOKBACK_IDS of that
        self._started = core.clock.now().isoformat()  # the first look covers what was queued since then
        self._start_id: int | None = None  # the newest outbox id when the server started (`start`)

    async def start(self) -> None:
        """When the server starts, before the first sweep: read the outbox's newest id, where the first look starts
        (less LOOKBACK_IDS). A first sweep after downtime fires every overdue rung at once: read from its own
        newest id, the first look would miss the earliest escalations of a catch-up of more than LOOKBACK_IDS."""
        async with self.core.db.read() as tx:
            self._start_id = await deliveries.last_id(tx)

    def note(self, people: Iterable[str]) -> None:
        """Mark people whose Home tab changed (their refresh window starts at the first mark)."""
        now = self.core.clock.now()
        for person_id in people:
            self.pending.add(person_id)
            self._noted.setdefault(person_id, now)

    async def after_action(self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime) -> None:
        directory = self.core.directory
        people = {actor_id, *case.participants(), *directory.distributors_of(case.target_unit)}
        # The case's escalations, open or resolved by this action (even silently, e.g. consent withdrawn),
        # are on the Home tab of everyone alerted and of every coordinator.
        # (A case filed in this transaction has none: nothing is read.)
        escalations = [] if action == FILED else await awaiting.escalation_alerts_since(tx, case.id, now)
        if escalations:
            people.update(p for alerted in escalations for p in alerted)
            people.update(p.id for p in directory.coordinators())
        noted = [p for p in people if directory.person(p) is not None]
        tx.after_commit(lambda: self.note(noted))  # in-memory state: on the event loop, once committed

    async def note_escalations(self) -> None:
        """Escalations climb in the sweep, outside any case action: note everyone an escalation or its
        resolution was queued for since the last look, and the coordinators (who see every escalation).
        People a reassignment removed are noted the same way (the case hook only sees who is on it now).

        The outbox is the record of who was alerted when, so reading it needs no hook in the ladder; the
        Home shows the stored escalations, so it is refreshed when a message is queued, not when sent."""
        async with self.core.db.read() as tx:  # what is committed; a write connection is not held for it
            first = self._seen_outbox_id is None
            # the first look starts LOOKBACK_IDS before the newest id when the server started (`start`, an index
            # look-up; without it, the newest id now), not from 0: the outbox is not read whole at each
            # instance's start, and a first sweep's catch-up of any size is read whole
            seen = self._seen_outbox_id if self._seen_outbox_id is not None else (
                self._start_id if self._start_id is not None else await deliveries.last_id(tx))
            after = max(0, seen - LOOKBACK_IDS)
            read = await deliveries.escalation_recipients(tx, after, self._started if first else "")
            last = await deliveries.last_id(tx)
        rows = [r for r in read if r["id"] not in self._recent]
        self._seen_outbox_id = last
        self._recent = {r["id"] for r in read if r["id"] > last - LOOKBACK_IDS}
        if rows:
            self.note(r["recipient_id"] for r in rows)
            self.note(p.id for p in self.core.directory.coordinators())

    def _due(self, now: datetime) -> list[str]:
        """The pending people whose window has passed by `now` (one noted without a time is due at once)."""
        window = timedelta(seconds=self.window)
        return sorted(p for p in self.pending if p not in self._noted or self._noted[p] + window <= now)

    async def flush(self, now: datetime | None = None) -> int:
        """Publish the Home tab of everyone noted whose window has passed (by `now`, default the clock's
        time), at most `concurrency` at a time; returns how many were published."""
        await self.note_escalations()
        async with self._lock:
            people = self._due(now or self.core.clock.now())
            for person_id in people:
                self.pending.discard(person_id)
                self._noted.pop(person_id, None)
            gate = asyncio.Semaphore(self.concurrency)

            async def one(person_id: str) -> bool:
                async with gate:
                    return await self.publish(person_id)

            await asyncio.gather(*(one(p) for p in people))
        return len(people)

    def schedule(self) -> None:
        """Start the background refresh unless it is running (without a way to start tasks: nothing)."""
        if self._spawn is None or (self._worker is not None and not self._worker.done()):
            return
        self._worker = self._spawn(self._work(), "gfi-slack-home-refresh")

    async def _work(self) -> None:
        """Publish until nobody is pending, waiting for each window to pass. The wait is real time; after it
        the window counts as passed even if the injected clock stood still (a frozen clock in the console)."""
        try:
            await self.flush()
            while self.pending:
                start = min(self._noted.get(p, self.core.clock.now()) for p in self.pending)
                due = start + timedelta(seconds=self.window)
                # never longer than one window: after the wall clock stepped back, `due` lies as far ahead as
                # the clock went back (an hour of stale Home tabs, and a shutdown waiting for it)
                wait = min((due - self.core.clock.now()).total_seconds(), self.window)
                if wait > 0:
                    await asyncio.sleep(wait)
                await self.flush(max(due, self.core.clock.now()))
        except Exception:
            log.exception("home refresh crashed", extra={"event": "slack.home_failed"})

    async def refresh_later(self) -> None:
        """The sweep's part: note the escalations the sweep made and start the background refresh; returns at
        once (the sweep never waits for Slack)."""
        await self.note_escalations()
        self.schedule()

    async def publish(self, person_id: str, slack_user_id: str | None = None) -> bool:
        """Publish one person's Home tab; failures are logged, never raised."""
        try:
            user_id = slack_user_id or await self.identity.slack_id_for(person_id)
            if user_id is None:
                return False
            data = await load_home(self.core, person_id)
            # rendering a full Home (up to 100 blocks) is several ms of CPU: on a thread, off the event loop
            view = await asyncio.to_thread(home_view, self.core.renderer, data)
            await self.client.views_publish(user_id=user_id, view=view)
            await readlog.record_now(self.core.db, at=self.core.clock.now(), person_id=person_id,
                                     refs=free_text_refs(view), view="home", channel="slack")
            return True
        except (SlackApiError, IdentityLookupError) as exc:
            log.warning("home publish failed", extra={"event": "slack.home_failed",
                                                      "reason": type(exc).__name__})
        except Exception:
            log.exception("home publish crashed", extra={"event": "slack.home_failed"})
        return False


class SlackContext:
    """Shared by every listener of one Bolt app."""

    # Seconds from a view submission's arrival until it acks with "takes longer than usual" if the service has
    # not answered (Slack gives up on an ack after 3 s, and Bolt answers 404 after 3 s of its own: the rest is
    # for a busy event loop, the network and Bolt).
    ack_budget: float = 2.0
    # Seconds from the arrival by which a late filing's form must be kept durably (`bot.intake`) to be answered
    # "registreras" (still within Slack's 3 s).
    keep_budget: float = 2.6

    def __init__(self, core: Core, client: AsyncWebClient, identity: SlackIdentity | None = None) -> None:
        self.core = core
        self.client = client
        self.identity = identity or SlackIdentity(core.db, core.directory, client, core.clock)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.homes = HomeRefresher(core, self.identity, client, self.spawn)
        self.views = ViewCache()  # forms rendered once per person, directory version and day (the /gfi form)
        core.cases.hooks.append(self.homes)
        core.sweeps.append(self.homes.refresh_later)

    async def start(self) -> None:
        """When the server starts, before the first sweep (`HomeRefresher.start`)."""
        await self.homes.start()

    # --- idempotency ---------------------------------------------------------------------------
    async def claim(self, key: str, kind: str) -> bool:
        """Record an inbound key; False when it was seen before (a retry or a double submission)."""
        now = self.core.clock.now()
        return await self.core.db.run(lambda tx: slack_store.claim_inbound(tx, key, kind, now))

    async def release(self, key: str) -> None:
        """Forget a key whose request was refused, so that a corrected resubmission is handled."""
        await self.core.db.run(lambda tx: slack_store.release_inbound(tx, key))

    # --- after a change --------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def after_change(self) -> None:
        """After a committed change: deliver its notifications now and refresh the Home tabs concerned."""
        self.spawn(self._after_change(), "gfi-slack-after-change")

    async def _after_change(self) -> None:
        try:
            await self.core.dispatcher.run_once()
        except Exception:
            log.exception("dispatch after change failed", extra={"event": "slack.dispatch_failed"})
        self.homes.schedule()

    async def drain(self) -> None:
        """Wait for the background work started by listeners (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
