"""The SQLite database: one connection, WAL, foreign keys, migrations, serialised transactions.

Every read and write goes through `Database.transaction()`, so the rest of the bot does not depend on
SQLite specifics beyond standard SQL; a PostgreSQL store would implement the same `Tx` surface.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)


class Tx:
    """An open transaction: run statements, fetch rows (as dicts)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one statement; returns the number of rows changed."""
        cursor = await self._conn.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def insert(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run an INSERT and return the new row id."""
        cursor = await self._conn.execute(sql, params)
        row_id = cursor.lastrowid
        await cursor.close()
        assert row_id is not None
        return row_id

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        async with self._conn.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return dict(row) if row is not None else None

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        async with self._conn.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return [dict(r) for r in rows]

    async def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        async with self._conn.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return row[0] if row is not None else None


class Database:
    """Owns the connection; `transaction()` gives exclusive, atomic access."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        """Connect, configure SQLite and apply pending migrations."""
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        await conn.execute("PRAGMA synchronous=NORMAL")
        self._conn = conn
        await self._migrate()

    async def close(self) -> None:
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

    async def schema_version(self) -> int:
        async with self.transaction() as tx:
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
