"""A view's read log is written as one unit of work (`readlog.record_now` over `Store.run`): on PostgreSQL it
takes one write connection of the pool, so a Teams `kö` or Home shown while a filing or a sweep's batch is in
flight neither waits for it nor holds back the units asked for after it (the hop form, `transaction()`, holds
every write connection)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot import readlog
from bot.core import Core
from bot.store import Tx
from tests.timekit import form

pytestmark = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])

HANG = 30  # a guard against a hang, not a timing


async def test_the_read_log_is_written_beside_a_unit_in_flight(core: Core) -> None:
    case = await core.cases.request("maria.sand", form())
    if core.db.engine == "sqlite":  # one writer: the read log is written once the unit ends, chained after it
        shown = await readlog.record_now(core.db, at=core.clock.now(), person_id="fatima.ali", refs=[case.ref],
                                         view="queue", channel="teams")
        assert shown == 1
        return
    inside, release = threading.Event(), threading.Event()

    async def busy(tx: Tx) -> None:  # a unit that holds its write connection until released
        await tx.scalar("SELECT 1")
        inside.set()
        release.wait(HANG)  # on the connection's thread

    held = asyncio.create_task(core.db.run(busy))
    try:
        assert await asyncio.to_thread(inside.wait, HANG)
        shown = await asyncio.wait_for(readlog.record_now(
            core.db, at=core.clock.now(), person_id="fatima.ali", refs=[case.ref, case.ref], view="queue",
            channel="teams"), HANG / 3)
        assert shown == 1
        assert not held.done()  # written while the other unit still held its connection
    finally:
        release.set()
        await held
    async with core.db.read() as tx:
        rows = await tx.fetchall("SELECT person_id, case_ref, view, channel FROM case_reads")
    assert rows == [{"person_id": "fatima.ali", "case_ref": case.ref, "view": "queue", "channel": "teams"}]
