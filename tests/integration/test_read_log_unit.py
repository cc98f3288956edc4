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
from bot.store import reads as store
from tests.races import in_unit
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
        await in_unit(tx, release.wait, HANG)  # holding its connection

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


async def test_the_counts_per_reader_keep_in_step_with_the_log(core: Core) -> None:
    """A coordinator's /läsloggar counts the reads of a case per reader from `case_read_counts` (as many rows as
    readers); every append keeps them equal to the log's own count, one view at a time or several together."""
    first = await core.cases.request("maria.sand", form())
    second = await core.cases.request("maria.sand", form())
    at = core.clock.now()
    await readlog.record_now(core.db, at=at, person_id="fatima.ali", refs=[first.ref, second.ref], view="queue",
                             channel="teams")
    await readlog.record_now(core.db, at=at, person_id="fatima.ali", refs=[first.ref], view="case", channel="slack")

    async def many(tx: Tx) -> int:
        return await readlog.record_many(tx, [(at, "linnea.fors", [first.ref], "case", "slack"),
                                              (at, "fatima.ali", [first.ref, second.ref], "case", "slack"),
                                              (at, "linnea.fors", [], "case", "slack")])

    assert await core.db.run(many) == 3
    async with core.db.read() as tx:
        logged = await tx.fetchall("SELECT case_ref, person_id, COUNT(*) AS n FROM case_reads "
                                   "GROUP BY case_ref, person_id ORDER BY case_ref, person_id")
        kept = await tx.fetchall("SELECT case_ref, person_id, reads AS n FROM case_read_counts "
                                 "ORDER BY case_ref, person_id")
        assert kept == logged
        assert await store.readers_of_case(tx, first.ref) == {"fatima.ali": 3, "linnea.fors": 1}
