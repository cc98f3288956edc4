"""A batch of outcomes locks its rows in id order before it writes them, as a withdrawal and a lost-access pass
lock a case's rows (#22: written in the batch's order, a batch and such a writer on another instance could each
hold a row the other waited for; PostgreSQL then aborted one of them, and only the batch was run again)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest

from bot import outcomes
from bot.core import Core
from bot.outbox import OutboxMessage
from bot.store import Tx
from bot.store import closing as closing_store
from bot.store import outbox as outbox_store
from tests.conftest import CoreFactory
from tests.races import behind_a_held_row, until_waiting

pytestmark = pytest.mark.parametrize("engine", ["postgresql"])


async def _two_rows(core: Core) -> list[OutboxMessage]:
    """Two pending messages, lower id first, as the dispatcher claims them."""
    at = core.clock.now().isoformat()
    async with core.db.transaction() as tx:
        for person in ("linnea.fors", "fatima.ali"):
            await tx.insert(
                "INSERT INTO outbox (created_at, recipient_id, channel, template, text, urgent, not_before, "
                "next_attempt_at) VALUES (?, ?, 'slack', 't', 'x', 1, ?, ?)", (at, person, at, at))
        rows = await tx.fetchall("SELECT * FROM outbox ORDER BY id")
    return [OutboxMessage.from_row(r) for r in rows]


async def test_a_batch_waits_for_its_lowest_row_before_it_holds_a_higher_one(make_core: CoreFactory) -> None:
    """Instance b locks the lower row first and then the higher one (a withdrawal's order: id order). Instance a's
    batch records the higher row sent and gives the lower one a retry: in the batch's order it held the higher row
    while it waited for the lower, and b then waited for the higher one: a deadlock (40P01). In id order a waits
    for the lower row holding nothing b needs, b goes on and commits, then a's batch commits at its first run."""
    a, b = await make_core(), await make_core()
    low, high = await _two_rows(a)
    at = a.clock.now()

    async def retry_low(tx: Tx) -> None:
        await outbox_store.mark_retry(tx, low.id, 1, "slack:timeout", at + timedelta(minutes=1))

    async def batch(tx: Tx) -> None:
        await outcomes._write_batch(tx, [outcomes.Sent(high, 1, at, "ts-high", None)], [],
                                    [outcomes.Write(low.id, retry_low)])

    async with b.db.transaction() as tx:
        await tx.fetchall("SELECT id FROM outbox WHERE id = ? FOR NO KEY UPDATE", (low.id,))
        recording = asyncio.create_task(a.db.run(batch))
        await until_waiting(a)  # a's batch waits for the lower row
        await asyncio.wait_for(tx.fetchall("SELECT id FROM outbox WHERE id = ? FOR NO KEY UPDATE", (high.id,)), 10)
    await asyncio.wait_for(recording, 10)  # no deadlock: run once, committed
    async with a.db.transaction() as tx:
        rows = {r["id"]: r for r in await tx.fetchall("SELECT id, status, external_id, last_error FROM outbox")}
    assert (rows[high.id]["status"], rows[high.id]["external_id"]) == ("sent", "ts-high")
    assert (rows[low.id]["status"], rows[low.id]["last_error"]) == ("pending", "slack:timeout")


def _both_sent(low: OutboxMessage, high: OutboxMessage, at: datetime) -> Callable[[Tx], Awaitable[None]]:
    """A batch recording the sends of both rows (the lower one late: another instance gave up on it)."""
    async def batch(tx: Tx) -> None:
        await outcomes._write_batch(tx, [outcomes.Sent(low, 1, at, "ts-low", None),
                                         outcomes.Sent(high, 1, at, "ts-high", None)], [], [])
    return batch


async def _both_cancelled_and_retracted(a: Core, low: OutboxMessage, high: OutboxMessage) -> None:
    """Both rows were cancelled under the batch's sends, and both sends are retracted."""
    async with a.db.transaction() as tx:
        status = {r["id"]: r["status"] for r in await tx.fetchall(
            "SELECT id, status FROM outbox WHERE id IN (?, ?)", (low.id, high.id))}
        retracted = [r["target"] for r in await tx.fetchall(
            "SELECT target FROM outbox WHERE kind = 'retract' ORDER BY target")]
    assert status == {low.id: "cancelled", high.id: "cancelled"}
    assert retracted == ["ts-high", "ts-low"]


async def test_a_withdrawal_and_a_batch_take_a_cases_rows_in_one_order(make_core: CoreFactory) -> None:
    """A batch on instance a records two sends of one case: a late one of a lower row another instance gave up on
    (failed), and the higher row's own. The consent is withdrawn on instance b meanwhile; instance c holds the
    higher row when both start. The withdrawal used to take the case's pending rows before its failed ones: it
    waited for the higher row holding nothing, the batch locked the lower and waited for the higher behind it, and
    once c let go the withdrawal waited for the lower: a deadlock (40P01). Both now lock in id order: the batch
    waits for the withdrawal, then retracts both sends (their rows were cancelled under them)."""
    from tests.timekit import assigned_case

    a, b, c = await make_core(), await make_core(), await make_core()
    case = await assigned_case(a)
    async with a.db.transaction() as tx:
        case_id = int(await tx.scalar("SELECT id FROM cases WHERE ref = ?", (case.ref,)))
        rows = await tx.fetchall("SELECT * FROM outbox WHERE case_id = ? AND status = 'pending' ORDER BY id",
                                 (case_id,))
    low, high = OutboxMessage.from_row(rows[0]), OutboxMessage.from_row(rows[-1])
    async with a.db.transaction() as tx:
        assert await outbox_store.mark_failed(tx, low.id, 3, "slack:timeout") == 1
    at = a.clock.now()

    async def withdraw() -> None:
        async with b.db.transaction() as tx:
            await outbox_store.withdraw(tx, case_id, at, "case closed: consent withdrawn")

    await behind_a_held_row(a, c, high.id, withdraw, _both_sent(low, high, at))
    await _both_cancelled_and_retracted(a, low, high)


async def test_a_lost_access_pass_and_a_batch_take_a_cases_rows_in_one_order(make_core: CoreFactory) -> None:
    """The same with a lost-access pass (`closing.cancel_shown`): linnea.fors's assignment (lower, pending) and a
    later message showing the case to her that another instance gave up on (higher, failed). The pass used to take
    her failed rows before her pending ones (the higher first), the batch the lower first: a deadlock once c let
    go of the higher. Both now lock in id order."""
    from tests.timekit import assigned_case

    a, b, c = await make_core(), await make_core(), await make_core()
    case = await assigned_case(a)
    at = a.clock.now()
    async with a.db.transaction() as tx:
        case_id = int(await tx.scalar("SELECT id FROM cases WHERE ref = ?", (case.ref,)))
        row = await tx.fetchone("SELECT * FROM outbox WHERE recipient_id = 'linnea.fors' AND template = "
                                "'assigned_to_you'")
        assert row is not None
        later = await tx.insert(
            "INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, reads, "
            "status, urgent, not_before, next_attempt_at) VALUES (?, ?, ?, 'linnea.fors', 'slack', 'escalation', "
            "'', ?, 'failed', 1, ?, ?)", (at.isoformat(), case_id, case.ref, f'["{case.ref}"]', at.isoformat(),
                                          at.isoformat()))
        high_row = await tx.fetchone("SELECT * FROM outbox WHERE id = ?", (later,))
    assert high_row is not None
    low, high = OutboxMessage.from_row(row), OutboxMessage.from_row(high_row)

    async def lose_access() -> None:
        async with b.db.transaction() as tx:
            await closing_store.cancel_shown(tx, case_id, case.ref, ["linnea.fors"], "no longer reads the case")

    await behind_a_held_row(a, c, high.id, lose_access, _both_sent(low, high, at))
    await _both_cancelled_and_retracted(a, low, high)
