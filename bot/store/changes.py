"""Changes that other instances keep in memory (issue #22): told to them through the database.

A few things are read once into memory and then answered from there, synchronously, on every path (the
absences: who is away and who stands in). On SQLite the one process makes every change and refreshes its
memory itself. On PostgreSQL another instance may make it: the transaction that changes such a thing calls
`announce(tx, topic)`, which is `pg_notify` (sent when, and only if, the transaction commits), and every
instance listens on a connection of its own (`PostgresChanges`) and reloads that topic. A listener that lost
its connection reloads every topic once it is back (what was announced meanwhile is not queued for it), and so
does a listener once its first LISTEN is in place (what changed between the start's loads and it).
An instance hears its own announcements too, and reloads once more (a small read, and simpler than telling
instances apart when several share a process, as in the tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.store.dialects import of as dialect_of

if TYPE_CHECKING:
    from bot.store.db import Tx

log = logging.getLogger(__name__)

CHANNEL = "gfi_changes"
RETRY_SECONDS = 1.0  # between two attempts to reconnect the listener
LISTEN_WAIT = 5.0  # seconds `start` waits for the listener's LISTEN (then goes on: it keeps trying)

Reload = Callable[[], Awaitable[None]]


async def announce(tx: Tx, topic: str) -> None:
    """Tell the other instances, once this transaction commits, that `topic` changed (nothing on SQLite)."""
    statement = dialect_of(tx.engine).notify()
    if statement is not None:
        await tx.execute(statement, (CHANNEL, topic))


class Changes:
    """Reloads registered per topic; on SQLite nothing is heard (the one process refreshed itself)."""

    def __init__(self) -> None:
        self.reloads: dict[str, list[Reload]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._again: dict[str, bool] = {}
        self._quiet: set[str] = set()

    def on(self, topic: str, reload: Reload, *, quiet: bool = False) -> None:
        """Call `reload` when another instance announces `topic` (`quiet`: without a log line each time, for a
        topic announced at every filing)."""
        self.reloads.setdefault(topic, []).append(reload)
        if quiet:
            self._quiet.add(topic)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def heard(self, topic: str | None) -> None:
        """On the event loop: `topic` changed elsewhere (None: anything may have); reload it, once at a time
        (an announcement during a reload makes it run once more)."""
        for name in ([topic] if topic is not None else list(self.reloads)):
            if name not in self.reloads:
                continue
            if name in self._again:
                self._again[name] = True
                continue
            self._again[name] = False
            task = asyncio.get_running_loop().create_task(self._reload(name))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _reload(self, topic: str) -> None:
        try:
            while True:
                for reload in self.reloads[topic]:
                    try:
                        await reload()
                    except Exception:
                        log.exception("reload failed", extra={"event": "store.reload_failed", "topic": topic})
                if not self._again.get(topic):
                    if topic not in self._quiet:
                        log.info("reloaded", extra={"event": "store.reloaded", "topic": topic})
                    return
                self._again[topic] = False
        finally:
            self._again.pop(topic, None)


class PostgresChanges(Changes):
    """Listens on a connection of its own, on the event loop (psycopg's `AsyncConnection.notifies`): no thread.
    (It listened on a thread of its own until issue #22 item 8: every filing's announcement woke that thread,
    which then took the interpreter's lock from the busy loop and handed the topic over, about four context
    switches a filing.)"""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()  # set by `close`
        self.listening = asyncio.Event()  # set once LISTEN is in place (tests wait for it)
        self._told: set[str | None] = set()  # topics handed to the loop's next round and not yet heard there

    async def start(self) -> None:
        if self._task is not None:
            return
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="gfi-pg-changes")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), LISTEN_WAIT)

    def _tell(self, topic: str | None) -> None:
        """Hand `topic` to the loop's next round, once until it has been heard: every filing announces new outbox
        rows, and the announcements that came in one read of the connection (a busy loop reads them in bursts)
        would otherwise run `heard` once each. An announcement that comes while one is on its way is covered by
        it: the reload it starts reads the store after both."""
        if topic in self._told:
            return
        self._told.add(topic)
        asyncio.get_running_loop().call_soon(self._heard, topic)

    def _heard(self, topic: str | None) -> None:
        self._told.discard(topic)
        self.heard(topic)

    async def _listen(self) -> None:
        import psycopg

        while not self._stop.is_set():
            conn: Any = None
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=5, application_name="gfi-bot-changes", keepalives=1,
                    keepalives_idle=3, keepalives_interval=1, keepalives_count=3)
                await conn.execute(f"LISTEN {CHANNEL}")
                self.listening.set()
                # Every topic once LISTEN is in place, the first time too: what another instance changed before it
                # (since this one loaded its state at start, or while it was cut off) was announced to nobody here.
                self._tell(None)
                async for notice in conn.notifies():
                    self._tell(notice.payload)
            except psycopg.Error:
                if self._stop.is_set():  # stopping: its connection closing under it is no loss
                    return
                log.warning("change listener lost", extra={"event": "store.listener_lost"})
                await asyncio.sleep(RETRY_SECONDS)  # not the clock: a pause before the next attempt
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()

    async def close(self) -> None:
        """Stop listening: the listener ends and closes its connection."""
        self._stop.set()
        task, self._task = self._task, None
        try:
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():  # the caller's own cancellation goes on
                        raise
                except Exception:  # the listener's own end is no error of the caller's
                    pass
        finally:
            await super().close()
