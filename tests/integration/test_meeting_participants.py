"""Issue #10 item 2: both parties at the meeting, and every participant told (seed 002, *GFI*: "Berörda
verksamheter ska representeras av de medarbetare som vid en eventuell aktualisering kommer att arbeta med den
enskilde"). Folke: the nurse at the beroendemottagning (region) asks socialtjänsten (kommun), with the
psychiatry clinic as a third unit the consent covers."""

from __future__ import annotations

from datetime import date

import pytest

from bot.cases.models import CaseState
from bot.cases.visibility import Level, level
from bot.channels.graph.templates import GraphTemplates
from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import FieldError, Refusal
from bot.journal import journal_for
from bot.ladder.models import AwaitingKind
from tests.conftest import RecordingSender, local
from tests.timekit import advance, form, outbox_rows

FOLKE_UNITS = ["soc-norr", "beroende", "psykiatri"]
AT = local("2026-11-30T13:00")


async def folke(core: Core) -> str:
    """sofia.grahn (beroende nurse, reached on Microsoft 365) asks soc-norr; Anna Lind gives it to Maria Sand,
    Folke's former socialsekreterare, who acknowledges. The consent covers psykiatri too."""
    case = await core.cases.request("sofia.grahn", form(
        target_unit="soc-norr", brief="Man, 40 år, alkohol, missbruket eskalerar.",
        consent_scope=FOLKE_UNITS, consent_valid_until=date(2027, 2, 1)))
    await core.cases.assign("anna.lind", case.ref, ["maria.sand"])
    await core.cases.acknowledge("maria.sand", case.ref)
    await core.tick()
    return case.ref


async def channels(core: Core, template: str) -> dict[str, str]:
    """{recipient: channel} of the queued messages of one kind."""
    return {r["recipient_id"]: r["channel"] for r in await outbox_rows(core, template)}


async def test_booking_without_both_parties_is_refused(core: Core) -> None:
    ref = await folke(core)
    with pytest.raises(FieldError) as exc:  # the requester's unit (beroende) is missing
        await core.cases.book("maria.sand", ref, AT, "Rum 3", ["soc-norr", "psykiatri"])
    assert exc.value.errors["enheter"][0] == "both_parties"
    text = core.renderer.field_errors(exc.value)["enheter"]
    assert text == ("Mötet måste ha med både verksamheten som begärde GFI och den mottagande verksamheten. "
                    "Lägg till Beroendemottagningen Åstad.")
    with pytest.raises(FieldError) as held:  # "mötet hölls nu" too
        await core.cases.hold_now("maria.sand", ref, ["beroende", "psykiatri"])
    assert "Lägg till Socialtjänst Norr, vuxen/missbruk." in core.renderer.field_errors(held.value)["enheter"]
    assert (await core.cases.get(ref)).state is CaseState.ACKNOWLEDGED  # nothing was booked


async def test_each_named_participant_is_told_on_their_own_channel(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await folke(core)
    case = await core.cases.book("maria.sand", ref, AT, "Rum 3", ["soc-norr", "beroende"],
                                 participants=[("beroende", "linnea.fors"), (None, "sofia.grahn")])
    assert [(a.unit_id, a.person_id) for a in case.attendees] == [
        ("soc-norr", "maria.sand"), ("beroende", "linnea.fors"), ("beroende", "sofia.grahn")]
    # the booking: each participant but the booker, each on their own channel (Sofia Grahn reads Teams/e-post)
    assert await channels(core, "meeting_booked") == {"sofia.grahn": "m365", "linnea.fors": "slack"}
    # a named participant sees the whole case: her unit is covered by the consent
    assert level(case, "linnea.fors", core.directory) is Level.FULL
    assert level(case, "gustav.lund", core.directory) is Level.NONE  # same unit, not named
    # the preparation reminder (two business days before)
    out = await advance(core, clock, sender, local("2026-11-26T14:00"))
    assert {s.recipient for s in out if s.template == "reminder_prepare"} == {
        "maria.sand", "sofia.grahn", "linnea.fors"}
    # a rebooking and a cancellation reach them too
    await core.cases.book("maria.sand", ref, local("2026-12-01T13:00"), "Rum 3", ["soc-norr", "beroende"])
    booked = await outbox_rows(core, "meeting_booked")
    assert sorted(r["recipient_id"] for r in booked) == ["linnea.fors", "linnea.fors", "sofia.grahn", "sofia.grahn"]
    # a rebooking that names someone else: the one no longer named is told, without the case's details
    await core.cases.book("maria.sand", ref, local("2026-12-01T13:00"), "Rum 3", ["soc-norr", "beroende"],
                          participants=[(None, "sofia.grahn")])
    [removed] = await outbox_rows(core, "participant_removed")
    assert removed["recipient_id"] == "linnea.fors"
    await core.cases.close("maria.sand", ref, "ej-aktuellt")
    assert await channels(core, "case_closed") == {"sofia.grahn": "m365"}


async def test_a_unit_without_a_person_is_asked_and_the_ladder_climbs(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await folke(core)
    case = await core.cases.book("maria.sand", ref, AT, "Rum 3", FOLKE_UNITS)
    assert case.pending_units() == ["psykiatri"]
    await core.tick()
    [asked] = sender.to("ingrid.vik", "participant_wanted")
    assert "Vem från Allmänpsykiatriska mottagningen Åstad deltar i GFI-mötet i GFI-2026-0001?" in asked.text
    [wanted] = await outbox_rows(core, "participant_wanted")
    assert '"appoint"' in wanted["message"]  # the offer: Utse deltagare
    # nobody answers within the unit's limit (one business day): the unit's ladder is alerted
    out = await advance(core, clock, sender, local("2026-11-24T11:00"))
    climbed = [s for s in out if s.template == "escalation"]
    assert [s.recipient for s in climbed] == ["helena.ros"]
    assert "väntar på namn på den som deltar i GFI-mötet" in climbed[0].text
    # someone not on psykiatri's ladder may not name its participant
    with pytest.raises(Refusal) as exc:
        await core.cases.appoint("lena.mark", ref, "yusuf.kaya")
    assert exc.value.code == "not_appointer"
    with pytest.raises(FieldError):  # a person of a unit already named
        await core.cases.appoint("ingrid.vik", ref, "omar.haddad")
    sender.clear()
    case = await core.cases.appoint("ingrid.vik", ref, "yusuf.kaya")
    await core.tick()
    assert case.pending_units() == [] and "yusuf.kaya" in case.participants()
    [told] = sender.to("yusuf.kaya", "meeting_booked")
    assert "Ingrid Vik har utsett dig att delta i mötet." in told.text
    assert sender.to("helena.ros", "escalation_resolved")
    items = await core.ladder.history(ref)
    assert [i["resolution"] for i in items if i["kind"] == AwaitingKind.PARTICIPANT.value] == ["appoint"]


async def test_external_participants_are_listed_and_never_messaged(core: Core, sender: RecordingSender) -> None:
    ref = await folke(core)
    case = await core.cases.book("maria.sand", ref, AT, "Rum 3", ["soc-norr", "beroende"],
                                 externals=[("närstående", "Eva"), ("god man", None)])
    await core.tick()
    assert [(a.role, a.first_name) for a in case.externals()] == [("narstaende", "Eva"), ("god-man", None)]
    body = GraphTemplates(core.renderer).render("graph_event.html.j2", case=case, withheld=set())
    assert "närstående (Eva)" in body and "god man" in body
    assert "Maria Sand" in body and "Sofia Grahn" in body
    # every message went to a person in the directory: the externals are listed, not messaged
    assert {r["recipient_id"] for r in await outbox_rows(core)} <= set(core.directory.people)
    [booked] = sender.to("sofia.grahn", "meeting_booked")
    assert "Externa deltagare: närstående (Eva), god man" in booked.text
    # the journal record lists who attended
    record = (await journal_for(core.db, core.cases.load, core.directory, core.renderer, person_id="maria.sand",
                                ref=ref, now=core.clock.now(), channel="console")).text
    assert ("- Deltagare: Socialtjänst Norr, vuxen/missbruk: Maria Sand; Beroendemottagningen Åstad: "
            "Sofia Grahn.") in record
    assert "- Externa deltagare: närstående (Eva), god man." in record
    # a rebooking without new externals keeps them
    case = await core.cases.book("maria.sand", ref, local("2026-12-01T13:00"), "Rum 3", ["soc-norr", "beroende"])
    assert [a.role for a in case.externals()] == ["narstaende", "god-man"]


@pytest.mark.parametrize(("name", "code"), [
    ("19800101-1234", "identity_number"),
    ("Eva Svensson", "first_name_only"),
    ("E" * 41, "too_long"),
])
async def test_an_external_name_is_a_first_name_only(core: Core, name: str, code: str) -> None:
    ref = await folke(core)
    with pytest.raises(FieldError) as exc:
        await core.cases.book("maria.sand", ref, AT, "Rum 3", ["soc-norr", "beroende"],
                              externals=[("närstående", name)])
    assert exc.value.errors["fornamn"][0] == code
    assert (await core.cases.get(ref)).state is CaseState.ACKNOWLEDGED
    with pytest.raises(FieldError) as role:
        await core.cases.book("maria.sand", ref, AT, "Rum 3", ["soc-norr", "beroende"], externals=[("granne", None)])
    assert role.value.errors["extern"][0] == "unknown_role"


async def test_withdrawing_the_consent_for_a_unit_removes_its_participant(core: Core) -> None:
    ref = await folke(core)
    await core.cases.book("maria.sand", ref, AT, "Rum 3", FOLKE_UNITS, participants=[(None, "yusuf.kaya")])
    case = await core.cases.withdraw_consent("sofia.grahn", ref, "psykiatri")
    assert "yusuf.kaya" not in case.participants()
    assert level(case, "yusuf.kaya", core.directory) is Level.NONE


async def test_a_staff_meeting_is_called_one_in_the_question_and_the_outlook_event(
    core: Core, sender: RecordingSender
) -> None:
    """A tjänstepersonmöte is held without the individual: the unit asked for a participant and the Outlook
    event say so, never "GFI-mötet … och den enskilde"."""
    from bot.cases.meeting_form import MeetingForm

    ref = await folke(core)
    case = await core.cases.book("maria.sand", ref, AT, "Rum 3", FOLKE_UNITS,
                                 form=MeetingForm(kind="tjansteperson", purpose="forberedelse"))
    await core.tick()
    [asked] = sender.to("ingrid.vik", "participant_wanted")
    assert "deltar i tjänstepersonmötet i GFI-2026-0001?" in asked.text
    assert "och den enskilde" not in asked.text
    body = GraphTemplates(core.renderer).render("graph_event.html.j2", case=case, withheld=set())
    assert "Tjänstepersonmöte (utan den enskilde) i ärende GFI-2026-0001" in body
    assert "och den enskilde" not in body
