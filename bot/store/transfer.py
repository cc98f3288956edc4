"""Copy a SQLite store, everything in it, into PostgreSQL (`gfi-bot migrate-store`, bot/migrate_store.py).

The SQLite store is opened (and migrated to this code's schema) first, then every table of the PostgreSQL
schema is copied with COPY, in one transaction, the audit and read log included (their append-only triggers
refuse changes, not inserts); the identity counters are set past the copied ids, and the row counts of every
table are compared before the transaction commits. A target that already holds cases is refused: nothing is
merged or overwritten. Stop the SQLite bot first (the process lock says so if it runs).

The statistics rollups (`stats_*`, migration 0026) are state derived from the facts, and a fresh target holds
their "built" row already (migration 0030 seeds it in a store without facts): the target's rollups are
cleared and the source's copied, so the copy carries the source's rollups as they are. A statement the
server refuses ends the copy as a `TransferError` naming the table and the SQLSTATE, nothing committed.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.store import rollups
from bot.store.db import Database


class TransferError(Exception):
    """The copy was refused or did not verify; nothing was committed."""


Progress = Callable[[int, int], None]  # (rows copied, rows in all), called from the copying thread
PROGRESS_EVERY = 5000  # rows between two progress calls within a table


def _copy(source: Path, url: str, progress: Progress | None = None) -> dict[str, int]:
    import psycopg

    counts: dict[str, int] = {}
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        with psycopg.connect(url) as conn:
            if conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]:  # type: ignore[index]
                raise TransferError("target_not_empty")
            tables = [r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name")]
            conn.execute("SET LOCAL session_replication_role = replica")  # foreign keys: any table order
            for derived in rollups.TABLES:  # derived state a fresh target holds already: cleared first
                conn.execute(f'DELETE FROM "{derived}"')
            present = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            counter = _Counter(progress, sum(
                src.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables if t in present))
            for table in tables:
                try:
                    copied = _copy_table(conn, src, table, counter)
                except psycopg.Error as exc:  # one line naming the table, never a traceback
                    raise TransferError(f"{table}:{exc.sqlstate or type(exc).__name__}") from None
                if copied is not None:
                    counts[table] = copied
    finally:
        src.close()
    return counts


class _Counter:
    """Rows copied so far, told to `progress` every PROGRESS_EVERY rows and at the end of each table."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def row(self) -> None:
        self.done += 1
        if self.progress is not None and self.done % PROGRESS_EVERY == 0:
            self.progress(self.done, self.total)

    def table_done(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total)


def _copy_table(conn: Any, src: sqlite3.Connection, table: str, counter: _Counter) -> int | None:
    """COPY one table's rows, verify the count, move its id counter past them; None for a table with no
    column in common (not in the source)."""
    target_cols = [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s ORDER BY ordinal_position", (table,))]
    source_cols = {r[1] for r in src.execute(f'PRAGMA table_info("{table}")')}
    cols = [c for c in target_cols if c in source_cols]
    if not cols:
        return None
    names = ", ".join(f'"{c}"' for c in cols)
    with conn.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        for row in src.execute(f'SELECT {names} FROM "{table}"'):
            copy.write_row(row)
            counter.row()
    copied = int(conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])
    expected = int(src.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])
    if copied != expected:
        raise TransferError(f"count:{table}:{expected}:{copied}")
    counter.table_done()
    if "id" in cols:
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
        )
    return copied


async def migrate_store(source: Path, url: str, progress: Progress | None = None) -> dict[str, int]:
    """Bring both stores to this code's schema, then copy (see the module); `progress(done, total)` is told
    the rows copied as the copy goes on."""
    async with Database(source):  # migrates the SQLite store; refuses an unusable file
        pass
    from bot.store.postgres import PostgresDatabase

    target = PostgresDatabase(url)
    await target.open()  # creates the schema; refuses an unreachable server or a newer schema
    await target.close()
    return await asyncio.to_thread(_copy, source, url, progress)
