"""A withdrawal finds the rows it treats by index (#22, loose end): its scope, the case's own rows and the
messages of no case that show it (a distribution queue), was `case_id = ? OR <reads names the case>`, which read
the whole outbox and parsed every row's `reads` (10^5 rows: a scan on both engines, 100-250 ms). Now the two are
found by index: the case's own by its reference, those of no case (`case_id IS NULL`) through PostgreSQL's
partial outbox_no_case, SQLite's outbox_case (schema 40). The plans are checked, not timed (speed lives in bench/)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.core import Core
from bot.store import outbox as outbox_store
from bot.store import outbox_erase
from tests.timekit import assigned_case

BOTH = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


def _scans(engine: str, plan: list[dict[str, Any]]) -> list[str]:
    """The plan's reads of the outbox that are not searches by an index condition."""
    if engine == "sqlite":
        return [str(r["detail"]) for r in plan if str(r["detail"]).startswith("SCAN outbox")]
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        # outbox_no_case holds the rows of no case only (`case_id IS NULL` is its predicate, no Index Cond)
        if (node.get("Relation Name") == "outbox" and "Index Cond" not in node
                and node.get("Index Name") != "outbox_no_case"):
            found.append(f"{node['Node Type']} on outbox")
        for child in node.get("Plans", ()):
            walk(child)

    walk(json.loads(plan[0]["QUERY PLAN"])[0]["Plan"] if isinstance(plan[0]["QUERY PLAN"], str)
         else plan[0]["QUERY PLAN"][0]["Plan"])
    return found


@BOTH
@pytest.mark.parametrize("shown_only", [False, True])
async def test_a_withdrawals_scope_reads_the_outbox_by_index(core: Core, engine: str, shown_only: bool) -> None:
    case = await assigned_case(core)
    async with core.db.transaction() as tx:
        case_id = int(await tx.scalar("SELECT id FROM cases WHERE ref = ?", (case.ref,)))
        where, params = await outbox_erase._scope(tx, case_id, None, shown_only)
        if engine == "postgresql":
            await tx.execute("SET LOCAL enable_seqscan = off")  # a table this small is read whole when allowed
            plan = await tx.fetchall(f"EXPLAIN (FORMAT JSON) SELECT id FROM outbox WHERE {where} ORDER BY id",
                                     params)
        else:
            plan = await tx.fetchall(f"EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE {where} ORDER BY id", params)
    assert _scans(engine, plan) == []


@BOTH
async def test_a_withdrawal_still_reaches_a_queue_that_shows_the_case(core: Core) -> None:
    """The case's own rows and a queue of no case that lists it are cancelled; a queue that lists another case
    only, and another case's rows, are left alone."""
    case = await assigned_case(core)
    at = core.clock.now().isoformat()
    async with core.db.transaction() as tx:
        case_id = int(await tx.scalar("SELECT id FROM cases WHERE ref = ?", (case.ref,)))
        ids = {}
        for name, reads in (("listing", [case.ref, "GFI-2026-9999"]), ("other", ["GFI-2026-9999"])):
            ids[name] = await tx.insert(
                "INSERT INTO outbox (created_at, recipient_id, channel, template, text, reads, urgent, not_before, "
                "next_attempt_at) VALUES (?, 'fatima.ali', 'slack', 'queue', '', ?, 0, ?, ?)",
                (at, json.dumps(reads), at, at))
        await outbox_store.withdraw(tx, case_id, core.clock.now(), "case closed: consent withdrawn")
        status = {r["id"]: r["status"] for r in await tx.fetchall("SELECT id, status FROM outbox")}
        own = [r["status"] for r in await tx.fetchall("SELECT status FROM outbox WHERE case_id = ?", (case_id,))]
    assert status[ids["listing"]] == "cancelled" and status[ids["other"]] == "pending"
    assert own and set(own) == {"cancelled"}


def test_a_cases_message_without_its_reference_is_refused() -> None:
    """A case's own messages are found by its reference (schema 40: on PostgreSQL there is no index on case_id), so
    a row with a case id and no reference would be missed by a withdrawal, the purge and a hand-over: refused."""
    from datetime import UTC, datetime

    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    fields: dict[str, Any] = dict(created_at=at, case_id=1, case_ref=None, recipient_id="fatima.ali", channel="slack",
                                  template="assigned_to_you", text="", message=None, urgent=False, earliest=at,
                                  dedupe_key=None, reads=None)
    with pytest.raises(ValueError):
        outbox_store.row(**fields)
    assert outbox_store.row(**{**fields, "case_ref": "GFI-2026-0001"})[1:3] == (1, "GFI-2026-0001")


@BOTH
async def test_a_withdrawal_parses_only_the_queues_that_name_the_case(core: Core) -> None:
    """Of the messages of no case (queues), only those whose text names the case have their `reads` parsed (issue
    #21's note: every queue's JSON was parsed by each statement of a withdrawal). A row whose reads would not even
    parse, not naming the case, is left unread: it failed the withdrawal before."""
    case = await assigned_case(core)
    at = core.clock.now().isoformat()
    async with core.db.transaction() as tx:
        case_id = int(await tx.scalar("SELECT id FROM cases WHERE ref = ?", (case.ref,)))
        ids = {}
        for name, reads in (("listing", json.dumps(["GFI-2026-9999", case.ref])), ("unreadable", "[GFI-2026-9999")):
            ids[name] = await tx.insert(
                "INSERT INTO outbox (created_at, recipient_id, channel, template, text, reads, urgent, not_before, "
                "next_attempt_at) VALUES (?, 'fatima.ali', 'slack', 'queue', '', ?, 0, ?, ?)", (at, reads, at, at))
        await outbox_store.withdraw(tx, case_id, core.clock.now(), "case closed: consent withdrawn")
        status = {r["id"]: r["status"] for r in await tx.fetchall("SELECT id, status FROM outbox")}
    assert status[ids["listing"]] == "cancelled" and status[ids["unreadable"]] == "pending"


@BOTH
async def test_schema_42_gives_every_cases_row_its_reference_and_refuses_one_without(make_core: Any,
                                                                                   engine: str) -> None:
    """A case's own messages are found by its reference: a row with its case's id and no reference, or another
    reference, would be missed by a withdrawal and the purge. Migration 42 gives every such row its case's
    reference (40 filled only missing ones) and the store refuses a row with a case id and no reference (a CHECK
    on PostgreSQL, triggers on SQLite). Run here on a store with such rows, as it stood before 42."""
    core = await make_core()
    case = await assigned_case(core)
    at = core.clock.now().isoformat()
    undo = ("ALTER TABLE outbox DROP CONSTRAINT outbox_case_has_ref" if engine == "postgresql"
            else "DROP TRIGGER outbox_case_has_ref", "DROP TRIGGER outbox_case_keeps_ref")
    insert = ("INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, urgent, "
              "not_before, next_attempt_at) VALUES (?, ?, ?, 'fatima.ali', 'slack', 'assigned_to_you', '', 0, ?, ?)")
    async with core.db.transaction() as tx:
        case_id = int(await tx.scalar("SELECT id FROM cases WHERE ref = ?", (case.ref,)))
        for sql in undo[: 1 if engine == "postgresql" else 2]:
            await tx.execute(sql)
        await tx.execute("DELETE FROM schema_migrations WHERE version = 42")
        ids = [await tx.insert(insert, (at, case_id, ref, at, at)) for ref in (None, "GFI-2026-9999")]
    await core.close()
    core = await make_core()  # the restart migrates to 42 again
    async with core.db.read() as tx:
        refs = [await tx.scalar("SELECT case_ref FROM outbox WHERE id = ?", (i,)) for i in ids]
    assert refs == [case.ref, case.ref]
    for sql, params in ((insert, (at, case_id, None, at, at)),
                        ("UPDATE outbox SET case_ref = NULL WHERE id = ?", (ids[0],))):
        with pytest.raises(Exception, match="outbox_case_has_ref"):
            async with core.db.transaction() as tx:
                await tx.execute(sql, params)
