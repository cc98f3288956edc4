"""Issue #10 item 6: both parties own the case. The requester records the outcome and adds follow-ups; a
follow-up given to someone of the other principal is a proposal until its owner (or their unit's distributor)
accepts it, and only then is it watched (reminders, the owner's ladder). Overdue escalations name the follow-up's
number, owner and due date; its text only to those who may see the whole case.

The handbook's case (seed 002, *Genomförande*): Maria Sand, socialsekreterare at Socialtjänst Norr (kommun), asked
Beroendemottagningen (region) for a GFI meeting; Linnea Fors, kurator there, holds it with her. After the meeting
the plan says who does what: the kommun's part counts at once, the region's part once the region says yes."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from bot.channels.console.session import ConsoleSession
from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import Refusal
from bot.ladder.models import AwaitingKind
from tests.conftest import RecordingSender, local
from tests.timekit import advance, assigned_case

MARIA, OMAR = "maria.sand", "omar.haddad"  # kommun: the requester, and her colleague
LINNEA, SOFIA, FATIMA, GUSTAV = "linnea.fors", "sofia.grahn", "fatima.ali", "gustav.lund"  # region: beroende
HELENA = "helena.ros"  # beroende's verksamhetschef (the ladder's first own rung)
TASK = "Ordna fortsatt antabus och stödsamtal"
DUE = date(2026, 12, 14)


async def console(core: Core, clock: FrozenClock, person: str, line: str) -> str:
    out = io.StringIO()
    session = ConsoleSession(core, person, clock=clock, out=out)  # type: ignore[arg-type]
    await session.handle(line)
    return out.getvalue()


async def held(core: Core, clock: FrozenClock) -> str:
    """Maria's request, assigned to Linnea, booked and held; it is 30 Nov, 15:00."""
    case = await assigned_case(core)
    await core.cases.acknowledge(LINNEA, case.ref)
    await core.cases.book(LINNEA, case.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"])
    clock.set(local("2026-11-30T15:00"))
    await core.tick()
    return case.ref


async def kinds(core: Core, ref: str) -> list[tuple[str, bool]]:
    """The case's awaited items about follow-ups: (kind, still open)."""
    about = {AwaitingKind.FOLLOW_UP.value, AwaitingKind.FOLLOW_UP_PROPOSAL.value}
    return [(r["kind"], r["resolved_at"] is None) for r in await core.ladder.history(ref) if r["kind"] in about]


async def test_the_requester_records_the_outcome_and_adds_a_follow_up(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await held(core, clock)
    # the booked meeting offers the requester "Registrera utfall", as it offers those responsible
    booked = [s.text for s in sender.to(MARIA, "meeting_booked")]
    assert booked and f"/utfall {ref}" in booked[-1]
    said = await console(core, clock, MARIA, f"/utfall {ref} sip utvärdering=ja")
    assert f"Utfall registrerat för {ref}" in said
    assert f"/uppföljning {ref}" in said  # and then "Lägg till uppföljning"
    await core.tick()
    assert sender.to(LINNEA, "outcome_recorded")  # the other party is told
    # a follow-up for her own colleague (same principal) counts at once
    said = await console(core, clock, MARIA, f'/uppföljning {ref} {OMAR} {DUE.isoformat()} "Boka boendebesök"')
    assert f"Uppföljning tillagd i {ref}" in said
    await core.tick()
    assert [s for s in sender.to(OMAR, "follow_up_assigned") if f"/klar {ref} 1" in s.text]
    case = await core.cases.get(ref)
    assert not case.follow_ups[0].proposed and case.follow_ups[0].accepted_by == MARIA
    assert (AwaitingKind.FOLLOW_UP.value, True) in await kinds(core, ref)
    # someone outside the case may not, and is not told the case exists
    unknown = (await console(core, clock, "petra.lund", f'/uppföljning GFI-2026-9999 petra.lund {DUE} "x"')).replace(
        "GFI-2026-9999", ref)
    assert await console(core, clock, "petra.lund", f'/uppföljning {ref} petra.lund {DUE} "x"') == unknown


async def test_a_follow_up_for_the_other_principal_is_a_proposal_until_accepted(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await held(core, clock)
    await core.cases.record_outcome(MARIA, ref, "sip", True)
    sender.clear()
    said = await console(core, clock, MARIA, f'/uppföljning {ref} {LINNEA} {DUE.isoformat()} "{TASK}"')
    assert f"Förslag till uppföljning 1 tillagt i {ref}" in said
    await core.tick()
    # the owner and their unit's distributor are asked, with an Acceptera action; nothing is watched yet
    for person in (LINNEA, FATIMA):
        [asked] = sender.to(person, "follow_up_proposed")
        assert "Maria Sand föreslår att" in asked.text and f"/acceptera {ref} 1" in asked.text
    assert not sender.to(LINNEA, "follow_up_assigned")
    case = await core.cases.get(ref)
    assert case.follow_ups[0].proposed
    assert await kinds(core, ref) == [(AwaitingKind.FOLLOW_UP_PROPOSAL.value, True)]
    shown = await console(core, clock, LINNEA, f"/visa {ref}")
    assert f"Förslag till uppföljning 1: Linnea Fors senast mån 14 dec 2026: {TASK} (förslag" in shown
    mine = await console(core, clock, FATIMA, "/mina")
    assert f"{ref} uppföljning 1: Linnea Fors senast mån 14 dec 2026 (förslag)" in mine and TASK not in mine
    # a proposal cannot be marked done before it is accepted
    with pytest.raises(Refusal) as refused:
        await core.cases.complete_follow_up(LINNEA, ref, 1)
    assert refused.value.code == "follow_up_not_accepted"

    said = await console(core, clock, LINNEA, f"/acceptera {ref} 1")
    assert f"Uppföljning 1 i {ref} är accepterad" in said and f"/klar {ref} 1" in said
    await core.tick()
    assert [s for s in sender.to(MARIA, "follow_up_accepted") if "Linnea Fors har accepterat uppföljning 1" in s.text]
    assert await kinds(core, ref) == [(AwaitingKind.FOLLOW_UP_PROPOSAL.value, False),
                                      (AwaitingKind.FOLLOW_UP.value, True)]
    assert "Förslag till uppföljning 1:" not in await console(core, clock, LINNEA, f"/visa {ref}")
    with pytest.raises(Refusal) as refused:
        await core.cases.accept_follow_up(FATIMA, ref, 1)
    assert refused.value.code == "follow_up_already_accepted"


async def test_no_ladder_before_acceptance_and_the_owners_ladder_after_it_when_overdue(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await held(core, clock)
    await core.cases.record_outcome(MARIA, ref, "sip", True)
    await core.cases.add_follow_up(MARIA, ref, LINNEA, DUE, TASK)
    await core.tick()
    sender.clear()
    # unanswered, the proposal climbs like any unanswered message, named as a proposal; no follow-up reminder
    out = await advance(core, clock, sender, local("2026-12-02T12:00"), step=timedelta(hours=1))
    assert not [s for s in out if s.template == "reminder_follow_up"]
    [climbed] = [s for s in out if s.template == "escalation" and s.recipient == FATIMA]
    assert f"i {ref} har förslaget till uppföljning 1 (Linnea Fors, senast mån 14 dec 2026) inte besvarats" \
        in climbed.text
    # the distributor of the owner's unit accepts it: from now on it is watched, from its due date
    await console(core, clock, FATIMA, f"/acceptera {ref} 1")
    await core.tick()
    assert [s for s in sender.to(LINNEA, "follow_up_accepted") if "Fatima Ali har accepterat" in s.text]
    sender.clear()
    out = await advance(core, clock, sender, local("2026-12-16T12:00"), step=timedelta(hours=1))
    assert [s.recipient for s in out if s.template == "reminder_follow_up"] == [LINNEA, LINNEA]
    escalations = {s.recipient: s.text for s in out if s.template == "escalation"}
    assert list(escalations) == [FATIMA, HELENA], "the overdue follow-up climbs the owner's ladder"
    for text in escalations.values():
        # the escalation names the task's number, its owner and its due date, not when it was added (30 nov)
        assert f"uppföljning 1 i {ref} (Linnea Fors) skulle vara klar mån 14 dec 2026" in text
        assert "30 nov" not in text
    # the task's text only for those who may see the whole case: the distributor who accepted it, not the
    # verksamhetschef on the next rung (a summary, never free text)
    assert TASK in escalations[FATIMA] and TASK not in escalations[HELENA]
    async with core.db.transaction() as tx:  # the text shown is logged as read, like any free text
        reads = {(r["person_id"], r["view"]) for r in await tx.fetchall(
            "SELECT person_id, view FROM case_reads WHERE case_ref = ?", (ref,))}
    assert (FATIMA, "escalation") in reads and not [p for p, _ in reads if p == HELENA]
    case = await core.cases.get(ref)
    assert case.follow_ups[0].accepted_by == FATIMA


async def test_only_the_owner_or_their_distributor_may_accept_and_others_are_refused_as_for_the_rest(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await held(core, clock)
    await core.cases.record_outcome(LINNEA, ref, "kartlaggning", True)
    # the region gives the kommun's socialsekreterare a task: a proposal for Maria (or Anna Lind, soc-norr's
    # distributor) to accept
    await core.cases.add_follow_up(LINNEA, ref, OMAR, DUE, TASK)
    await core.tick()
    assert sender.to("anna.lind", "follow_up_proposed") and sender.to(OMAR, "follow_up_proposed")
    unknown = (await console(core, clock, "yusuf.kaya", "/acceptera GFI-2026-9999 1")).replace("GFI-2026-9999", ref)
    # someone outside the case gets the very answer an unknown reference gets
    assert await console(core, clock, "yusuf.kaya", f"/acceptera {ref} 1") == unknown
    assert await console(core, clock, "petra.lund", f"/acceptera {ref} 1") == unknown.replace("yusuf.kaya",
                                                                                               "petra.lund")
    # someone who sees the case is told who may accept it
    said = await console(core, clock, LINNEA, f"/acceptera {ref} 1")
    assert "Bara den som uppföljning 1" in said and "fördelaren på dennes verksamhet" in said
    assert (await core.cases.get(ref)).follow_ups[0].proposed
    said = await console(core, clock, "anna.lind", f"/acceptera {ref} 1")
    assert f"Uppföljning 1 i {ref} är accepterad" in said
    case = await core.cases.get(ref)
    assert not case.follow_ups[0].proposed and case.follow_ups[0].accepted_by == "anna.lind"
    history = await console(core, clock, LINNEA, f"/visa {ref}")
    assert "Förslag till uppföljning 1 accepterat" in history


async def test_a_declined_proposal_never_counts_and_the_proposer_is_told(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await held(core, clock)
    await core.cases.record_outcome(MARIA, ref, "sip", True)
    await core.cases.add_follow_up(MARIA, ref, LINNEA, DUE, TASK)
    await core.tick()
    [asked] = sender.to(LINNEA, "follow_up_proposed")
    assert f"/avböj-uppföljning {ref} 1" in asked.text
    said = await console(core, clock, LINNEA, f"/avböj-uppföljning {ref} 1")
    assert f"Förslaget till uppföljning 1 i {ref} är avböjt" in said
    await core.tick()
    [told] = sender.to(MARIA, "follow_up_declined")
    assert f"Linnea Fors har avböjt förslaget till uppföljning 1 i {ref}" in told.text
    assert await kinds(core, ref) == [(AwaitingKind.FOLLOW_UP_PROPOSAL.value, False)]
    assert "(förslag, avböjt av Linnea Fors)" in await console(core, clock, MARIA, f"/visa {ref}")
    with pytest.raises(Refusal) as refused:
        await core.cases.accept_follow_up(FATIMA, ref, 1)
    assert refused.value.code == "follow_up_declined"
    sender.clear()
    out = await advance(core, clock, sender, local("2026-12-16T12:00"), step=timedelta(hours=2))
    assert not [s for s in out if s.template in ("reminder_follow_up", "escalation")]


async def test_the_journal_names_a_proposal_as_such(core: Core, clock: FrozenClock) -> None:
    ref = await held(core, clock)
    await core.cases.record_outcome(MARIA, ref, "sip", True)
    await core.cases.add_follow_up(MARIA, ref, LINNEA, DUE, TASK)
    record = await console(core, clock, MARIA, f"/journal {ref}")
    assert f"1. Linnea Fors, senast mån 14 dec 2026: {TASK} (förslag, inte accepterat än)." in record
    await core.cases.accept_follow_up(FATIMA, ref, 1)
    record = await console(core, clock, MARIA, f"/journal {ref}")
    assert f"1. Linnea Fors, senast mån 14 dec 2026: {TASK}." in record
    assert "Förslag till uppföljning accepterat" in record
