"""Several write connections side by side (PostgreSQL): units of work of one instance run at the same time.

On SQLite one write connection is all there is (the engine has one writer). On PostgreSQL a single write
connection made every unit of an instance wait for the one before it, whole: its round trips to the server,
the waits of its thread for the interpreter while the event loop is busy, and the WAL flush of its COMMIT.
At c=16 that queue, not the server, was the bound (about 9 ms a filing, one after the other). Here each unit
takes an idle connection of the pool and runs on that connection's thread as before (one trip to the thread,
pipelined, `bot.store.tx._unit`); the server serialises what must be serialised with row locks, exactly as
it does between instances, and flushes the commits that wait together in one WAL write.

A unit is one transaction (no group, no savepoint), so every transaction takes its locks in the order its
unit does. Units do not all take them in one order (a fire batch takes awaited items, then a case's action may
want them after its case): two units of one instance can deadlock as two instances can. The server then rolls
one back (40P01); a unit that is safe to run twice (a case action, a filing) asks `run` to retry it.

The hop form (`exclusive`, behind `Store.transaction()`) holds every connection of the pool: it stays exclusive
within the process, as on SQLite. A unit whose caller gave up before it began is not applied;
one that began is applied, and its after-commit callbacks run, whether or not its caller still waits.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.store.tx import T, Tx, Work, _unit
from bot.store.unit import _Conn

log = logging.getLogger(__name__)

RETRIED = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure: the server rolled it back
ATTEMPTS = 4  # a unit that opts in runs at most this many times (`Writers.run`)


class _NotBegun(Exception):
    """The unit's caller gave up before its connection's thread took it up: nothing was begun."""


class _Ticket:
    """Between the caller (on the event loop) and the connection's thread: whether the unit may still begin."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gave_up = False
        self._began = False

    def begin(self) -> bool:
        with self._lock:
            self._began = not self._gave_up
            return self._began

    def give_up(self) -> None:
        with self._lock:
            self._gave_up = True


def _begun(conn: Any, tx_type: type[Tx], begin: str, work: Work[T], ticket: _Ticket
           ) -> tuple[T, list[Callable[[], None]]]:
    if not ticket.begin():
        raise _NotBegun
    return _unit(conn, tx_type, begin, "COMMIT", work)


class Writers:
    """A pool of write connections; `run` applies a unit on an idle one."""

    def __init__(self, conns: list[_Conn], begin: str) -> None:
        self.conns = conns
        self._begin = begin
        self._idle: asyncio.Queue[_Conn] = asyncio.Queue()
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
        conn = await self._idle.get()  # cancelled while waiting: nothing begun
        ticket = _Ticket()
        applied = asyncio.ensure_future(self._apply(conn, work, ticket))
        applied.add_done_callback(_retrieve)
        try:
            return await asyncio.shield(applied)
        except asyncio.CancelledError:
            ticket.give_up()
            raise

    async def _apply(self, conn: _Conn, work: Work[T], ticket: _Ticket) -> T:
        try:
            done: tuple[T, list[Callable[[], None]]] = await conn.worker.call(
                _begun, conn.conn, conn.tx_type, self._begin, work, ticket)
            result, callbacks = done
        finally:
            self._idle.put_nowait(conn)
        for fn in callbacks:  # the unit is stored: a callback that fails does not say otherwise
            try:
                fn()
            except Exception as exc:
                log.error("store.after_commit_failed", extra={"event": "store.after_commit_failed",
                                                              "exc_type": type(exc).__name__})
        return result

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[_Conn]:
        """Every connection of the pool, once the units on them have ended; one of them to write on. The caller
        serialises its calls (two callers each holding part of the pool would wait for each other). Units asked
        for once it began wait until it ends: it takes each connection as it comes free, not after them (it
        would otherwise hold the ones it has idle while new units took the others, one writer under load)."""
        held: list[_Conn] = []
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
