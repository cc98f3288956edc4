"""The SQLite store, the default: WAL, foreign keys, migrations; one write connection, a few read connections.

The unit of work itself (`run`, `run_read`, `transaction`, `read`) is the engine-neutral `bot.store.unit.Store`;
this module opens SQLite's connections, translates its errors at start into the operator's reasons, migrates,
and makes an erasure final on disk. `bot.store.postgres` is the PostgreSQL engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.startup import StartupError
from bot.store import upgrade
from bot.store.files import secure_store
from bot.store.leader import Leadership
from bot.store.lock import ensure_directory
from bot.store.migrations import migrations
from bot.store.unit import READERS, Store, Worker, _Conn, _run

log = logging.getLogger(__name__)

_READONLY_DIRECTORY = getattr(sqlite3, "SQLITE_READONLY_DIRECTORY", 1544)
# SQLite copies the write-ahead log back into the database (a checkpoint) by itself once the log has grown by
# 1,000 pages, inside the commit that crossed the mark: that commit then holds the write lock for the copy (80–100
# ms after a sweep's batch of messages, against the few milliseconds of its writes). So the write connection never
# checkpoints; a connection of its own does, on its own thread, beside the writers and readers (PASSIVE: it neither
# waits for nor blocks them), at most once per CHECKPOINT_SECONDS while there are writes.
CHECKPOINT_SECONDS = 1.0


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


def _pragma(conn: sqlite3.Connection, pragma: str) -> None:
    conn.execute(pragma).close()


def _probe_write(conn: sqlite3.Connection) -> None:
    """Fail at start, not at the first case, when the file cannot be written: rewrite a header field to its
    own value inside a transaction that is rolled back (a read-only file fails here, nothing changes)."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"PRAGMA user_version = {version}")
    finally:
        conn.execute("ROLLBACK")


class Database(Store):
    """The SQLite store (`bot.store.postgres.PostgresDatabase` is the PostgreSQL one)."""

    engine = "sqlite"
    BEGIN_WRITE = "BEGIN IMMEDIATE"
    BEGIN_READ = "BEGIN"

    def __init__(self, path: Path | str, *, readers: int = READERS) -> None:
        super().__init__(str(path), readers=readers)
        self._checkpointer: _Conn | None = None
        self._checkpoint: asyncio.Task[None] | None = None
        self._checkpointed = 0.0  # time.monotonic() of the last checkpoint begun

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
                "PRAGMA busy_timeout=5000", "PRAGMA synchronous=NORMAL", "PRAGMA wal_autocheckpoint=0",
                # Deleted and overwritten content is zeroed, so erased free text does not linger in free pages.
                "PRAGMA secure_delete=ON",
            )
            await self._writer.worker.call(_probe_write, self._writer.conn)
            await self._migrate()  # temporary storage still in files: see `memory_temp`
            await self._open_readers()
            if self.path != ":memory:":  # `run_aside`: short writes, waiting at most a second for the lock
                self._aside = await _connect(
                    self.path, "gfi-db-aside", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=1000",
                    "PRAGMA synchronous=NORMAL", "PRAGMA wal_autocheckpoint=0", "PRAGMA secure_delete=ON",
                )
        except BaseException as exc:
            # A connection's thread would keep the process alive (hung, not listening): close it first.
            await self.close()
            if isinstance(exc, sqlite3.Error):
                raise self._startup_error(exc) from None
            raise

    async def memory_temp(self) -> None:
        """From now on the write connection keeps its temporary storage in memory; called by `open_core` once the
        start's heavy work is done, before the bot serves (nothing else may be running on the connection).

        A group of units (`bot.store.group`) runs each in a savepoint, and the savepoint journal (the pages as they
        were) spilled past 64 KiB to a temporary file in /var/tmp: ~50 writes of 4 KiB per filing, 80-100 µs of
        the kernel's CPU on the write thread, and case text in a file outside the store. In memory it is dropped at
        each RELEASE (bounded by one unit's pages). Not before: the migrations and the rollups' rebuild from every
        fact (`bot.stats.rollup.prepare`: GROUP BY over all of `case_facts` and `escalation_facts`) sort in
        temporary storage, in memory the sort's pages stay in the process (225 MiB of peak RSS against 32 MiB for
        10⁶ + 2×10⁶ facts, not given back). What sorts on the write connection afterwards is bounded by the rows
        it changes (the nightly purge's cases, a hand-over's): docs/DESIGN.md, "Group commit"."""
        writer = self._write_conn()
        await writer.worker.call(_pragma, writer.conn, "PRAGMA temp_store=MEMORY")

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
        self._checkpointer = await _connect(self.path, "gfi-db-checkpoint", "PRAGMA busy_timeout=5000")

    def _wrote(self) -> None:
        """After a write: copy the log back into the database on the checkpoint thread, if it is time."""
        super()._wrote()
        if self._checkpointer is None or (self._checkpoint is not None and not self._checkpoint.done()):
            return
        now = time.monotonic()
        if now - self._checkpointed >= CHECKPOINT_SECONDS:
            self._checkpointed = now
            self._checkpoint = asyncio.get_running_loop().create_task(
                self._checkpoint_now(self._checkpointer), name="gfi-db-checkpoint")

    async def _checkpoint_now(self, conn: _Conn) -> None:
        try:
            await conn.worker.call(_run, conn.conn, "PRAGMA wal_checkpoint(PASSIVE)", (), "row")
        except sqlite3.Error as exc:  # the next write tries again
            log.warning("checkpoint failed", extra={"event": "store.checkpoint_failed",
                                                    "reason": getattr(exc, "sqlite_errorname", type(exc).__name__)})

    async def _checkpoint_done(self) -> None:
        """Wait for the checkpoint running, if any."""
        if self._checkpoint is not None:
            with contextlib.suppress(Exception):
                await self._checkpoint
            self._checkpoint = None

    async def close(self) -> None:
        await self._checkpoint_done()
        if self._checkpointer is not None:
            checkpointer, self._checkpointer = self._checkpointer, None
            await checkpointer.close()
        await super().close()

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
        await self._checkpoint_done()  # one checkpoint at a time
        async with self._lock:
            row = await writer.worker.call(_run, writer.conn, "PRAGMA wal_checkpoint(TRUNCATE)", (), "row")
        busy = bool(row is not None and row[0])
        if busy:
            log.warning("erasure checkpoint incomplete", extra={"event": "store.scrub_busy"})
        return not busy

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
