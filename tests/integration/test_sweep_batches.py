"""The sweep fires many due items in batches, planned before and applied in short transactions: each item once,
even when a sweep is interrupted and repeated, runs beside another, or meets an item answered meanwhile."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot import fires
from bot.cases.models import Case
from bot.clock import FrozenClock
from bot.core import Core
from bot.ladder import climb as climbing
from bot.ladder import scheduled
from bot.ladder.scheduled import sweep_due
from tests.conftest import local
from tests.timekit import assigned_case, describe_threads

ITEMS = 120
BATCH = 25  # smaller than the bot's: several batches out of a few cases


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduled, "BATCH", BATCH)


class Crash(BaseException):
    """The process stops (not an error the sweep handles)."""


async def clone_assigned_cases(core: Core, count: int) -> None:
    """`count` more assigned cases like the first one, each with its open acknowledgement item (inserted row by
    row in one transaction, on either engine)."""
    async with core.db.transaction() as tx:
        case = await tx.fetchone("SELECT * FROM cases ORDER BY id LIMIT 1")
        assert case is not None
        assignees = await tx.fetchall("SELECT * FROM case_assignees WHERE case_id = ?", (case["id"],))
        items = await tx.fetchall("SELECT * FROM awaiting WHERE case_id = ? AND resolved_at IS NULL", (case["id"],))

        async def insert(table: str, row: dict[str, Any]) -> int:
            cols = [c for c in row if c != "id"]
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            if "id" not in row:  # no id of its own
                return await tx.execute(sql, [row[c] for c in cols])
            return await tx.insert(sql, [row[c] for c in cols])

        for n in range(2, count + 2):
            ref = f"GFI-2025-{n:04d}"
            case_id = await insert("cases", {**case, "ref": ref})
            for row in assignees:
                await insert("case_assignees", {**row, "case_id": case_id})
            for row in items:
                await insert("awaiting", {**row, "case_id": case_id, "case_ref": ref})


async def due_cases(core: Core, clock: FrozenClock, count: int) -> Case:
    """`count` assigned cases (the first filed as usual, the rest cloned), each acknowledgement due, and the clock
    past it (Tue 24 Nov 10:30): a sweep alerts the distributor of each. Returns the first."""
    first = await assigned_case(core)  # acknowledgement due Tue 24 Nov 10:00
    await clone_assigned_cases(core, count - 1)
    clock.set(local("2026-11-24T10:30"))
    return first


def before_first_apply(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], Awaitable[object]]) -> None:
    """A batch is planned, and before its first apply `meanwhile` runs (once): something another transaction
    does between the sweep's read and its write."""
    apply = scheduled._apply
    ran = False

    async def first_meanwhile(*args: Any, **kwargs: Any) -> None:
        nonlocal ran
        if not ran:
            ran = True
            await meanwhile()
        await apply(*args, **kwargs)

    monkeypatch.setattr(scheduled, "_apply", first_meanwhile)


async def escalations_per_case(core: Core) -> dict[str, int]:
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT case_ref, COUNT(*) AS n FROM outbox WHERE template = 'escalation' "
                                 "GROUP BY case_ref")
    return {r["case_ref"]: int(r["n"]) for r in rows}


async def test_many_due_items_fire_once_each_across_batches(core: Core, clock: FrozenClock) -> None:
    await due_cases(core, clock, ITEMS)  # every acknowledgement is due: the distributor is alerted
    assert await sweep_due(core) == ITEMS
    assert await sweep_due(core) == 0  # repeated: nothing more
    sent = await escalations_per_case(core)
    assert len(sent) == ITEMS and set(sent.values()) == {1}
    async with core.db.read() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM awaiting WHERE rung = 1 AND resolved_at IS NULL") == ITEMS
        assert await tx.scalar("SELECT COUNT(*) FROM escalation_facts WHERE rung = 1") == ITEMS
        assert await tx.scalar("SELECT SUM(n) FROM stats_escalations WHERE rung = 1") == ITEMS  # the rollup too
        # the requester is told too, once per case
        assert await tx.scalar("SELECT COUNT(*) FROM outbox WHERE template = 'request_escalated'") == ITEMS


async def test_a_sweep_stopped_between_batches_loses_nothing_and_repeats_nothing(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await due_cases(core, clock, 3 * BATCH)
    apply = fires.apply
    calls = 0

    async def crashing(*args: Any, **kwargs: Any) -> list[fires.Fire]:
        nonlocal calls
        calls += 1
        done = await apply(*args, **kwargs)  # the second batch's writes are made, then the process stops
        if calls == 2:
            raise Crash
        return done

    monkeypatch.setattr(fires, "apply", crashing)
    with pytest.raises(Crash):
        await sweep_due(core)
    assert len(await escalations_per_case(core)) == BATCH  # the first batch committed, the second not at all
    monkeypatch.setattr(fires, "apply", apply)
    assert await sweep_due(core) == 2 * BATCH
    sent = await escalations_per_case(core)
    assert len(sent) == 3 * BATCH and set(sent.values()) == {1}


async def test_an_item_answered_after_the_batch_was_read_is_left_alone(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await due_cases(core, clock, 10)
    # planned, not yet applied: the assignee acknowledges meanwhile
    before_first_apply(monkeypatch, lambda: core.cases.acknowledge("linnea.fors", first.ref))
    await sweep_due(core)
    sent = await escalations_per_case(core)
    assert first.ref not in sent and len(sent) == 9 and set(sent.values()) == {1}


async def test_two_sweeps_at_once_fire_each_item_once(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await due_cases(core, clock, 2 * BATCH)
    before_first_apply(monkeypatch, lambda: sweep_due(core))  # another sweep fires everything meanwhile
    await sweep_due(core)
    sent = await escalations_per_case(core)
    assert len(sent) == 2 * BATCH and set(sent.values()) == {1}
    async with core.db.read() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM escalation_facts") == 2 * BATCH
        assert await tx.scalar("SELECT MAX(rung) FROM awaiting") == 1


async def test_a_broken_item_is_postponed_and_the_rest_of_its_batch_fires(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await due_cases(core, clock, 10)
    plan = climbing.plan
    async with core.db.transaction() as tx:
        broken = await tx.scalar("SELECT id FROM awaiting WHERE case_ref = 'GFI-2025-0004'")

    def broken_plan(service: Any, climb: climbing.Climb, *args: Any, **kwargs: Any) -> fires.Fire:
        if climb.item.id == broken:
            raise RuntimeError("broken item")
        return plan(service, climb, *args, **kwargs)

    monkeypatch.setattr(climbing, "plan", broken_plan)
    assert await sweep_due(core) == 10
    sent = await escalations_per_case(core)
    assert len(sent) == 9 and set(sent.values()) == {1} and "GFI-2025-0004" not in sent
    async with core.db.transaction() as tx:
        due_at = await tx.scalar("SELECT due_at FROM awaiting WHERE id = ?", (broken,))
    assert due_at == (clock.now() + scheduled.RETRY_AFTER).isoformat()


async def test_a_batch_that_fails_is_fired_again_one_item_at_a_time(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await due_cases(core, clock, 10)
    apply = fires.apply
    failed = False

    async def failing_once(*args: Any, **kwargs: Any) -> list[fires.Fire]:
        nonlocal failed
        done = await apply(*args, **kwargs)
        if not failed:  # the batch's writes are made, then it fails: all of it is rolled back
            failed = True
            raise RuntimeError("batch failed")
        return done

    monkeypatch.setattr(fires, "apply", failing_once)
    assert await sweep_due(core) == 10
    sent = await escalations_per_case(core)
    assert len(sent) == 10 and set(sent.values()) == {1}


async def test_an_expired_consent_in_the_same_batch_stops_the_climb_of_its_case(
    core: Core, clock: FrozenClock
) -> None:
    case = await assigned_case(core)  # acknowledgement due Tue 24 Nov 10:00
    other = await assigned_case(core)
    async with core.db.transaction() as tx:  # the first case's consent ran out on Monday: expired Tue 00:00
        await tx.execute("UPDATE cases SET consent_valid_until = '2026-11-23' WHERE id = ?", (case.id,))
        await tx.execute("UPDATE timers SET key = '2026-11-23', due_at = ? WHERE case_id = ? AND kind = ?",
                         (local("2026-11-24T00:00").isoformat(), case.id, "consent_expired"))
    clock.set(local("2026-11-24T10:30"))
    await sweep_due(core)
    sent = await escalations_per_case(core)
    assert sent == {other.ref: 1}  # the paused case's item was resolved before its turn in the batch


async def test_nothing_is_rendered_on_a_database_thread(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await due_cases(core, clock, 5)
    threads = describe_threads(monkeypatch)
    assert await sweep_due(core) == 5
    assert len(threads) >= 10  # an escalation and the requester's notice per item
    assert not [t for t in threads if t.startswith(("gfi-db", "gfi-pg"))], threads



async def test_an_item_whose_case_changed_after_the_batch_was_read_is_planned_again(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the plan and the apply the case changed (a withdrawn consent changes who may be told what): its
    item is not applied as planned, but read and planned again from the case as it is, and fires once."""
    first = await due_cases(core, clock, 10)
    applied = fires.apply
    live_refs: list[list[str]] = []

    async def change_first() -> None:  # the case changes meanwhile (its item stays open)
        async with core.db.transaction() as tx:
            await tx.execute("UPDATE cases SET version = version + 1 WHERE ref = ?", (first.ref,))

    async def recorded(*args: Any, **kwargs: Any) -> list[fires.Fire]:
        live = await applied(*args, **kwargs)
        live_refs.append([f.case_ref for f in live])
        return live

    before_first_apply(monkeypatch, change_first)
    monkeypatch.setattr(fires, "apply", recorded)
    await sweep_due(core)
    assert first.ref not in live_refs[0] and any(first.ref in refs for refs in live_refs[1:])
    sent = await escalations_per_case(core)
    assert len(sent) == 10 and set(sent.values()) == {1}


async def test_a_batch_of_rows_reads_back_as_written_on_either_engine(make_core: Any) -> None:
    """A batch's rows go to the store as one relation (`dialects.rows`: a VALUES list on SQLite, one JSON
    parameter on PostgreSQL): every value comes back as it was, quotes, placeholders, NULLs and big ids included."""
    from bot.store import dialects

    core = await make_core()
    rows = [(1, "it's \"quoted\" \\ and ? and :name and %s", None), (2**40, "Åsa ☃ 名", "x"), (3, "", "-- no comment")]
    source, params = dialects.of(core.db.engine).rows(("bigint", "text", "text"), rows)
    async with core.db.read() as tx:
        found = await tx.fetchall(f"SELECT column1, column2, column3 FROM {source} AS v ORDER BY column1", params)
        assert [(r["column1"], r["column2"], r["column3"]) for r in found] == sorted(rows)
        source, params = dialects.of(core.db.engine).rows(("integer", "integer"), [(True, False)])
        found = await tx.fetchall(f"SELECT column1, column2 FROM {source} AS v", params)  # as parameters are
        assert [(r["column1"], r["column2"]) for r in found] == [(1, 0)]


async def reminders_due_with_three_units(core: Core, clock: FrozenClock) -> Case:
    """A meeting booked with three units' consent (yusuf.kaya of psykiatri a participant), its reminders
    planned, and the clock at the morning when the checklist and the day's reminder are due."""
    from datetime import date

    from tests.timekit import form

    case = await core.cases.request("sofia.grahn", form(
        target_unit="soc-norr", brief="Man, 40 år, alkohol.", consent_scope=["soc-norr", "beroende", "psykiatri"],
        consent_valid_until=date(2027, 2, 1)))
    await core.cases.assign("anna.lind", case.ref, ["maria.sand"])
    await core.cases.acknowledge("maria.sand", case.ref)
    await core.cases.book("maria.sand", case.ref, local("2026-11-30T13:00"), "Rum 3",
                          ["soc-norr", "beroende", "psykiatri"], participants=[(None, "yusuf.kaya")])
    await sweep_due(core)
    clock.set(local("2026-11-30T09:00"))
    return case


async def reminders_told(core: Core) -> list[tuple[str, str]]:
    """(recipient, template) of every reminder queued, in queue order."""
    async with core.db.read() as tx:
        rows = await tx.fetchall("SELECT recipient_id, template FROM outbox WHERE template LIKE 'reminder_%' "
                                 "ORDER BY id")
    return [(r["recipient_id"], r["template"]) for r in rows]


def assert_reminded_once_each_but_yusuf(told: list[tuple[str, str]]) -> None:
    """The participant of the withdrawn unit (psykiatri) is never reminded, everyone else once each."""
    assert told and not [t for t in told if t[0] == "yusuf.kaya"], told
    assert len(told) == len(set(told)), told


async def test_a_reminder_whose_case_changed_after_the_batch_was_read_is_planned_from_the_case_as_it_is(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A due reminder (a timer) was planned, and before its apply the consent for one unit was withdrawn: the
    timer's row is as it was read (the withdrawal leaves it pending), only its case's version changed. It is
    not applied as planned (its participant of that unit was to be told), but planned again from the case as
    it is: the others are reminded once, the unit's participant never (review of #21 item 3)."""
    case = await reminders_due_with_three_units(core, clock)

    async def withdraw() -> None:
        await core.cases.withdraw_consent("sofia.grahn", case.ref, "psykiatri")

    before_first_apply(monkeypatch, withdraw)
    await sweep_due(core)
    assert_reminded_once_each_but_yusuf(await reminders_told(core))
    async with core.db.read() as tx:
        pending = await tx.scalar("SELECT COUNT(*) FROM timers WHERE case_id = ? AND kind IN ('prepare', "
                                  "'meeting_day') AND done_at IS NULL", (case.id,))
    assert pending == 0


async def test_a_case_changed_while_the_batch_waited_on_a_row_lock_rolls_the_batch_back(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL (review of #21 item 3): the timers' update may wait on a row lock (`reminders.sync` of another
    action holds it) and then check the case's version as of before the wait; a withdrawal that committed
    meanwhile changes no row of the batch. The versions are read again after the updates: the batch rolls back
    and each row is fired alone from the case as it is, so the withdrawn unit's participant is never reminded."""
    import psycopg

    from bot.store import timers

    if core.db.engine != "postgresql":
        pytest.skip("SQLite: the batch holds the write lock, no case changes under it")
    case = await reminders_due_with_three_units(core, clock)
    finish_many, ran = timers.finish_many, []

    async def withdrawn_under_the_lock(*args: Any, **kwargs: Any) -> set[int]:
        found = await finish_many(*args, **kwargs)  # checked against the version as read
        if not ran:  # another transaction commits meanwhile, touching no row of the batch
            ran.append(1)
            url = core.settings.database_url
            assert url is not None
            with psycopg.connect(url.get_secret_value(), autocommit=True) as other:
                with other.transaction():  # a connection of its own: it commits while the batch is open
                    other.execute("DELETE FROM meeting_participants WHERE case_id = %s AND person_id = %s",
                                  (case.id, "yusuf.kaya"))
                    other.execute("UPDATE cases SET version = version + 1 WHERE id = %s", (case.id,))
        return found

    monkeypatch.setattr(timers, "finish_many", withdrawn_under_the_lock)
    await sweep_due(core)
    assert ran
    assert_reminded_once_each_but_yusuf(await reminders_told(core))


async def test_a_batch_is_found_once_per_read_on_sqlite_and_in_one_trip_on_postgresql(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep's read (#21 item 3): on SQLite, whose statements are answered at once, the batch (`_DUE`, two
    range scans and a sort) is found by one statement and its rows read by id (finding it in each of six was a
    third of the read); on PostgreSQL the six statements each find it and go together, in one trip."""
    from bot.store import sweep as sweep_store
    from bot.store.pgunit import AsyncPgTx
    from bot.store.tx import Tx

    await due_cases(core, clock, 3)
    found: list[str] = []
    for cls, name in ((Tx, "fetchall"), (Tx, "fetchall_soon"), (AsyncPgTx, "fetchall_soon")):  # PostgreSQL's on
        original = getattr(cls, name)  # the event loop has its own

        def spy(self: Tx, sql: str, *args: Any, _original: Any = original) -> Any:
            found.append(sql)
            return _original(self, sql, *args)

        monkeypatch.setattr(cls, name, spy)
    read = await core.db.run_read(lambda tx: sweep_store.due_batch(tx, clock.now(), 100))
    assert len(read.awaiting) == 3 and len(read.cases) == 3 and len(read.assignees) == 3
    finding = [sql for sql in found if sql.startswith(sweep_store._DUE)]
    assert len(finding) == (1 if core.db.engine == "sqlite" else 6), found


async def test_one_read_serves_several_write_batches(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a read takes READ_BATCHES write batches' rows at once (its fixed cost paid once for them, #21
    item 3; on SQLite one); they are applied BATCH at a time, each batch in a transaction of its own."""
    await due_cases(core, clock, 3 * BATCH)
    monkeypatch.setattr(scheduled, "READ_BATCHES", 3)
    reads: list[int] = []
    applied: list[int] = []
    run_read, apply = core.db.run_read, fires.apply

    async def counted_read(work: Any) -> Any:
        batch = await run_read(work)
        reads.append(len(batch.rows))
        return batch

    async def counted_apply(tx: Any, outbox: Any, planned: list[fires.Fire], *args: Any) -> list[fires.Fire]:
        applied.append(len(planned))
        return await apply(tx, outbox, planned, *args)

    monkeypatch.setattr(core.db, "run_read", counted_read)
    monkeypatch.setattr(fires, "apply", counted_apply)
    assert await sweep_due(core) == 3 * BATCH
    assert reads == ([BATCH] * 3 if core.db.engine == "sqlite" else [3 * BATCH]) + [0] and applied == [BATCH] * 3
    sent = await escalations_per_case(core)
    assert len(sent) == 3 * BATCH and set(sent.values()) == {1}


async def test_an_item_answered_while_an_earlier_batch_of_its_read_is_applied_is_left_alone(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows of a read's later write batches were planned before its earlier batches were applied: one answered
    meanwhile is skipped by its batch's re-check, not fired from the plan (PostgreSQL; on SQLite each batch is
    read after the one before it is applied)."""
    await due_cases(core, clock, 2 * BATCH)
    monkeypatch.setattr(scheduled, "READ_BATCHES", 2)
    async with core.db.read() as tx:
        last = str(await tx.scalar("SELECT case_ref FROM awaiting WHERE resolved_at IS NULL ORDER BY id DESC "
                                   "LIMIT 1"))
    apply = scheduled._apply
    calls = 0

    async def answered_before_the_second(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first batch is committed; the second, planned with it, is not applied yet
            await core.cases.acknowledge("linnea.fors", last)
        await apply(*args, **kwargs)

    monkeypatch.setattr(scheduled, "_apply", answered_before_the_second)
    await sweep_due(core)
    sent = await escalations_per_case(core)
    assert calls == 2 and last not in sent and len(sent) == 2 * BATCH - 1 and set(sent.values()) == {1}
