"""A transaction as the repositories see it (`Tx`), and the thread each connection lives on (`Worker`).

`Tx` runs statements written for SQLite (`?` and `:name` placeholders) on one connection, fetching rows as
dicts; another engine's Tx translates them (`bot.store.postgres.PgTx`). Inside a unit of work (`Store.run`,
bot/store/unit.py) it is on the connection's own thread and each call completes at once, so the unit's
coroutine is driven to its end in one step (`drive`); in the hop forms (`transaction()`, `read()`) each call
is one hop to that thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import functools
from collections.abc import Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any, Self, TypeVar

T = TypeVar("T")
Params = Sequence[Any] | dict[str, Any]
Work = Callable[["Tx"], Coroutine[Any, Any, T]]


class UnitOfWorkError(RuntimeError):
    """A unit of work given to `Store.run` waited on something other than the store."""


class Worker:
    """One connection's own thread: every call on the connection runs there, in order (one thread, FIFO)."""

    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the thread; the caller's context variables go with it (as `asyncio.to_thread`)."""
        context = contextvars.copy_context()
        call: Callable[[], T] = functools.partial(context.run, fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _run(conn: Any, sql: str, params: Params, want: str) -> Any:
    """One statement and what is wanted of it: the rows (as dicts), the first row, the new row id or the rows
    changed."""
    if want == "rows":  # as plain tuples, made dicts here: dict(sqlite3.Row) looks each column up by name
        cursor = conn.cursor()
        cursor.row_factory = None
        try:
            cursor.execute(sql, params)
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        finally:
            cursor.close()
    cursor = conn.execute(sql, params)
    try:
        if want == "row":
            return cursor.fetchone()
        if want == "lastrowid":
            return cursor.lastrowid
        return cursor.rowcount
    finally:
        cursor.close()


def drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that awaits only the store (in a unit of work) to its end, here, in one step."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise UnitOfWorkError("a unit of work may await the store only")


class Soon:
    """A statement's answer that is read later: sent now, read with `Tx.answer` (inside the unit) or as `value`
    once the unit has committed. On PostgreSQL, in a unit of work, the statement goes to the server at once and
    the client does not wait for it: its answer comes in the same trip as the next one read (or the commit's),
    so a read sent before another read costs no trip of its own. Elsewhere it is answered at once."""

    __slots__ = ("_read", "_value")

    def __init__(self, read: Callable[[], Any] | None = None, value: Any = None) -> None:
        self._read = read
        self._value = value

    def get(self) -> Any:
        """The answer, on the connection's thread (waiting for it if it has not come)."""
        if self._read is not None:
            read, self._read = self._read, None
            self._value = read()
        return self._value

    async def aget(self) -> Any:
        """The answer, on the event loop, where the read is a coroutine (`bot.store.pgunit`)."""
        if self._read is not None:
            read, self._read = self._read, None
            self._value = await read()
        return self._value

    @property
    def value(self) -> Any:
        """The answer, once the unit has committed (the commit waited for every answer)."""
        if self._read is not None:
            raise RuntimeError("not answered yet: read it with Tx.answer inside the unit")
        return self._value


class Tx:
    """An open transaction: run statements, fetch rows (as dicts). Statements are written for SQLite (`?`
    and `:name` placeholders); another engine's Tx translates them (`bot.store.dialects`).

    Inside `Store.run` it is on the database thread and each call completes at once; inside
    `transaction()`/`read()` each call is one hop to the connection's thread."""

    engine = "sqlite"

    def __init__(self, conn: Any, worker: Worker | None = None) -> None:
        self._conn = conn
        self._worker = worker  # None: already on the connection's thread (a unit of work)
        self.committed: list[Callable[[], None]] = []
        self._pending: list[Soon] = []  # sent, not yet read (`Soon`): read once the unit has committed
        self.audited = False  # an audit row was appended (`bot.audit.record`): its commit waits for the disk
        self._held: list[tuple[int, str, Any, bool]] | None = None  # hot writes held for the unit's end (`hold_hot`)
        self.provisional: set[str] = set()  # case references stored provisionally, not yet renamed (`take_ref`)
        self.renamed: dict[str, Soon] = {}  # provisional case reference → its case's row as renamed (`final_ref`)

    def final_ref(self, ref: str) -> str:
        """Once committed (in an `after_commit` callback): the reference the case known in this unit as `ref`
        has, which differs when the unit stored it under a provisional one (a filing on PostgreSQL,
        `bot.store.cases.take_ref`): what a log line names."""
        renamed = self.renamed.get(ref)
        return str(renamed.value["ref"]) if renamed is not None else ref

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Call `fn` on the event loop once the transaction has committed (never if it rolls back): the place
        for changes to in-memory state, which a unit of work, running on the database thread, must not touch."""
        self.committed.append(fn)

    def batch(self) -> AbstractContextManager[None]:
        """Around a whole unit of work (or a group of them, `bot.store.group`) on the connection's thread: how
        the engine sends its statements. SQLite runs each at once, in process; PostgreSQL pipelines them
        (`bot.store.postgres`)."""
        return contextlib.nullcontext()

    def fresh(self) -> Self:
        """A Tx for the next unit of a group, in the same batch, with its own after-commit list."""
        tx = copy.copy(self)
        tx.committed = []
        tx._pending = []
        tx._held = None
        tx.provisional = set()
        tx.renamed = {}
        return tx

    def answered(self) -> None:
        """On the connection's thread, once the transaction has committed: read the answers still unread
        (`Soon`), so that they are plain values when the event loop looks at them."""
        pending, self._pending = self._pending, []
        for soon in pending:
            soon.get()

    def settle(self, *, quiet: bool = False) -> None:
        """Wait for every statement sent so far to be answered, raising the first error (none with `quiet`):
        where a group of units ends one unit. SQLite answers each statement at once: nothing to wait for."""

    def _run(self, sql: str, params: Params, want: str) -> Any:
        """One statement, on the connection's thread."""
        return _run(self._conn, sql, params, want)

    def _write(self, sql: str, params: Params) -> None:
        """A statement whose answer nobody reads (an engine may send it without waiting for the answer)."""
        _run(self._conn, sql, params, "nothing")

    def _many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows).close()

    def _soon(self, sql: str, params: Params, want: str) -> Soon:
        """A statement whose answer (`want`: "row", "rows" or "lastrowid") is read later; SQLite answers it at once."""
        row = _run(self._conn, sql, params, want)
        return Soon(value=dict(row) if want == "row" and row is not None else row)

    async def _one(self, sql: str, params: Params, want: str) -> Any:
        if self._worker is None:
            return self._run(sql, params, want)
        return await self._worker.call(self._run, sql, params, want)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows changed."""
        return int(await self._one(sql, params, "rowcount"))

    async def write(self, sql: str, params: Params = ()) -> None:
        """Run a statement whose result nobody reads (an INSERT, UPDATE or DELETE whose row count does not
        matter). Inside a unit of work on PostgreSQL it goes to the server without waiting for its answer, in one
        trip with the statements after it, up to the next one whose answer is read: an error in it is raised
        there, or at the commit, and rolls the whole unit back all the same."""
        if self._worker is None:
            self._write(sql, params)
        else:
            await self._worker.call(self._write, sql, params)

    async def write_hot(self, sql: str, params: Params = (), *, rank: int = 1) -> None:
        """`write` to a row that many units change (a counter: the statistics' rollups), whose lock is held from
        the statement to the commit: sent at once, or, while the unit holds them (`hold_hot`), at
        `release_hot`, by `rank` (the lock order: the audit chain's appends, rank 0, before the rollups)."""
        if self._held is None:
            await self.write(sql, params)
        else:
            self._held.append((rank, sql, params, False))

    @property
    def holding(self) -> bool:
        """Whether hot writes are held (`hold_hot`)."""
        return self._held is not None

    async def executemany_hot(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """`executemany` to rows that many units change, held like `write_hot`."""
        if self._held is None:
            await self.executemany(sql, rows)
        else:
            self._held.append((1, sql, list(rows), True))

    def hold_hot(self) -> None:
        """Hold the hot writes (`write_hot`) from here to `release_hot`: a unit that takes its hottest locks in
        its last trip (a filing: the year's counter, then the audit chain) sends them after those, in the lock
        order every unit keeps (the chain before the rollups), and holds their rows for that trip alone."""
        self._held = []

    async def release_hot(self) -> None:
        """Send the hot writes held since `hold_hot`: by rank, each rank in the order they were made."""
        held, self._held = self._held or [], None
        for _, sql, params, many in sorted(held, key=lambda h: h[0]):
            if many:
                await self.executemany(sql, params)
            else:
                await self.write(sql, params)

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new row id."""
        row_id = await self._one(sql, params, "lastrowid")
        assert row_id is not None
        return int(row_id)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        listed = list(rows)
        if self._worker is None:
            self._many(sql, listed)
        else:
            await self._worker.call(self._many, sql, listed)

    async def fetchone_soon(self, sql: str, params: Params = ()) -> Soon:
        """Send a statement whose one row (a dict, or None) is read later, with `answer` (see `Soon`)."""
        return await self._call(self._soon, sql, params, "row")

    async def fetchall_soon(self, sql: str, params: Params = ()) -> Soon:
        """Send a statement whose rows (a list of dicts) are read later, with `answer` (see `Soon`)."""
        return await self._call(self._soon, sql, params, "rows")

    async def insert_soon(self, sql: str, params: Params = ()) -> Soon:
        """Send an INSERT whose new row id is read later, with `answer` or as `value` after the commit."""
        return await self._call(self._soon, sql, params, "lastrowid")

    async def answer(self, soon: Soon) -> Any:
        """The answer of a statement sent before (`fetchone_soon`, `insert_soon`)."""
        return await self._call(soon.get)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._worker is None:
            return fn(*args)
        return await self._worker.call(fn, *args)

    async def fetchone(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        row = await self._one(sql, params, "row")
        return dict(row) if row is not None else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return [r if type(r) is dict else dict(r) for r in await self._one(sql, params, "rows")]

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self._one(sql, params, "row")
        return row[0] if row is not None else None


def _unit(
    conn: Any, tx_type: type[Tx], begin: str, end: str, work: Work[T],
) -> tuple[T, list[Callable[[], None]]]:
    """On the connection's thread: begin, run the whole unit of work, then `end` (COMMIT, or ROLLBACK for a
    read), all in the engine's `Tx.batch`; roll back if it raises. Returns its result and what is to be called
    after the commit."""
    tx = tx_type(conn)
    try:
        with tx.batch():
            conn.execute(begin)
            result = drive(work(tx))
            conn.execute(end)
    except BaseException:
        _roll_back(conn)
        raise
    tx.answered()
    return result, tx.committed


def _roll_back(conn: Any) -> None:
    """Roll back what is open. SQLite may have rolled back itself (a full disk, an I/O error), and a ROLLBACK
    then fails: the error that caused it must not be hidden behind "no transaction is active"."""
    if getattr(conn, "in_transaction", True):
        conn.execute("ROLLBACK")
