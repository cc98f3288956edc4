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


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@pytest.mark.parametrize("stop", ["withdrawn", "access_lost"])
async def test_a_late_send_of_a_failed_row_after_a_withdrawal_is_retracted(core: Core, stop: str) -> None:
    """a's lease ran out mid-send, b gave up on the row (failed), the case stopped for linnea.fors (`stop`): the row
    is cancelled and keeps why it failed, then why it was cancelled (the operator saw neither before). a's send,
    recorded late (twice: its batch committed, the acknowledgement lost), is retracted, not marked sent."""
    msg, ref = await _assignment(core)
    async with core.db.transaction() as tx:
        assert await outbox_store.mark_failed(tx, msg.id, 3, "slack:user_not_found") == 1
    if stop == "withdrawn":
        await core.cases.withdraw_consent("maria.sand", ref)
    else:
        async with core.db.transaction() as tx:
            case_id = int(await tx.scalar("SELECT id FROM cases WHERE ref = ?", (ref,)))
            assert await closing_store.cancel_shown(tx, case_id, ref, ["linnea.fors"], "no longer reads the case") == 0
    why = "slack:user_not_found; " + ("case closed: consent withdrawn" if stop == "withdrawn"
                                      else "no longer reads the case")
    assert await _status(core, msg.id) == ("cancelled", why)
    for _ in range(2):  # the same send recorded twice (its batch committed, the acknowledgement lost)
        async with core.db.transaction() as tx:
            await outcomes._write_sent(tx, [outcomes.Sent(msg, 1, AT, "ts-1", None)])
    assert await _status(core, msg.id) == ("cancelled", why)
    reads, retracted = await _reads_and_retractions(core)
    assert reads == [ref] and retracted == ["ts-1"]


async def _status(core: Core, outbox_id: int) -> tuple[str, str]:
    async with core.db.transaction() as tx:
        row = await tx.fetchone("SELECT status, last_error FROM outbox WHERE id = ?", (outbox_id,))
    assert row is not None
    return str(row["status"]), str(row["last_error"])
