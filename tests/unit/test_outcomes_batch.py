"""The dispatcher's batch of outcomes on several instances: one lock order (holds in key order, the channel-wide
hold after the recipients', the read log last) and a batch PostgreSQL aborts for another's sake run again."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import psycopg.errors
import pytest

from bot import outcomes
from bot.core import Core
from bot.outbox import OutboxMessage
from bot.store import Tx
from bot.store import outbox as outbox_store
from bot.store import outbox_lanes as lanes_store
from tests.conftest import CoreFactory
from tests.unit.test_dispatcher import ScriptedSender, dispatcher, queue, row

AT = datetime(2026, 12, 7, 12, 0)


class AbortingDb:
    """The store, except that the first transactions recording a batch of outcomes fail with `errors` before any
    write (as PostgreSQL rolls back the one it aborts)."""

    def __init__(self, db: Any, errors: list[Exception]) -> None:
        self._db, self.errors, self.runs = db, errors, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    async def run(self, work: Any) -> Any:
        if not work.__qualname__.startswith("Outcomes._record"):  # the claim, the forgetting of holds
            return await self._db.run(work)
        self.runs += 1
        if self.errors:
            raise self.errors.pop(0)
        return await self._db.run(work)


async def test_a_deadlocked_batch_is_run_again_and_its_sends_recorded_once(core: Core) -> None:
    sender = ScriptedSender()
    d = dispatcher(core, sender)
    mids = await queue(core)
    d.db = AbortingDb(d.db, [psycopg.errors.DeadlockDetected("deadlock detected")])  # type: ignore[assignment]
    assert (await d.run_once()).sent == 1  # no error: the batch went through on its second run
    for mid in mids:
        r = await row(core, mid)
        assert r["status"] == "sent" and r["attempts"] == 1
    await d.run_once()
    assert len(sender.sent) == 1  # recorded, so never sent again


async def test_a_batch_that_keeps_conflicting_is_given_up_as_not_recorded(core: Core) -> None:
    sender = ScriptedSender()
    d = dispatcher(core, sender)
    [mid] = await queue(core)
    errors: list[Exception] = [psycopg.errors.SerializationFailure("could not serialize")] * outcomes.BATCH_ATTEMPTS
    d.db = AbortingDb(d.db, errors)  # type: ignore[assignment]
    with pytest.raises(psycopg.errors.SerializationFailure):
        await d.run_once()
    assert (await row(core, mid))["status"] == "pending"
    await d.run_once()  # remembered in this process: recorded, not sent again
    assert len(sender.sent) == 1 and (await row(core, mid))["status"] == "sent"


async def test_other_errors_are_not_run_again(core: Core) -> None:
    d = dispatcher(core, ScriptedSender())
    await queue(core)
    db = AbortingDb(d.db, [ConnectionError("reset")])
    d.db = db  # type: ignore[assignment]
    with pytest.raises(ConnectionError):
        await d.run_once()
    assert db.runs == 1


def message(mid: int, recipient: str, channel: str = "slack", reads: tuple[str, ...] = ()) -> OutboxMessage:
    return OutboxMessage(id=mid, recipient_id=recipient, channel=channel, template="t", text="", blocks=None,
                         case_ref=None, urgent=False, attempts=0, reads=reads)


async def test_a_batch_takes_its_locks_in_one_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every hold first (recipients in key order, then the channel-wide ones), then the rows (every one of the batch
    locked first, in id order), the read log last."""
    calls: list[tuple[str, Any]] = []

    def recording(name: str, result: Any = None) -> Any:
        async def call(tx: Tx, *args: Any) -> Any:
            calls.append((name, args[0]))
            return result
        return call

    monkeypatch.setattr(lanes_store, "hold_all", recording("hold_all"))
    monkeypatch.setattr(lanes_store, "hold_channels", recording("hold_channels", {}))
    monkeypatch.setattr(outcomes.store, "lock_in_order", recording("lock_in_order"))
    monkeypatch.setattr(outcomes.store, "mark_sent_many", recording("mark_sent_many", {1, 2}))
    monkeypatch.setattr(outcomes.store, "mark_retry", recording("mark_retry"))
    monkeypatch.setattr(outcomes.readlog, "record_many", recording("record_many"))
    sent = [outcomes.Sent(message(2, "zara", reads=("GFI-1",)), 1, AT, None, AT + timedelta(seconds=1)),
            outcomes.Sent(message(1, "anna"), 1, AT, None, AT + timedelta(seconds=1))]
    limited = [outcomes.Limited(message(3, "bo"), "slack:ratelimited", AT + timedelta(seconds=7), AT, AT)]

    async def other(tx: Tx) -> None:
        calls.append(("other", None))

    await outcomes._write_batch(None, sent, limited, [outcomes.Write(4, other)])  # type: ignore[arg-type]
    assert [name for name, _ in calls] == ["hold_all", "hold_channels", "lock_in_order", "mark_sent_many",
                                           "mark_retry", "other", "record_many"]
    assert sorted(calls[2][1]) == [1, 2, 3, 4]  # every row of the batch (`lock_in_order` sorts them)
    assert {(c, r, k) for c, r, _, k in calls[0][1]} == {("slack", "zara", "pace"), ("slack", "anna", "pace"),
                                                         ("slack", "bo", "limit")}


class WritingTx:
    def __init__(self) -> None:
        self.params: list[Any] = []

    async def write(self, sql: str, params: list[Any]) -> None:
        self.params = params


async def test_holds_are_written_in_key_order_each_pair_once_with_its_latest_time() -> None:
    tx = WritingTx()
    later = AT + timedelta(seconds=9)
    await lanes_store.hold_all(tx, [("teams", "a", AT, "pace"), ("slack", "z", AT, "pace"),  # type: ignore[arg-type]
                                    ("slack", "b", AT, "pace"), ("slack", "b", later, "limit"),
                                    ("slack", "z", AT - timedelta(seconds=1), "limit")])
    rows = [tuple(tx.params[i:i + 4]) for i in range(0, len(tx.params), 4)]
    assert rows == [("slack", "b", "limit", later.isoformat()), ("slack", "z", "pace", AT.isoformat()),
                    ("teams", "a", "pace", AT.isoformat())]


async def test_a_send_unrecorded_whose_row_was_cancelled_meanwhile_is_recorded_at_the_next_pass(core: Core) -> None:
    """A send the store could not record is recorded at the next pass, not when its row is claimed again: a row
    cancelled meanwhile (a consent withdrawn) never is. Its send is then retracted, and the dispatcher does not
    stay busy with it for ever."""
    sender = ScriptedSender()
    d = dispatcher(core, sender)
    [mid] = await queue(core)
    d.db = AbortingDb(d.db, [ConnectionError("reset")])  # type: ignore[assignment]
    with pytest.raises(ConnectionError):
        await d.run_once()
    async with core.db.transaction() as tx:  # the consent withdrawn: the row cancelled under the send
        await tx.execute("UPDATE outbox SET status = 'cancelled' WHERE id = ?", (mid,))
    await d.run_once()
    assert not d._unrecorded
    cancelled = await row(core, mid)
    assert cancelled["status"] == "cancelled" and cancelled["external_id"] == "rec-1"
    async with core.db.transaction() as tx:
        retraction = await tx.fetchone("SELECT status, target FROM outbox WHERE kind = 'retract'")
    assert retraction is not None and retraction["target"] == "rec-1"
    await d.run_once()  # queued during that pass: sent at the next
    assert [s.template for s in sender.sent] == ["slack_brist", "retract"]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@pytest.mark.parametrize("external_id", [None, "ts-1"])
async def test_a_late_send_recorded_twice_is_one_read(core: Core, external_id: str | None) -> None:
    """A send whose row was cancelled under it (consent withdrawn), recorded again because its batch committed
    but the acknowledgement was lost: one read-log row, one retraction, not one more each time."""
    [mid] = await queue(core)
    async with core.db.transaction() as tx:
        await tx.execute("UPDATE outbox SET status = 'cancelled' WHERE id = ?", (mid,))
    sent = outcomes.Sent(message(mid, "linnea.fors", reads=("GFI-2026-0001",)), 1, AT, external_id, None)
    for _ in range(2):
        async with core.db.transaction() as tx:
            await outcomes._write_sent(tx, [sent])
    async with core.db.transaction() as tx:
        reads = await tx.fetchall("SELECT case_ref FROM case_reads WHERE person_id = 'linnea.fors'")
        retractions = await tx.fetchall("SELECT target FROM outbox WHERE kind = 'retract'")
    assert [r["case_ref"] for r in reads] == ["GFI-2026-0001"]
    assert [r["target"] for r in retractions] == ([] if external_id is None else ["ts-1"])


async def _assignment(core: Core) -> tuple[OutboxMessage, str]:
    """linnea.fors's assignment (with the brief), queued and not yet sent, as the dispatcher would claim it."""
    from tests.timekit import assigned_case

    case = await assigned_case(core)
    async with core.db.transaction() as tx:
        found = await tx.fetchone("SELECT * FROM outbox WHERE recipient_id = 'linnea.fors' "
                                  "AND template = 'assigned_to_you'")
    assert found is not None
    return OutboxMessage.from_row(found), case.ref


async def _reads_and_retractions(core: Core) -> tuple[list[str], list[str]]:
    async with core.db.transaction() as tx:
        reads = await tx.fetchall("SELECT case_ref FROM case_reads WHERE person_id = 'linnea.fors'")
        retractions = await tx.fetchall("SELECT target FROM outbox WHERE kind = 'retract' ORDER BY target")
    return [r["case_ref"] for r in reads], [r["target"] for r in retractions]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@pytest.mark.parametrize("external_id", [None, "ts-2"])
async def test_a_second_copy_of_a_row_another_instance_sent_is_read_logged_and_retracted(
    core: Core, external_id: str | None,
) -> None:
    """Instance b sent the row and marked it sent (ts-1); instance a, whose lease ran out mid-send, sent it too and
    records it late (twice: its batch committed, the acknowledgement lost). Its copy is one more read, and the
    consent's withdrawal retracts both copies; without it a's copy was neither."""
    msg, ref = await _assignment(core)
    first = outcomes.Sent(msg, 1, AT, "ts-1", None)
    copy = outcomes.Sent(msg, 1, AT + timedelta(seconds=5), external_id, None)
    for sent in (first, copy, copy):
        async with core.db.transaction() as tx:
            await outcomes._write_sent(tx, [sent])
    reads, _ = await _reads_and_retractions(core)
    assert reads == [ref, ref]
    await core.cases.withdraw_consent("maria.sand", ref)
    _, retracted = await _reads_and_retractions(core)
    assert retracted == (["ts-1"] if external_id is None else ["ts-1", "ts-2"])


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_second_copy_recorded_after_the_withdrawal_is_retracted_at_once(core: Core) -> None:
    msg, ref = await _assignment(core)
    async with core.db.transaction() as tx:
        await outcomes._write_sent(tx, [outcomes.Sent(msg, 1, AT, "ts-1", None)])
    await core.cases.withdraw_consent("maria.sand", ref)  # the first copy retracted
    for _ in range(2):
        async with core.db.transaction() as tx:
            await outcomes._write_sent(tx, [outcomes.Sent(msg, 1, AT + timedelta(seconds=5), "ts-2", None)])
    reads, retracted = await _reads_and_retractions(core)
    assert reads == [ref, ref] and retracted == ["ts-1", "ts-2"]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@pytest.mark.parametrize("external_id", [None, "ts-1"])
async def test_a_send_recorded_again_is_the_rows_own_not_a_copy(core: Core, external_id: str | None) -> None:
    """A pending row's send recorded twice (its batch committed, the acknowledgement lost): one read, no `copy:`
    row, and a withdrawal retracts the one message (review of ce2fcd4: nothing failed without copies.py's check of
    the row's own channel id / send time)."""
    msg, ref = await _assignment(core)
    for _ in range(2):
        async with core.db.transaction() as tx:
            await outcomes._write_sent(tx, [outcomes.Sent(msg, 1, AT, external_id, None)])
    async with core.db.transaction() as tx:
        copies = await tx.fetchall("SELECT id FROM outbox WHERE dedupe_key LIKE 'copy:%'")
    reads, _ = await _reads_and_retractions(core)
    assert reads == [ref] and copies == []
    await core.cases.withdraw_consent("maria.sand", ref)
    _, retracted = await _reads_and_retractions(core)
    assert retracted == ([] if external_id is None else ["ts-1"])


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@pytest.mark.parametrize("external_id", [None, "ts-1"])
async def test_a_send_of_a_row_another_instance_marked_failed_marks_it_sent(
    core: Core, external_id: str | None,
) -> None:
    """Instance a's lease ran out mid-send; b claimed the row and gave up on it (failed); a's send went through and
    is recorded late (twice). The row is sent, with a's channel id: one read, and the withdrawal retracts it
    (review of ce2fcd4: it stayed failed, in the channel with no read-log row and never retracted)."""
    msg, ref = await _assignment(core)
    async with core.db.transaction() as tx:
        assert await outbox_store.mark_failed(tx, msg.id, 3, "permanent") == 1
    for _ in range(2):
        async with core.db.transaction() as tx:
            await outcomes._write_sent(tx, [outcomes.Sent(msg, 1, AT, external_id, None)])
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT status, external_id, sent_at FROM outbox WHERE id = ? "
                                 "OR dedupe_key LIKE 'copy:%'", (msg.id,))
    assert [(r["status"], r["external_id"], r["sent_at"]) for r in rows] == [("sent", external_id, AT.isoformat())]
    reads, _ = await _reads_and_retractions(core)
    assert reads == [ref]
    await core.cases.withdraw_consent("maria.sand", ref)
    _, retracted = await _reads_and_retractions(core)
    assert retracted == ([] if external_id is None else ["ts-1"])


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_withdrawal_meeting_a_copy_being_recorded_retracts_the_copy(make_core: CoreFactory) -> None:
    """Two instances (review of ce2fcd4, D): a records a's late copy (ts-2) of a row b sent (ts-1), and before a's
    batch commits, the consent is withdrawn on b. At READ COMMITTED without locks a's batch found no retraction of
    the first (b's not committed) and b's retractions did not see the copy (a's not committed): the copy stayed in
    the channel. Now a's batch locks the first row and b's withdrawal the case's sent rows before it queues their
    retractions (the store's `withdraw`: every withdrawal and lost access): b waits for a's commit and retracts
    both."""
    a, b = await make_core(), await make_core()
    msg, ref = await _assignment(a)
    async with a.db.transaction() as tx:
        await outcomes._write_sent(tx, [outcomes.Sent(msg, 1, AT, "ts-1", None)])
        case_id = int(await tx.scalar("SELECT id FROM cases WHERE ref = ?", (ref,)))

    async def withdraw() -> None:
        async with b.db.transaction() as tx:
            await outbox_store.withdraw(tx, case_id, AT, "consent_withdrawn")

    withdrawal: asyncio.Task[None] | None = None
    async with a.db.transaction() as tx:
        await outcomes._write_sent(tx, [outcomes.Sent(msg, 1, AT + timedelta(seconds=5), "ts-2", None)])
        withdrawal = asyncio.create_task(withdraw())
        await asyncio.sleep(1.0)  # b's withdrawal runs meanwhile (done by then without the locks)
    await withdrawal
    reads, retracted = await _reads_and_retractions(a)
    assert reads == [ref, ref] and retracted == ["ts-1", "ts-2"]


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_copy_recorded_while_a_withdrawal_commits_is_retracted(make_core: CoreFactory) -> None:
    """The other order: b's withdrawal has queued the first's retraction, not yet committed, when a records its
    copy. Without the lock on the first row a's batch found no retraction (b's not committed) and queued none; now
    it waits for b's commit, finds retract:<first> and retracts the copy at once."""
    a, b = await make_core(), await make_core()
    msg, ref = await _assignment(a)
    async with a.db.transaction() as tx:
        await outcomes._write_sent(tx, [outcomes.Sent(msg, 1, AT, "ts-1", None)])
        case_id = int(await tx.scalar("SELECT id FROM cases WHERE ref = ?", (ref,)))

    async def record_copy() -> None:
        async with a.db.transaction() as tx:
            await outcomes._write_sent(tx, [outcomes.Sent(msg, 1, AT + timedelta(seconds=5), "ts-2", None)])

    recording: asyncio.Task[None] | None = None
    async with b.db.transaction() as tx:
        await outbox_store.withdraw(tx, case_id, AT, "consent_withdrawn")
        recording = asyncio.create_task(record_copy())
        await asyncio.sleep(1.0)  # a records its copy meanwhile (done by then without the lock)
    await recording
    _, retracted = await _reads_and_retractions(a)
    assert retracted == ["ts-1", "ts-2"]
