"""The PostgreSQL writer pool (`bot.store.writers`): an instance's units of work run side by side, each a
transaction of its own; the hop form stays exclusive; two actions on one case take turns (the second sees what
the first committed); filings side by side still get unique, sequential references. Where it makes sense, on
SQLite too (one writer). A unit whose caller gave up before it began: tests/integration/test_store_group.py."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from bot.core import Core
from bot.errors import Refusal
from bot.store import Tx
from bot.store import cases as case_store
from bot.store.postgres import WRITERS
from bot.store.tx import Work
from tests.timekit import form

pytestmark = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


async def test_units_of_one_instance_run_side_by_side(core: Core) -> None:
    """Two units are open at the same moment, each on a connection of its own (with one write connection the
    barrier would never be passed)."""
    if core.db.engine == "sqlite":
        pytest.skip("one writer on SQLite")
    inside = threading.Barrier(2, timeout=10)

    def unit(n: int):  # type: ignore[no-untyped-def]
        async def work(tx: Tx) -> int:
            backend = int(await tx.scalar("SELECT pg_backend_pid()"))
            await tx.write("INSERT INTO ref_counters (year, last) VALUES (?, 1)", (5000 + n,))
            inside.wait()  # on the connection's thread: passes once every unit is in its transaction
            return backend

        return work

    backends = await asyncio.gather(*(core.db.run(unit(n)) for n in range(2)))
    assert len(set(backends)) == 2

    async def years(tx: Tx) -> list[int]:
        return [r["year"] for r in await tx.fetchall("SELECT year FROM ref_counters WHERE year >= 5000 ORDER BY year")]

    assert await core.db.run_read(years) == [5000, 5001]


async def turns_until(condition: Callable[[], bool], turns: int = 100) -> bool:
    """Let the event loop run other tasks, up to `turns` times, until `condition` holds; whether it does. Counted
    in turns of the loop, not in seconds: what is awaited here happens on the loop itself."""
    for _ in range(turns):
        if condition():
            return True
        await asyncio.sleep(0)
    return condition()


async def test_the_hop_form_holds_every_write_connection(core: Core) -> None:
    order: list[str] = []

    async def unit(tx: Tx) -> None:
        order.append("unit")

    async with core.db.transaction() as tx:
        waiting = [asyncio.create_task(core.db.run(unit)) for _ in range(WRITERS)]
        await turns_until(lambda: False, 20)  # the units ask for a connection, and wait
        if core.db.engine == "postgresql":
            writers = core.db._writers  # type: ignore[attr-defined]
            assert writers._idle.empty() and not writers._open.is_set()  # every connection held, the door shut
        await tx.execute("SELECT 1")
        order.append("transaction")
    await asyncio.gather(*waiting)
    assert order == ["transaction", *["unit"] * WRITERS]


async def test_concurrent_actions_on_one_case_take_turns(core: Core) -> None:
    """Ten distributors assign one case at once: one wins, every other is told it is already assigned (not a
    conflict error), whichever write connection its unit ran on."""
    case = await core.cases.request("maria.sand", form())
    results = await asyncio.gather(*(core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
                                     for _ in range(10)), return_exceptions=True)
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(wins) == 1
    assert all(isinstance(r, Refusal) and r.code == "already_assigned" for r in losses), losses


async def test_filings_side_by_side_get_unique_sequential_references(core: Core) -> None:
    cases = await asyncio.gather(*(core.cases.request("maria.sand", form()) for _ in range(40)))
    refs = sorted(c.ref for c in cases)
    assert refs == [f"GFI-2026-{n:04d}" for n in range(1, 41)]


async def test_a_row_referencing_a_case_is_written_while_an_action_holds_the_case(core: Core) -> None:
    """A case action locks its case (`lock_rows`) until it ends; a unit on another connection that inserts a row
    referencing the case (an outbox row, an awaited item: a foreign key) is not held up by it. With FOR UPDATE
    it waited for the action, and an action that then needed that unit's rows deadlocked with it (40P01)."""
    if core.db.engine == "sqlite":
        pytest.skip("one writer on SQLite")
    case = await core.cases.request("maria.sand", form())
    locked, inserted = threading.Event(), threading.Event()

    async def action(tx: Tx) -> bool:
        row = await case_store.find_by_ref(tx, case.ref, lock=True)
        assert row is not None
        locked.set()
        return inserted.wait(timeout=5)  # on the connection's thread, holding the case's row lock

    async def referencing(tx: Tx) -> None:
        await tx.execute("INSERT INTO inbound_requests (key, case_id, at) VALUES (?, ?, ?)",
                         ("fk-while-locked", case.id, "2026-11-23T10:00:00+00:00"))
        inserted.set()

    acting = asyncio.create_task(core.db.run(action))
    assert await asyncio.to_thread(locked.wait, 10)
    await core.db.run(referencing)
    assert await acting, "the insert waited for the action's lock on the case"


def _crossing(runs: dict[str, int], barrier: threading.Barrier, name: str, first: int, second: int) -> Work[None]:
    """A unit that updates one counter row, then (on its first run, once the other unit holds the other row) the
    other: two of them crossing deadlock."""
    async def work(tx: Tx) -> None:
        runs[name] += 1
        await tx.execute("UPDATE ref_counters SET last = last + 1 WHERE year = ?", (first,))
        if runs[name] == 1:
            barrier.wait()  # on the connection's thread: both hold their first row
        await tx.execute("UPDATE ref_counters SET last = last + 1 WHERE year = ?", (second,))

    return work


async def _counters(core: Core) -> list[int]:
    async def read(tx: Tx) -> list[int]:
        return [r["last"] for r in await tx.fetchall("SELECT last FROM ref_counters WHERE year IN (6001, 6002)"
                                                     " ORDER BY year")]

    return await core.db.run_read(read)


async def test_a_unit_that_opts_in_is_run_again_after_a_deadlock(core: Core) -> None:
    """Two units of one instance cross (each holds the row the other wants next): the server rolls one back
    (40P01); that one runs again on a fresh transaction and both commit, each once."""
    if core.db.engine == "sqlite":
        pytest.skip("one writer on SQLite: no deadlock")
    await core.db.run(lambda tx: tx.execute("INSERT INTO ref_counters (year, last) VALUES (6001, 0), (6002, 0)"))
    runs = {"a": 0, "b": 0}
    barrier = threading.Barrier(2, timeout=10)
    await asyncio.gather(core.db.run(_crossing(runs, barrier, "a", 6001, 6002), retry=True),
                         core.db.run(_crossing(runs, barrier, "b", 6002, 6001), retry=True))
    assert sorted(runs.values()) == [1, 2]  # the victim ran twice
    assert await _counters(core) == [2, 2]  # each unit's two updates, once


async def test_a_unit_that_did_not_opt_in_fails_on_a_deadlock(core: Core) -> None:
    """Without `retry` (a unit whose closure changes Python state, e.g. the dispatcher's claim) the deadlock is
    the caller's: one unit fails, nothing of it stored."""
    if core.db.engine == "sqlite":
        pytest.skip("one writer on SQLite: no deadlock")
    await core.db.run(lambda tx: tx.execute("INSERT INTO ref_counters (year, last) VALUES (6001, 0), (6002, 0)"))
    runs = {"a": 0, "b": 0}
    barrier = threading.Barrier(2, timeout=10)
    results = await asyncio.gather(core.db.run(_crossing(runs, barrier, "a", 6001, 6002)),
                                   core.db.run(_crossing(runs, barrier, "b", 6002, 6001)), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1 and getattr(failed[0], "sqlstate", None) == "40P01", results
    assert runs == {"a": 1, "b": 1}
    assert await _counters(core) == [1, 1]


async def test_the_hop_form_goes_before_units_asked_for_after_it(core: Core) -> None:
    """While `transaction()` gathers the pool, units asked for after it wait behind it: it does not hold the
    connections it has idle while new units take the others as they come free."""
    if core.db.engine == "sqlite":
        pytest.skip("one writer on SQLite")
    order: list[str] = []
    release, all_busy = threading.Event(), threading.Event()
    inside: list[int] = []
    writers = core.db._writers  # type: ignore[attr-defined]

    def busy(n: int) -> Work[None]:
        async def work(tx: Tx) -> None:
            await tx.execute("SELECT 1")
            inside.append(n)  # on the connection's thread (list.append is atomic)
            if len(inside) == WRITERS:
                all_busy.set()
            release.wait(timeout=10)  # on the connection's thread: the pool stays busy
            order.append(f"busy{n}")
        return work

    async def later(tx: Tx) -> None:
        order.append("later")

    async def hop() -> None:
        async with core.db.transaction() as tx:
            await tx.execute("SELECT 1")
            order.append("transaction")

    busy_units = [asyncio.create_task(core.db.run(busy(n))) for n in range(WRITERS)]
    assert await asyncio.to_thread(all_busy.wait, 10)  # every connection is in a unit's transaction
    hopping = asyncio.create_task(hop())
    assert await turns_until(lambda: not writers._open.is_set())  # the hop form gathers the pool
    later_units = [asyncio.create_task(core.db.run(later)) for _ in range(WRITERS)]
    await turns_until(lambda: False, 20)  # the later units ask for a connection, and wait
    assert not any(t.done() for t in [*busy_units, hopping, *later_units])
    release.set()
    await asyncio.gather(*busy_units, hopping, *later_units)
    assert order[WRITERS:] == ["transaction", *["later"] * WRITERS], order
