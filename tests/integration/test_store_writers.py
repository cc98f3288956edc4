"""The PostgreSQL writer pool (`bot.store.writers`): an instance's units of work run side by side, each a
transaction of its own; the hop form stays exclusive; two actions on one case take turns (the second sees what
the first committed); filings side by side still get unique, sequential references. Where it makes sense, on
SQLite too (one writer). A unit whose caller gave up before it began: tests/integration/test_store_group.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Self

import psycopg
import pytest

from bot.core import Core
from bot.errors import Refusal
from bot.store import Tx
from bot.store import cases as case_store
from bot.store.db import UnitOfWorkError
from bot.store.postgres import WRITERS, PostgresDatabase
from bot.store.tx import Work
from tests.timekit import form

pytestmark = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
HANG = 30  # seconds: a guard against a hang, not a timing


class Gate:
    """Where units of work wait on the server, holding their transaction open (a unit may await the store and
    nothing else, on PostgreSQL on the event loop: it cannot wait on a barrier of Python). The test holds an
    advisory lock on a connection of its own; `passes` in a unit waits for it, `open` lets the units through."""

    KEY = 7_777_001

    def __init__(self, core: Core) -> None:
        self._url: str = core.db._url  # type: ignore[attr-defined]
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def __aenter__(self) -> Self:
        self._conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
        await self._conn.execute("SELECT pg_advisory_lock(%s)", (self.KEY,))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._conn is not None
        await self._conn.close()

    async def passes(self, tx: Tx) -> None:
        await tx.scalar("SELECT pg_advisory_xact_lock_shared(?) IS NULL", (self.KEY,))

    async def waited_by(self, units: int) -> None:
        """Until `units` units wait at the gate (each inside its open transaction)."""
        assert self._conn is not None
        for _ in range(HANG * 100):
            cur = await self._conn.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                                           "objid = %s AND NOT granted", (self.KEY,))
            row = await cur.fetchone()
            if row is not None and row[0] >= units:
                return
            await asyncio.sleep(0.01)  # a wait for other connections, not a time
        raise AssertionError(f"fewer than {units} units reached the gate")

    async def open(self) -> None:
        assert self._conn is not None
        await self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.KEY,))


async def test_units_of_one_instance_run_side_by_side(core: Core) -> None:
    """Two units are open at the same moment, each on a connection of its own (with one write connection the
    second would never reach the gate)."""
    if core.db.engine == "sqlite":
        pytest.skip("one writer on SQLite")

    def unit(n: int, gate: Gate):  # type: ignore[no-untyped-def]
        async def work(tx: Tx) -> int:
            backend = int(await tx.scalar("SELECT pg_backend_pid()"))
            await tx.write("INSERT INTO ref_counters (year, last) VALUES (?, 1)", (5000 + n,))
            await gate.passes(tx)  # passes once the test opens it, after every unit is in its transaction
            return backend

        return work

    async with Gate(core) as gate:
        running = [asyncio.create_task(core.db.run(unit(n, gate))) for n in range(2)]
        await gate.waited_by(2)
        await gate.open()
        backends = await asyncio.gather(*running)
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

    async def action(tx: Tx) -> None:
        row = await case_store.find_by_ref(tx, case.ref, lock=True)
        assert row is not None
        await gate.passes(tx)  # holding the case's row lock

    async def referencing(tx: Tx) -> None:
        await tx.execute("INSERT INTO inbound_requests (key, case_id, at) VALUES (?, ?, ?)",
                         ("fk-while-locked", case.id, "2026-11-23T10:00:00+00:00"))

    async with Gate(core) as gate:
        acting = asyncio.create_task(core.db.run(action))
        await gate.waited_by(1)
        await asyncio.wait_for(core.db.run(referencing), HANG)  # a hang: the insert waited for the action's lock
        assert not acting.done()
        await gate.open()
        await acting


def _crossing(runs: dict[str, int], gate: Gate, name: str, first: int, second: int) -> Work[None]:
    """A unit that updates one counter row, then (on its first run, once the other unit holds the other row) the
    other: two of them crossing deadlock."""
    async def work(tx: Tx) -> None:
        runs[name] += 1
        await tx.execute("UPDATE ref_counters SET last = last + 1 WHERE year = ?", (first,))
        if runs[name] == 1:
            await gate.passes(tx)  # opened once both hold their first row
        await tx.execute("UPDATE ref_counters SET last = last + 1 WHERE year = ?", (second,))

    return work


async def _cross(core: Core, runs: dict[str, int], *, retry: bool) -> list[Any]:
    async with Gate(core) as gate:
        crossing = asyncio.gather(core.db.run(_crossing(runs, gate, "a", 6001, 6002), retry=retry),
                                  core.db.run(_crossing(runs, gate, "b", 6002, 6001), retry=retry),
                                  return_exceptions=True)
        await gate.waited_by(2)
        await gate.open()
        return list(await crossing)


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
    assert await _cross(core, runs, retry=True) == [None, None]
    assert sorted(runs.values()) == [1, 2]  # the victim ran twice
    assert await _counters(core) == [2, 2]  # each unit's two updates, once


async def test_a_unit_that_did_not_opt_in_fails_on_a_deadlock(core: Core) -> None:
    """Without `retry` (a unit whose closure changes Python state, e.g. the dispatcher's claim) the deadlock is
    the caller's: one unit fails, nothing of it stored."""
    if core.db.engine == "sqlite":
        pytest.skip("one writer on SQLite: no deadlock")
    await core.db.run(lambda tx: tx.execute("INSERT INTO ref_counters (year, last) VALUES (6001, 0), (6002, 0)"))
    runs = {"a": 0, "b": 0}
    results = await _cross(core, runs, retry=False)
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
    writers = core.db._writers  # type: ignore[attr-defined]

    def busy(n: int, gate: Gate) -> Work[None]:
        async def work(tx: Tx) -> None:
            await tx.execute("SELECT 1")
            await gate.passes(tx)  # the pool stays busy until the test opens the gate
            order.append(f"busy{n}")
        return work

    async def later(tx: Tx) -> None:
        order.append("later")

    async def hop() -> None:
        async with core.db.transaction() as tx:
            await tx.execute("SELECT 1")
            order.append("transaction")

    async with Gate(core) as gate:
        busy_units = [asyncio.create_task(core.db.run(busy(n, gate))) for n in range(WRITERS)]
        await gate.waited_by(WRITERS)  # every connection is in a unit's transaction
        hopping = asyncio.create_task(hop())
        assert await turns_until(lambda: not writers._open.is_set())  # the hop form gathers the pool
        later_units = [asyncio.create_task(core.db.run(later)) for _ in range(WRITERS)]
        await turns_until(lambda: False, 20)  # the later units ask for a connection, and wait
        assert not any(t.done() for t in [*busy_units, hopping, *later_units])
        await gate.open()
        await asyncio.gather(*busy_units, hopping, *later_units)
    assert order[WRITERS:] == ["transaction", *["later"] * WRITERS], order


async def _written(core: Core) -> list[int]:
    async def read(tx: Tx) -> list[int]:
        return [r["year"] for r in await tx.fetchall("SELECT year FROM ref_counters WHERE year >= 7000")]

    return await core.db.run_read(read)


INSIDE = {  # what a unit may not begin from inside itself: each would write 7002
    "another unit": lambda core: core.db.run(lambda tx: tx.write("INSERT INTO ref_counters VALUES (7002, 1)")),
    "a read": lambda core: core.db.run_read(lambda tx: tx.fetchall("SELECT 1")),
    "a write aside": lambda core: core.db.run_aside(lambda tx: tx.write("INSERT INTO ref_counters VALUES (7002, 1)")),
}


async def _inside_hop(core: Core) -> None:
    async with core.db.transaction() as tx:
        await tx.write("INSERT INTO ref_counters VALUES (7002, 1)")


@pytest.mark.parametrize("waits_on", ["sleep(0)", "a timer", *INSIDE, "the hop form"])
async def test_a_unit_that_awaits_anything_but_the_store_is_refused_and_rolled_back(core: Core, waits_on: str
                                                                                  ) -> None:
    """The rule of a unit of work (`bot.store.tx.drive` on the thread, `bot.store.pgunit.trampoline` on the
    event loop): it may await its store, nothing else; what it wrote before is rolled back, and nothing it tried to
    begin meanwhile (another unit, a read, a write aside, a hop-form transaction) is begun."""
    if waits_on == "the hop form" and core.db.engine == "sqlite":
        pytest.skip("the hop form's lock needs an event loop: SQLite's database thread has none")

    async def work(tx: Tx) -> None:
        await tx.write("INSERT INTO ref_counters (year, last) VALUES (7001, 1)")
        if waits_on == "sleep(0)":
            await asyncio.sleep(0)
        elif waits_on == "a timer":
            await asyncio.sleep(0.001)
        elif waits_on == "the hop form":
            await _inside_hop(core)
        else:
            await INSIDE[waits_on](core)
        await tx.write("INSERT INTO ref_counters (year, last) VALUES (7003, 1)")

    # on SQLite's database thread there is no event loop (RuntimeError); on the event loop it is refused
    refused = UnitOfWorkError if core.db.engine == "postgresql" else (UnitOfWorkError, RuntimeError)
    with pytest.raises(refused):
        await core.db.run(work)
    await core.db.run(lambda tx: tx.write("INSERT INTO ref_counters (year, last) VALUES (7004, 1)"))
    for _ in range(10):  # anything begun anyway would have committed by now (its own task, or a thread)
        await core.db.run_read(lambda tx: tx.fetchall("SELECT 1"))
    assert await _written(core) == [7004]  # the connection is clean, nothing of the refused unit nor begun by it


async def test_a_unit_may_catch_a_failed_statement_and_go_on(core: Core) -> None:
    """A statement's error is raised where the unit awaited it (as on the thread); a unit that catches it and
    rolls back to a savepoint goes on."""
    async def work(tx: Tx) -> str:
        await tx.execute("SAVEPOINT s")
        try:
            await tx.execute("INSERT INTO no_such_table VALUES (1)")
        except Exception:
            await tx.execute("ROLLBACK TO SAVEPOINT s")
        await tx.write("INSERT INTO ref_counters (year, last) VALUES (7005, 1)")
        return "done"

    assert await core.db.run(work) == "done"
    assert await _written(core) == [7005]


@pytest.mark.parametrize("catches", [False, True])
async def test_a_unit_whose_caller_gives_up_mid_way_is_rolled_back(core: Core, catches: bool) -> None:
    """Cancelled while its statement runs on the server: the statement is answered, the unit's next call on the
    store raises CancelledError in it, and the transaction is rolled back, never left open."""
    if core.db.engine == "sqlite":
        pytest.skip("a unit on SQLite runs in one call on the database thread: it cannot be stopped mid-way")
    writers = core.db._writers  # type: ignore[attr-defined]
    reached: list[str] = []

    async def work(tx: Tx) -> None:
        await tx.write("INSERT INTO ref_counters (year, last) VALUES (7006, 1)")
        await gate.passes(tx)
        reached.append("after the gate")
        try:
            await tx.write("INSERT INTO ref_counters (year, last) VALUES (7007, 1)")
        except asyncio.CancelledError:
            if not catches:
                raise
            return  # caught, and returned as if it had ended: still rolled back
        reached.append("after the write")

    async with Gate(core) as gate:
        running = asyncio.create_task(core.db.run(work))
        await gate.waited_by(1)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        await gate.open()
        for _ in range(HANG * 100):
            if writers._idle.qsize() == WRITERS:  # its connection is back in the pool
                break
            await asyncio.sleep(0.01)  # a wait for the server, not a time
    assert reached == ["after the gate"]
    assert await _written(core) == []
    await core.db.run(lambda tx: tx.write("INSERT INTO ref_counters (year, last) VALUES (7008, 1)"))
    assert await _written(core) == [7008]


async def test_close_waits_for_the_units_begun(core: Core) -> None:
    """A unit whose caller has gone (shutdown cancels the background tasks, then closes the store) still ends,
    committed, before `close` closes its connection."""
    if core.db.engine == "sqlite":
        pytest.skip("a unit on SQLite runs in one call on the database thread, which close() waits for")
    db = PostgresDatabase(core.db._url)  # type: ignore[attr-defined]
    await db.open()
    async with Gate(core) as gate:
        async def work(tx: Tx) -> None:
            await gate.passes(tx)
            await tx.write("INSERT INTO ref_counters (year, last) VALUES (7010, 1)")

        running = asyncio.create_task(db.run(work))
        await gate.waited_by(1)
        closing = asyncio.create_task(db.close())
        await turns_until(lambda: False, 20)
        assert not closing.done()  # it waits for the unit
        await gate.open()
        await asyncio.wait_for(closing, HANG)
        await running
    assert await _written(core) == [7010]


async def test_a_connection_the_server_closed_is_replaced(core: Core) -> None:
    """A write connection whose backend the server ended (a restart, a fail-over) fails the unit that finds it so,
    once, and is then replaced: it is not handed out again, failing every fourth unit until a restart."""
    if core.db.engine == "sqlite":
        pytest.skip("no server on SQLite")
    db = PostgresDatabase(core.db._url, writers=2)  # type: ignore[attr-defined]
    await db.open()
    try:
        pid = "SELECT pg_backend_pid()"
        backends = {int(await db.run(lambda tx: tx.scalar(pid))) for _ in range(2)}  # in turn: both connections
        assert len(backends) == 2
        async with await psycopg.AsyncConnection.connect(core.db._url, autocommit=True) as admin:  # type: ignore
            for backend in backends:
                await admin.execute("SELECT pg_terminate_backend(%s, 5000)", (backend,))
        outcomes = await asyncio.gather(*(db.run(lambda tx: tx.scalar(pid)) for _ in range(8)),
                                        return_exceptions=True)
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(failed) <= 2, outcomes  # each closed connection fails at most the one unit that found it so
        later = [await db.run(lambda tx: tx.scalar(pid)) for _ in range(6)]
        assert not backends & set(later)  # fresh connections
    finally:
        await db.close()


async def _terminate(url: str, backend: int) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s, 5000)", (backend,))


async def test_the_hop_form_and_the_write_aside_replace_a_connection_the_server_closed(core: Core) -> None:
    """The hop form's connection (on its thread) and `run_aside`'s (on the loop, outside the pool) whose backends
    the server ended fail the one call that finds them so, and are then replaced, not failing every call until a
    restart (fails without the replacement: the second call of each failed too)."""
    if core.db.engine == "sqlite":
        pytest.skip("no server on SQLite")
    db = PostgresDatabase(core.db._url, writers=2)  # type: ignore[attr-defined]
    await db.open()
    pid = "SELECT pg_backend_pid()"
    try:
        async with db.transaction() as tx:
            hop = int(await tx.scalar(pid))
        aside = int(await db.run_aside(lambda tx: tx.scalar(pid)))
        for backend in (hop, aside):
            await _terminate(core.db._url, backend)  # type: ignore[attr-defined]
        with pytest.raises(psycopg.Error):
            async with db.transaction() as tx:
                await tx.scalar(pid)
        with pytest.raises(psycopg.Error):
            await db.run_aside(lambda tx: tx.scalar(pid))
        async with db.transaction() as tx:
            assert int(await tx.scalar(pid)) != hop
        assert int(await db.run_aside(lambda tx: tx.scalar(pid))) != aside
    finally:
        await db.close()
