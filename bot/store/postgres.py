"""The PostgreSQL store (issue #22): `GFI_DATABASE_URL=postgresql://…` selects it; SQLite stays the default.

The same `Database` surface as SQLite (`run`, `run_read`, `transaction`, `read`, `scrub`), the same units of
work, written once for both engines. A write unit (`run`) runs as a coroutine on the event loop over a pool of
psycopg 3 `AsyncConnection`s (`bot.store.writers`, `bot.store.pgunit`: pipelined, and still refused if it awaits
anything but the store); reads (`run_read`, `read`) and `run_aside` (a connection of its own) run on the loop too.
The hop form `transaction()` and migrations keep a synchronous psycopg connection on a thread (`PgTx`).
Statements are the repositories' SQLite ones, translated by `bot.store.dialects.postgresql`. Why psycopg 3 and not
asyncpg: the same driver serves the threads and the loop, with the same pipeline mode and the same `%s` translation.

Migrations run under a session advisory lock, so N instances started at once migrate once; a schema newer
than the code is refused. Connection problems at start (unreachable, wrong password, newer schema) are one
Swedish line and exit 1 within the connect timeout; the password is never logged or shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row, tuple_row
from psycopg.types.numeric import FloatLoader

from bot.startup import StartupError
from bot.store import pgunit
from bot.store.changes import Changes, PostgresChanges
from bot.store.db import Database, Params, Tx, Work, Worker, _Conn
from bot.store.dialects import postgresql as dialect
from bot.store.leader import Leadership, PostgresLeadership
from bot.store.migrations import latest, migrations
from bot.store.pgunit import AsyncPgTx, _params
from bot.store.tx import Soon, T
from bot.store.unit import _hops
from bot.store.writers import Writers

log = logging.getLogger(__name__)

WRITERS = 4  # write connections per instance (`bot.store.writers`): units side by side, the server serialises
CLOSE_WAIT = 10  # seconds `close` waits for the units begun before it closes their connections
CONNECT_TIMEOUT = 5  # seconds: an unreachable server is reported at start, well within 10 s
MIGRATION_LOCK = 0x6766_6962_6F74  # the advisory lock N instances take to migrate once ("gfibot")
# The tables whose rows hold free text that an erasure or a purge blanks or deletes (see `scrub`).
FREE_TEXT_TABLES = ("cases", "outbox", "intake", "disputes", "meeting_participants", "follow_ups", "brister",
                    "brist_drafts", "awaiting", "timers", "case_assignees", "samverkan_matters")


def describe_target(url: str) -> str:
    """`host:port/dbname` of a URL, for messages: never the user's password."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "?"
    host = info.get("host") or "localhost"
    port = info.get("port") or "5432"
    return f"{host}:{port}/{info.get('dbname') or info.get('user') or ''}"


class PgTx(Tx):
    """A transaction on a PostgreSQL connection: the repositories' statements, translated.

    A unit of work (`Store.run`) runs in psycopg's pipeline mode (`batch`): a statement goes to the server
    without waiting for the one before it to be answered, and the client waits only where an answer is read
    (rows, a new id, a row count) and at the commit. The statements whose answer nobody reads (`Tx.write`,
    `executemany`, BEGIN, COMMIT) ride along with the next read, and a read whose answer is wanted only later
    (`Tx.fetchone_soon`) rides along too, so a filing's eleven statements take three trips to the server:
    `trips` counts them (the times the client waited for the server)."""

    engine = "postgresql"

    def __init__(self, conn: Any, worker: Worker | None = None) -> None:
        super().__init__(conn, worker)
        self._pipeline: psycopg.Pipeline | None = None
        self._quiet: psycopg.Cursor[Any] | None = None  # the cursor of the statements whose answer is not read
        self.trips = 0

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The unit of work in pipeline mode. When it fails, what was already sent is answered first (its own
        errors are not the unit's error), so that the connection leaves pipeline mode clean for the ROLLBACK."""
        with self._conn.pipeline() as pipeline:
            self._pipeline = pipeline
            try:
                yield
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    pipeline.sync()
                raise
            finally:
                self._pipeline = None
            self.trips += 1  # leaving the pipeline waits for every answer, the commit's included

    def settle(self, *, quiet: bool = False) -> None:
        """Wait for the answers of what the pipeline sent (an error in it raised here, unless `quiet`)."""
        if self._pipeline is None:
            return
        try:
            self._pipeline.sync()
        except psycopg.Error:
            if not quiet:
                raise

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row. Rows are plain dicts, made once (psycopg's `dict_row`: the names
        read from the result, not a `Column` object per column per statement, as `cursor.description` makes),
        which `Tx.fetchall` passes on as they are; a scalar reads a tuple row."""
        return await self._one(sql, params, "scalar")

    def _run(self, sql: str, params: Params, want: str) -> Any:
        query = dialect.translate(sql)
        if want == "lastrowid":
            query = dialect.returning_id(query)
        with self._conn.cursor(row_factory=dict_row if want in ("rows", "row") else tuple_row) as cursor:
            cursor.execute(query, _params(params))
            self.trips += self._pipeline is None or cursor.pgresult is None  # answered already: no wait
            if want == "rows":
                return cursor.fetchall()
            if want in ("row", "lastrowid", "scalar"):  # a new id is a RETURNING's first column
                row = cursor.fetchone()
                return row if want == "row" or row is None else row[0]
            if self._pipeline is not None:  # the row count is known once the statement is answered
                self._pipeline.sync()
            return cursor.rowcount

    def _soon(self, sql: str, params: Params, want: str) -> Soon:
        """Sent, its answer read later, in a pipeline: it comes with the next statement read, or the commit."""
        if self._pipeline is None:  # one statement at a time (the hop form): answered at once
            return Soon(value=self._run(sql, params, want))
        query = dialect.translate(sql)
        if want == "lastrowid":
            query = dialect.returning_id(query)
        cursor = self._conn.cursor(row_factory=dict_row if want in ("row", "rows") else tuple_row)
        cursor.execute(query, _params(params))

        def read() -> Any:
            self.trips += cursor.pgresult is None  # not answered yet (by a later read's trip): waited for here
            with cursor:
                if want == "rows":
                    return cursor.fetchall()
                row = cursor.fetchone()
            return row if want == "row" or row is None else row[0]

        soon = Soon(read)
        self._pending.append(soon)
        return soon

    def _write(self, sql: str, params: Params) -> None:
        """Sent, not waited for, in a pipeline (its answer comes with the next statement read, or the commit). The
        unit's writes share one cursor: nobody reads their results (an error in one is raised all the same, where
        its answer comes), and `Connection.execute` would make a cursor per statement."""
        if self._quiet is None:
            self._quiet = self._conn.cursor()
        self._quiet.execute(dialect.translate(sql), _params(params))

    def _many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(dialect.translate(sql), [_params(r) for r in rows])


def _connect(url: str, read_only: bool = False) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name="gfi-bot")
    conn.adapters.register_loader("numeric", FloatLoader)  # SUM/AVG as numbers, as SQLite gives them
    if read_only:
        conn.execute("SET default_transaction_read_only = on")
    return conn


async def _connect_async(url: str, read_only: bool = False) -> psycopg.AsyncConnection[Any]:
    """A connection of a pool on the event loop (`bot.store.writers`, `bot.store.pgunit`)."""
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                                                 application_name="gfi-bot")
    conn.adapters.register_loader("numeric", FloatLoader)
    if read_only:
        await conn.execute("SET default_transaction_read_only = on")
    return conn


async def _pool(url: str, size: int, *, read_only: bool = False) -> list[psycopg.AsyncConnection[Any]]:
    conns: list[psycopg.AsyncConnection[Any]] = []
    try:
        for _ in range(size):
            conns.append(await _connect_async(url, read_only))
    except BaseException:
        for conn in conns:
            await conn.close()
        raise
    return conns


class PostgresDatabase(Database):
    """The PostgreSQL store: a few write connections per instance, on the event loop (`bot.store.writers`: units of
    work side by side, serialised by the server's row locks, as the units of other instances are), a few read
    connections on the loop too, one on a thread for migrations and the hop form, one on the loop for `run_aside`."""

    engine = "postgresql"
    BEGIN_WRITE = "BEGIN"
    # No group commit: a filing takes row locks (its idempotency key, the year's reference counter) and then the
    # audit chain's lock. In a group the chain lock of one unit is held while the next takes its row locks, so
    # two instances could take them in opposite orders and deadlock (40P01). One unit per transaction keeps
    # every transaction's order the same; PostgreSQL flushes concurrent commits together by itself.
    MAX_GROUP = 1  # (units do not go through `bot.store.group` here: `run` is the pool's, one unit per transaction)
    BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    def __init__(self, url: str, *, readers: int = 2, writers: int = WRITERS) -> None:
        super().__init__(describe_target(url), readers=readers)
        self._url = url
        self._writers_wanted = writers
        self._writers: Writers | None = None
        self._reading: Writers | None = None  # the read connections, on the event loop too
        self._asides: Writers | None = None  # `run_aside`'s connection, on the event loop, apart from the pool

    async def _connect(self, name: str, *, read_only: bool = False) -> _Conn:
        worker = Worker(name)
        try:
            conn = await worker.call(_connect, self._url, read_only)
        except BaseException:
            worker.close()
            raise
        return _Conn(conn, worker, PgTx)

    async def open(self) -> None:
        """Connect and migrate; StartupError (nothing left open) when the server cannot be used."""
        try:
            self._writer = await self._connect("gfi-pg-write")  # migrations, then the hop form (`transaction`)
            await self._migrate()
            self._writers = Writers(await _pool(self._url, self._writers_wanted), self.BEGIN_WRITE,
                                    lambda: _connect_async(self._url))
            self._asides = Writers(await _pool(self._url, 1), self.BEGIN_WRITE, lambda: _connect_async(self._url))
            self._reading = Writers(await _pool(self._url, self._readers, read_only=True), self.BEGIN_READ,
                                    lambda: _connect_async(self._url, read_only=True))
        except BaseException as exc:
            await self.close()
            if isinstance(exc, psycopg.Error):
                raise self._pg_startup_error(exc) from None
            raise

    async def close(self) -> None:
        pools = [p for p in (self._writers, self._reading, self._asides) if p is not None]
        for pool in pools:  # the units begun end first (their callers may have gone: shutdown cancels them)
            await pool.drain(CLOSE_WAIT)
        self._writers = self._reading = self._asides = None
        for conn in [c for p in pools for c in p.conns]:
            with contextlib.suppress(Exception):
                await conn.close()
        await super().close()

    async def run(self, work: Work[T], *, retry: bool = False) -> T:
        """`work(tx)` as one transaction on an idle write connection of the pool, as a coroutine on the event loop
        (`bot.store.writers`, `bot.store.pgunit`); `retry`: run again on a fresh transaction if the server rolls it
        back for a deadlock or serialization failure."""
        writers = self._writers
        if writers is None:
            raise RuntimeError("database is not open")
        with self._writing():
            return await writers.run(work, retry=retry)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """The hop form, exclusive within the process as on SQLite: it holds every write connection of the pool,
        and runs on the thread's write connection (one hop per statement)."""
        pgunit.refuse_inside()
        writers = self._writers
        if writers is None:
            raise RuntimeError("database is not open")
        async with self._lock, writers.exclusive():
            writer = await self._live(self._write_conn())
            with self._writing():
                async with _hops(writer.conn, writer.tx_type, writer.worker, self.BEGIN_WRITE, "COMMIT") as tx:
                    yield tx

    async def _live(self, held: _Conn) -> _Conn:
        """The hop form's connection, or, when the server closed it (a restart, a fail-over, a terminated
        backend: found so by the one transaction that failed on it), a fresh one on the same thread."""
        if not (held.conn.closed or held.conn.broken):
            return held
        with contextlib.suppress(Exception):
            await held.worker.call(held.conn.close)
        held.conn = await held.worker.call(_connect, self._url)
        log.warning("store.reconnected", extra={"event": "store.reconnected"})
        return held

    async def run_aside(self, work: Work[T]) -> T:
        """`Store.run_aside`: a unit on the event loop (`bot.store.pgunit`) on a connection of its own, outside the
        write pool, so a busy pool does not hold it up; never from inside a unit. A connection the server closed
        fails the one unit that finds it so and is replaced when next taken, as the pool's are."""
        asides = self._asides
        if asides is None:
            raise RuntimeError("database is not open")
        with self._writing():
            return await asides.run(work)

    async def run_read(self, work: Work[T]) -> T:
        """`work(tx)` on a read-only snapshot, as a unit of work on the event loop (`bot.store.pgunit`) over an
        idle read connection."""
        reading = self._reading
        if reading is None:
            raise RuntimeError("database is not open")
        return await reading.run(work)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only snapshot on an idle read connection, its statements awaited on the event loop one by one
        (the hop form of a read: any code may run between them)."""
        pgunit.refuse_inside()
        reading = self._reading
        if reading is None:
            raise RuntimeError("database is not open")
        async with reading.borrow() as conn:
            await conn.execute(self.BEGIN_READ)
            tx = AsyncPgTx(conn, guarded=False)
            try:
                yield tx
            finally:
                await conn.execute("ROLLBACK")
        for fn in tx.committed:
            fn()

    def _pg_startup_error(self, exc: psycopg.Error) -> StartupError:
        """The operator's reason, from the error's SQLSTATE or class: never its text (it may quote the URL)."""
        state = getattr(exc, "sqlstate", None) or ""
        text = str(exc).lower()
        # A refused login comes back from libpq as text (no SQLSTATE) when the connection is being made.
        refused = ("authentication failed", "no password supplied", "pg_hba.conf", "role \"")
        if state in ("28P01", "28000") or any(r in text for r in refused):
            return StartupError("store_pg_auth", target=self.path)
        if "database \"" in text and "does not exist" in text:
            return StartupError("store_pg_failed", target=self.path, reason="3D000")
        if isinstance(exc, psycopg.OperationalError) and not state:
            return StartupError("store_pg_unreachable", target=self.path)
        return StartupError("store_pg_failed", target=self.path, reason=state or type(exc).__name__)

    async def _migrate(self) -> None:
        writer = self._write_conn()
        found = await writer.worker.call(_migrate, writer.conn)
        if found > latest("postgresql"):
            raise StartupError("store_newer", path=self.path, found=found, known=latest("postgresql"))

    async def memory_temp(self) -> None:
        """Nothing to do: SQLite's temporary storage (`Database.memory_temp`); the server manages its own."""

    def changes(self) -> Changes:
        """Changes announced by other instances, heard on a connection of its own (`bot.store.changes`)."""
        return PostgresChanges(self._url)

    def leadership(self) -> Leadership:
        """The leader lock on a connection of its own (`bot.store.leader`)."""
        return PostgresLeadership(self._url)

    async def scrub(self) -> bool:
        """Make an erasure final in the tables' pages: VACUUM the tables that hold free text, so that the
        old row versions (dead tuples) that still hold the erased text are removed. VACUUM runs outside any
        transaction, on a connection of its own (it does not block reads or writes). What it does not do:
        the freed space is overwritten only as it is reused, and the write-ahead log and backups keep the
        old pages until they are recycled (see the deploy docs)."""
        def vacuum() -> None:
            with psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
                conn.execute(pgsql.SQL("VACUUM {}").format(
                    pgsql.SQL(", ").join(pgsql.Identifier(t) for t in FREE_TEXT_TABLES)))

        try:
            await asyncio.to_thread(vacuum)
        except psycopg.Error:
            log.warning("erasure vacuum incomplete", extra={"event": "store.scrub_busy"})
            return False
        return True


def _migrate(conn: psycopg.Connection[Any]) -> int:
    """Apply the pending migrations under the migration lock (N instances starting at once migrate once);
    returns the store's version (nothing is applied to a store newer than this code)."""
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
        if done and max(done) > latest("postgresql"):
            return max(done)
        for version, sql in migrations("postgresql"):
            if version in done or (done and version < max(done)):
                continue
            with conn.transaction():
                conn.execute(sql.encode())  # no parameters: the file runs as written
                conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (%s, %s)",
                             (version, datetime.now(UTC).isoformat()))
            log.info("schema migrated", extra={"event": "schema.migrated", "version": version})
        return latest("postgresql")
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
