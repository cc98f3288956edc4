"""`escalation_alerts` (who was alerted about each open escalation, by person: /eskaleringar and the Homes read
a page of it) stays equal to what the items themselves say (`alerted` of each unresolved item that climbed a
rung, or of a dispute) through every change the ladder's store makes: a climb, a batch of climbs, a stop on a
rung, a dispute's first askees, a resolution, and a purged case (its rows go with its items). On both engines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.core import Core
from bot.store import Tx
from bot.store import disputes as dispute_store
from bot.store import ladder as ladder_store
from tests.timekit import form

pytestmark = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])

DERIVED = ("SELECT DISTINCT json_each.value AS person_id, a.since, a.id AS awaiting_id FROM awaiting a, "
           "json_each(a.alerted) WHERE a.resolved_at IS NULL AND (a.rung > 0 OR a.kind = 'dispute') "
           "ORDER BY person_id, since, awaiting_id")
KEPT = "SELECT person_id, since, awaiting_id FROM escalation_alerts ORDER BY person_id, since, awaiting_id"


async def kept_and_derived(core: Core) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    async with core.db.read() as tx:
        return await tx.fetchall(KEPT), await tx.fetchall(DERIVED)


async def test_the_alerts_by_person_follow_every_change_of_an_item(core: Core) -> None:
    cases = [await core.cases.request("maria.sand", form()) for _ in range(3)]
    now = core.clock.now()
    ids: list[int] = []

    async def open_items(tx: Tx) -> None:
        for n, case in enumerate(cases):
            ids.append(await tx.answer(await ladder_store.insert_item(
                tx, case_id=case.id, case_ref=case.ref, kind="dispute" if n == 2 else "test", subject="",
                arm=1, unit_id="beroende", answerers=["anna.lind"], since=now, due_at=now + timedelta(hours=1),
                ladder="{}", skipped=[], now=now)))

    await core.db.run(open_items)
    steps = []

    async def climb_one(tx: Tx) -> None:  # the first climbs alone, then the first two climb together
        await ladder_store.set_climbed(tx, ids[0], rung=1, due_at=now + timedelta(hours=2), alerted=["helena.ros"],
                                       skipped=[], now=now)

    async def climb_two(tx: Tx) -> None:
        rows = await tx.fetchall("SELECT id, rung, due_at, case_id FROM awaiting WHERE id IN (?, ?) ORDER BY id",
                                 (ids[0], ids[1]))
        climbed = await ladder_store.climb_many(tx, [
            (r["id"], r["rung"], r["due_at"], r["rung"] + 1, None, ["helena.ros", "sara.holm", "helena.ros"], [],
             r["case_id"], None) for r in rows], now)
        assert climbed == {ids[0], ids[1]}

    async def ask(tx: Tx) -> None:  # a dispute's first askees: an open escalation at rung 0
        await dispute_store.mark_alerted(tx, ids[2], ["anna.lind", "fatima.ali"])

    async def park(tx: Tx) -> None:  # stopped on its rung: still open, still alerted
        await ladder_store.park(tx, ids[1], 2, ["chef"])

    async def resolve(tx: Tx) -> None:
        assert await ladder_store.resolve(tx, ids[0], "anna.lind", "answered", now)
        assert not await ladder_store.resolve(tx, ids[0], "anna.lind", "answered", now)

    async def purge(tx: Tx) -> None:  # a purged case takes its items with it
        await tx.execute("DELETE FROM cases WHERE id = ?", (cases[2].id,))

    for step in (climb_one, climb_two, ask, park, resolve, purge):
        await core.db.run(step)
        kept, derived = await kept_and_derived(core)
        assert kept == derived, step.__name__
        steps.append(len(kept))
    assert steps == [1, 4, 6, 6, 4, 2]  # helena.ros once per item, never twice
    async with core.db.read() as tx:
        rows, total = await ladder_store.open_escalation_page(tx, "sara.holm", 10)
        assert [r["id"] for r in rows] == [ids[1]] and total == 1
        assert await ladder_store.open_escalation_page(tx, "omar.haddad", 10) == ([], 0)

    async def resolved_by_older_code(tx: Tx) -> None:  # an instance of older code: the item, not the table
        await tx.execute("UPDATE awaiting SET resolved_at = ? WHERE id = ?", (now.isoformat(), ids[1]))

    await core.db.run(resolved_by_older_code)
    async with core.db.read() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM escalation_alerts WHERE person_id = 'sara.holm'") == 1
        assert await ladder_store.open_escalation_page(tx, "sara.holm", 10) == ([], 0)
        assert await ladder_store.open_escalation_page(tx, "sara.holm", 0) == ([], 0)  # the count, too
