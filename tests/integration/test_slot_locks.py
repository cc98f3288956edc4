"""A distribution slot's queue message carries the briefs of the cases it lists, and is delivered later: a consent
withdrawn meanwhile must reach it wherever it is (issue #22; DESIGN §7, "lock order").

- The slot locks the cases it lists before it reads them for the message (`DistributionService._locked_queue`).
  Raced between two instances as in `test_case_locks`: the slot meets the withdrawal after its first read of the
  queue, the withdrawal holding the case's row. Without the lock the slot queued its message listing the case
  after the withdrawal had cancelled the case's messages: a pending message with the brief of a case whose
  consent was withdrawn.
- A message in flight when the consent is withdrawn (its row cancelled under the send) is retracted in the
  channel once its send is recorded, as one delivered before the withdrawal is (`outbox.retract_withdrawn`).
  Without it the row stayed cancelled with no channel id: the message stayed in the channel.
- A sweep's batch that queued a message showing the case while the consent was withdrawn (it holds the case's
  awaited item, not its row) is cancelled by the withdrawal's last pass (`bot.cases.closing.WithdrawnAgain`)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.distribution.scheduled import run_distribution
from bot.outbox import OutboxMessage
from bot.store import Tx, case_lists
from bot.store import closing as closing_store
from tests.conftest import CoreFactory, RecordingSender, local
from tests.races import BOTH_ENGINES, HeldBatch, Meeting, apply_batch, climb, open_item, settled, shown, two
from tests.timekit import form

pytestmark = BOTH_ENGINES


async def _queue_rows(core: Any, ref: str) -> list[dict[str, Any]]:
    async def rows(tx: Tx) -> list[dict[str, Any]]:
        return await tx.fetchall(
            "SELECT id, status, kind, template, message, reads, external_id, recipient_id FROM outbox "
            "WHERE template IN ('queue', 'retract') ORDER BY id")
    return [r for r in await core.db.run_read(rows) if r["template"] == "retract" or ref in (r["reads"] or "")]


async def test_a_slot_and_a_consent_withdrawn_on_another_instance_at_once_queue_no_brief(
    make_core: CoreFactory, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, engine: str,
) -> None:
    a, b = await two(make_core)
    await run_distribution(a)  # the first run starts from the latest slots without sending them
    case = await a.cases.request("maria.sand", form())
    clock.set(local("2026-11-24T09:30"))  # after Tuesday's slot
    meeting = Meeting()
    monkeypatch.setattr(case_lists, "queue_page", meeting.after_call(case_lists.queue_page))
    monkeypatch.setattr(a.ladder, "sync", meeting.then(a.ladder.sync))
    await settled(run_distribution(b), a.cases.withdraw_consent("maria.sand", case.ref))
    # they met (the slot had read the queue, the withdrawal held the case) where two instances can; on SQLite the
    # slot holds the one writer from its start
    assert meeting.met == (engine == "postgresql")
    rows = await _queue_rows(a, case.ref)
    assert not [r for r in rows if r["status"] == "pending" and r["kind"] == "message"], rows
    assert not [r for r in rows if r["message"] and "alkohol" in r["message"]], rows  # the brief


@pytest.mark.parametrize("gives_id", [True, False], ids=["slack", "e-mail"])
async def test_a_queue_in_flight_when_the_consent_is_withdrawn_is_retracted(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender, monkeypatch: pytest.MonkeyPatch,
    gives_id: bool,
) -> None:
    """Sent while the withdrawal cancelled its row: retracted where the channel gave the message's id (a
    channel that gives none, e-mail or the console, cannot delete it), and in the read log either way."""
    core = await make_core()
    await run_distribution(core)
    case = await core.cases.request("maria.sand", form())
    await core.tick()
    clock.set(local("2026-11-24T09:30"))
    assert await run_distribution(core) == 1
    in_flight, go = asyncio.Event(), asyncio.Event()
    send = sender.send

    async def slow(message: OutboxMessage) -> str | None:
        if message.template == "queue":
            in_flight.set()
            await go.wait()
        found = await send(message)
        return found if gives_id else None

    monkeypatch.setattr(sender, "send", slow)
    delivering = asyncio.create_task(core.dispatcher.run_once())
    await in_flight.wait()
    await core.cases.withdraw_consent("maria.sand", case.ref)
    go.set()
    await delivering
    await core.dispatcher.run_once()
    rows = await _queue_rows(core, case.ref)
    [queue] = [r for r in rows if r["template"] == "queue"]
    assert queue["status"] == "cancelled" and bool(queue["external_id"]) == gives_id, rows
    retracted = [r for r in rows if r["kind"] == "retract" and r["recipient_id"] == "fatima.ali"]
    assert [r["status"] for r in retracted] == (["sent"] if gives_id else []), rows
    assert ([s.template for s in sender.to("fatima.ali")][-1] == "retract") == gives_id

    async def read(tx: Tx) -> list[dict[str, Any]]:
        return await tx.fetchall("SELECT person_id, view FROM case_reads WHERE case_ref = ?", (case.ref,))

    assert [r["person_id"] for r in await core.db.run_read(read) if r["view"] == "queue"] == ["fatima.ali"]


async def test_a_later_withdrawal_keeps_what_an_earlier_one_queued(
    make_core: CoreFactory, sender: RecordingSender,
) -> None:
    """The consent withdrawn for psykiatri queues a retraction of what yusuf.kaya got, and tells him he lost
    access; the whole consent withdrawn before those go neither cancels nor erases them (they show no text)."""
    from tests.integration.test_consent_limits import booked_with_psykiatri

    core = await make_core()
    ref = await booked_with_psykiatri(core)
    case = await core.cases.get(ref)
    async with core.db.transaction() as tx:
        await core.outbox.enqueue(tx, "yusuf.kaya", "meeting_booked", case_id=case.id, case_ref=ref,
                                  case=replace(case, meeting_place=None), actor="linnea.fors", rebooked=False)
    await core.tick()
    sender.clear()
    await core.cases.withdraw_consent("maria.sand", ref, unit="psykiatri")
    await core.cases.withdraw_consent("maria.sand", ref)
    await core.tick()
    assert [s.template for s in sender.to("yusuf.kaya")] == ["retract", "consent_withdrawn_unit"]
    [lost] = sender.to("yusuf.kaya", "consent_withdrawn_unit")
    assert "Du har därför inte längre tillgång till ärendet." in lost.text


async def test_a_sweep_batch_showing_the_brief_while_the_consent_is_withdrawn_is_cancelled(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sweep's batch does not wait for the case's row: it holds the case's awaited item, decides from the case
    as read before, and queues its messages (here one showing the case's text) after the withdrawal's first pass
    cancelled the case's messages. The withdrawal then waits for the batch (it resolves the same item), and its
    last pass (`WithdrawnAgain`) cancels what the batch queued; without it the message stayed pending."""
    from bot.store import ladder as ladder_store

    a, b = await two(make_core)
    case = await a.cases.request("maria.sand", form())
    fire = climb(await open_item(a, case.id), case, ["fatima.ali"], rows=[shown(a, case, "fatima.ali")])
    meeting = Meeting()
    # the batch meets holding the item, once climbed; the withdrawal after its first pass over the case's messages
    monkeypatch.setattr(ladder_store, "climb_many", meeting.after(ladder_store.climb_many))
    monkeypatch.setattr(closing_store, "close_and_erase", meeting.then(closing_store.close_and_erase))
    await settled(apply_batch(b, [fire]), a.cases.withdraw_consent("maria.sand", case.ref))

    async def left(tx: Tx) -> list[dict[str, Any]]:
        return await tx.fetchall("SELECT status, message FROM outbox WHERE template = 'escalation'")

    assert all(r["status"] != "pending" and r["message"] is None for r in await a.db.run_read(left))


async def test_a_sweep_batch_showing_the_brief_while_the_consent_is_withdrawn_for_its_unit_is_cancelled(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch, engine: str,
) -> None:
    """The same for a withdrawal for one unit, which only reads the case's awaited items (`LadderService.sync`):
    the batch climbs from the case as it is (its real version), shows the brief to yusuf.kaya (psykiatri), passes
    its version check and commits after the withdrawal for psykiatri committed. The withdrawal locks the case's
    open items and timers (`WithdrawalWaits`), so it waits for the batch, and its last pass cancels the message;
    without the lock the message stayed pending (on PostgreSQL; on SQLite the batch holds the one writer)."""
    a, b = await two(make_core)
    case = await a.cases.request("maria.sand", form(consent_scope=["psykiatri"], consent_form="skriftligt"))
    fire = climb(await open_item(a, case.id), case, ["yusuf.kaya"], rows=[shown(a, case, "yusuf.kaya")],
                 versioned=True)
    meeting = Meeting()
    # the withdrawal meets the batch after its first pass over the unit's messages, the batch having climbed and
    # passed its version check; then the batch commits only after the withdrawal did (or, waiting for the batch, it
    # cannot: the batch goes on after WAIT)
    monkeypatch.setattr(closing_store, "withdraw_unit", meeting.then(closing_store.withdraw_unit))
    held = HeldBatch(b, [fire], meeting)
    _, withdrawn = await settled(
        held.run(), held.other(a.cases.withdraw_consent("maria.sand", case.ref, unit="psykiatri")))
    assert meeting.met == (engine == "postgresql")
    assert withdrawn.consent_withdrawn == ["psykiatri"] and withdrawn.closed_reason is None

    async def left(tx: Tx) -> list[dict[str, Any]]:
        return await tx.fetchall("SELECT status, message FROM outbox WHERE template = 'escalation'")

    assert all(r["status"] != "pending" for r in await a.db.run_read(left))
