"""A full store (issue #23 item 7): SQLite's SQLITE_FULL becomes `StoreFull`, nothing of the unit of work is kept,
the operator's log says so once, and the store writes again as soon as there is room, without reopening.

SQLite's `max_page_count` gives the very error a full disk gives (SQLITE_FULL) without a small filesystem;
`tests/faults/test_disk_full.py` fills a real one under a running bot."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.errors import StoreFull
from bot.store.db import Database, Tx
from bot.store.space import SpaceWatch, is_full


async def cap(db: Database, pages: int | None) -> None:
    """Let the database file grow to `pages` pages (None: as far as SQLite allows)."""
    writer = db._write_conn()
    limit = pages if pages is not None else 1073741823
    await writer.worker.call(lambda: writer.conn.execute(f"PRAGMA max_page_count = {limit}").close())


async def fill(tx: Tx) -> None:
    await tx.execute("CREATE TABLE IF NOT EXISTS filler (x TEXT)")
    for _ in range(200):
        await tx.execute("INSERT INTO filler VALUES (?)", ("x" * 4000,))


async def small(tx: Tx) -> int:
    return await tx.insert("INSERT INTO filler VALUES ('x')")


async def test_a_full_store_refuses_whole_units_of_work_and_writes_again_when_room_returns(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.store")
    async with Database(tmp_path / "gfi.sqlite3") as db:
        await db.run(lambda tx: tx.execute("CREATE TABLE filler (x TEXT)"))
        pages = int(await db.run_read(lambda tx: tx.scalar("PRAGMA page_count")))
        await cap(db, pages + 5)
        for _ in range(3):  # a unit of work, and the older form: both refused as StoreFull, both rolled back
            with pytest.raises(StoreFull):
                await db.run(fill)
            with pytest.raises(StoreFull):
                async with db.transaction() as tx:
                    await fill(tx)
        assert await db.run_read(lambda tx: tx.scalar("SELECT COUNT(*) FROM filler")) == 0
        assert [r.getMessage() for r in caplog.records if getattr(r, "event", "") == "store.full"] == [
            "store disk full: writes are refused until space is freed"]  # once, however many were refused
        assert all(r.exc_info is None for r in caplog.records)
        await cap(db, None)  # room again: the same connection writes, no reopening
        for _ in range(SpaceWatch.SETTLE_WRITES):
            await db.run(small)
        writable = [r for r in caplog.records if getattr(r, "event", "") == "store.writable"]
        assert len(writable) == 1 and writable[0].refused == 6
        await db.run(fill)
        assert await db.run_read(lambda tx: tx.scalar("SELECT COUNT(*) FROM filler")) == 200 + SpaceWatch.SETTLE_WRITES


def test_is_full_knows_sqlite_and_postgresql_and_nothing_else() -> None:
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
    assert is_full(full)
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
    assert not is_full(busy)

    class PgDiskFull(Exception):
        sqlstate = "53100"

    assert is_full(PgDiskFull())
    try:
        try:
            raise full
        except sqlite3.Error as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert is_full(wrapped)
    assert not is_full(ValueError(json.dumps({"x": 1})))
