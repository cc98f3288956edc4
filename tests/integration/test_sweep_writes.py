"""What a sweep's batch costs the store (issue #21 item 3): the index entries each row it writes adds, and on
PostgreSQL a commit that does not wait for the disk, without a message ever leaving before its batch is on disk."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from bot import fires
from bot.clock import FrozenClock
from bot.core import Core
from bot.ladder.scheduled import sweep_due
from tests.integration.test_sweep_batches import due_cases
from tests.timekit import form


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool
    partial: bool


async def indexes(core: Core) -> list[Index]:
    """Every index of the store's tables (the primary keys and unique constraints' included), on either engine."""
    found: list[Index] = []
    async with core.db.read() as tx:
        if core.db.engine == "postgresql":
            rows = await tx.fetchall(
                """SELECT c.relname AS name, t.relname AS tbl, i.indisunique AS uniq, i.indpred IS NOT NULL AS part,
                          (SELECT string_agg(a.attname, ',' ORDER BY k.o) FROM unnest(i.indkey) WITH ORDINALITY
                             AS k(att, o) JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.att)
                             AS cols
                   FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
                   JOIN pg_class AS t ON t.oid = i.indrelid JOIN pg_namespace AS n ON n.oid = t.relnamespace
                   WHERE n.nspname = current_schema()""")
            return [Index(r["name"], r["tbl"], tuple(str(r["cols"]).split(",")), bool(r["uniq"]), bool(r["part"]))
                    for r in rows]
        tables = await tx.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")
        for table in (str(r["name"]) for r in tables):
            for ix in await tx.fetchall(f"PRAGMA index_list('{table}')"):
                cols = await tx.fetchall(f"PRAGMA index_info('{ix['name']}')")
                found.append(Index(str(ix["name"]), table, tuple(str(c["name"]) for c in cols), bool(ix["unique"]),
                                   bool(ix["partial"])))
            pk = [r for r in await tx.fetchall(f"PRAGMA table_info('{table}')") if r["pk"]]
            if len(pk) == 1 and str(pk[0]["type"]).upper() == "INTEGER":  # the rowid: an index of its own
                found.append(Index(f"{table} rowid", table, (str(pk[0]["name"]),), True, False))
    return found


async def test_no_index_repeats_the_start_of_a_unique_one(core: Core) -> None:
    """An index on the first columns of a unique index of the same table serves no lookup the unique one does
    not, and costs an entry for every row written and for every update that moves a row (a sweep's climb
    moved each awaited item in seven): `awaiting_case` and `timers_case` were such (schema 33)."""
    found = await indexes(core)
    redundant = [
        (a.name, b.name) for a in found for b in found
        if a.table == b.table and a.name != b.name and b.unique and not a.partial and not b.partial
        and len(a.columns) < len(b.columns) and b.columns[:len(a.columns)] == a.columns
    ]
    assert redundant == []


async def test_a_queued_message_goes_into_the_outbox_indexes_its_reads_need(core: Core) -> None:
    """Every message queued goes into each outbox index that holds every row: the id, the dedupe key, the due
    order and the case's reference (a case's own messages: a withdrawal, the purge, the failure notices of a
    case: schemas 36, 40), and on SQLite the case (its foreign key looks a deleted case's messages up by it).
    The others hold only the rows a read looks for: the pending ones per recipient (the dispatcher's heads),
    failed deliveries, final rows whose text the purge blanks, and on PostgreSQL the messages of no case (a
    withdrawal's queues). Schema 33: before, every row queued went into seven indexes; schema 40: on PostgreSQL
    five, one on its case (case_id and case_ref were two random leaf pages a row)."""
    outbox = {ix.name: ix for ix in await indexes(core) if ix.table == "outbox"}
    on_every_row = {ix.columns for ix in outbox.values() if not ix.partial}
    case_id = {("case_id",)} if core.db.engine == "sqlite" else set()
    assert on_every_row == {("id",), ("dedupe_key",), ("status", "next_attempt_at"), ("case_ref",), *case_id}
    assert {name for name, ix in outbox.items() if ix.partial} == {
        "outbox_recipient_pending", "outbox_failed", "outbox_kept_text",
        *(("outbox_no_case",) if core.db.engine == "postgresql" else ())}


async def test_the_purge_finds_a_cases_messages_by_index(core: Core) -> None:
    """The retention purge counts and deletes a case's messages by reference (`stats.related_counts`,
    `stats.delete_case`; every row with the case's id carries it, schema 40), twice per purged case inside one
    transaction that holds every writer and the audit chain: looked up in an index, never the whole outbox read
    (schema 33 dropped the last index on case_ref; a seq scan of 300k rows, 250 ms a statement on PostgreSQL)."""
    where = "WHERE case_ref = 'GFI-2026-0001'"
    async with core.db.read() as tx:
        if core.db.engine == "postgresql":
            await tx.execute("SET LOCAL enable_seqscan = off")  # a small test table: no index, no other plan
            plans = [str(await tx.scalar(f"EXPLAIN (FORMAT JSON) {q}"))
                     for q in (f"SELECT COUNT(*) FROM outbox {where}", f"DELETE FROM outbox {where}")]
            assert all("Seq Scan" not in p and "outbox_case_ref" in p for p in plans), plans
        else:
            plans = [" / ".join(str(r["detail"]) for r in await tx.fetchall(f"EXPLAIN QUERY PLAN {q}"))
                     for q in (f"SELECT COUNT(*) FROM outbox {where}", f"DELETE FROM outbox {where}")]
            assert all("SCAN outbox" not in p and "outbox_case_ref" in p for p in plans), plans


async def flushing_core(make_core: Any) -> Core:
    """A core on PostgreSQL whose database commits with a flush, as a real one does (the test server does not)."""
    import psycopg

    first = await make_core()
    url = first.settings.database_url.get_secret_value()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET synchronous_commit = on")
    await first.close()
    core: Core = await make_core()
    return core


async def test_a_batch_that_audits_a_skipped_rung_commits_with_the_flush(
    make_core: Any, engine: str, clock: FrozenClock
) -> None:
    """PostgreSQL: a batch that appends audit rows (`ladder_skipped`: a rung with nobody on duty) waits for its
    WAL flush. The audit chain is relied on outside the database once the commit returns (the row's log line, the
    nightly head `verify-logs --head` checks): a row lost in a crash would be appended again under its id with
    another hash, a false alarm of tampering."""
    from bot.store import ladder as ladder_store

    if engine != "postgresql":
        pytest.skip("SQLite syncs its log at checkpoints, for every transaction alike")
    core = await flushing_core(make_core)
    case = await due_cases(core, clock, 1)

    async def item(tx: Any) -> dict[str, Any]:
        [row] = [r for r in await ladder_store.open_rows(tx, case.id) if r["kind"] == "acknowledgement"]
        return dict(row)

    row = await core.db.run_read(item)
    fire = fires.Fire(table="awaiting", row_id=int(row["id"]), due_at=str(row["due_at"]), case_id=case.id,
                      case_ref=case.ref, rung=int(row["rung"]),
                      climbed=(int(row["rung"]) + 1, str(row["due_at"]), ["fatima.ali"], ["Fördelare"]),
                      skipped=[("acknowledgement", "Fördelare")])

    async def unit(tx: Any) -> tuple[int, str]:
        live = await fires.apply(tx, core.outbox, [fire], clock.now())
        return len(live), str(await tx.scalar("SHOW synchronous_commit"))

    assert await core.db.run(unit) == (1, "on")
    async with core.db.read() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM audit WHERE action = 'ladder_skipped'") == 1


async def test_a_climb_alone_that_skips_a_rung_commits_with_the_flush(
    make_core: Any, engine: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: a climb made alone (`LadderService.climb`: a row fired alone after its batch failed, a climb
    that drafts a brist) audits its skipped rungs itself, before `fires.apply`, and hands it the fire without
    them: its transaction still waits for the WAL flush, because it appended audit rows (`Tx.audited`)."""
    import dataclasses

    from bot.ladder import climb as climbing
    from bot.store import ladder as ladder_store

    if engine != "postgresql":
        pytest.skip("SQLite syncs its log at checkpoints, for every transaction alike")
    core = await flushing_core(make_core)
    case = await due_cases(core, clock, 1)
    decide = climbing.decide

    def skipping(*args: Any, **kwargs: Any) -> climbing.Climb:  # a rung on the way up with nobody on duty
        return dataclasses.replace(decide(*args, **kwargs), skipped=("Enhetschef",))

    monkeypatch.setattr(climbing, "decide", skipping)

    async def item(tx: Any) -> int:
        [row] = [r for r in await ladder_store.open_rows(tx, case.id) if r["kind"] == "acknowledgement"]
        return int(row["id"])

    item_id = await core.db.run_read(item)

    async def unit(tx: Any) -> str:
        await core.ladder.climb(tx, item_id, clock.now())
        return str(await tx.scalar("SHOW synchronous_commit"))

    assert await core.db.run(unit) == "on"
    async with core.db.read() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM audit WHERE action = 'ladder_skipped'") == 1
        assert await tx.scalar("SELECT COUNT(*) FROM awaiting WHERE id = ? AND rung > 0", (item_id,)) == 1


async def test_a_batch_commits_without_waiting_for_the_disk_and_no_other_unit_does(
    make_core: Any, engine: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: a batch's commit does not wait for its WAL flush (`SET LOCAL synchronous_commit = off`): a batch
    lost in a crash of the server is lost whole and fired again by the next sweep. It must end with the batch's
    transaction: the dispatcher's claim of a message, on any connection of the write pool, commits with a flush,
    which puts the batch on disk before the message is sent."""
    from bot.store.postgres import WRITERS

    if engine != "postgresql":
        pytest.skip("SQLite syncs its log at checkpoints, for every transaction alike")
    core = await flushing_core(make_core)
    await due_cases(core, clock, 3)
    apply, seen = fires.apply, []

    async def watched(tx: Any, *args: Any, **kwargs: Any) -> list[fires.Fire]:
        live = await apply(tx, *args, **kwargs)
        seen.append(await tx.scalar("SHOW synchronous_commit"))
        return live

    monkeypatch.setattr(fires, "apply", watched)
    assert await sweep_due(core) == 3
    assert seen == ["off"]

    async def after(tx: Any) -> str:
        await tx.scalar("SELECT pg_sleep(0.2)")  # all the pool's connections at once: each unit takes its own
        return str(await tx.scalar("SHOW synchronous_commit"))

    assert await asyncio.gather(*(core.db.run(after) for _ in range(WRITERS))) == ["on"] * WRITERS


async def test_a_message_queued_takes_no_lock_on_its_case(core: Core) -> None:
    """PostgreSQL (schema 34): queueing a message for a case neither checks nor locks the case's row. The foreign
    key on outbox.case_id did both for every row, about half of a sweep batch's INSERT; here a message is queued
    while another transaction holds the case's row FOR UPDATE, which the key's check would wait for."""
    import psycopg

    from bot.store import outbox as outbox_store

    if core.db.engine != "postgresql":
        pytest.skip("SQLite keeps the key: one writer, a look-up in the same process")
    case, now = await core.cases.request("maria.sand", form()), core.clock.now()
    url = core.settings.database_url
    assert url is not None
    with psycopg.connect(url.get_secret_value()) as other:  # a transaction of its own, open until the end
        other.execute("SELECT id FROM cases WHERE id = %s FOR UPDATE", (case.id,))

        async def queue(tx: Any) -> list[str]:
            await tx.execute("SET LOCAL lock_timeout = '2s'")  # the key's check waited here, then failed
            row = outbox_store.row(created_at=now, case_id=case.id, case_ref=case.ref, recipient_id="linnea.fors",
                                   channel="console", template="escalation", text="Hej", message=None,
                                   urgent=False, earliest=now, dedupe_key=None, reads=None)
            return await outbox_store.insert_many(tx, [row])

        assert await core.db.run(queue) == ["console"]
        other.rollback()
