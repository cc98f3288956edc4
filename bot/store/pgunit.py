"""PostgreSQL's units of work as coroutines on the event loop (issue #22 item 8): `AsyncPgTx` and the trampoline.

A write unit (`Store.run` on PostgreSQL, `bot.store.writers`) runs on the event loop over one of the pool's
`psycopg.AsyncConnection`s, in pipeline mode: no thread, no hand-off. On a thread per connection, psycopg let go
of the interpreter's lock around every call into libpq, and each statement invited a switch to the loop's thread
and back: about 70 context switches and 1.7 ms of CPU a filing went to the write threads alone.

The rule stays what it is on the thread (`bot.store.tx.drive`): a unit of work may await the store and nothing
else. Here the unit's coroutine is not awaited by the loop but driven by `trampoline` (`coro.send`/`throw`):
every call of `AsyncPgTx` awaits a `_Call`, a tagged request naming its Tx and carrying the statement's own
coroutine, which the trampoline awaits on the unit's behalf and whose answer (or error) it sends back in. Anything
else the unit awaits (a sleep, a lock, the network, another unit) reaches the trampoline as something that is not
its Tx's `_Call`: the unit is closed and refused with `UnitOfWorkError`, and rolled back. So a unit still holds its
row locks for the database work only, never across a wait on the rest of the bot.

Statements are the repositories' SQLite ones, translated by `bot.store.dialects.postgresql`, as in `PgTx` (the
thread form, still used by reads, `run_aside` and the hop form `transaction()`); pipelining is the same: what
nobody reads rides along with the next answer read, or with the COMMIT.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any, Generic

import psycopg
from psycopg.rows import dict_row, tuple_row

from bot.store import pgqueue
from bot.store.dialects import postgresql as dialect
from bot.store.tx import Params, Soon, T, Tx, UnitOfWorkError, Work

# Set while the trampoline runs a unit's own code (between two of its store calls): the store refuses to begin
# anything from there (`refuse_inside`), before it takes a connection, starts a task or hands a job to a thread.
_DRIVING: contextvars.ContextVar[bool] = contextvars.ContextVar("gfi_pg_unit_driving", default=False)


def refuse_inside() -> None:
    """Raise `UnitOfWorkError` when called from inside a unit of work on the event loop: a unit may not begin
    another unit, a read, a hop-form transaction or a write aside (it would be stored even as the unit is refused
    and rolled back)."""
    if _DRIVING.get():
        raise UnitOfWorkError("a unit of work may await its own store only")


def _param(value: Any) -> Any:
    """A parameter as SQLite's adapters store it: booleans as 0/1, dates and times as ISO 8601 text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _params(params: Params) -> Params:
    if isinstance(params, dict):
        return {k: _param(v) for k, v in params.items()}
    return tuple(_param(v) for v in params)


class _Call(Generic[T]):
    """One call of a unit on its store: awaited by the unit, answered by the trampoline (which alone awaits `op`)."""

    __slots__ = ("op", "tx")

    def __init__(self, tx: AsyncPgTx, op: Coroutine[Any, Any, T]) -> None:
        self.tx = tx
        self.op = op

    def __await__(self) -> Generator[Any, Any, T]:
        answer: T = yield self
        return answer


class AsyncPgTx(Tx):
    """A transaction on a PostgreSQL `AsyncConnection`: the methods of `Tx`, in a unit of work each one `_Call` to
    the trampoline (`guarded`; the read hop form, `Store.read()`, awaits them directly). In pipeline mode
    (`pipelined`), the client waits only where an answer is read (rows, a new id, a row count) and at the commit;
    `trips` counts those waits."""

    engine = "postgresql"

    def __init__(self, conn: psycopg.AsyncConnection[Any], *, guarded: bool = True) -> None:
        super().__init__(conn)
        self.guarded = guarded  # in a unit, driven by `trampoline`; else (the read hop form) awaited directly
        self._pipeline: psycopg.AsyncPipeline | None = None
        self._quiet: psycopg.AsyncCursor[Any] | None = None  # the cursor of the statements whose answer is not read
        self.trips = 0

    @asynccontextmanager
    async def pipelined(self) -> AsyncIterator[None]:
        """The unit in pipeline mode. When it fails, what was already sent is answered first (its own errors are not
        the unit's error), so that the connection leaves pipeline mode clean for the ROLLBACK."""
        async with self._conn.pipeline() as pipeline:
            self._pipeline = pipeline
            try:
                yield
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    await pipeline.sync()
                raise
            finally:
                self._pipeline = None
            self.trips += 1  # leaving the pipeline waits for every answer, the commit's included

    async def read_answers(self) -> None:
        """Once the transaction has committed: read the answers still unread (`Soon`), so that they are plain
        values (`Soon.value`, `Tx.final_ref`)."""
        pending, self._pending = self._pending, []
        for soon in pending:
            await soon.aget()

    # --- what the repositories call: each a `_Call` to the trampoline (in a unit) -----------------------------

    def _store(self, op: Coroutine[Any, Any, T]) -> Awaitable[T]:
        return _Call(self, op) if self.guarded else op

    async def _one(self, sql: str, params: Params, want: str) -> Any:
        return await self._store(self._run(sql, params, want))

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        return await self._one(sql, params, "scalar")

    async def write(self, sql: str, params: Params = ()) -> None:
        await self._store(self._write(sql, params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._store(self._many(sql, list(rows)))

    async def fetchone_soon(self, sql: str, params: Params = ()) -> Soon:
        return await self._store(self._soon(sql, params, "row"))

    async def fetchall_soon(self, sql: str, params: Params = ()) -> Soon:
        return await self._store(self._soon(sql, params, "rows"))

    async def insert_soon(self, sql: str, params: Params = ()) -> Soon:
        return await self._store(self._soon(sql, params, "lastrowid"))

    async def answer(self, soon: Soon) -> Any:
        return await self._store(soon.aget())

    # --- the statements themselves, awaited by the trampoline -----------------------------------------------------

    async def _run(self, sql: str, params: Params, want: str) -> Any:
        query = dialect.translate(sql)
        if want == "lastrowid":
            query = dialect.returning_id(query)
        async with self._conn.cursor(row_factory=dict_row if want in ("rows", "row") else tuple_row) as cursor:
            await cursor.execute(query, _params(params))
            self.trips += self._pipeline is None or cursor.pgresult is None  # answered already: no wait
            if want == "rows":
                return await cursor.fetchall()
            if want in ("row", "lastrowid", "scalar"):  # a new id is a RETURNING's first column
                row = await cursor.fetchone()
                return row if want == "row" or row is None else row[0]
            if self._pipeline is not None:  # the row count is known once the statement is answered
                await self._pipeline.sync()
            return cursor.rowcount

    async def _soon(self, sql: str, params: Params, want: str) -> Soon:  # type: ignore[override]
        """Sent, its answer read later: it comes with the next statement read, or the commit."""
        if self._pipeline is None:
            return Soon(value=await self._run(sql, params, want))
        query = dialect.translate(sql)
        if want == "lastrowid":
            query = dialect.returning_id(query)
        cursor = self._conn.cursor(row_factory=dict_row if want in ("row", "rows") else tuple_row)
        await pgqueue.queue(cursor, query, _params(params))

        async def read() -> Any:
            if cursor.pgresult is None:  # not answered yet (by a later read's trip): waited for here
                self.trips += 1
                await pgqueue.flush(self._conn)
            async with cursor:
                if want == "rows":
                    return await cursor.fetchall()
                row = await cursor.fetchone()
            return row if want == "row" or row is None else row[0]

        soon = Soon(read)
        self._pending.append(soon)
        return soon

    async def _write(self, sql: str, params: Params) -> None:  # type: ignore[override]
        """Sent, not waited for (its answer comes with the next statement read, or the commit). The unit's writes
        share one cursor: nobody reads their results."""
        if self._quiet is None:
            self._quiet = self._conn.cursor()
        await pgqueue.queue(self._quiet, dialect.translate(sql), _params(params))

    async def _many(self, sql: str, rows: list[Sequence[Any]]) -> None:  # type: ignore[override]
        async with self._conn.cursor() as cursor:
            await cursor.executemany(dialect.translate(sql), [_params(r) for r in rows])

    async def send(self, sql: str) -> None:
        """A statement of the unit's own frame (BEGIN, COMMIT), outside the trampoline: sent, not waited for."""
        if self._quiet is None:
            self._quiet = self._conn.cursor()
        await pgqueue.queue(self._quiet, sql)


async def trampoline(tx: AsyncPgTx, coro: Coroutine[Any, Any, T], gave_up: Callable[[], bool]) -> T:
    """Drive the unit's coroutine to its end, awaiting on its behalf only its Tx's calls; refuse anything else it
    awaits (`UnitOfWorkError`: the coroutine is closed, the caller rolls back). An error of a statement is thrown
    into the unit where it awaited it, as it is raised there on the thread. `gave_up`: the unit's caller stopped
    waiting; its next call is answered with `CancelledError` (the unit is rolled back, not left open)."""
    answer: Any = None
    error: BaseException | None = None
    while True:
        driving = _DRIVING.set(True)
        try:
            step = coro.send(answer) if error is None else coro.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        finally:
            _DRIVING.reset(driving)
        answer = error = None
        if type(step) is not _Call or step.tx is not tx:
            coro.close()
            if isinstance(step, _Call):
                step.op.close()
            raise UnitOfWorkError("a unit of work may await the store only")
        if gave_up():
            step.op.close()
            error = asyncio.CancelledError()
            continue
        try:
            answer = await step.op
        except Exception as exc:  # the statement's own error, raised in the unit (which may catch it)
            error = exc


async def apply(conn: psycopg.AsyncConnection[Any], begin: str, work: Work[T], gave_up: Callable[[], bool]
                ) -> tuple[T, list[Callable[[], None]]]:
    """Begin, run the whole unit (driven by `trampoline`), commit, in one pipeline; roll back if anything raises.
    Returns its result and what is to be called after the commit."""
    tx = AsyncPgTx(conn)
    try:
        async with tx.pipelined():
            await tx.send(begin)
            result = await trampoline(tx, work(tx), gave_up)
            if gave_up():  # its caller stopped waiting: what it did is not kept, even if it caught the cancellation
                raise asyncio.CancelledError
            await tx.send("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    await tx.read_answers()
    return result, tx.committed
