"""Disagreement is not silence on Slack (issue #10 item 7, issue #18 items 1–2): the 'Inte vårt ärende' button and
modal, the line managers' agreement (one side proposes in the modal, the other confirms by button or the
prefilled modal), and the coordinators' 'Ta upp på samverkansnivå' button."""

from __future__ import annotations

from bot.clock import FrozenClock
from tests.conftest import local
from tests.e2e.test_slack_lifecycle import action_ids, file_request
from tests.fakes.slack_bot import LINNEA, MARIA, SlackBot
from tests.fakes.slack_signing import plain_text_state

HELENA = "U07HELENA"  # helena.ros: verksamhetschef, the first rung of beroende's ladder
CARINA = "U03CARINA"  # carina.berg: sektionschef, the first rung of soc-norr's ladder
SARA = "U03SARA"  # sara.holm: the kommun's coordinator, top of soc-norr's ladder
JONAS = "U07JONAS"  # jonas.sjo: the region's coordinator, the samverkansgrupp's other contact person


async def test_the_receiving_unit_disputes_and_the_line_manager_settles_by_buttons(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"])
    await bot.core.tick()
    [assigned] = await bot.dm(LINNEA, ref)
    assert ("gfi_dispute_open", ref) in action_ids(assigned.params["blocks"])
    await bot.click(LINNEA, "gfi_dispute_open", ref, trigger_id="trig-dispute")
    await bot.opened_view("gfi_dispute")
    reason = {"tvist_skal": plain_text_state("Socialtjänstens uppdrag, inte beroendevårdens")}
    assert (await bot.submit(LINNEA, "gfi_dispute", reason, ref=ref)).text == ""
    case = await bot.core.cases.get(ref)
    assert case.disputed and case.is_open
    [told] = await bot.dm(MARIA, "inte är verksamhetens ärende")
    assert "Socialtjänstens uppdrag" in told.params["text"]
    [asked] = await bot.dm(HELENA, f"Tvist om ansvaret för {ref}")
    assert "Socialtjänstens uppdrag" in str(asked.params)  # the line manager asked reads the reason (#18 item 1)
    assert ("gfi_settle_open", ref) in action_ids(asked.params["blocks"])
    # an identity number in the agreement is refused on the field, and nothing is saved
    await bot.click(HELENA, "gfi_settle_open", ref, trigger_id="trig-settle")
    assert "initial_value" not in str(await bot.opened_view("gfi_settle"))  # nothing proposed yet
    bad = await bot.submit(HELENA, "gfi_settle", {"enig": plain_text_state("Gäller 19121212-1212")}, ref=ref)
    assert "enig" in bad.json()["errors"] and "1212" not in bad.text
    agreed = {"enig": plain_text_state("Beroendemottagningen behåller ärendet")}
    assert (await bot.submit(HELENA, "gfi_settle", agreed, ref=ref)).text == ""
    assert (await bot.core.cases.get(ref)).disputed  # a proposal: the other side must confirm (#18 item 2)
    # the kommun's line manager gets the proposal with a confirm button; the form opens prefilled with it
    [proposal] = await bot.dm(CARINA, f"Förslag till överenskommelse i tvisten om {ref}")
    assert "Beroendemottagningen behåller ärendet" in str(proposal.params)
    buttons = action_ids(proposal.params["blocks"])
    assert ("gfi_agree", ref) in buttons and ("gfi_settle_open", ref) in buttons
    await bot.click(CARINA, "gfi_settle_open", ref, trigger_id="trig-carina")
    view = await bot.opened_view("gfi_settle", count=2)
    assert view["submit"]["text"] == "Bekräfta" and "Beroendemottagningen behåller ärendet" in str(view["blocks"])
    # Helena cannot confirm her own proposal by the button
    await bot.click(HELENA, "gfi_agree", ref)
    await bot.ephemeral(HELENA, "Förslaget i tvisten")
    await bot.click(CARINA, "gfi_agree", ref)
    await bot.ephemeral(CARINA, f"Överenskommelsen i tvisten om {ref} är registrerad")
    assert not (await bot.core.cases.get(ref)).disputed
    await bot.dm(MARIA, "Överenskommelse registrerad av Helena Ros och Carina Berg")


async def test_the_requester_cannot_open_the_dispute_form(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await bot.click(MARIA, "gfi_dispute_open", ref, trigger_id="trig-no")
    await bot.ephemeral(MARIA, "Bara Beroendemottagningen Åstad")


async def test_a_coordinator_takes_the_dispute_to_the_samverkansniva_by_button(bot: SlackBot, clock: FrozenClock,
                                                                               ) -> None:
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"])
    await bot.core.disputes.dispute("linnea.fors", ref, "Socialtjänstens uppdrag")
    clock.set(local("2026-11-25T11:00"))  # nobody agreed within the business day: the coordinators
    await bot.core.tick()
    [alert] = await bot.dm(SARA, f"Ansvarstrappan (samordnare på samverkansnivå): {ref}")
    buttons = action_ids(alert.params["blocks"])
    item = next(value for action, value in buttons if action == "ladder_samverkan")
    assert ("gfi_settle_open", ref) in buttons and not [a for a, _ in buttons if a == "ladder_take_over"]
    await bot.click(SARA, "ladder_samverkan", item)
    said = await bot.ephemeral(SARA, f"Frågan i {ref} tas upp på samverkansnivå")
    assert "Den har lämnats till Samverkansgruppen psykiatri och missbruk, Åstad (fråga 1)" in said.params["text"]
    assert [d.case_ref for d in await bot.core.brister.open_drafts("sara.holm")] == [ref]
    # the samverkansgrupp's other contact person is told (issue #18 item 4), and the matter is open until decided
    [told] = await bot.dm(JONAS, "Fråga till Samverkansgruppen psykiatri och missbruk, Åstad")
    assert "Socialtjänstens uppdrag" not in str(told.params)
    [(matter, _)] = await bot.core.disputes.samverkan.matters("jonas.sjo")
    assert matter.is_open and matter.case_ref == ref


async def test_the_samverkansniva_records_its_decision_in_a_modal(bot: SlackBot, clock: FrozenClock) -> None:
    """Issue #18 item 4 on Slack: the contact person's button on the matter opens a modal; the decision is recorded
    through the same rule as the console's /samverkansbeslut, and everyone concerned is told."""
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"])
    await bot.core.disputes.dispute("linnea.fors", ref, "Socialtjänstens uppdrag")
    clock.set(local("2026-11-25T11:00"))
    await bot.core.tick()
    [alert] = await bot.dm(SARA, f"Ansvarstrappan (samordnare på samverkansnivå): {ref}")
    item = next(value for action, value in action_ids(alert.params["blocks"]) if action == "ladder_samverkan")
    await bot.click(SARA, "ladder_samverkan", item)
    [told] = await bot.dm(JONAS, "Fråga till Samverkansgruppen psykiatri och missbruk, Åstad")
    assert ("samverkan_decide_open", "1") in action_ids(told.params["blocks"])
    # someone who is not a contact or coordinator of the group: not found, and no modal
    await bot.click(LINNEA, "samverkan_decide_open", "1", trigger_id="trig-linnea")
    refused = await bot.ephemeral(LINNEA, "Hittar ingen fråga på samverkansnivå med nummer 1")
    assert "/samverkansfrågor" not in str(refused.params["text"])  # the console's command: not Slack's way
    assert "knappen" in str(refused.params["text"])
    await bot.click(JONAS, "samverkan_decide_open", "1", trigger_id="trig-jonas")
    view = await bot.opened_view("samverkan_decide")
    assert view["private_metadata"] == "1" and "Socialtjänstens uppdrag" not in str(view)  # no free text
    assert f"Fråga 1 till Samverkansgruppen psykiatri och missbruk, Åstad gäller {ref}" in str(view)
    # nothing typed, or an identity number: back on the field, nothing recorded
    empty = await bot.submit(JONAS, "samverkan_decide", {"beslut": plain_text_state(None)}, ref="1")
    assert "måste fyllas i" in empty.json()["errors"]["beslut"]
    bad = await bot.submit(JONAS, "samverkan_decide", {"beslut": plain_text_state("Gäller 19121212-1212")}, ref="1")
    assert "personnummer" in bad.json()["errors"]["beslut"] and "1212" not in bad.text
    [(matter, _)] = await bot.core.disputes.samverkan.matters("jonas.sjo")
    assert matter.is_open
    decision = {"beslut": plain_text_state("Socialtjänsten ansvarar; beroendemottagningen bidrar med behandling.")}
    done = await bot.submit(JONAS, "samverkan_decide", decision, ref="1")
    assert done.json()["response_action"] == "update" and "Beslutet i fråga 1" in str(done.json())
    [(matter, _)] = await bot.core.disputes.samverkan.matters("jonas.sjo")
    assert not matter.is_open and matter.handled_by == "jonas.sjo"
    assert matter.outcome == "Socialtjänsten ansvarar; beroendemottagningen bidrar med behandling."
    # everyone concerned is told; the decision's text only to those who see the whole case
    [decided] = await bot.dm(MARIA, "Samverkansgruppen psykiatri och missbruk, Åstad har fattat beslut")
    assert "Socialtjänsten ansvarar" in str(decided.params)
    [summary] = await bot.dm(SARA, "Samverkansgruppen psykiatri och missbruk, Åstad har fattat beslut")
    assert "Socialtjänsten ansvarar" not in str(summary.params)
    # a second decision on the same matter is refused with who recorded the first
    again = await bot.submit(JONAS, "samverkan_decide", {"beslut": plain_text_state("Annat")}, ref="1",
                             view_id="V-again")
    assert "Fråga 1 är redan hanterad: Jonas Sjö registrerade beslutet" in again.json()["errors"]["beslut"]
