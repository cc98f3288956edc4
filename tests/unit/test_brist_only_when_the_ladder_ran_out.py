"""Issue #18 item 11: a brist draft only when the whole ladder for an item has run out, never for a distribution
a few hours old (rungs skipped for want of someone on duty), an unanswered participant question, or an
unanswered follow-up proposal."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FrozenClock
from bot.core import Core
from tests.conftest import CoreFactory, RecordingSender, local
from tests.timekit import advance, assigned_case, directory_with, form

UNITS = ["soc-norr", "beroende"]


async def drafts(core: Core) -> list[str]:
    async with core.db.transaction() as tx:
        return [r["case_ref"] for r in await tx.fetchall("SELECT case_ref FROM brist_drafts")]


async def test_a_ladder_that_ran_out_rung_by_rung_drafts(core: Core, clock: FrozenClock,
                                                         sender: RecordingSender) -> None:
    case = await assigned_case(core)
    await advance(core, clock, sender, local("2026-11-30T12:00"), step=timedelta(hours=1))
    assert await drafts(core) == [case.ref]


async def test_a_distribution_that_reached_the_top_by_skipped_rungs_does_not_draft(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender
) -> None:
    # the verksamhetschef is away without a stand-in: the distribution reaches the coordinator hours after the slot
    core = await make_core(directory_with(absent=("helena.ros",)))
    case = await core.cases.request("maria.sand", form())
    out = await advance(core, clock, sender, local("2026-11-24T15:00"), step=timedelta(minutes=30))
    assert [s.recipient for s in out if s.template == "escalation"][-1] == "jonas.sjo"
    assert case.ref and await drafts(core) == []


async def test_an_unanswered_participant_question_never_drafts(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await assigned_case(core, consent_scope=["soc-norr", "beroende", "psykiatri"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-12-21T13:00"), "Rum 3", [*UNITS, "psykiatri"])
    out = await advance(core, clock, sender, local("2026-12-04T12:00"), step=timedelta(hours=1))
    # psykiatri's distributor never names anyone: it climbs to the coordinator, as a reminder, without a draft
    assert "jonas.sjo" in [s.recipient for s in out if s.template == "escalation"]
    assert await drafts(core) == []


async def test_an_unanswered_follow_up_proposal_never_drafts(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await assigned_case(core)
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.hold_now("linnea.fors", case.ref, UNITS)
    await core.cases.record_outcome("linnea.fors", case.ref, "kartläggning", True)
    case = await core.cases.add_follow_up("linnea.fors", case.ref, "maria.sand", local("2026-12-18T12:00").date(),
                                          "Stämma av")
    assert case.follow_ups[0].proposed
    out = await advance(core, clock, sender, local("2026-12-04T12:00"), step=timedelta(hours=1))
    assert [s.recipient for s in out if s.template == "escalation"]  # it climbs as a reminder
    assert await drafts(core) == []
    [proposed] = [s for s in sender.sent if s.template == "follow_up_proposed" and s.recipient == "maria.sand"]
    assert "Svaret på förslaget bevakas" in proposed.text and "bevakas inte" not in proposed.text
