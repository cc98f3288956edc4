"""A unit of work is one trip: `Database.run` runs the whole of it on the write connection's thread, atomically;
it may await the store only, and changes to in-memory state wait for the commit."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.store import Database, Tx
from bot.store import slack as slack_store
from bot.store.db import UnitOfWorkError

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HANG = 60  # a guard against a hang, not a timing


async def count(tx: Tx) -> int:
    return int(await tx.scalar("SELECT COUNT(*) FROM slack_inbound"))


async def test_a_unit_runs_on_the_database_thread_in_one_call(tmp_path: Path) -> None:
    async with Database(tmp_path / "gfi.sqlite3") as db:
        threads: set[int] = set()

        async def work(tx: Tx) -> int:
            for n in range(5):
                threads.add(threading.get_ident())
                await slack_store.claim_inbound(tx, f"k{n}", "event", AT)
                threads.add(threading.get_ident())
            return await count(tx)

        assert await db.run(work) == 5
        assert threads and threading.get_ident() not in threads and len(threads) == 1
        assert await db.run_read(count) == 5


async def test_a_unit_that_waits_on_anything_else_is_refused_and_rolled_back(tmp_path: Path) -> None:
    async with Database(tmp_path / "gfi.sqlite3") as db:
        async def work(tx: Tx) -> None:
            await slack_store.claim_inbound(tx, "k", "event", AT)
            await asyncio.sleep(0)  # not the store

        with pytest.raises((UnitOfWorkError, RuntimeError)):
            await db.run(work)
        assert await db.run_read(count) == 0


async def test_an_error_rolls_the_unit_back_and_after_commit_runs_only_on_commit(tmp_path: Path) -> None:
    async with Database(tmp_path / "gfi.sqlite3") as db:
        seen: list[str] = []

        async def failing(tx: Tx) -> None:
            await slack_store.claim_inbound(tx, "k", "event", AT)
            tx.after_commit(lambda: seen.append("failing"))
            raise ValueError("no")

        with pytest.raises(ValueError):
            await db.run(failing)
        assert seen == [] and await db.run_read(count) == 0

        async def good(tx: Tx) -> None:
            await slack_store.claim_inbound(tx, "k", "event", AT)
            tx.after_commit(lambda: seen.append(f"{threading.get_ident()}"))

        await db.run(good)
        assert seen == [f"{threading.get_ident()}"]  # on the event loop's thread
        assert await db.run_read(count) == 1


async def test_units_wait_for_an_open_transaction_and_do_not_interleave(tmp_path: Path) -> None:
    async with Database(tmp_path / "gfi.sqlite3") as db:
        held = asyncio.Event()
        release = asyncio.Event()

        async def long_write() -> None:
            async with db.transaction() as tx:
                await slack_store.claim_inbound(tx, "open", "event", AT)
                held.set()
                await release.wait()
                raise ValueError("rolled back")

        writer = asyncio.create_task(long_write())
        await held.wait()
        unit = asyncio.create_task(db.run(lambda tx: slack_store.claim_inbound(tx, "unit", "event", AT)))
        await asyncio.sleep(0.05)
        assert not unit.done()  # it waits for the open transaction, and is not part of it
        release.set()
        with pytest.raises(ValueError):
            await writer
        assert await asyncio.wait_for(unit, HANG) is True
        rows = await db.run_read(lambda tx: tx.fetchall("SELECT key FROM slack_inbound"))
        assert [r["key"] for r in rows] == ["unit"]


async def test_many_concurrent_units_all_commit(tmp_path: Path) -> None:
    async with Database(tmp_path / "gfi.sqlite3") as db:
        async def one(n: int) -> bool:
            return await db.run(lambda tx: slack_store.claim_inbound(tx, f"k{n}", "event", AT))

        assert all(await asyncio.gather(*(one(n) for n in range(200))))
        assert await db.run_read(count) == 200
