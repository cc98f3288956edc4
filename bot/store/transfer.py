"""Copy a SQLite store, everything in it, into PostgreSQL (`gfi-bot migrate-store`, bot/migrate_store.py).

The SQLite store is opened (and migrated to this code's schema) first, then every table of the PostgreSQL
schema is copied with COPY, in one transaction, the audit and read log included (their append-only triggers
refuse changes, not inserts); the identity counters are set past the copied ids, and the row counts of every
table are compared before the transaction commits. A target that already holds cases is refused: nothing is
merged or overwritten. Stop the SQLite bot first (the process lock says so if it runs).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

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
            present = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            total = sum(src.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables if t in present)
            done = 0
            for table in tables:
                target_cols = [r[0] for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = %s ORDER BY ordinal_position", (table,))]
                source_cols = {r[1] for r in src.execute(f'PRAGMA table_info("{table}")')}
                cols = [c for c in target_cols if c in source_cols]
                if not cols:
                    continue
                names = ", ".join(f'"{c}"' for c in cols)
                rows = src.execute(f'SELECT {names} FROM "{table}"')
                with conn.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
                        done += 1
                        if progress is not None and done % PROGRESS_EVERY == 0:
                            progress(done, total)
                copied = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # type: ignore[index]
                expected = src.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                if copied != expected:
                    raise TransferError(f"count:{table}:{expected}:{copied}")
                counts[table] = int(copied)
                if progress is not None:
                    progress(done, total)
                if "id" in cols:
                    conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                        f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
                    )
    finally:
        src.close()
    return counts


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
