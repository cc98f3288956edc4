"""Two instances change one case (or one brist draft) at the same moment (issue #22): every unit that changes a
case from what it read takes the case's row lock first (`CaseEngine._changing`, `bot.store.cases.lock`), so the
second waits and then decides on what the first committed. Without the lock both read the case as it was, both
pass the rule, and both write: a follow-up completed twice, a draft made into two reports.

Each race is forced: the two units meet (`Meeting`) after their read and before their write. With the lock they
cannot meet (the second is still waiting on the row), so the first goes on alone after a short wait; without it
they meet and both write. Two cores on one PostgreSQL database stand for two `gfi-bot run` processes. On SQLite
the one writer already serialises them (run there too: same outcome, no meeting)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot import audit
from bot.clock import FrozenClock
from bot.errors import Refusal
from bot.store import Tx
from bot.store import follow_ups as follow_up_store
from bot.store import ladder as ladder_store
from tests.conftest import CoreFactory, local
from tests.races import BOTH_ENGINES, WAIT, Meeting, apply_batch, climb, open_item, raced, settled, two
from tests.timekit import assigned_case

pytestmark = BOTH_ENGINES
__all__ = ["WAIT", "Meeting", "_two"]  # still imported from here by test_access_lost (tests.races has them)

_two = two  # test_access_lost's name for it (tests.races)


async def test_a_follow_up_completed_on_two_instances_at_once_is_completed_once(
    make_core: CoreFactory, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = await two(make_core)
    case = await assigned_case(a)
    await a.cases.acknowledge("linnea.fors", case.ref)
    await a.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"])
    clock.set(local("2026-11-30T15:00"))
    await a.cases.record_outcome("linnea.fors", case.ref, "kartlaggning", True)
    await a.cases.add_follow_up("maria.sand", case.ref, "maria.sand", date(2026, 12, 14), "Ringa upp")
    meeting = Meeting()
    # after its read and its check, before its write
    monkeypatch.setattr(follow_up_store, "complete_follow_up", meeting.then(follow_up_store.complete_follow_up))
    results = await raced(a.cases.complete_follow_up("maria.sand", case.ref, 1),
                          b.cases.complete_follow_up("maria.sand", case.ref, 1))
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], Refusal), results
    assert refused[0].code == "follow_up_already_done"
    assert not meeting.met  # the second read the case only once the first had committed

    async def completions(tx: Tx) -> int:
        return sum(1 for r in await audit.for_case(tx, case.ref)
                   if r["action"] == "complete_follow_up" and r["result"] == "ok")

    assert await a.db.run_read(completions) == 1


async def test_a_brist_draft_submitted_on_two_instances_at_once_makes_one_report(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = await two(make_core)
    case = await assigned_case(a)

    async def draft(tx: Tx) -> int:
        [item] = await ladder_store.open_rows(tx, case.id)
        return await ladder_store.insert_brist_draft(
            tx, awaiting_id=int(item["id"]), case_id=case.id, case_ref=case.ref, coordinators=["jonas.sjo"],
            units=["soc-norr", "beroende"], principals=["astad", "region-sydvast"],
            what_happened="Kvittering av fördelat ärende väntade.", causes=["kommunikation"], now=a.clock.now())

    draft_id = await a.db.run(draft)
    meeting = Meeting()
    import bot.store.brister as brist_store

    monkeypatch.setattr(brist_store, "next_ref_number", meeting.before_async(brist_store.next_ref_number))
    results = await raced(a.brister.submit_draft("jonas.sjo", draft_id), b.brister.submit_draft("jonas.sjo", draft_id))
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], Refusal), results
    assert refused[0].code == "brist_draft_decided"
    assert not meeting.met

    async def reports(tx: Tx) -> int:
        return int(await tx.scalar("SELECT COUNT(*) FROM brister"))

    assert await a.db.run_read(reports) == 1


async def test_measures_recorded_on_two_instances_at_once_are_both_recorded(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A change to a report decides on the report as read: the second waits for the first and records its text
    after it (measures replace earlier text), instead of failing the version guard as "wrong state"."""
    a, b = await two(make_core)
    report = await a.brister.file("maria.sand", _brist())
    meeting = Meeting()
    import bot.store.brister as brist_store

    monkeypatch.setattr(brist_store, "set_measures", meeting.before_async(brist_store.set_measures))
    await settled(a.brister.record_measures("fatima.ali", report.ref, "Vi ringer i stället."),
                  b.brister.record_measures("anna.lind", report.ref, "Vi har en ersättare."))
    assert not meeting.met

    async def changes(tx: Tx) -> int:
        return sum(1 for r in await audit.for_case(tx, report.ref) if r["action"] == "brist_measures")

    assert await a.db.run_read(changes) == 2


def _brist() -> Any:
    from bot.brister.models import BristForm

    return BristForm(units=["soc-norr", "beroende"], causes=["kommunikation"],
                     what="Tre kontakter med beroendemottagningen blev obesvarade under två veckor.")


async def test_a_sweep_batch_auditing_skipped_rungs_and_a_case_action_take_their_locks_in_one_order(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, engine: str,
) -> None:
    """`fires.apply` audits the rungs a climb skipped: it takes the audit chain's lock before its awaited items,
    in the order a case action takes them (its case, the audit chain when it audits, then `ladder.sync`'s items).
    Here a batch climbs the acknowledgement item of a case on one instance while the case is acknowledged on the
    other, which resolves that item. Taken the other way round (the item, then the audit chain) the batch held the
    item the action wanted while the action held the audit chain the batch wanted: a deadlock (40P01), the server
    rolling one back after a second. In one order the action waits for the batch (they never meet).

    The action begins once the batch holds its locks (`Meeting.once_arrived`). Started together, the action took
    the audit chain first whenever it reached the database first (under load), resolved the item while the batch
    waited for the chain, and the batch then found nothing to climb: `[] == [2]` below, a failure of the test's
    set-up, not of the lock order."""
    if engine == "sqlite":
        pytest.skip("one writer on SQLite: no deadlock")
    a, b = await two(make_core)
    case = await assigned_case(a)
    item = await open_item(a, case.id, "acknowledgement")
    fire = climb(item, case, ["fatima.ali"], titles=["Fördelare"], skipped=[("acknowledgement", "Fördelare")])
    meeting = Meeting()
    # the batch meets holding the item (and the audit chain, in order); the action holding its case and the chain
    monkeypatch.setattr(ladder_store, "climb_many", meeting.after(ladder_store.climb_many))
    monkeypatch.setattr(a.ladder, "sync", meeting.then(a.ladder.sync))
    caplog.set_level("INFO", logger="bot.store")
    # the batch is not run again (it would have failed) and the acknowledgement goes through
    applied, _ = await settled(apply_batch(b, [fire]),
                               meeting.once_arrived(a.cases.acknowledge("linnea.fors", case.ref)))
    assert not [r for r in caplog.records if getattr(r, "event", "") == "store.unit_retried"]  # no deadlock
    assert not meeting.met
    assert [f.row_id for f in applied] == [fire.row_id]
