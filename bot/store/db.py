"""The SQLite database: WAL, foreign keys, migrations; one write connection, a small pool of read connections.

Writes (and reads that decide a write) go through `Database.transaction()`: one connection, serialised, so
a write never waits on SQLite's busy handler. Read-only work goes through `Database.read()`: a snapshot on
one of a few read-only connections, which WAL lets run while a write transaction is open, so a Home tab,
a queue or a listener's look-up never waits behind a sweep's write. The rest of the bot does not depend on
SQLite specifics beyond standard SQL; a PostgreSQL store would implement the same `Tx` surface.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.startup import StartupError
from bot.store.lock import ensure_directory
from bot.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

_READONLY_DIRECTORY = getattr(sqlite3, "SQLITE_READONLY_DIRECTORY", 1544)


async def _probe_write(conn: aiosqlite.Connection) -> None:
    """Fail at start, not at the first case, when the file cannot be written: rewrite a header field to its
    own value inside a transaction that is rolled back (a read-only file fails here, nothing changes)."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row is not None else 0
    await conn.execute("BEGIN IMMEDIATE")
    try:
        await conn.execute(f"PRAGMA user_version = {version}")
    finally:
        await conn.execute("ROLLBACK")


Params = Sequence[Any] | dict[str, Any]


def _run(conn: sqlite3.Connection, sql: str, params: Params, want: str) -> Any:
    """One statement and what is wanted of it, in the database thread: the rows, the first row, the new row id
    or the number of rows changed. aiosqlite's own `execute` makes one thread hop for the statement and another
    to close its cursor (a third to fetch); this makes one, and most actions run dozens of statements."""
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


class Tx:
    """An open transaction: run statements, fetch rows (as dicts). Each call is one hop to the database thread."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def _one(self, sql: str, params: Params, want: str) -> Any:
        # aiosqlite's queue of work for its thread (`_execute`) and the sqlite3 connection it wraps (`_conn`):
        # not public, but stable since aiosqlite 0.17; tests/integration/test_store_reads.py covers both.
        return await self._conn._execute(_run, self._conn._conn, sql, params, want)  # type: ignore[no-untyped-call]

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows changed."""
        return int(await self._one(sql, params, "rowcount"))

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new row id."""
        row_id = await self._one(sql, params, "lastrowid")
        assert row_id is not None
        return int(row_id)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        row = await self._one(sql, params, "row")
        return dict(row) if row is not None else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in await self._one(sql, params, "rows")]

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self._one(sql, params, "row")
        return row[0] if row is not None else None


def _probe_open(path: str) -> None:
    """Open and close `path` with plain sqlite3 (in a worker thread). When aiosqlite's own open fails, it
    stops its worker thread without waiting for it, and the thread then reports to an event loop that has
    closed: "Event loop is closed" tracebacks after the operator's message. Failing here instead leaves no
    thread behind; aiosqlite then opens a file that is known to open. A folder gets its own message."""
    if Path(path).is_dir():
        raise StartupError("store_is_folder", path=path)
    sqlite3.connect(path).close()


READERS = 2  # read connections: each is a thread; two cores, and reads are short


class Database:
    """Owns the connections; `transaction()` gives exclusive, atomic access, `read()` a read-only snapshot."""

    def __init__(self, path: Path | str, *, readers: int = READERS) -> None:
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._readers = readers
        self._read_conns: list[aiosqlite.Connection] = []
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()

    async def open(self) -> None:
        """Connect, configure SQLite and apply pending migrations.

        Raises StartupError (and leaves nothing open) when the file or its folder cannot be used: a missing or
        unwritable folder, a read-only file, a file that is not a database.
        """
        if self.path != ":memory:":
            ensure_directory(self.path)
        conn: aiosqlite.Connection | None = None
        try:
            if self.path != ":memory:":
                await asyncio.to_thread(_probe_open, self.path)
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            await conn.execute("PRAGMA synchronous=NORMAL")
            # Deleted and overwritten content is zeroed, so erased free text does not linger in free pages.
            await conn.execute("PRAGMA secure_delete=ON")
            await _probe_write(conn)
            self._conn = conn
            await self._migrate()
            await self._open_readers()
        except BaseException as exc:
            # aiosqlite's worker thread would keep the process alive (hung, not listening): close it first.
            self._conn = None
            await self._close_readers()
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
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
        for _ in range(self._readers):
            reader = await aiosqlite.connect(self.path, isolation_level=None)
            self._read_conns.append(reader)
            reader.row_factory = aiosqlite.Row
            await reader.execute("PRAGMA query_only=ON")  # a write on the read path fails loudly
            await reader.execute("PRAGMA busy_timeout=5000")
            self._idle.put_nowait(reader)

    async def _close_readers(self) -> None:
        conns, self._read_conns = self._read_conns, []
        self._idle = asyncio.Queue()
        for reader in conns:
            with contextlib.suppress(Exception):
                await reader.close()

    async def close(self) -> None:
        await self._close_readers()
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """An atomic unit of work; rolled back if the block raises."""
        if self._conn is None:
            raise RuntimeError("database is not open")
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only snapshot on a read connection: it runs while a write transaction is open (WAL) and
        sees everything committed before it began. Writing through it raises. Use it for what is shown
        (Home, queue, views, look-ups before an ack); a read that decides a write belongs in `transaction()`."""
        if self._conn is None:
            raise RuntimeError("database is not open")
        if not self._read_conns:  # in memory: the write connection, in turn with the writers
            async with self.transaction() as tx:
                yield tx
            return
        reader = await self._idle.get()
        try:
            await reader.execute("BEGIN")
            try:
                yield Tx(reader)
            finally:
                with contextlib.suppress(sqlite3.Error):
                    await reader.execute("ROLLBACK")  # nothing to keep: ends the snapshot
        finally:
            self._idle.put_nowait(reader)

    async def scrub(self) -> bool:
        """Make an erasure final on disk; call it once after the transaction that erased text commits.

        `secure_delete` (set at open) zeroes the old row content in the database pages, but the pages as they
        were before still sit in the write-ahead log until a checkpoint. A TRUNCATE checkpoint copies the log
        into the database and empties the -wal file. Returns False when a reader (e.g. `gfi-bot due`) kept the
        checkpoint from finishing (after the busy timeout); the next scrub finishes the job."""
        if self._conn is None:
            raise RuntimeError("database is not open")
        async with self._lock, self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
            row = await cursor.fetchone()
        busy = bool(row is not None and row[0])
        if busy:
            log.warning("erasure checkpoint incomplete", extra={"event": "store.scrub_busy"})
        return not busy

    async def schema_version(self) -> int:
        async with self.read() as tx:
            return int(await tx.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    async def _migrate(self) -> None:
        assert self._conn is not None
        await self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        async with self.transaction() as tx:
            done = {r["version"] for r in await tx.fetchall("SELECT version FROM schema_migrations")}
        for version, sql in sorted(MIGRATIONS):
            if version in done:
                continue
            async with self._lock:
                # executescript commits on its own; run the migration and its record in one script.
                stamp = datetime.now(UTC).isoformat()
                await self._conn.executescript(
                    f"BEGIN;\n{sql}\nINSERT INTO schema_migrations (version, applied_at) "
                    f"VALUES ({int(version)}, '{stamp}');\nCOMMIT;"
                )
            log.info("schema migrated", extra={"event": "schema.migrated", "version": version})
