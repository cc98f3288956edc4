"""Several write connections side by side (PostgreSQL): units of work of one instance run at the same time.

On SQLite one write connection is all there is (the engine has one writer). On PostgreSQL a single write
connection made every unit of an instance wait for the one before it, whole: its round trips to the server and
the WAL flush of its COMMIT. Here each unit takes an idle connection of the pool (psycopg `AsyncConnection`s) and
runs as a coroutine on the event loop (`bot.store.pgunit`: pipelined, driven by a trampoline that refuses anything
but the store); the server serialises what must be serialised with row locks, exactly as it does between
instances, and flushes the commits that wait together in one WAL write. (The units ran on a thread per
connection until issue #22 item 8: psycopg released the interpreter's lock around each libpq call, so every
statement invited a switch between the thread and the loop, ~70 a filing.)

A unit is one transaction (no group, no savepoint), so every transaction takes its locks in the order its
unit does. Units do not all take them in one order (a fire batch takes awaited items, then a case's action may
want them after its case): two units of one instance can deadlock as two instances can. The server then rolls
one back (40P01); a unit that is safe to run twice (a case action, a filing) asks `run` to retry it.

The hop form (`exclusive`, behind `Store.transaction()`) holds every connection of the pool: it stays exclusive
within the process, as on SQLite. A unit whose caller gave up before it began is not applied; one whose caller
gives up while it runs is rolled back (at its next call on the store, or before its COMMIT), never left open; one
whose COMMIT was sent is stored, and its after-commit callbacks run, whether or not its caller still waits. A
connection the server closed is replaced when it is next taken; the store's `close` waits for the units begun.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.store import pgunit
from bot.store.tx import T, Work

log = logging.getLogger(__name__)

RETRIED = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure: the server rolled it back
ATTEMPTS = 4  # a unit that opts in runs at most this many times (`Writers.run`)


class _NotBegun(Exception):
    """The unit's caller gave up before it began: nothing was begun."""


class _Ticket:
    """Between the caller and its unit's task: whether the caller still waits (both on the event loop)."""

    __slots__ = ("gave_up",)

    def __init__(self) -> None:
        self.gave_up = False

    def __call__(self) -> bool:
        return self.gave_up


class Writers:
    """A pool of write connections; `run` applies a unit on an idle one."""

    def __init__(self, conns: list[Any], begin: str,
                 connect: Callable[[], Awaitable[Any]] | None = None) -> None:
        self.conns = conns  # psycopg `AsyncConnection`s
        self._begin = begin
        self._connect = connect  # a fresh connection, for one the server or the network closed
        self._running: set[asyncio.Future[Any]] = set()  # units begun, whether or not their callers still wait
        self._idle: asyncio.Queue[Any] = asyncio.Queue()
        for conn in conns:
            self._idle.put_nowait(conn)
        self._open = asyncio.Event()  # cleared while `exclusive` gathers the pool: new units wait behind it
        self._open.set()

    async def run(self, work: Work[T], *, retry: bool = False) -> T:
        """`work(tx)` as one transaction on an idle connection (waiting for one while all are busy).

        `retry`: a transaction the server chose as a deadlock's victim or failed to serialise (SQLSTATE 40P01,
        40001) is rolled back whole, and `work` runs again on a fresh one, up to `ATTEMPTS` times, after a
        short random pause (so the two that met do not meet again). Only for a unit that may run twice: one
        whose closure changes nothing but the transaction (in-memory changes in `tx.after_commit`, which runs
        once, after the commit that counts), such as a case action or a filing."""
        pgunit.refuse_inside()  # not from inside a unit: it would be stored even as that unit is rolled back
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await self._run_once(work)
            except Exception as exc:
                state = getattr(exc, "sqlstate", None)
                if not retry or attempt == ATTEMPTS or state not in RETRIED:
                    raise
                log.info("store.unit_retried", extra={"event": "store.unit_retried", "sqlstate": state,
                                                      "attempt": attempt})
            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)  # not the clock: a pause, not a time
        raise AssertionError("unreachable")  # pragma: no cover

    async def _run_once(self, work: Work[T]) -> T:
        await self._open.wait()  # an exclusive caller gathering the pool goes first
        conn = await self.take()  # cancelled while waiting: nothing begun
        ticket = _Ticket()
        applied = asyncio.ensure_future(self._apply(conn, work, ticket))
        self._running.add(applied)
        applied.add_done_callback(self._running.discard)
        applied.add_done_callback(_retrieve)
        try:
            return await asyncio.shield(applied)
        except asyncio.CancelledError:
            ticket.gave_up = True
            raise

    async def _apply(self, conn: Any, work: Work[T], ticket: _Ticket) -> T:
        try:
            if ticket.gave_up:
                raise _NotBegun
            result, callbacks = await pgunit.apply(conn, self._begin, work, ticket)
        finally:
            self._idle.put_nowait(conn)
        for fn in callbacks:  # the unit is stored: a callback that fails does not say otherwise
            try:
                fn()
            except Exception as exc:
                log.error("store.after_commit_failed", extra={"event": "store.after_commit_failed",
                                                              "exc_type": type(exc).__name__})
        return result

    async def take(self) -> Any:
        """An idle connection; one the server or the network closed (a restart, a fail-over, a terminated backend)
        is replaced by a fresh one first (if that fails too, it goes back, and the error is the caller's)."""
        conn = await self._idle.get()
        if not (conn.closed or conn.broken) or self._connect is None:
            return conn
        try:
            fresh = await self._connect()
        except BaseException:
            self._idle.put_nowait(conn)
            raise
        self.conns[self.conns.index(conn)] = fresh
        log.warning("store.reconnected", extra={"event": "store.reconnected"})
        return fresh

    async def drain(self, within: float) -> None:
        """Wait (at most `within` seconds) for the units begun to end, before the connections are closed."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=within)

    @asynccontextmanager
    async def borrow(self) -> AsyncIterator[Any]:
        """An idle connection for the block (the read hop form, `PostgresDatabase.read`)."""
        conn = await self.take()
        try:
            yield conn
        finally:
            self._idle.put_nowait(conn)

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[Any]:
        """Every connection of the pool, once the units on them have ended; one of them to write on. The caller
        serialises its calls (two callers each holding part of the pool would wait for each other). Units asked
        for once it began wait until it ends: it takes each connection as it comes free, not after them (it
        would otherwise hold the ones it has idle while new units took the others, one writer under load)."""
        held: list[Any] = []
        self._open.clear()
        try:
            while len(held) < len(self.conns):
                held.append(await self._idle.get())
            yield held[0]
        finally:
            for conn in held:
                self._idle.put_nowait(conn)
            self._open.set()


def _retrieve(task: asyncio.Future[Any]) -> None:
    """A unit's outcome is seen even when its caller stopped waiting (no "exception never retrieved")."""
    if not task.cancelled():
        task.exception()
