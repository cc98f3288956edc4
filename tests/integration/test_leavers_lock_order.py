"""The lost-access pass of a hand-over, a reload or an ended cover (`bot.cases.leavers`) stops the messages of
several cases, one case after the other; it locks all their rows first, in one id order, as a batch of outcomes
locks its rows (review of 23:12: locked case by case, a case's higher row came before another case's lower one, and
a batch holding the lower while waiting for the higher deadlocked with it). As in `test_outcomes_order`."""

from __future__ import annotations

import pytest

from bot.outbox import OutboxMessage
from tests.conftest import CoreFactory
from tests.integration.test_outcomes_order import _both_sent
from tests.races import behind_a_held_row
from tests.timekit import assigned_case

pytestmark = pytest.mark.parametrize("engine", ["postgresql"])


async def test_a_pass_over_two_cases_and_a_batch_take_the_rows_in_one_order(make_core: CoreFactory) -> None:
    """linnea.fors is assigned two cases (her briefs r1 < r2), then a later message of the first case goes to her
    (r3 > r2). She leaves: the pass stops all three. Instance c holds r3; the pass (on b) waits there; a batch (on a)
    recording r2 and r3 takes r2 and waits for r3. Case by case, the pass then wanted r2 while holding r3."""
    from bot.cases.leavers import stop_for_leavers

    a, b, c = await make_core(), await make_core(), await make_core()
    first, second = await assigned_case(a), await assigned_case(a)
    at = a.clock.now()
    async with a.db.transaction() as tx:
        later = await tx.insert(
            "INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, reads, "
            "status, urgent, not_before, next_attempt_at) VALUES (?, ?, ?, 'linnea.fors', 'slack', 'escalation', "
            "'', ?, 'pending', 1, ?, ?)", (at.isoformat(), first.id, first.ref, f'["{first.ref}"]', at.isoformat(),
                                            at.isoformat()))
        rows = {r["case_id"]: r for r in await tx.fetchall(
            "SELECT * FROM outbox WHERE recipient_id = 'linnea.fors' AND template = 'assigned_to_you'")}
        high = await tx.fetchone("SELECT * FROM outbox WHERE id = ?", (later,))
    assert high is not None
    low = OutboxMessage.from_row(rows[second.id])
    higher = OutboxMessage.from_row(high)
    assert rows[first.id]["id"] < low.id < higher.id
    old = a.directory.data
    written = old.model_copy(update={"people": tuple(p for p in old.people if p.id != "linnea.fors")})

    async def lose_access() -> None:
        async with b.db.transaction() as tx:
            await stop_for_leavers(tx, written, {first.ref: {"linnea.fors"}, second.ref: {"linnea.fors"}})

    await behind_a_held_row(a, c, higher.id, lose_access, _both_sent(low, higher, at))
    async with a.db.transaction() as tx:
        status = {r["id"]: r["status"] for r in await tx.fetchall(
            "SELECT id, status FROM outbox WHERE recipient_id = 'linnea.fors' AND reads LIKE '%GFI%'")}
        retracted = sorted(r["target"] for r in await tx.fetchall(
            "SELECT target FROM outbox WHERE kind = 'retract'"))
    assert set(status.values()) == {"cancelled"}, status
    assert retracted == ["ts-high", "ts-low"]
