"""Need to know after a case action (DESIGN §7): someone who read the case in full and may not after the action (a
former assignee after a reassignment, a unit's participant left out of the rebooked meeting) gets none of the
case's text that was still to go (`bot.cases.access_lost`).

- In order: a message queued before the action, showing the case's text and not yet delivered, is cancelled and
  its stored message erased; what was delivered stays (they read it while they could).
- Raced between two instances as in `test_slot_locks`: a sweep's batch does not take the case's row. It holds the
  case's awaited item, decided its message from the case as it was, passed its version check, and commits after
  the reassignment's pass. The reassignment waits for it (it locks the case's open items and timers) and its
  pass then cancels what the batch queued; without the pass the message stayed pending (on PostgreSQL; on SQLite
  the batch holds the one writer)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.cases.leavers import stop_for_leavers
from bot.clock import FrozenClock
from bot.store import Tx
from bot.store import cases as case_store
from tests.conftest import CoreFactory, RecordingSender, local
from tests.integration.test_case_locks import Meeting, _two
from tests.integration.test_escalation_locks import _meet_then
from tests.races import HeldBatch, climb, open_item, settled, shown
from tests.timekit import assigned_case

pytestmark = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


async def _to(core: Any, person: str, template: str) -> list[dict[str, Any]]:
    async def rows(tx: Tx) -> list[dict[str, Any]]:
        return await tx.fetchall("SELECT status, message, reads FROM outbox WHERE recipient_id = ? AND template = ? "
                                 "ORDER BY id", (person, template))
    return list(await core.db.run_read(rows))


async def test_a_reassignment_stops_the_brief_still_to_go_to_the_former_assignee(
    make_core: CoreFactory, engine: str,
) -> None:
    core = await make_core()
    case = await assigned_case(core)  # linnea.fors's assignment, with the brief, not yet delivered
    [queued] = await _to(core, "linnea.fors", "assigned_to_you")
    assert queued["status"] == "pending" and case.ref in queued["reads"]
    await core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"], reassign=True)
    [stopped] = await _to(core, "linnea.fors", "assigned_to_you")
    assert stopped["status"] == "cancelled" and stopped["message"] is None, stopped
    [told] = await _to(core, "linnea.fors", "case_reassigned_away")  # told, without the text
    assert told["status"] == "pending" and not told["reads"]
    [new] = await _to(core, "sofia.grahn", "assigned_to_you")
    assert new["status"] == "pending" and "alkohol" in new["message"]


async def test_what_was_delivered_before_a_reassignment_stays(
    make_core: CoreFactory, sender: RecordingSender, engine: str,
) -> None:
    core = await make_core()
    case = await assigned_case(core)
    await core.tick()  # delivered: linnea.fors read it while the case was hers
    await core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"], reassign=True)
    [kept] = await _to(core, "linnea.fors", "assigned_to_you")
    assert kept["status"] == "sent", kept
    assert not await _to(core, "linnea.fors", "retract")


async def test_a_unit_left_out_of_the_rebooked_meeting_gets_no_place_still_to_go(
    make_core: CoreFactory, engine: str,
) -> None:
    """yusuf.kaya (psykiatri) was named for the meeting, whose booking names its place (free text); the meeting is
    rebooked without psykiatri before the booking reached him."""
    core = await make_core()
    case = await assigned_case(core, consent_scope=["soc-norr", "beroende", "psykiatri"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3",
                          ["soc-norr", "beroende", "psykiatri"], participants=[(None, "yusuf.kaya")])
    [queued] = await _to(core, "yusuf.kaya", "meeting_booked")
    assert queued["status"] == "pending" and case.ref in queued["reads"]
    await core.cases.book("linnea.fors", case.ref, local("2026-12-01T13:00"), "Rum 4", ["soc-norr", "beroende"])
    [stopped] = await _to(core, "yusuf.kaya", "meeting_booked")
    assert stopped["status"] == "cancelled" and stopped["message"] is None, stopped
    first, _ = await _to(core, "maria.sand", "meeting_booked")  # the requester, still in it, keeps hers
    assert first["status"] == "pending" and case.ref in first["reads"], first


async def test_a_follow_up_proposal_answered_stops_its_text_to_the_distributors_asked(
    make_core: CoreFactory, clock: FrozenClock, engine: str,
) -> None:
    """linnea.fors (beroende) proposes a follow-up to omar.haddad (soc-norr); anna.lind, soc-norr's distributor, may
    answer it for her staff and reads the case while it is open. omar.haddad accepts before her message went out:
    its text is stopped (an answer goes through `_changing`, not a case action's `_act_chosen`)."""
    core = await make_core()
    case = await assigned_case(core)
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"])
    clock.set(local("2026-11-30T15:00"))
    await core.cases.record_outcome("linnea.fors", case.ref, "kartlaggning", True)
    await core.cases.add_follow_up("linnea.fors", case.ref, "omar.haddad", date(2026, 12, 14), "Ringa upp")
    [asked] = await _to(core, "anna.lind", "follow_up_proposed")
    assert asked["status"] == "pending" and case.ref in asked["reads"], asked
    await core.cases.accept_follow_up("omar.haddad", case.ref, 1)
    [stopped] = await _to(core, "anna.lind", "follow_up_proposed")
    assert stopped["status"] == "cancelled" and stopped["message"] is None, stopped


async def test_a_settled_dispute_still_tells_the_proposer_without_the_agreement(
    make_core: CoreFactory, engine: str,
) -> None:
    """david.nord (soc-norr's second rung, not alerted yet) proposes, helena.ros confirms: david reads the case only
    while it is disputed. He is told it was settled, without the agreement's text; before, his notice showed the
    text and the pass cancelled it (a notice lost)."""
    from tests.integration.test_disputes import LONG_LADDERS, disputed_case
    from tests.timekit import directory_with

    core = await make_core(directory_with(**LONG_LADDERS))
    case = await disputed_case(core)
    await core.disputes.settle("david.nord", case.ref, "Psykiatrin behåller ärendet")
    await core.disputes.settle("helena.ros", case.ref, None)
    told = await _to(core, "david.nord", "dispute_settled")
    assert told and all(r["status"] == "pending" and not r["reads"] for r in told), told
    assert all("Psykiatrin" not in r["message"] for r in told)
    [full] = await _to(core, "maria.sand", "dispute_settled")
    assert full["status"] == "pending" and "Psykiatrin behåller" in full["message"]


async def test_a_sweep_batch_showing_the_case_to_an_assignee_reassigned_meanwhile_is_cancelled(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch, engine: str,
) -> None:
    """The batch climbs the acknowledgement from the case as it is (its real version) and shows linnea.fors, then
    its assignee, an overdue follow-up's text; it passes its version check and commits after the reassignment to
    sofia.grahn committed. The reassignment waits for it and its pass cancels the message; without the pass it
    stayed pending to someone who no longer may read the case."""
    a, b = await _two(make_core)
    case = await assigned_case(a)
    item = await open_item(a, case.id, "acknowledgement")
    fire = climb(item, case, ["linnea.fors"], rows=[shown(a, case, "linnea.fors", '{"what": "Ringa upp"}')],
                 versioned=True)
    meeting = Meeting()
    # the reassignment meets the batch in its change, holding the case's row; the batch, having climbed and passed
    # its version check, commits only after the reassignment did (or, waited for, after WAIT)
    monkeypatch.setattr(case_store, "replace_assignees", _meet_then(meeting, case_store.replace_assignees))
    held = HeldBatch(b, [fire], meeting)
    _, reassigned = await settled(held.run(), held.other(
        a.cases.assign("fatima.ali", case.ref, ["sofia.grahn"], reassign=True)))
    assert meeting.met == (engine == "postgresql")
    assert reassigned.assignees == ["sofia.grahn"]
    left = await _to(a, "linnea.fors", "escalation")
    # queued and then cancelled where they met; on SQLite the reassignment may also take the one writer first, and
    # the batch, its case moved, queues nothing
    assert len(left) == int(meeting.met) or engine == "sqlite", left
    assert all(r["status"] == "cancelled" and r["message"] is None for r in left), left


async def test_a_sweep_batch_showing_the_case_to_an_assignee_handed_over_meanwhile_is_cancelled(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch, engine: str,
) -> None:
    """As above, with the directory hand-over (`gfi-bot directory import --force` removing linnea.fors) in place of
    the reassignment, and a batch firing one of the booked meeting's timers (it holds no item awaiting her, which
    the hand-over would wait for as it moves her answer): the batch queued her the case's text from the case as it
    read it and commits after the hand-over handed her assignment to fatima.ali. The hand-over locks the case's
    open items and timers before its pass, waits for the batch and cancels the message; without that it stayed
    pending to someone who left."""
    from bot.directory.changes import diff
    from bot.directory.handover import hand_over
    from bot.fires import Fire
    from bot.store import holdings as holdings_store

    a, b = await _two(make_core)
    case = await assigned_case(a)
    await a.cases.acknowledge("linnea.fors", case.ref)
    case = await a.cases.book("linnea.fors", case.ref, local("2026-12-10T13:00"), "Rum 3", ["soc-norr", "beroende"])

    async def timer(tx: Tx) -> dict[str, Any]:
        return (await tx.fetchall("SELECT id, due_at FROM timers WHERE case_id = ? AND done_at IS NULL ORDER BY id",
                                  (case.id,)))[0]

    row = await a.db.run_read(timer)
    fire = Fire(table="timers", row_id=int(row["id"]), due_at=str(row["due_at"]), case_id=case.id,
                case_ref=case.ref, case_version=case.version, outcome="fired",
                rows=[shown(a, case, "linnea.fors", '{"what": "Ringa upp"}')])
    old = a.directory.data
    new = old.model_copy(update={"people": tuple(p for p in old.people if p.id != "linnea.fors")})
    meeting = Meeting()
    # the hand-over meets the batch as it moves her assignment, holding the case's row; the batch, having fired
    # and passed its version check, commits only after the hand-over did (or, waited for, after WAIT)
    monkeypatch.setattr(holdings_store, "move_assignment", meeting.then(holdings_store.move_assignment))
    held = HeldBatch(b, [fire], meeting)
    await settled(held.run(), held.other(hand_over(a.db, new, diff(old, new).leaving, a.clock.now(),
                                                   lost_readers=stop_for_leavers)))
    assert meeting.met == (engine == "postgresql")
    assert (await a.cases.get(case.ref)).assignees == ["fatima.ali"]
    left = await _to(a, "linnea.fors", "escalation")
    # on SQLite the hand-over may take the one writer first, and the batch, its case moved, queues nothing
    assert len(left) == int(meeting.met) or engine == "sqlite", left
    assert all(r["status"] == "cancelled" and r["message"] is None for r in left), left
