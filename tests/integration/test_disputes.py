"""Disagreement is not silence (issue #10 item 7), through the service layer, with the handbook's scenario: a man
with both psychosis and an addiction; the region's psychiatry holds that the case is the kommun's socialtjänst's."""

from __future__ import annotations

import json

import pytest

from bot.cases import access, offers
from bot.cases.models import Case, CaseState
from bot.cases.visibility import Level, summary
from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import FieldError, Refusal
from bot.messages import actions as A
from tests.conftest import CoreFactory, RecordingSender, local
from tests.timekit import advance, directory_with, form, outbox_rows

REASON = "Missbruket är det primära, socialtjänstens uppdrag"


async def disputed_case(core: Core) -> Case:
    """maria.sand (soc-norr, kommun) asks psykiatri (region); ingrid.vik assigns yusuf.kaya, who acknowledges
    and then says the case is not theirs (Monday 23 November 10:00)."""
    brief = "Man, 40 år, psykos och missbruk"
    case = await core.cases.request("maria.sand", form(target_unit="psykiatri", brief=brief))
    await core.cases.assign("ingrid.vik", case.ref, ["yusuf.kaya"])
    await core.cases.acknowledge("yusuf.kaya", case.ref)
    return await core.disputes.dispute("yusuf.kaya", case.ref, REASON)


# Three rungs on each side: the line manager, the head above, then the coordinator.
LONG_LADDERS = {
    "psykiatri": {"ladder": [
        {"title": "verksamhetschef", "people": ["helena.ros"], "business_days": 1},
        {"title": "områdeschef", "people": ["nils.alm"], "business_days": 1},
        {"title": "psykiatrisamordnare", "people": ["jonas.sjo"], "business_days": 1}]},
    "soc_norr": {"ladder": [
        {"title": "sektionschef", "people": ["carina.berg"], "business_days": 1},
        {"title": "socialchef", "people": ["david.nord"], "business_days": 1},
        {"title": "samordnare", "people": ["sara.holm"], "business_days": 1}]},
}


async def test_a_dispute_climbs_both_sides_then_reaches_the_coordinators_with_a_brist_draft(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender,
) -> None:
    core = await make_core(directory_with(**LONG_LADDERS))
    case = await disputed_case(core)
    assert case.disputed and case.state is CaseState.ACKNOWLEDGED  # not closed, not moved on
    sent = await advance(core, clock, sender, local("2026-11-23T10:15"))
    asked = sorted(s.recipient for s in sent if s.template == "dispute_asked")
    assert asked == ["carina.berg", "helena.ros"]  # both units' line managers, at once
    # one business day without agreement: the next rung on both sides
    sent = await advance(core, clock, sender, local("2026-11-24T10:30"))
    second = sorted(s.recipient for s in sent if s.template == "escalation")
    assert second == ["david.nord", "nils.alm"]
    # the second rung reads why, when it may see the whole case (noticed in issue #18: it carried no reason)
    for s in sent:
        if s.template == "escalation":
            full = await access.level_of(core.db, case, core.directory, s.recipient) is Level.FULL
            assert (REASON in s.text) is full, s.recipient
    # another day: the coordinators of both principals, as a matter for the samverkansnivå, with a brist draft
    sent = await advance(core, clock, sender, local("2026-11-25T10:30"))
    top = [s for s in sent if s.template == "escalation"]
    assert sorted(s.recipient for s in top) == ["jonas.sjo", "sara.holm"]
    assert all("brist i samverkan" in s.text and "/samverkan" in s.text and "/enig" in s.text for s in top)
    drafts = await core.brister.open_drafts("sara.holm")
    assert [d.case_ref for d in drafts] == [case.ref]
    assert [c.value for c in drafts[0].causes] == ["forstaelse"]
    assert REASON not in drafts[0].what
    # meanwhile nothing climbed for the receiving unit's unanswered booking
    history = await core.ladder.history(case.ref)
    assert not [h for h in history if h["kind"] == "booking" and h["rung"] > 0]
    assert [h["kind"] for h in history if h["resolved_at"] is None] == ["dispute"]


async def test_enig_settles_tells_everyone_and_stops_the_dispute_ladder(
    core: Core, clock: FrozenClock, sender: RecordingSender,
) -> None:
    case = await disputed_case(core)
    await advance(core, clock, sender, local("2026-11-24T10:30"))  # the coordinators were alerted
    with pytest.raises(Refusal) as refused:
        await core.disputes.settle("maria.sand", case.ref, "Vi tar det")
    assert refused.value.code == "not_dispute_settler"
    sender.sent.clear()
    # the kommun's sektionschef proposes: nothing is settled until the region's side confirms (issue #18 item 2)
    proposed = await core.disputes.settle("carina.berg", case.ref, "Psykiatrin behåller ärendet")
    assert proposed.disputed
    await core.tick()
    asked = {s.recipient for s in sender.sent if s.template == "dispute_proposed"}
    assert asked == {"helena.ros", "jonas.sjo"}  # the region's side: its line manager and the alerted coordinator
    assert "Psykiatrin behåller ärendet" in sender.to("helena.ros", "dispute_proposed")[0].text
    assert "Psykiatrin" not in sender.to("jonas.sjo", "dispute_proposed")[0].text  # reads it with /visa
    for same_side in ("carina.berg", "sara.holm"):  # the proposer's own side, the kommun's coordinator too
        with pytest.raises(Refusal) as own:
            await core.disputes.settle(same_side, case.ref, None)
        assert own.value.code == "agreement_same_side"
    sender.sent.clear()
    settled = await core.disputes.settle("helena.ros", case.ref, None)
    assert not settled.disputed and settled.is_open
    await core.tick()
    told = {s.recipient: s.template for s in sender.sent}
    assert told["yusuf.kaya"] == told["maria.sand"] == "dispute_settled"
    assert told["carina.berg"] == "escalation_resolved"  # asked by the ladder: its end tells her, once
    text = sender.to("maria.sand", "dispute_settled")[0].text
    assert "Överenskommelse registrerad av Carina Berg och Helena Ros" in text and "Psykiatrin behåller" in text
    assert "båda sidor är överens" in sender.to("carina.berg")[0].text
    for person in ("jonas.sjo", "sara.holm"):  # everyone else the dispute alerted; no free text
        assert told[person] == "escalation_resolved"
        assert "Psykiatrin" not in sender.to(person)[0].text
    assert "helena.ros" not in told  # nobody is told of their own act
    history = await core.ladder.history(case.ref)
    dispute = next(h for h in history if h["kind"] == "dispute")
    assert dispute["resolution"] == "settle_dispute" and dispute["resolved_by"] == "helena.ros"
    # the ladder for the dispute stopped; the case awaits its booking again, freshly armed
    assert [h["kind"] for h in history if h["resolved_at"] is None] == ["booking"]
    sender.sent.clear()
    await advance(core, clock, sender, local("2026-11-27T10:30"))
    assert not [s for s in sender.sent if "tvist" in s.text]
    with pytest.raises(Refusal) as again:
        await core.disputes.settle("carina.berg", case.ref, "igen")
    assert again.value.code == "not_disputed"


async def test_only_the_receiving_unit_disputes_and_only_once(core: Core) -> None:
    case = await core.cases.request("maria.sand", form(target_unit="psykiatri"))
    with pytest.raises(Refusal) as requester:
        await core.disputes.dispute("maria.sand", case.ref, "Inte vårt")
    assert requester.value.code == "not_receiving_unit"
    # the distributor may answer "inte vårt" before distributing: the distribution does not climb meanwhile
    disputed = await core.disputes.dispute("ingrid.vik", case.ref, "Gäller socialtjänsten")
    assert disputed.state is CaseState.REQUESTED and disputed.disputed
    history = await core.ladder.history(case.ref)
    assert [(h["kind"], h["resolution"]) for h in history] == [("distribution", "dispute"), ("dispute", None)]
    with pytest.raises(Refusal) as twice:
        await core.disputes.dispute("ingrid.vik", case.ref, "Igen")
    assert twice.value.code == "already_disputed"


@pytest.mark.parametrize("reason", ["", "   ", "Gäller 19121212-1212", "x" * 301])
async def test_the_reason_is_free_text_guarded_like_any_other(core: Core, reason: str) -> None:
    case = await core.cases.request("maria.sand", form(target_unit="psykiatri"))
    with pytest.raises(FieldError) as exc:
        await core.disputes.dispute("ingrid.vik", case.ref, reason)
    assert "tvist_skal" in exc.value.errors
    assert not (await core.cases.get(case.ref)).disputed
    assert "1212" not in json.dumps([dict(r) for r in await outbox_rows(core)], default=str)


async def test_the_managers_asked_read_the_reason_and_summary_viewers_never_get_it(
        make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender) -> None:
    core = await make_core(directory_with(**LONG_LADDERS))
    case = await disputed_case(core)
    await advance(core, clock, sender, local("2026-11-23T10:30"))
    # the line managers asked to settle it get the reason and the brief, and read the whole case (issue #18 item 1)
    for manager in ("helena.ros", "carina.berg"):
        assert await access.level_of(core.db, case, core.directory, manager) is Level.FULL
        asked = sender.to(manager, "dispute_asked")[0].text
        assert REASON in asked and "psykos och missbruk" in asked
    await advance(core, clock, sender, local("2026-11-24T10:30"))
    # a manager of neither unit reached by nothing sees nothing; the case is settled: summary again for the rungs
    assert await access.level_of(core.db, case, core.directory, "lena.mark") is Level.NONE
    # the second rung reads the whole case while the dispute is open: its escalation says why
    assert REASON in sender.to("nils.alm", "escalation")[0].text
    before_settled = len(sender.to("nils.alm"))
    await core.disputes.settle("helena.ros", case.ref, "Psykiatrin behåller ärendet")
    await core.disputes.settle("carina.berg", case.ref, None)
    settled = await core.cases.get(case.ref)
    assert not settled.disputed
    assert await access.level_of(core.db, settled, core.directory, "nils.alm") is Level.SUMMARY  # 2nd rung
    async with core.db.transaction() as tx:
        seen = await access.read_case(tx, core.cases.load, core.directory, "nils.alm", case.ref)
        # a message quoting the reason would be withheld from a summary viewer
        assert await core.outbox.enqueue(tx, "nils.alm", "dispute_opened", case_id=case.id, case_ref=case.ref,
                                         case=seen.case, actor="yusuf.kaya", reason=REASON, unit="psykiatri") is None
    assert REASON not in repr(summary(seen.case, seen.alerts))
    assert all(REASON not in s.text for s in sender.to("nils.alm")[before_settled:])
    # those in the case read it in full
    assert REASON in sender.to("maria.sand", "dispute_opened")[0].text
    assert await access.level_of(core.db, case, core.directory, "maria.sand") is Level.FULL


async def test_withdrawing_the_consent_erases_reason_and_agreement(core: Core) -> None:
    case = await disputed_case(core)
    await core.disputes.settle("helena.ros", case.ref, "Socialtjänsten tar över")
    await core.disputes.settle("carina.berg", case.ref, None)
    await core.disputes.dispute("yusuf.kaya", case.ref, "Fortfarande inte vårt")
    await core.disputes.settle("carina.berg", case.ref, "Ett förslag som aldrig bekräftas")
    await core.cases.withdraw_consent("maria.sand", case.ref)
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT reason, agreement, proposal FROM disputes")
        stored = await tx.scalar("SELECT dispute_reason FROM cases WHERE id = ?", (case.id,))
    assert rows and all(r["reason"] is None and r["agreement"] is None and r["proposal"] is None for r in rows)
    assert stored is None


# --- a coordinator does not assign staff in another line organisation -------------------------------------
SARA_ON_BEROENDE = {"beroende": {"ladder": [
    {"title": "verksamhetschef", "people": ["helena.ros"], "business_days": 1},
    {"title": "samordnare", "people": ["sara.holm"], "business_days": 1}]}}


async def test_a_coordinator_cannot_assign_staff_of_the_other_principal(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender,
) -> None:
    # the kommun's coordinator sits on the region unit's ladder (a shared coordinator, as some areas have)
    core = await make_core(directory_with(**SARA_ON_BEROENDE))
    case = await core.cases.request("maria.sand", form())
    with pytest.raises(Refusal) as direct:
        await core.cases.assign("sara.holm", case.ref, ["linnea.fors"])
    assert direct.value.code == "coordinator_other_organisation"
    # nobody distributes: the climb reaches her at the top of the region unit's ladder
    await advance(core, clock, sender, local("2026-11-25T14:00"))
    item = next(i for i in await core.ladder.open_escalations("sara.holm") if i.case_ref == case.ref)
    assert item.rung == item.ladder.top
    offered = offers.escalation_for(item.id, case.ref, item.kind.value, item.unit_id, "sara.holm", core.directory)
    assert [o.action for o in offered] == [A.TO_SAMVERKAN, A.LADDER_NUDGE]  # no ta över, no omfördela
    for attempt in (core.ladder.take_over("sara.holm", item.id),
                    core.ladder.reassign("sara.holm", case.ref, ["linnea.fors"])):
        with pytest.raises(Refusal) as exc:
            await attempt
        assert exc.value.code == "coordinator_other_organisation"
    # she takes the question to the samverkansnivå instead: the brist draft is hers to complete
    taken = await core.disputes.take_to_samverkan("sara.holm", item.id)
    assert taken.case_ref == case.ref
    assert taken.draft_id in [d.id for d in await core.brister.open_drafts("sara.holm")]
    assert (await core.cases.get(case.ref)).state is CaseState.REQUESTED  # nobody was assigned


async def test_the_own_organisations_coordinator_may_still_take_over(core: Core) -> None:
    case = await core.cases.request("maria.sand", form(target_unit="psykiatri"))
    assigned = await core.cases.assign("jonas.sjo", case.ref, ["yusuf.kaya"])  # region coordinator, region unit
    assert assigned.assignees == ["yusuf.kaya"]
    own = offers.escalation_for(7, case.ref, "acknowledgement", "psykiatri", "jonas.sjo", core.directory)
    assert [o.action for o in own] == [A.LADDER_TAKE_OVER, A.LADDER_NUDGE, A.LADDER_REASSIGN]


async def test_the_samverkansgrupps_decision_is_erased_with_the_other_free_text(
        core: Core, clock: FrozenClock, sender: RecordingSender) -> None:
    """Issue #18 item 4: the matter handed to the samverkansgrupp keeps its decision until the consent is
    withdrawn; then the decision text is erased like the reason and the agreement."""
    case = await disputed_case(core)
    await advance(core, clock, sender, local("2026-11-24T10:30"))  # the coordinators were alerted
    item = next(h["id"] for h in await core.ladder.history(case.ref) if h["kind"] == "dispute")
    taken = await core.disputes.take_to_samverkan("sara.holm", item)
    assert taken.matter is not None and taken.group is not None and taken.group.id == "samverkan-astad"
    with pytest.raises(FieldError):
        await core.disputes.samverkan.decide("jonas.sjo", taken.matter.id, "Gäller 19121212-1212")
    with pytest.raises(Refusal) as outsider:
        await core.disputes.samverkan.decide("carina.berg", taken.matter.id, "Kommunen")
    assert outsider.value.code == "samverkan_matter_not_found"
    decided = await core.disputes.samverkan.decide("jonas.sjo", taken.matter.id, "Kommunen ansvarar")
    assert not decided.is_open and decided.outcome == "Kommunen ansvarar" and decided.handled_by == "jonas.sjo"
    await core.cases.withdraw_consent("maria.sand", case.ref)
    async with core.db.transaction() as tx:
        outcome = await tx.scalar("SELECT outcome FROM samverkan_matters WHERE id = ?", (taken.matter.id,))
    assert outcome is None
