"""The unit of work, for every engine: a connection on its own thread, and a whole transaction in one trip to it.

A unit of work is one trip to the database thread. `Store.run(work)` hands the whole of `work(tx)` to the
write connection's own thread, which begins, runs it and commits (or rolls back) without coming back to the
event loop in between: the write lock is held for the database work only (about 2 ms for a filing), not for
the twenty-odd waits on a busy event loop that one hop per statement cost. `work` is an ordinary coroutine
function over the same `Tx` the repositories take; on the database thread every `await tx.…` completes at
once, so the coroutine is driven to its end there in one step. It may await the store and nothing else: a
unit of work that waits on anything else (the network, a sleep, a lock) is refused with an error and rolled
back. The domain plans (validates, renders, reads on a read connection if it must) before it, and the store
applies: the less Python a unit runs, the shorter the write lock is held. `Store.run_read(work)` is the same
on a read connection.

On PostgreSQL a write unit is not handed to a thread: it runs as a coroutine on the event loop over one of a
pool of psycopg `AsyncConnection`s (`bot.store.writers`), pipelined, and the same rule is kept by a trampoline
that awaits on its behalf only its own Tx's calls (`bot.store.pgunit`); its reads are on the loop too (a pool of
read-only `AsyncConnection`s), `run_aside` too (a connection of its own), and the hop form `transaction()` stays
on a thread, as below.

The older form, `async with db.transaction() as tx:`, still works (one hop per statement) for code that has
not been converted. On SQLite both are serialised on the one write connection; on PostgreSQL units run side by
side on the pool of write connections and `transaction()` holds the whole pool.
`Store.read()` is the read form of it: a snapshot on one of a few read connections, which run while a write is
open.

Each connection lives on its own single-thread executor (what aiosqlite is, without its private names), and
`Tx` is in bot/store/tx.py; units queued while the write connection is busy are applied together
(bot/store/group.py). The engines open the connections: `bot.store.sqlite.Database` (the default) and
`bot.store.postgres`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Self

from bot.store import group as grouping
from bot.store.changes import Changes
from bot.store.leader import Leadership
from bot.store.space import SpaceWatch, StoreFull, is_full
from bot.store.tx import Params, T, Tx, UnitOfWorkError, Work, Worker, _roll_back, _run, _unit, drive

__all__ = ["READERS", "Params", "Store", "Tx", "UnitOfWorkError", "Work", "Worker", "_Conn", "_run", "drive",
           "transaction_observers"]

READERS = 2  # read connections: each is a thread; two cores, and reads are short


@asynccontextmanager
async def _hops(conn: Any, tx_type: type[Tx], worker: Worker, begin: str, end: str) -> AsyncIterator[Tx]:
    await worker.call(conn.execute, begin)
    tx = tx_type(conn, worker)
    try:
        yield tx
        await worker.call(conn.execute, end)
    except BaseException:
        await worker.call(_roll_back, conn)
        raise
    for fn in tx.committed:
        fn()


class _Conn:
    """A connection and its thread."""

    def __init__(self, conn: Any, worker: Worker, tx_type: type[Tx] = Tx) -> None:
        self.conn = conn
        self.worker = worker
        self.tx_type = tx_type

    async def unit(self, begin: str, end: str, work: Work[T]) -> T:
        """`work` in one call on the thread (see `_unit`), then what it left for after the commit."""
        done: tuple[T, list[Callable[[], None]]] = await self.worker.call(
            _unit, self.conn, self.tx_type, begin, end, work
        )
        result, callbacks = done
        for fn in callbacks:
            fn()
        return result

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.worker.call(self.conn.close)
        self.worker.close()


# Told how long each write unit of work held the store (seconds): bot.metrics registers its histogram here, so
# the store need not import the rest of the bot.
transaction_observers: list[Callable[[float], None]] = []


def _observe(elapsed: float) -> None:
    for observe in transaction_observers:
        observe(elapsed)


class Store:
    """Owns the connections; `run()`/`transaction()` give exclusive, atomic access, `run_read()`/`read()` a
    read-only snapshot. An engine subclasses it and opens the connections (`open`)."""

    engine = "sqlite"
    BEGIN_WRITE = "BEGIN IMMEDIATE"
    BEGIN_READ = "BEGIN"
    # Units applied in one transaction (bot/store/group.py): up to 16 on SQLite, one process per store. The
    # PostgreSQL store sets 1 (a group would hold every unit's locks until its commit, out of their usual order:
    # a deadlock between instances). A unit found alone pays no savepoint.
    MAX_GROUP = grouping.MAX_GROUP

    def __init__(self, path: str, *, readers: int = READERS) -> None:
        self.path = path
        self._writer: _Conn | None = None
        self._aside: _Conn | None = None  # a second write connection, beside the queue (`run_aside`)
        self._group: grouping.Group | None = None  # the units queued for the write connection (bot/store/group.py)
        self._lock = asyncio.Lock()  # held by a `transaction()` for its hops, and by units that wait for one
        self._readers = readers
        self._read_conns: list[_Conn] = []
        self._idle: asyncio.Queue[_Conn] = asyncio.Queue()
        self.space = SpaceWatch(self.engine)

    async def open(self) -> None:  # pragma: no cover - every engine has its own
        raise NotImplementedError

    async def close(self) -> None:
        conns, self._read_conns = self._read_conns, []
        self._idle = asyncio.Queue()
        for reader in conns:
            await reader.close()
        if self._aside is not None:
            aside, self._aside = self._aside, None
            await aside.close()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await writer.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _write_conn(self) -> _Conn:
        if self._writer is None:
            raise RuntimeError("database is not open")
        return self._writer

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Around every write (`run`, `transaction`): its time told to the observers, a full disk raised as
        `StoreFull`, and a successful write told to the space watch."""
        began = time.perf_counter()
        try:
            yield
        except Exception as exc:
            full = self._full(exc)
            if full is exc:
                raise
            raise full from exc
        finally:
            _observe(time.perf_counter() - began)
        self._wrote()

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[_Conn | None]:
        """An idle read connection for the block (None in memory, where reads use the write connection)."""
        self._write_conn()
        if not self._read_conns:
            yield None
            return
        reader = await self._idle.get()
        try:
            yield reader
        finally:
            self._idle.put_nowait(reader)

    async def run(self, work: Work[T], *, retry: bool = False) -> T:
        """Run `work(tx)` as one atomic unit of work on the write connection's thread; rolled back if it raises.
        `work` may await the store only (UnitOfWorkError otherwise, rolled back). Units that queue while the
        connection is busy are applied together, one trip and one commit for all (`bot.store.group`), each in
        a savepoint of its own; after an open `transaction()`. `retry`: `work` may run again should the engine
        roll it back for a deadlock (PostgreSQL, `bot.store.writers`; SQLite's one writer has none)."""
        writer = self._write_conn()
        group = self._group
        if group is None or group.writer is not writer:
            group = self._group = grouping.Group(writer, self.BEGIN_WRITE, self._lock, size=self.MAX_GROUP)
        with self._writing():
            result: T = await group.run(work)
            return result

    def _wrote(self) -> None:
        """After each write that committed (on the event loop): an engine may add its upkeep (SQLite checkpoints)."""
        self.space.wrote()

    async def run_aside(self, work: Work[T]) -> T:
        """Run `work(tx)` as one atomic unit of work on a write connection of its own, beside the units queued
        for the write connection: for a small write that must be stored now, while the write connection may
        be busy (the intake of a late filing, `bot.intake`). The engine serialises it with the other writes
        (SQLite's lock, PostgreSQL's row locks). In memory, and before an engine opens one: `run`."""
        aside = self._aside
        if aside is None:
            return await self.run(work)
        with self._writing():
            return await aside.unit(self.BEGIN_WRITE, "COMMIT", work)

    def _full(self, exc: Exception) -> Exception:
        """What a failed write raises: `StoreFull` when the disk is full (told to the operator once, see
        bot/store/space.py), else the error itself."""
        if not is_full(exc):
            return exc
        self.space.full()
        return StoreFull()

    async def run_read(self, work: Work[T]) -> T:
        """Run `work(tx)` on a read-only snapshot in one trip to a read connection's thread."""
        async with self._reader() as reader:
            if reader is None:  # in memory: the write connection
                return await self.run(work)
            return await reader.unit(self.BEGIN_READ, "ROLLBACK", work)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """An atomic unit of work, one hop per statement; rolled back if the block raises. Prefer `run()`."""
        writer = self._write_conn()
        async with self._lock:
            with self._writing():
                async with _hops(writer.conn, writer.tx_type, writer.worker, self.BEGIN_WRITE, "COMMIT") as tx:
                    yield tx

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only snapshot on a read connection: it runs while a write transaction is open (WAL) and
        sees everything committed before it began. Writing through it raises. Use it for what is shown
        (Home, queue, views, look-ups before an ack); a read that decides a write belongs in a write."""
        async with self._reader() as reader:
            if reader is None:  # in memory: the write connection, in turn with the writers
                async with self.transaction() as tx:
                    yield tx
                return
            async with _hops(reader.conn, reader.tx_type, reader.worker, self.BEGIN_READ, "ROLLBACK") as tx:
                yield tx

    def changes(self) -> Changes:
        """What other instances changed (`bot.store.changes`): by default nothing, one process per store."""
        return Changes()

    def leadership(self) -> Leadership:
        """Who keeps time (`bot.store.leader`): by default this process, the one the store belongs to."""
        return Leadership()

    async def scrub(self) -> bool:  # pragma: no cover - every engine has its own
        """Make an erasure final on disk (see the engines)."""
        raise NotImplementedError

    async def schema_version(self) -> int:
        async def version(tx: Tx) -> int:
            return int(await tx.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

        return await self.run_read(version)

