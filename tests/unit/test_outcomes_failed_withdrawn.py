"""A send recorded late for a row another instance gave up on (failed) after the consent was withdrawn, or its
recipient lost access: the withdrawal cancelled the failed row, so the late send is retracted, not marked sent
(review of 4de6152: the failed row was left alone and the late send stayed in the channel)."""

from __future__ import annotations

import pytest

from bot import outcomes
from bot.core import Core
from bot.store import closing as closing_store
from bot.store import outbox as outbox_store
from tests.unit.test_outcomes_batch import AT, _assignment, _reads_and_retractions


async def _failed_then_sent_late(core: Core, stop: str) -> tuple[str, str]:
    """a's lease ran out mid-send, b gave up on the row (failed), the case stopped for linnea.fors (`stop`), and
    a's send is recorded late. Returns the row's status and the case's reference."""
    msg, ref = await _assignment(core)
    async with core.db.transaction() as tx:
        assert await outbox_store.mark_failed(tx, msg.id, 3, "permanent") == 1
    if stop == "withdrawn":
        await core.cases.withdraw_consent("maria.sand", ref)
    else:
        async with core.db.transaction() as tx:
            case_id = int(await tx.scalar("SELECT id FROM cases WHERE ref = ?", (ref,)))
            assert await closing_store.cancel_shown(tx, case_id, ref, ["linnea.fors"], "lost") == 0
    for _ in range(2):  # the same send recorded twice (its batch committed, the acknowledgement lost)
        async with core.db.transaction() as tx:
            await outcomes._write_sent(tx, [outcomes.Sent(msg, 1, AT, "ts-1", None)])
    async with core.db.transaction() as tx:
        status = str(await tx.scalar("SELECT status FROM outbox WHERE id = ?", (msg.id,)))
    return status, ref


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@pytest.mark.parametrize("stop", ["withdrawn", "access_lost"])
async def test_a_late_send_of_a_failed_row_after_a_withdrawal_is_retracted(core: Core, stop: str) -> None:
    status, ref = await _failed_then_sent_late(core, stop)
    reads, retracted = await _reads_and_retractions(core)
    assert status == "cancelled" and reads == [ref] and retracted == ["ts-1"]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@pytest.mark.parametrize("stop", ["withdrawn", "access_lost"])
async def test_a_failed_row_cancelled_keeps_why_it_failed(core: Core, stop: str) -> None:
    """The operator still sees why the message failed, then why it was cancelled (it lost its error before)."""
    msg, ref = await _assignment(core)
    async with core.db.transaction() as tx:
        assert await outbox_store.mark_failed(tx, msg.id, 3, "slack:user_not_found") == 1
    if stop == "withdrawn":
        await core.cases.withdraw_consent("maria.sand", ref)
    else:
        async with core.db.transaction() as tx:
            case_id = int(await tx.scalar("SELECT id FROM cases WHERE ref = ?", (ref,)))
            await closing_store.cancel_shown(tx, case_id, ref, ["linnea.fors"], "no longer reads the case")
    async with core.db.transaction() as tx:
        row = await tx.fetchone("SELECT status, last_error FROM outbox WHERE id = ?", (msg.id,))
    assert row is not None and row["status"] == "cancelled"
    assert row["last_error"] == "slack:user_not_found; " + (
        "case closed: consent withdrawn" if stop == "withdrawn" else "no longer reads the case")
