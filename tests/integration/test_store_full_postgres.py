"""PostgreSQL's disk full (SQLSTATE 53100, issue #22/#23): the server's real error, raised by a trigger standing in
for a full disk, becomes `StoreFull`; the unit of work is rolled back whole, the operator's log says so once, and
the same connection writes again once the "disk" has room. (SQLite's SQLITE_FULL: tests/unit/test_store_space.py.)"""

from __future__ import annotations

import logging

import pytest

from bot.errors import StoreFull
from bot.store.db import Tx
from bot.store.space import SpaceWatch
from tests.conftest import CoreFactory

pytestmark = pytest.mark.parametrize("engine", ["postgresql"])

FULL = """CREATE FUNCTION gfi_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$"""


async def filler(tx: Tx) -> None:
    await tx.execute("INSERT INTO filler VALUES ('kept?')")
    await tx.execute("INSERT INTO big VALUES ('x')")  # the full disk refuses this one


async def test_a_full_disk_on_postgresql_is_store_full_and_passes(
    make_core: CoreFactory, engine: str, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.store")
    core = await make_core()
    db = core.db

    async def setup(tx: Tx) -> None:
        await tx.execute("CREATE TABLE filler (x TEXT)")
        await tx.execute("CREATE TABLE big (x TEXT)")
        await tx.execute(FULL)
        await tx.execute("CREATE TRIGGER full_disk BEFORE INSERT ON big FOR EACH ROW EXECUTE FUNCTION "
                         "gfi_test_disk_full()")

    await db.run(setup)
    for _ in range(3):  # a unit of work, and the older form: both StoreFull, both rolled back
        with pytest.raises(StoreFull):
            await db.run(filler)
        with pytest.raises(StoreFull):
            async with db.transaction() as tx:
                await filler(tx)
    assert await db.run_read(lambda tx: tx.scalar("SELECT COUNT(*) FROM filler")) == 0
    assert [r.getMessage() for r in caplog.records if getattr(r, "event", "") == "store.full"] == [
        "store disk full: writes are refused until space is freed"]
    assert all(r.exc_info is None for r in caplog.records)
    await db.run(lambda tx: tx.execute("DROP TRIGGER full_disk ON big"))  # room again: no reopening
    for _ in range(SpaceWatch.SETTLE_WRITES):
        await db.run(filler)
    assert [r.refused for r in caplog.records if getattr(r, "event", "") == "store.writable"] == [6]
    assert await db.run_read(lambda tx: tx.scalar("SELECT COUNT(*) FROM big")) == SpaceWatch.SETTLE_WRITES
