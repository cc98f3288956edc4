"""The SQLite database: WAL, foreign keys, migrations; one write connection, a small pool of read connections.

A unit of work is one trip to the database thread. `Database.run(work)` hands the whole of `work(tx)` to the
write connection's own thread, which begins, runs it and commits (or rolls back) without coming back to the
event loop in between: the write lock is held for the SQLite work only (about 2 ms for a filing), not for
the twenty-odd waits on a busy event loop that one hop per statement cost. `work` is an ordinary coroutine
function over the same `Tx` the repositories take; on the database thread every `await tx.…` completes at
once, so the coroutine is driven to its end there in one step. It may await the store and nothing else: a
unit of work that waits on anything else (the network, a sleep, a lock) is refused with an error and rolled
back. The domain plans (validates, reads on a read connection if it must) before it, and the store applies.
`Database.run_read(work)` is the same on a read connection.

The older form, `async with db.transaction() as tx:`, still works (one hop per statement) for code that has
not been converted; both are serialised on the one write connection. `Database.read()` is the read form of
it: a snapshot on one of a few read-only connections, which WAL lets run while a write is open.

Each connection lives on its own single-thread executor (what aiosqlite is, without its private names).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bot.startup import StartupError
from bot.store import upgrade
from bot.store.files import secure_store
from bot.store.leader import Leadership
from bot.store.lock import ensure_directory
from bot.store.migrations import migrations

log = logging.getLogger(__name__)

_READONLY_DIRECTORY = getattr(sqlite3, "SQLITE_READONLY_DIRECTORY", 1544)

T = TypeVar("T")
Params = Sequence[Any] | dict[str, Any]
Work = Callable[["Tx"], Coroutine[Any, Any, T]]


class UnitOfWorkError(RuntimeError):
    """A unit of work given to `Database.run` waited on something other than the store."""


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


def _run(conn: sqlite3.Connection, sql: str, params: Params, want: str) -> Any:
    """One statement and what is wanted of it: the rows, the first row, the new row id or the rows changed."""
    cursor = conn.execute(sql, params)
    try:
        if want == "rows":
            return cursor.fetchall()
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


class Tx:
    """An open transaction: run statements, fetch rows (as dicts). Statements are written for SQLite (`?`
    and `:name` placeholders); another engine's Tx translates them (`bot.store.dialects`).

    Inside `Database.run` it is on the database thread and each call completes at once; inside
    `transaction()`/`read()` each call is one hop to the connection's thread."""

    engine = "sqlite"

    def __init__(self, conn: Any, worker: Worker | None = None) -> None:
        self._conn = conn
        self._worker = worker  # None: already on the connection's thread (a unit of work)
        self.committed: list[Callable[[], None]] = []

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Call `fn` on the event loop once the transaction has committed (never if it rolls back): the place
        for changes to in-memory state, which a unit of work, running on the database thread, must not touch."""
        self.committed.append(fn)

    def _run(self, sql: str, params: Params, want: str) -> Any:
        """One statement, on the connection's thread."""
        return _run(self._conn, sql, params, want)

    def _many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows).close()

    async def _one(self, sql: str, params: Params, want: str) -> Any:
        if self._worker is None:
            return self._run(sql, params, want)
        return await self._worker.call(self._run, sql, params, want)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows changed."""
        return int(await self._one(sql, params, "rowcount"))

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

    async def fetchone(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        row = await self._one(sql, params, "row")
        return dict(row) if row is not None else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in await self._one(sql, params, "rows")]

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self._one(sql, params, "row")
        return row[0] if row is not None else None


def _unit(
    conn: Any, tx_type: type[Tx], begin: str, end: str, work: Work[T],
) -> tuple[T, list[Callable[[], None]]]:
    """On the connection's thread: begin, run the whole unit of work, then `end` (COMMIT, or ROLLBACK for a
    read); roll back if it raises. Returns its result and what is to be called after the commit."""
    conn.execute(begin)
    tx = tx_type(conn)
    try:
        result = drive(work(tx))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute(end)
    return result, tx.committed


@asynccontextmanager
async def _hops(conn: Any, tx_type: type[Tx], worker: Worker, begin: str, end: str) -> AsyncIterator[Tx]:
    await worker.call(conn.execute, begin)
    tx = tx_type(conn, worker)
    try:
        yield tx
    except BaseException:
        await worker.call(conn.execute, "ROLLBACK")
        raise
    else:
        await worker.call(conn.execute, end)
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


async def _connect(path: str, name: str, *pragmas: str) -> _Conn:
    worker = Worker(name)

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            conn.row_factory = sqlite3.Row
            for pragma in pragmas:
                conn.execute(pragma).close()
        except BaseException:
            conn.close()
            raise
        return conn

    try:
        return _Conn(await worker.call(connect), worker)
    except BaseException:
        worker.close()
        raise


def _probe_write(conn: sqlite3.Connection) -> None:
    """Fail at start, not at the first case, when the file cannot be written: rewrite a header field to its
    own value inside a transaction that is rolled back (a read-only file fails here, nothing changes)."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"PRAGMA user_version = {version}")
    finally:
        conn.execute("ROLLBACK")


READERS = 2  # read connections: each is a thread; two cores, and reads are short


class Database:
    """Owns the connections; `run()`/`transaction()` give exclusive, atomic access, `run_read()`/`read()` a
    read-only snapshot. This is the SQLite store; `bot.store.postgres.PostgresDatabase` the PostgreSQL one."""

    engine = "sqlite"
    BEGIN_WRITE = "BEGIN IMMEDIATE"
    BEGIN_READ = "BEGIN"

    def __init__(self, path: Path | str, *, readers: int = READERS) -> None:
        self.path = str(path)
        self._writer: _Conn | None = None
        self._lock = asyncio.Lock()  # held by a `transaction()` for its hops, and by units that wait for one
        self._readers = readers
        self._read_conns: list[_Conn] = []
        self._idle: asyncio.Queue[_Conn] = asyncio.Queue()

    async def open(self) -> None:
        """Connect, configure SQLite and apply pending migrations.

        Raises StartupError (and leaves nothing open) when the file or its folder cannot be used: a missing or
        unwritable folder, a read-only file, a file that is not a database.
        """
        if self.path != ":memory:":
            ensure_directory(self.path)
            if await asyncio.to_thread(Path(self.path).is_dir):  # its own message (issue #23 item 5)
                raise StartupError("store_is_folder", path=self.path)
            secure_store(self.path)  # 0600 whatever the umask (bot/store/files.py)
        try:
            self._writer = await _connect(
                self.path, "gfi-db-write", "PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON",
                "PRAGMA busy_timeout=5000", "PRAGMA synchronous=NORMAL",
                # Deleted and overwritten content is zeroed, so erased free text does not linger in free pages.
                "PRAGMA secure_delete=ON",
            )
            await self._writer.worker.call(_probe_write, self._writer.conn)
            await self._migrate()
            await self._open_readers()
        except BaseException as exc:
            # A connection's thread would keep the process alive (hung, not listening): close it first.
            await self.close()
            if isinstance(exc, sqlite3.Error):
                raise self._startup_error(exc) from None
            raise

    def _startup_error(self, exc: sqlite3.Error) -> StartupError:
        """Translate SQLite's error at open into the operator's reason."""
        code = getattr(exc, "sqlite_errorcode", -1)
        name = getattr(exc, "sqlite_errorname", type(exc).__name__)
        folder = Path(self.path).parent
        if code == _READONLY_DIRECTORY:
            return StartupError("store_dir_readonly", dir=folder)
        primary = code & 0xFF
        if primary == sqlite3.SQLITE_READONLY:
            return StartupError("store_readonly", path=self.path)
        if primary == sqlite3.SQLITE_CANTOPEN:
            if Path(self.path).exists():
                return StartupError("store_cannot_open", path=self.path)
            return StartupError("store_dir_readonly", dir=folder)
        if primary in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            return StartupError("store_not_database", path=self.path)
        if primary == sqlite3.SQLITE_FULL:
            return StartupError("store_full", path=self.path)
        return StartupError("store_unusable", path=self.path, reason=name)

    async def _open_readers(self) -> None:
        """The read pool (after the migrations, so every reader sees the current schema). An in-memory
        database is private to its connection: its reads use the write connection."""
        if self.path == ":memory:":
            return
        for n in range(self._readers):
            reader = await _connect(
                self.path, f"gfi-db-read{n}",
                "PRAGMA query_only=ON",  # a write on the read path fails loudly
                "PRAGMA busy_timeout=5000",
            )
            self._read_conns.append(reader)
            self._idle.put_nowait(reader)

    async def close(self) -> None:
        conns, self._read_conns = self._read_conns, []
        self._idle = asyncio.Queue()
        for reader in conns:
            await reader.close()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await writer.close()

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _write_conn(self) -> _Conn:
        if self._writer is None:
            raise RuntimeError("database is not open")
        return self._writer

    async def run(self, work: Work[T]) -> T:
        """Run `work(tx)` as one atomic unit of work in one trip to the write connection's thread; rolled back
        if it raises. `work` may await the store only (UnitOfWorkError otherwise, rolled back)."""
        writer = self._write_conn()
        began = time.perf_counter()
        try:
            if self._lock.locked():  # a `transaction()` is open: after it (units themselves are one call each)
                async with self._lock:
                    return await writer.unit(self.BEGIN_WRITE, "COMMIT", work)
            return await writer.unit(self.BEGIN_WRITE, "COMMIT", work)
        finally:
            _observe(time.perf_counter() - began)

    async def run_read(self, work: Work[T]) -> T:
        """Run `work(tx)` on a read-only snapshot in one trip to a read connection's thread."""
        self._write_conn()
        if not self._read_conns:  # in memory: the write connection
            return await self.run(work)
        reader = await self._idle.get()
        try:
            return await reader.unit(self.BEGIN_READ, "ROLLBACK", work)
        finally:
            self._idle.put_nowait(reader)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """An atomic unit of work, one hop per statement; rolled back if the block raises. Prefer `run()`."""
        writer = self._write_conn()
        async with self._lock:
            began = time.perf_counter()
            try:
                async with _hops(writer.conn, writer.tx_type, writer.worker, self.BEGIN_WRITE, "COMMIT") as tx:
                    yield tx
            finally:
                _observe(time.perf_counter() - began)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only snapshot on a read connection: it runs while a write transaction is open (WAL) and
        sees everything committed before it began. Writing through it raises. Use it for what is shown
        (Home, queue, views, look-ups before an ack); a read that decides a write belongs in a write."""
        self._write_conn()
        if not self._read_conns:  # in memory: the write connection, in turn with the writers
            async with self.transaction() as tx:
                yield tx
            return
        reader = await self._idle.get()
        try:
            async with _hops(reader.conn, reader.tx_type, reader.worker, self.BEGIN_READ, "ROLLBACK") as tx:
                yield tx
        finally:
            self._idle.put_nowait(reader)

    def leadership(self) -> Leadership:
        """Who keeps time (`bot.store.leader`): on SQLite always this process, the one the store belongs to."""
        return Leadership()

    async def scrub(self) -> bool:
        """Make an erasure final on disk; call it once after the transaction that erased text commits.

        `secure_delete` (set at open) zeroes the old row content in the database pages, but the pages as they
        were before still sit in the write-ahead log until a checkpoint. A TRUNCATE checkpoint copies the log
        into the database and empties the -wal file. Returns False when a reader (e.g. `gfi-bot due`) kept the
        checkpoint from finishing (after the busy timeout); the next scrub finishes the job."""
        writer = self._write_conn()
        async with self._lock:
            row = await writer.worker.call(_run, writer.conn, "PRAGMA wal_checkpoint(TRUNCATE)", (), "row")
        busy = bool(row is not None and row[0])
        if busy:
            log.warning("erasure checkpoint incomplete", extra={"event": "store.scrub_busy"})
        return not busy

    async def schema_version(self) -> int:
        async def version(tx: Tx) -> int:
            return int(await tx.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

        return await self.run_read(version)

    async def _migrate(self) -> None:
        writer = self._write_conn()
        await writer.worker.call(_migrate, writer.conn, self.path)


def _migrate(conn: sqlite3.Connection, path: str) -> None:
    """Apply the pending migrations, each with its record in one transaction. A store of a newer schema is
    refused; a file store is copied beside itself before its first pending migration (bot/store/upgrade.py)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
    known = [v for v, _ in migrations("sqlite")]
    upgrade.check_not_newer(path, done, known)
    if done and path != ":memory:" and any(v not in done for v in known):
        upgrade.backup_before_migrating(path, max(done))
    for version, sql in migrations("sqlite"):
        if version in done:
            continue
        # executescript commits on its own; run the migration and its record in one script.
        stamp = datetime.now(UTC).isoformat()
        conn.executescript(
            f"BEGIN;\n{sql}\nINSERT INTO schema_migrations (version, applied_at) "
            f"VALUES ({int(version)}, '{stamp}');\nCOMMIT;"
        )
        log.info("schema migrated", extra={"event": "schema.migrated", "version": version})
