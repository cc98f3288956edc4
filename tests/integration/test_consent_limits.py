"""Consent that limits sharing (issue #12 item 3), through the case service: what the consent records,
booking outside it refused, who may renew or widen it, and withdrawal for one unit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from bot import audit
from bot.cases.consent import covers
from bot.cases.models import CaseState, CloseReason
from bot.cases.rules import follow_up_owners
from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import FieldError, Refusal
from tests.conftest import RecordingSender, local
from tests.timekit import form

VALID_PNR = "811218-9876"  # a syntactically valid personnummer of nobody in particular


async def audit_rows(core: Core, ref: str) -> list[tuple[str, str, str]]:
    async with core.db.transaction() as tx:
        return [(r["actor_id"], r["action"], r["result"]) for r in await audit.for_case(tx, ref)]


async def booked_with_psykiatri(core: Core) -> str:
    """A case whose consent covers psykiatri too, with a meeting booked with all three units."""
    case = await core.cases.request("maria.sand", form(consent_scope=["psykiatri"], consent_form="skriftligt",
                                                       consent_covers=["kontaktuppgifter", "halsa-behandling"]))
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3",
                          ["soc-norr", "beroende", "psykiatri"])
    return case.ref


# --- what the request records --------------------------------------------------------------------
async def test_the_request_records_what_the_consent_covers_and_how_it_was_obtained(core: Core) -> None:
    case = await core.cases.request("maria.sand", form(
        consent_covers=["kontaktuppgifter", "pagaende-insatser"], consent_note="arbetsförmåga",
        consent_form="muntligt", consent_obtained_by="omar.haddad", consent_valid_until=date(2027, 1, 31),
    ))
    again = await core.cases.get(case.ref)  # as stored
    assert again.consent_covers == ["kontaktuppgifter", "pagaende-insatser", "annat"]  # free text ticks "annat"
    assert (again.consent_note, again.consent_form, again.consent_obtained_by) == (
        "arbetsförmåga", "muntligt", "omar.haddad")
    # the obtainer defaults to the requester
    other = await core.cases.request("maria.sand", form(consent_form="skriftligt"))
    assert other.consent_obtained_by == "maria.sand"


async def test_the_receipt_states_the_default_period_plainly(core: Core, sender: RecordingSender) -> None:
    await core.cases.request("maria.sand", form())  # no period given
    await core.cases.request("maria.sand", form(consent_valid_until=date(2027, 1, 31), consent_form="muntligt",
                                                consent_covers=["social-situation"]))
    await core.tick()
    defaulted, given = sender.to("maria.sand", "case_filed")
    until = (date(2026, 11, 23) + timedelta(days=90))
    assert until == date(2027, 2, 21)
    assert "Du angav ingen giltighetstid, så standardtiden 90 dagar gäller: till sön 21 feb 2027." in defaulted.text
    assert "/förnya GFI-2026-0001 ÅÅÅÅ-MM-DD" in defaulted.text
    assert "standardtiden" not in given.text
    assert "Det avser social situation. Det gavs muntligt; inhämtat av Maria Sand." in given.text


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"consent_covers": ["annat"], "consent_note": f"pnr {VALID_PNR}"}, "avser_text", "identity_number"),
        ({"consent_covers": ["annat"]}, "avser_text", "required"),
        ({"consent_covers": ["allt"]}, "avser", "bad_choice"),
        ({"consent_form": "telefon"}, "form", "bad_choice"),
        ({"consent_obtained_by": "okand.person"}, "inhamtat", "unknown_person"),
    ],
)
async def test_consent_details_are_checked_and_nothing_is_saved(
    core: Core, overrides: dict[str, object], field: str, code: str
) -> None:
    with pytest.raises(FieldError) as exc:
        await core.cases.request("maria.sand", form(**overrides))
    assert exc.value.errors[field][0] == code
    text = core.renderer.field_errors(exc.value)[field]
    assert VALID_PNR not in text
    async with core.db.transaction() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM cases") == 0


# --- booking ------------------------------------------------------------------------------------
async def test_booking_a_unit_outside_the_consent_is_refused(core: Core, sender: RecordingSender) -> None:
    case = await core.cases.request("maria.sand", form())  # covers soc-norr and beroende only
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    with pytest.raises(Refusal) as exc:
        await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3",
                              ["soc-norr", "beroende", "psykiatri"])
    assert exc.value.code == "units_outside_consent"
    text = core.renderer.refusal(exc.value)
    assert "Samtycket i GFI-2026-0001 omfattar inte Allmänpsykiatriska mottagningen Åstad" in text
    assert "Maria Sand" in text  # who can record a wider consent
    unchanged = await core.cases.get(case.ref)
    assert unchanged.state is CaseState.ACKNOWLEDGED and unchanged.meeting_at is None
    assert ("linnea.fors", "book", "refused") in await audit_rows(core, case.ref)
    await core.tick()
    assert not sender.to("maria.sand", "meeting_booked")
    # once the requester has recorded the wider consent, the meeting can be booked with psykiatri
    await core.cases.renew_consent("maria.sand", case.ref, date(2027, 2, 21), ["psykiatri"], form="skriftligt")
    booked = await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3",
                                   ["soc-norr", "beroende", "psykiatri"])
    assert booked.meeting_units == ["soc-norr", "beroende", "psykiatri"]


# --- renewal and wider scope --------------------------------------------------------------------
async def test_a_receiving_distributor_cannot_renew_or_widen_the_consent(core: Core) -> None:
    case = await core.cases.request("maria.sand", form(consent_form="skriftligt"))
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    for person in ("fatima.ali", "linnea.fors"):  # the distributor; an assignee of the other principal
        with pytest.raises(Refusal) as exc:
            await core.cases.renew_consent(person, case.ref, date(2027, 3, 1), ["psykiatri"], form="muntligt")
        assert exc.value.code == "consent_not_recorder"
        assert "Be Maria Sand registrera det." in core.renderer.refusal(exc.value)
        assert (person, "renew_consent", "refused") in await audit_rows(core, case.ref)
    unchanged = await core.cases.get(case.ref)
    assert unchanged.consent_scope == ["soc-norr", "beroende"] and unchanged.consent_form == "skriftligt"


async def test_an_assignee_of_the_requesters_principal_records_a_wider_consent(core: Core) -> None:
    # soc-norr asks soc-soder: both Åstads kommun, so the assignee there may record it (saying how)
    case = await core.cases.request("maria.sand", form(target_unit="soc-soder", consent_form="skriftligt"))
    await core.cases.assign("david.nord", case.ref, ["petra.lund"])
    renewed = await core.cases.renew_consent(
        "petra.lund", case.ref, date(2027, 3, 1), ["beroende"], form="muntligt",
        covers=["halsa-behandling"],
    )
    assert renewed.consent_scope == ["soc-norr", "soc-soder", "beroende"]
    assert (renewed.consent_form, renewed.consent_obtained_by) == ("muntligt", "petra.lund")
    assert "halsa-behandling" in renewed.consent_covers
    async with core.db.transaction() as tx:
        [row] = [r for r in await audit.for_case(tx, case.ref) if r["action"] == "renew_consent"]
    assert '"form": "muntligt"' in row["detail"] and '"obtained_by": "petra.lund"' in row["detail"]


# --- withdrawal for one unit --------------------------------------------------------------------
async def test_withdrawal_for_one_unit_cuts_it_off_and_the_case_goes_on(core: Core, sender: RecordingSender) -> None:
    ref = await booked_with_psykiatri(core)
    case = await core.cases.get(ref)
    # psykiatri's kurator has had one message about the case, and another is still waiting in the outbox
    # (without the place: need to know would withhold it, since the kurator is not named on the case)
    case = replace(case, meeting_place=None)
    async with core.db.transaction() as tx:
        await core.outbox.enqueue(tx, "yusuf.kaya", "meeting_booked", case_id=case.id, case_ref=ref, case=case,
                                  actor="linnea.fors", rebooked=False)
    await core.tick()
    async with core.db.transaction() as tx:
        await core.outbox.enqueue(tx, "yusuf.kaya", "meeting_booked", case_id=case.id, case_ref=ref, case=case,
                                  actor="linnea.fors", rebooked=True, not_before=local("2026-11-24T08:00"))
    sender.clear()

    case = await core.cases.withdraw_consent("maria.sand", ref, unit="psykiatri")

    # the case goes on with the others
    assert case.is_open and case.state is CaseState.MEETING_BOOKED and case.brief
    assert case.consent_scope == ["soc-norr", "beroende"] and case.consent_withdrawn == ["psykiatri"]
    assert case.meeting_units == ["soc-norr", "beroende"]
    assert not covers(case, "psykiatri") and covers(case, "beroende")
    # that unit's people lose access: the pending message is cancelled, the delivered one retracted and erased
    async with core.db.transaction() as tx:
        rows = await tx.fetchall(
            "SELECT status, kind, text, message, template FROM outbox WHERE recipient_id = 'yusuf.kaya' "
            "AND case_id = ? ORDER BY id", (case.id,))
    statuses = [(r["kind"], r["status"]) for r in rows if r["template"] != "consent_withdrawn_unit"]
    assert statuses == [("message", "sent"), ("message", "cancelled"), ("retract", "pending")]
    booked = [r for r in rows if r["template"] == "meeting_booked"]
    assert booked and all(r["text"] == "" and r["message"] is None for r in booked)  # erased: the stored message too
    await core.tick()
    assert [s.template for s in sender.to("yusuf.kaya")] == ["retract", "consent_withdrawn_unit"]
    [lost] = sender.to("yusuf.kaya", "consent_withdrawn_unit")
    assert "Du har därför inte längre tillgång till ärendet." in lost.text and "alkohol" not in lost.text
    # the others are told, the meeting without psykiatri
    [told] = sender.to("linnea.fors", "consent_withdrawn_unit")
    assert "för Allmänpsykiatriska mottagningen Åstad (registrerat av Maria Sand)" in told.text
    assert "deltar inte längre i mötet mån 30 nov 2026 kl. 13:00" in told.text
    assert not sender.to("maria.sand", "consent_withdrawn_unit")  # not told about her own act
    assert ("maria.sand", "withdraw_consent_unit", "ok") in await audit_rows(core, ref)
    # psykiatri can no longer be booked
    with pytest.raises(Refusal, match="units_outside_consent"):
        await core.cases.book("linnea.fors", ref, local("2026-12-01T13:00"), "Rum 3",
                              ["soc-norr", "beroende", "psykiatri"])
    # ... until the requester records that the individual agreed to it again
    again = await core.cases.renew_consent("maria.sand", ref, date(2027, 2, 21), ["psykiatri"], form="skriftligt")
    assert covers(again, "psykiatri") and again.consent_withdrawn == []


async def test_withdrawal_for_the_target_unit_withdraws_the_whole_consent(core: Core, sender: RecordingSender) -> None:
    ref = await booked_with_psykiatri(core)
    case = await core.cases.withdraw_consent("maria.sand", ref, unit="beroende")
    assert case.state is CaseState.CLOSED and case.closed_reason is CloseReason.CONSENT_WITHDRAWN
    assert case.brief is None and case.erased_at is not None
    async with core.db.transaction() as tx:
        [row] = [r for r in await audit.for_case(tx, ref) if r["action"] == "withdraw_consent"]
    assert '"unit": "beroende"' in row["detail"] and '"because": "core_unit"' in row["detail"]


async def test_withdrawal_for_one_unit_is_refused_to_outsiders_and_for_units_not_covered(core: Core) -> None:
    ref = await booked_with_psykiatri(core)
    with pytest.raises(Refusal) as exc:
        await core.cases.withdraw_consent("yusuf.kaya", ref, unit="psykiatri")
    assert exc.value.code == "not_case_staff"  # says nothing about what the consent covers
    with pytest.raises(Refusal) as exc:
        await core.cases.withdraw_consent("maria.sand", ref, unit="vc-centrum")
    assert exc.value.code == "unit_not_in_consent"
    with pytest.raises(FieldError):
        await core.cases.withdraw_consent("maria.sand", ref, unit="ingen-sadan")
    rows = await audit_rows(core, ref)
    assert ("yusuf.kaya", "withdraw_consent_unit", "refused") in rows
    assert ("maria.sand", "withdraw_consent_unit", "refused") in rows
    assert (await core.cases.get(ref)).consent_scope == ["psykiatri", "soc-norr", "beroende"]


# --- follow-ups only to people the consent covers --------------------------------------------------
async def test_a_follow_up_for_someone_the_consent_does_not_cover_is_refused_on_the_field(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await booked_with_psykiatri(core)
    await core.cases.withdraw_consent("maria.sand", ref, unit="psykiatri")  # the case goes on without psykiatri
    clock.set(local("2026-11-30T14:00"))
    await core.cases.record_outcome("linnea.fors", ref, "kartlaggning", evaluation_done=True)
    case = await core.cases.get(ref)
    owners = follow_up_owners(case, core.directory)
    assert owners and all(core.directory.person(p).unit in ("soc-norr", "beroende") for p in owners)  # type: ignore[union-attr]
    for owner, unit in (("yusuf.kaya", "Allmänpsykiatriska mottagningen"), ("petra.lund", "Socialtjänst Söder")):
        with pytest.raises(FieldError) as exc:
            await core.cases.add_follow_up("linnea.fors", ref, owner, date(2026, 12, 14), "Ring om läget.")
        message = core.renderer.field_errors(exc.value)["agare"]
        assert f"Samtycket i {ref} omfattar inte" in message and unit in message, message
        assert "Maria Sand" in message and "utvidgade samtycket" in message
    assert (await core.cases.get(ref)).follow_ups == []
    # someone it covers gets it
    done = await core.cases.add_follow_up("linnea.fors", ref, "omar.haddad", date(2026, 12, 14), "Ring om läget.")
    assert [f.owner_id for f in done.follow_ups] == ["omar.haddad"]
