"""A message that failed for good and was delivered after all (a send whose lease ran out went through after
another instance gave up on the row, `bot.store.copies`): those told of its failure are told it went through, once,
with the reference and the recipient only (review of last session: they were never told, and would contact the
person about a message the person had)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import outcomes
from bot.core import Core
from bot.outbox import OutboxMessage
from bot.store import outbox as outbox_store
from tests.unit.test_outcomes_batch import AT, _assignment

BOTH = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


async def _failed_and_reported(core: Core) -> tuple[OutboxMessage, str, list[str]]:
    """linnea.fors's assignment failed for good on another instance, its failure reported (the dispatcher's
    failure hook); returns it, its case's reference and who was told."""
    msg, ref = await _assignment(core)
    assert core.dispatcher.on_failed is not None
    async with core.db.transaction() as tx:
        assert await outbox_store.mark_failed(tx, msg.id, 3, "slack:user_not_found") == 1
        await core.dispatcher.on_failed(tx, msg, "slack:user_not_found")
        told = [r["recipient_id"] for r in await tx.fetchall(
            "SELECT recipient_id FROM outbox WHERE template = 'delivery_failed' ORDER BY id")]
    assert told
    return msg, ref, told


async def _recorded_late(core: Core, msg: OutboxMessage, external_id: str | None, times: int = 2) -> None:
    """This instance's send of `msg`, recorded late, `times` times (its batch committed, the acknowledgement
    lost), with the dispatcher's hooks as the core wires them."""
    for _ in range(times):
        async with core.db.transaction() as tx:
            await outcomes._write_batch(tx, [outcomes.Sent(msg, 1, AT, external_id, None)], [], [],
                                        core.dispatcher.on_recovered)


async def _recovered(core: Core) -> list[dict[str, object]]:
    async with core.db.transaction() as tx:
        return await tx.fetchall("SELECT * FROM outbox WHERE template = 'delivery_recovered' ORDER BY id")


@BOTH
@pytest.mark.parametrize("external_id", [None, "ts-1"])
async def test_those_told_of_a_failure_are_told_it_was_delivered_after_all(
    core: Core, external_id: str | None,
) -> None:
    msg, ref, told = await _failed_and_reported(core)
    await _recorded_late(core, msg, external_id)
    rows = await _recovered(core)
    assert [r["recipient_id"] for r in rows] == told  # each once, though recorded twice
    assert all(r["case_ref"] == ref and r["reads"] is None for r in rows)  # no free text of the case
    text = OutboxMessage.from_row(rows[0]).text
    assert ref in text and "levererats ändå" in text and "linnea.fors" in text
    free = [ln.text for ln in (msg.message.lines if msg.message else ()) if ln.free]
    assert free and not any(f in text for f in free)


@BOTH
@pytest.mark.parametrize("notice", ["pending", "sent", "cancelled", "failed"])
async def test_only_those_whose_failure_notice_goes_or_went_are_told(core: Core, notice: str) -> None:
    msg, _, told = await _failed_and_reported(core)
    async with core.db.transaction() as tx:
        await tx.execute("UPDATE outbox SET status = ? WHERE template = 'delivery_failed'", (notice,))
    await _recorded_late(core, msg, "ts-1", times=1)
    assert [r["recipient_id"] for r in await _recovered(core)] == (told if notice in ("pending", "sent") else [])


@BOTH
async def test_a_second_copy_of_a_delivered_row_tells_nobody(core: Core) -> None:
    msg, _ = await _assignment(core)
    async with core.db.transaction() as tx:
        await outcomes._write_sent(tx, [outcomes.Sent(msg, 1, AT, "ts-1", None)])
    async with core.db.transaction() as tx:
        await outcomes._write_batch(tx, [outcomes.Sent(msg, 1, AT + timedelta(seconds=5), "ts-2", None)], [], [],
                                    core.dispatcher.on_recovered)
    assert await _recovered(core) == []


@BOTH
async def test_the_dispatcher_records_a_late_send_with_its_recovery_hook(core: Core) -> None:
    """Through the dispatcher's own recording of a send (`Outcomes._record`, its group commit), as the bot calls it:
    the hook the core wires is the one the batch calls (review of a14f459: the tests above call `_write_batch` with
    the hook themselves)."""
    msg, _, told = await _failed_and_reported(core)
    await core.dispatcher._record(outcomes.Sent(msg, 1, AT, "ts-1", None))
    assert [r["recipient_id"] for r in await _recovered(core)] == told
