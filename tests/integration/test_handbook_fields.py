"""Issue #18 items 20 and 21 in the service, on both stores: what an outcome records besides itself, the
tjänstepersonmöte, the individual informed, and that the new free texts are guarded and erased on withdrawal."""

from __future__ import annotations

import pytest

from bot.cases.meeting_form import MeetingForm
from bot.cases.models import MeetingKind, MeetingPurpose
from bot.cases.outcome_details import OutcomeDetails
from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import FieldError, Refusal
from tests.conftest import local
from tests.timekit import form


async def booked(core: Core, clock: FrozenClock, meeting: MeetingForm | None = None) -> str:
    clock.set(local("2026-11-23T10:00"))
    case = await core.cases.request("maria.sand", form(other_contacts="vårdcentralen, frivården"))
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"],
                          form=meeting)
    clock.set(local("2026-11-30T14:30"))
    return case.ref


async def test_an_outcome_records_what_the_handbook_asks(core: Core, clock: FrozenClock) -> None:
    ref = await booked(core, clock, MeetingForm(informed=True))
    cases = core.cases
    with pytest.raises(FieldError) as missing:
        await cases.record_outcome("linnea.fors", ref, "lotsning", True, OutcomeDetails())
    assert set(missing.value.errors) == {"lotsad_till", "delaktighet"}
    with pytest.raises(FieldError) as no_mandate:
        await cases.record_outcome("linnea.fors", ref, "sip", False, OutcomeDetails(mandate=False))
    assert no_mandate.value.errors["mandat"][0] == "sip_without_mandate"
    with pytest.raises(FieldError) as guarded:
        await cases.record_outcome("linnea.fors", ref, "lotsning", False, OutcomeDetails(guided_to="811218-9876"))
    assert guarded.value.errors["lotsad_till"][0] == "identity_number"
    case = await cases.record_outcome("linnea.fors", ref, "lotsning", True, OutcomeDetails(
        guided_to="vårdcentralen Åstad", score=4, comment="ville ha mer tid"))
    assert (case.guided_to, case.evaluation_score, case.evaluation_comment) == ("vårdcentralen Åstad", 4,
                                                                               "ville ha mer tid")
    assert case.individual_informed is True and case.meeting_kind is MeetingKind.GFI
    assert case.other_contacts == "vårdcentralen, frivården"
    # the free texts go with the consent, like the brief
    await cases.withdraw_consent("maria.sand", ref)
    gone = await cases.get(ref)
    assert (gone.other_contacts, gone.guided_to, gone.evaluation_comment) == (None, None, None)
    assert gone.evaluation_score == 4  # a number, not text


async def test_a_tjanstepersonmote_names_its_reason_and_nobody_fails_to_come(core: Core, clock: FrozenClock) -> None:
    with pytest.raises(FieldError) as no_reason:
        await booked(core, clock, MeetingForm(kind="tjänsteperson"))
    assert no_reason.value.errors["syfte"][0] == "required"
    ref = await booked(core, clock, MeetingForm(kind="tjänsteperson", purpose="betalningsansvar", informed=True))
    case = await core.cases.get(ref)
    assert (case.meeting_kind, case.meeting_purpose, case.individual_informed) == (
        MeetingKind.STAFF, MeetingPurpose.PAYMENT, None)  # the individual is not there: "informed" does not apply
    with pytest.raises(Refusal) as no_show:
        await core.cases.no_show("linnea.fors", ref)
    assert no_show.value.code == "staff_meeting_no_show"
    with pytest.raises(FieldError) as scale:
        await core.cases.record_outcome("linnea.fors", ref, "kartlaggning", False, OutcomeDetails(score=3))
    assert scale.value.errors["delaktighet"][0] == "not_for_staff_meeting"
    done = await core.cases.record_outcome("linnea.fors", ref, "aktualiseras", True, OutcomeDetails())
    assert done.outcome is not None and done.outcome.value == "aktualiseras" and done.evaluation_score is None
