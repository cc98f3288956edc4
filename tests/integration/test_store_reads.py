"""Reads do not wait behind writes: `Database.read()` is a snapshot on a read connection (WAL), so a Home
tab, a queue or a look-up is answered while a sweep or a filing holds the write transaction open."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.store import Database, outbox
from bot.store import slack as slack_store

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# A guard against a hang, not a timing: with one shared lock the read below would wait for ever.
HANG = 60


async def count(db: Database) -> int:
    async with db.read() as tx:
        return int(await tx.scalar("SELECT COUNT(*) FROM slack_inbound"))


async def test_a_read_completes_while_a_write_transaction_is_open(tmp_path: Path) -> None:
    async with Database(tmp_path / "gfi.sqlite3") as db:
        async with db.transaction() as tx:
            assert await slack_store.claim_inbound(tx, "view:V1:abc", "view", AT)
            # the write is open and uncommitted: a read runs now, and sees what was committed before it
            assert await asyncio.wait_for(count(db), HANG) == 0
        assert await count(db) == 1  # after the commit, the next read sees it


async def test_reads_run_side_by_side_with_a_held_write(tmp_path: Path) -> None:
    async with Database(tmp_path / "gfi.sqlite3") as db:
        held = asyncio.Event()
        release = asyncio.Event()

        async def long_write() -> None:
            async with db.transaction() as tx:
                await slack_store.claim_inbound(tx, "event:Ev1", "event", AT)
                held.set()
                await release.wait()

        writer = asyncio.create_task(long_write())
        await held.wait()
        results = await asyncio.wait_for(asyncio.gather(*(count(db) for _ in range(5))), HANG)
        assert results == [0] * 5
        assert not writer.done()  # every read finished while the write was still open
        release.set()
        await writer
        assert await count(db) == 1


async def test_writing_through_the_read_path_is_refused(tmp_path: Path) -> None:
    async with Database(tmp_path / "gfi.sqlite3") as db:
        with pytest.raises(sqlite3.OperationalError):
            async with db.read() as tx:
                await slack_store.claim_inbound(tx, "view:V2:abc", "view", AT)
        assert await count(db) == 0
        async with db.transaction() as tx:  # the write path is unaffected
            assert await slack_store.claim_inbound(tx, "view:V2:abc", "view", AT)
        assert await count(db) == 1


async def test_the_dispatchers_look_for_the_newest_message_does_not_wait_for_the_writer(tmp_path: Path) -> None:
    """Every dispatch pass (one after each filing) asks for the newest outbox id: on a read connection, not
    holding the write connection (and the filings queued for it) for three trips to its thread."""
    async with Database(tmp_path / "gfi.sqlite3") as db:
        async with db.transaction() as tx:
            await slack_store.claim_inbound(tx, "view:V3:abc", "view", AT)
            assert await asyncio.wait_for(outbox.last_id(db), 10) == 0  # the write lock is held meanwhile
