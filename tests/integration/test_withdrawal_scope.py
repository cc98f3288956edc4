"""A withdrawal finds the rows it treats by index (#22, loose end): its scope, the case's own rows and the
messages of no case that show it (a distribution queue), was `case_id = ? OR <reads names the case>`, which read
the whole outbox and parsed every row's `reads` (10^5 rows: a scan on both engines, 100-250 ms). Now the two are
found through the index on `case_id` (`= ?`, `IS NULL`). The plans are checked, not timed (speed lives in bench/)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.core import Core
from bot.store import outbox as outbox_store
from tests.timekit import assigned_case

BOTH = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


def _scans(engine: str, plan: list[dict[str, Any]]) -> list[str]:
    """The plan's reads of the outbox that are not searches by an index condition."""
    if engine == "sqlite":
        return [str(r["detail"]) for r in plan if str(r["detail"]).startswith("SCAN outbox")]
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Relation Name") == "outbox" and "Index Cond" not in node:
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
        where, params = await outbox_store._scope(tx, case_id, None, shown_only)
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
