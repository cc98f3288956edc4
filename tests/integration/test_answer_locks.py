"""The answers that had no race test yet (issue #22 item 4): *påminn*, accepting or declining a proposed follow-up,
dismissing a brist draft. Each is raced between two instances on one database as in `test_case_locks`: the two
units meet after their read and before their write. With the case's (or the draft's) row locked first the second
waits and decides on what the first committed, and they never meet; without it both read the same state and both
wrote (a nudge for an item already answered, a proposal both accepted and declined, a draft both dismissed and
made a report). On SQLite the one writer serialises them (run there too: same outcome, no meeting)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.errors import Refusal
from bot.store import Tx
from bot.store import follow_ups as follow_up_store
from bot.store import ladder as ladder_store
from tests.conftest import CoreFactory, local
from tests.integration.test_escalation_locks import _audited
from tests.races import Meeting, two
from tests.timekit import assigned_case, form

pytestmark = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


async def test_a_nudge_of_an_item_answered_on_another_instance_meanwhile_is_refused(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """helena.ros (on psykiatri's ladder) nudges the acknowledgement that yusuf.kaya gives at the same moment on
    another instance. With the case locked first, the nudge waits and finds the item answered; without it, it
    read the item open and reminded people of what was answered."""
    a, b = await two(make_core)
    case = await a.cases.request("maria.sand", form(target_unit="psykiatri"))
    await a.cases.assign("ingrid.vik", case.ref, ["yusuf.kaya"])

    async def item(tx: Tx) -> int:
        [row] = [r for r in await ladder_store.open_rows(tx, case.id) if r["kind"] == "acknowledgement"]
        return int(row["id"])

    item_id = await a.db.run_read(item)
    meeting = Meeting()
    monkeypatch.setattr(b.ladder, "get", meeting.after_call(b.ladder.get))
    monkeypatch.setattr(a.ladder, "sync", meeting.then(a.ladder.sync))
    nudged, acknowledged = await asyncio.gather(b.ladder.nudge("helena.ros", item_id),
                                                a.cases.acknowledge("yusuf.kaya", case.ref), return_exceptions=True)
    assert not isinstance(acknowledged, BaseException), acknowledged
    done = await _audited(a, case.ref)
    acked = done.index(("acknowledge", "ok"))
    assert ("ladder_nudge", "ok") not in done[acked:], done  # a nudge only of an item still open
    if ("ladder_nudge", "ok") not in done:
        assert isinstance(nudged, Refusal) and nudged.code == "escalation_resolved", nudged


async def _proposed(core: Any, clock: FrozenClock) -> str:
    """A case after its meeting, with follow-up 1 proposed by maria.sand (the municipality) to linnea.fors (the
    region): linnea.fors or beroende's distributor fatima.ali accepts or declines it."""
    case = await assigned_case(core)
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"])
    clock.set(local("2026-11-30T15:00"))
    await core.cases.record_outcome("linnea.fors", case.ref, "kartlaggning", True)
    proposed = await core.cases.add_follow_up("maria.sand", case.ref, "linnea.fors", date(2026, 12, 14), "Ringa upp")
    assert proposed.follow_ups[0].proposed
    return str(case.ref)


async def test_a_proposal_accepted_and_declined_on_two_instances_at_once_is_answered_once(
    make_core: CoreFactory, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = await two(make_core)
    ref = await _proposed(a, clock)
    meeting = Meeting()
    for record in ("accept_follow_up", "decline_follow_up"):  # after its read and its check, before its write
        monkeypatch.setattr(follow_up_store, record, meeting.then(getattr(follow_up_store, record)))
    results = await asyncio.gather(a.cases.accept_follow_up("linnea.fors", ref, 1),
                                   b.cases.decline_follow_up("fatima.ali", ref, 1), return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], Refusal), results
    assert refused[0].code in ("follow_up_already_accepted", "follow_up_declined"), refused
    assert not meeting.met  # the second read the case only once the first had committed
    answers = [d for d in await _audited(a, ref) if d[0] in ("accept_follow_up", "decline_follow_up")]
    assert [r for _, r in answers].count("ok") == 1, answers


async def test_a_draft_dismissed_and_submitted_on_two_instances_at_once_is_decided_once(
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
    monkeypatch.setattr(brist_store, "set_draft_dismissed", meeting.before_async(brist_store.set_draft_dismissed))
    results = await asyncio.gather(a.brister.dismiss_draft("jonas.sjo", draft_id, "Löst i samtal."),
                                   b.brister.submit_draft("jonas.sjo", draft_id), return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], Refusal), results
    assert refused[0].code == "brist_draft_decided"
    assert not meeting.met

    async def decided(tx: Tx) -> tuple[int, str]:
        reports = int(await tx.scalar("SELECT COUNT(*) FROM brister"))
        return reports, str(await tx.scalar("SELECT status FROM brist_drafts WHERE id = ?", (draft_id,)))

    reports, status = await a.db.run_read(decided)
    assert (reports, status) in ((0, "dismissed"), (1, "submitted")), (reports, status)
