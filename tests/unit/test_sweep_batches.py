"""The sweep fires many due items in batches: each item once, even when a sweep is interrupted and repeated."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.core import Core
from bot.ladder import scheduled
from bot.ladder.scheduled import BATCH, sweep_due
from bot.ladder.service import LadderService
from tests.conftest import local
from tests.timekit import assigned_case

ITEMS = 1000


async def clone_assigned_cases(core: Core, count: int) -> None:
    """`count` more assigned cases like the first one, each with its open acknowledgement item (bulk insert)."""
    async with core.db.transaction() as tx:
        template = await tx.fetchone("SELECT * FROM cases ORDER BY id LIMIT 1")
        assert template is not None
        for table, key, open_only in (("cases", "id", ""), ("case_assignees", "case_id", ""),
                                      ("awaiting", "case_id", " AND resolved_at IS NULL")):
            cols = [r["name"] for r in await tx.fetchall(f"PRAGMA table_info({table})")]
            exprs = []
            for c in cols:
                if c in ("id", "case_id") and c == key:
                    exprs.append(f"{template['id']} + i")
                elif c in ("ref", "case_ref"):
                    exprs.append("printf('GFI-2025-%04d', i)")
                else:
                    exprs.append(c)
            kept = [(c, e) for c, e in zip(cols, exprs, strict=True) if not (c == "id" and key != "id")]
            await tx.execute(
                f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?) "
                f"INSERT INTO {table} ({', '.join(c for c, _ in kept)}) "
                f"SELECT {', '.join(e for _, e in kept)} FROM seq, {table} WHERE {key} = ?{open_only}",
                (count, template["id"]),
            )


async def escalations_per_case(core: Core) -> dict[str, int]:
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT case_ref, COUNT(*) AS n FROM outbox WHERE template = 'escalation' "
                                 "GROUP BY case_ref")
    return {r["case_ref"]: r["n"] for r in rows}


async def test_a_thousand_due_items_fire_once_each_across_batches(core: Core, clock: FrozenClock) -> None:
    await assigned_case(core)  # acknowledgement due Tue 24 Nov 10:00
    await clone_assigned_cases(core, ITEMS - 1)
    clock.set(local("2026-11-24T10:30"))  # every acknowledgement is due: the distributor is alerted
    assert await sweep_due(core) == ITEMS
    assert await sweep_due(core) == 0  # repeated: nothing more
    sent = await escalations_per_case(core)
    assert len(sent) == ITEMS and set(sent.values()) == {1}


async def test_an_interrupted_sweep_loses_nothing_and_repeats_nothing(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await assigned_case(core)
    await clone_assigned_cases(core, 3 * BATCH - 1)
    clock.set(local("2026-11-24T10:30"))
    climb = LadderService.climb
    calls = 0

    async def crashing(self: LadderService, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == BATCH + 5:  # in the second batch: the process stops
            raise asyncio.CancelledError
        await climb(self, *args, **kwargs)

    monkeypatch.setattr(LadderService, "climb", crashing)
    with pytest.raises(asyncio.CancelledError):
        await sweep_due(core)
    assert len(await escalations_per_case(core)) == BATCH  # the first batch committed, the second not at all
    monkeypatch.setattr(LadderService, "climb", climb)
    assert await sweep_due(core) == 2 * BATCH
    sent = await escalations_per_case(core)
    assert len(sent) == 3 * BATCH and set(sent.values()) == {1}


async def test_a_broken_item_is_postponed_and_the_rest_of_its_batch_fires(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await assigned_case(core)
    await clone_assigned_cases(core, 9)
    clock.set(local("2026-11-24T10:30"))
    climb = LadderService.climb
    async with core.db.transaction() as tx:
        broken = await tx.scalar("SELECT id FROM awaiting WHERE case_ref = 'GFI-2025-0004'")

    async def broken_once(self: LadderService, tx: Any, item_id: int, now: Any, **kwargs: Any) -> None:
        await climb(self, tx, item_id, now, **kwargs)  # its messages are queued, then it fails: all of it is undone
        if item_id == broken:
            raise RuntimeError("broken item")

    monkeypatch.setattr(LadderService, "climb", broken_once)
    assert await sweep_due(core) == 10
    sent = await escalations_per_case(core)
    assert len(sent) == 9 and set(sent.values()) == {1} and "GFI-2025-0004" not in sent
    async with core.db.transaction() as tx:
        due_at = await tx.scalar("SELECT due_at FROM awaiting WHERE id = ?", (broken,))
    assert due_at == (clock.now() + scheduled.RETRY_AFTER).isoformat()


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
