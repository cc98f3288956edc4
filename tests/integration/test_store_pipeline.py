"""A unit of work on PostgreSQL is pipelined (issue #21 item 1, #22 item 8): the statements whose answer nobody
reads (`Tx.write`) go to the server without waiting, so an error in one of them is raised later, at the next
answer read or at the commit. Whatever the engine, and wherever the error surfaces, the whole unit is rolled
back, the error is the statement's own, and the connection serves the next unit."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from bot import logchain
from bot.core import Core
from bot.errors import StoreFull
from bot.store import Tx
from bot.store import cases as case_store
from bot.store.pgunit import AsyncPgTx
from bot.store.postgres import WRITERS, PgTx
from tests.timekit import form

INSERT = "INSERT INTO ref_counters (year, last) VALUES (?, ?)"


async def counters(tx: Tx) -> list[tuple[int, int]]:
    return [(int(r["year"]), int(r["last"])) for r in await tx.fetchall(
        "SELECT year, last FROM ref_counters WHERE year >= 3000 ORDER BY year")]


async def test_writes_and_reads_in_one_unit_see_each_other(core: Core) -> None:
    async def work(tx: Tx) -> tuple[list[tuple[int, int]], int]:
        for year in (3001, 3002, 3003):
            await tx.write(INSERT, (year, year - 3000))
        seen = await counters(tx)
        changed = await tx.execute("UPDATE ref_counters SET last = last + 10 WHERE year >= ?", (3002,))
        await tx.write("UPDATE ref_counters SET last = last + 100 WHERE year = ?", (3001,))
        return seen, changed

    seen, changed = await core.db.run(work)
    assert seen == [(3001, 1), (3002, 2), (3003, 3)]
    assert changed == 2  # a row count is the real one, also when the statements before it were not waited for
    assert await core.db.run_read(counters) == [(3001, 101), (3002, 12), (3003, 13)]


@pytest.mark.parametrize("where", ["then_read", "last", "then_fails_in_python"])
async def test_a_failed_write_rolls_the_whole_unit_back(core: Core, where: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    await core.db.run(lambda tx: tx.write(INSERT, (3001, 1)))

    async def work(tx: Tx) -> None:
        await tx.write(INSERT, (3002, 2))
        if where == "then_fails_in_python":  # sent, not yet answered, when the unit fails
            raise ValueError("the unit's own error")
        await tx.write(INSERT, (3001, 9))  # the primary key is taken: this statement fails
        if where == "then_read":
            await counters(tx)

    with pytest.raises(Exception) as raised:
        await core.db.run(work)
    if where == "then_fails_in_python":
        assert isinstance(raised.value, ValueError)
    else:  # the statement's own error, wherever it surfaced (never a full store, never "pipeline aborted")
        assert "unique" in str(raised.value).lower() or "duplicate" in str(raised.value).lower()
        assert not isinstance(raised.value, StoreFull)
    assert await core.db.run_read(counters) == [(3001, 1)]
    # no second error logged by the driver on the way out (its text may quote the values written)
    assert not [r for r in caplog.records if r.name.startswith("psycopg")]
    # the connection is clean: the next unit commits
    await core.db.run(lambda tx: tx.write(INSERT, (3004, 4)))
    assert await core.db.run_read(counters) == [(3001, 1), (3004, 4)]


async def test_a_units_writes_share_one_cursor(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """psycopg makes a cursor per `Connection.execute`; the writes of a unit, whose answers nobody reads, share one
    (the instance's CPU per filing, issue #22 item 8): four writes make one cursor at most (on the event loop, the
    unit's BEGIN made it already)."""
    if core.db.engine == "sqlite":
        pytest.skip("no cursors of psycopg on SQLite")
    made: list[object] = []
    real = psycopg.AsyncConnection.cursor  # a unit of work runs on the event loop (bot.store.pgunit)

    def counting(self: psycopg.AsyncConnection[Any], *args: Any, **kwargs: Any) -> Any:
        made.append(self)
        return real(self, *args, **kwargs)

    async def work(tx: Tx) -> int:
        made.clear()
        for year in (3001, 3002, 3003, 3004):
            await tx.write(INSERT, (year, 1))
        return sum(1 for conn in made if conn is tx._conn)  # other units of the instance may run meanwhile

    monkeypatch.setattr(psycopg.AsyncConnection, "cursor", counting)
    assert await core.db.run(work) <= 1
    monkeypatch.undo()
    assert await core.db.run_read(counters) == [(3001, 1), (3002, 1), (3003, 1), (3004, 1)]


async def test_a_read_unit_and_the_hop_forms_take_writes_too(core: Core) -> None:
    async with core.db.transaction() as tx:
        await tx.write(INSERT, (3005, 5))
    async with core.db.read() as tx:
        assert await counters(tx) == [(3005, 5)]


async def test_a_filing_waits_for_few_answers(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """A filing waits for the store's answer only where it reads one: the claim of its idempotency key, its
    number, the stored case, the audit log's head, what the ladder and the reminders read and the case's
    statistics fact (bot/store/rollups.py). Everything else it writes rides along (on PostgreSQL, in the same
    trip as the next of those reads, or the commit)."""
    waited: list[str] = []
    sent: list[str] = []
    for cls in (Tx, PgTx):
        run, write = cls._run, cls._write

        def spy_run(self: Tx, sql: str, params: Any, want: str, _run: Any = run) -> Any:
            if "-write" in threading.current_thread().name:  # the filing's unit, not a background read
                waited.append(sql)
            return _run(self, sql, params, want)

        def spy_write(self: Tx, sql: str, params: Any, _write: Any = write) -> None:
            if "-write" in threading.current_thread().name:
                sent.append(sql)
            _write(self, sql, params)

        monkeypatch.setattr(cls, "_run", spy_run)
        monkeypatch.setattr(cls, "_write", spy_write)
    run_a, write_a = AsyncPgTx._run, AsyncPgTx._write  # PostgreSQL's write units, on the event loop

    writing = core.db._writers.conns if core.db.engine == "postgresql" else []  # type: ignore[attr-defined]

    async def spy_run_a(self: AsyncPgTx, sql: str, params: Any, want: str) -> Any:
        if self._conn in writing:  # a write unit, not a background read
            waited.append(sql)
        return await run_a(self, sql, params, want)

    async def spy_write_a(self: AsyncPgTx, sql: str, params: Any) -> None:
        if self._conn in writing:
            sent.append(sql)
        await write_a(self, sql, params)

    monkeypatch.setattr(AsyncPgTx, "_run", spy_run_a)
    monkeypatch.setattr(AsyncPgTx, "_write", spy_write_a)
    await core.cases.request("maria.sand", form(), idempotency_key="k1")
    assert len(waited) <= 9, waited  # 19 before the filing wrote without waiting and read back what it wrote
    assert len(sent) >= 5  # the idempotency key's case, the audit row, the receipt, the timers, the facts


async def test_a_filing_on_postgresql_is_three_trips(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client waits for the server three times a filing: the claim of its idempotency key, the stored case
    (under its provisional reference), and the commit. The locks filings take turns in (the year's counter row,
    the audit chain's lock, the statistics' hour) are taken in the last trip only, with the commit: no wait of
    the client, and none of its Python, inside them (they were taken in the second trip, and held across the
    instance's Python until the commit: 4.5 of the 5.5 ms each filing held them)."""
    if core.db.engine == "sqlite":
        pytest.skip("no trips on SQLite: in process")
    filing: list[Tx] = []
    send_case = case_store.send_case

    async def spy(tx: Tx, **fields: Any) -> Any:
        filing.append(tx)
        return await send_case(tx, **fields)

    statements: dict[int, list[str]] = {}
    trip_of: dict[str, int] = {}  # a hot lock's statement: the trips the client had made when it was sent
    hot_order: list[str] = []

    def counted(send: Any) -> Any:
        async def sent(self: AsyncPgTx, sql: str, *args: Any) -> Any:
            statements.setdefault(id(self), []).append(" ".join(sql.split()[:3]))
            for hot in ("ref_counters", "pg_advisory_xact_lock", "stats_hours"):
                if hot in sql:
                    trip_of[hot] = self.trips
                    hot_order.append(hot)
            return await send(self, sql, *args)

        return sent

    for name in ("_run", "_write", "_soon", "_many"):  # a write unit runs on the event loop (bot.store.pgunit)
        monkeypatch.setattr(AsyncPgTx, name, counted(getattr(AsyncPgTx, name)))
    monkeypatch.setattr(case_store, "send_case", spy)
    case = await core.cases.request("maria.sand", form(), idempotency_key="k1")
    [tx] = filing
    assert isinstance(tx, AsyncPgTx)
    assert tx.trips == 3
    assert trip_of == {"ref_counters": 2, "pg_advisory_xact_lock": 2, "stats_hours": 2}  # sent with the commit
    # in the lock order every unit keeps: a case action takes the chain's lock before the rollups' rows too
    assert hot_order == ["ref_counters", "pg_advisory_xact_lock", "stats_hours"]
    # the key's claim; the case and the key's case in one; the receipt, the awaited item, two timers, the
    # statistics' fact; the number and the reference on the case and its copies in one; the audit lock and row
    # (hashed by the server); the statistics' hour
    assert len(statements[id(tx)]) == 11, statements[id(tx)]
    assert case.ref == "GFI-2026-0001"
    again = await core.cases.request("maria.sand", form(), idempotency_key="k1")  # a retry: the same case
    assert again.ref == case.ref
    assert [(s.log, s.broken) for s in await logchain.verify(core.db)] == [("audit", None), ("case_reads", None)]


async def test_an_answer_read_later_is_the_statement_s_own(core: Core) -> None:
    """`fetchone_soon` and `insert_soon` (`bot.store.tx.Soon`): sent at once, read later inside the unit with
    `answer`, or as `value` after the commit; in a unit of work, in the hop form, and on both engines."""
    runs = ("INSERT INTO distribution_runs (unit_id, slot_at, ran_at, case_count, recipients) "
            "VALUES (?, ?, '2026-11-23T10:00', 0, '[]')")
    read = "SELECT unit_id FROM distribution_runs WHERE slot_at = ?"

    async def work(tx: Tx) -> tuple[Any, Any, Any]:
        first = await tx.insert_soon(runs, ("soc-norr", "s1"))
        second = await tx.insert_soon(runs, ("soc-norr", "s2"))
        row = await tx.fetchone_soon(read, ("s2",))
        return first, await tx.answer(second), await tx.answer(row)

    first, second_id, row = await core.db.run(work)
    assert second_id == first.value + 1
    assert row == {"unit_id": "soc-norr"}
    async with core.db.transaction() as tx:
        soon = await tx.fetchone_soon(read, ("s1",))
        assert await tx.answer(soon) == {"unit_id": "soc-norr"}
        assert soon.value == {"unit_id": "soc-norr"}


async def test_a_filings_statements_are_prepared_on_every_write_connection(core: Core) -> None:
    """psycopg prepares a statement on the server after it has run a few times on one connection (its
    `prepare_threshold`), in pipeline mode too: after some filings, each write connection of the pool runs the
    filing's statements from the plan it made once (parsed and planned once, not at every filing)."""
    if core.db.engine == "sqlite":
        pytest.skip("no server-side statements on SQLite")
    for n in range(40):  # the pool hands its connections out in turn: each has filed several times
        await core.cases.request("maria.sand", form(), idempotency_key=f"k{n}")

    async def prepared(tx: Tx) -> list[str]:
        return [str(r["statement"]) for r in await tx.fetchall("SELECT statement FROM pg_prepared_statements")]

    seen = [await core.db.run(prepared) for _ in range(WRITERS)]
    for statements in seen:
        assert any("INSERT INTO ref_counters" in s for s in statements), statements
        assert any(s.startswith("INSERT INTO audit") for s in statements), statements
        assert any(s.startswith("INSERT INTO outbox") for s in statements), statements


async def test_a_filing_s_unread_statements_leave_together(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """The statements whose answer is not read yet are queued in the pipeline and sent with the next answer read or
    the commit (`bot.store.pgqueue`): a filing's unit talks to the server (psycopg's `_communicate_gen`: a poll, a
    flush, a wait) three times, its three trips, where it did at every statement (14) before. psycopg still
    writes each statement to the socket on its own; this counts the talking, not the writes."""
    if core.db.engine == "sqlite":
        pytest.skip("no pipeline on SQLite")
    from bot.store import pgqueue

    assert pgqueue.QUEUES  # the psycopg pinned in constraints.txt: an upgrade that breaks the queue fails here
    talks: list[int] = []
    communicate = psycopg.AsyncPipeline._communicate_gen

    def counted(self: Any) -> Any:
        talks.append(1)
        return communicate(self)

    await core.cases.request("maria.sand", form(), idempotency_key="k0")  # the first filing's one-off reads
    monkeypatch.setattr(psycopg.AsyncPipeline, "_communicate_gen", counted)
    case = await core.cases.request("maria.sand", form(), idempotency_key="k1")
    assert len(talks) == 3, len(talks)
    assert case.ref == "GFI-2026-0002"


@pytest.mark.parametrize("how", ["scalar", "write"])
@pytest.mark.parametrize("queues", [True, False])
async def test_a_statement_due_for_preparing_in_an_aborted_pipeline_runs_again(
        core: Core, monkeypatch: pytest.MonkeyPatch, queues: bool, how: str) -> None:
    """psycopg prepares a statement at its fifth run on a connection (`prepare_threshold`). When that run falls in a
    unit whose pipeline an earlier statement aborted, the server never parsed it: the connection must not take it
    for prepared, or every later unit running it there fails ("prepared statement ... does not exist"). psycopg
    sees to it (its `PrepareManager.validate` drops a name whose answer is not a success, and a ROLLBACK clears
    them all), with pgqueue's queuing as without; this guards it (with `validate` keeping every name, the `write`
    cases fail so)."""
    if core.db.engine == "sqlite":
        pytest.skip("no prepared statements of psycopg on SQLite")
    from bot.store import pgqueue
    from bot.store.pgunit import apply

    monkeypatch.setattr(pgqueue, "QUEUES", queues)
    await core.db.run(lambda tx: tx.write(INSERT, (3001, 1)))
    conn = core.db._writers.conns[0]  # type: ignore[attr-defined]
    select = "SELECT last FROM ref_counters WHERE year = ?"

    async def read(tx: Tx) -> Any:
        if how == "write":
            await tx.write(select, (3001,))
            return 1
        return await tx.scalar(select, (3001,))

    threshold = conn.prepare_threshold
    assert threshold is not None
    for _ in range(threshold - 1):
        assert await apply(conn, "BEGIN", read, lambda: False) == (1, [])

    async def aborted(tx: Tx) -> Any:
        await tx.write(INSERT, (3001, 9))  # the primary key is taken: the pipeline aborts here
        return await read(tx)  # its run due for preparing, skipped by the server

    with pytest.raises(psycopg.Error):
        await apply(conn, "BEGIN", aborted, lambda: False)
    for _ in range(threshold + 2):  # the connection serves the statement again
        assert await apply(conn, "BEGIN", read, lambda: False) == (1, [])
    # prepared by now, and what psycopg takes for prepared is what the server has
    cursor = await conn.execute("SELECT name, statement FROM pg_prepared_statements")
    on_server = {str(name): str(statement) for name, statement in await cursor.fetchall()}
    assert "SELECT last FROM ref_counters WHERE year = $1" in on_server.values()
    assert {name.decode() for name in conn._prepared._names.values()} <= set(on_server)
