"""The responsibility ladder on Slack: escalation DMs with buttons, påminn, ta över, omfördela, App Home."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import local
from tests.e2e.test_slack_lifecycle import action_ids, file_request
from tests.fakes.slack_bot import FATIMA, JONAS, LINNEA, MARIA, SlackBot
from tests.fakes.slack_signing import multi_static_select_state, radio_buttons_state

HELENA = "U07HELENA"  # helena.ros, verksamhetschef: the first rung above beroende's distributor
YUSUF = "U05YUSUF"  # yusuf.kaya, kurator at psykiatri: no part in a beroende case
SARA = "U03SARA"  # sara.holm, a coordinator who is on no rung of beroende's ladder


async def move_to(bot: SlackBot, when: str) -> None:
    """Move the frozen clock in 15-minute steps, ticking like the background would."""
    target = local(when)
    while bot.clock.now() < target:
        bot.clock.set(min(bot.clock.now() + timedelta(minutes=15), target))
        await bot.core.tick()
    await bot.settle()


def home_text(bot: SlackBot, user: str) -> str:
    """The Home tab last published for `user`. Bolt runs a listener on after its ack, so `settle()` right
    after a click may come too early: settle again after seeing the listener's answer, then read this."""
    view = bot.fake.home_view(user)
    return str(view["blocks"]) if view else ""


def item_id(blocks: list[dict[str, Any]]) -> str:
    return next(value for action, value in action_ids(blocks) if action == "ladder_nudge")


async def test_escalation_is_answered_from_slack(bot: SlackBot) -> None:
    ref = await file_request(bot)  # Monday 10:00; beroende distributes Tuesday 09:00, + 4 business hours
    await move_to(bot, "2026-11-24T13:30")
    [esc] = await bot.dm(HELENA, f"Ansvarstrappan (verksamhetschef): {ref} väntar på fördelning")
    buttons = dict(action_ids(esc.params["blocks"]))
    assert set(buttons) == {"ladder_take_over", "ladder_nudge", "ladder_reassign"}
    item = item_id(esc.params["blocks"])
    assert "Fatima Ali" in esc.params["text"]  # who has not answered
    assert ref in home_text(bot, HELENA) and "Ta över" in home_text(bot, HELENA)

    # someone who is not on the ladder is refused, ephemerally, in Swedish
    assert (await bot.click(MARIA, "ladder_nudge", item)).status == 200
    await bot.settle()
    await bot.ephemeral(MARIA, "Du finns inte i ansvarstrappan")
    # someone with no part in the case (a forged click on the item's number) is not even told its reference
    await bot.click(YUSUF, "ladder_take_over", item)
    await bot.settle()
    refused = await bot.ephemeral(YUSUF, f"Hittar ingen väntande bevakning med nummer {item}")
    assert ref not in refused.params["text"]

    # påminn: the distributor gets a nudge
    await bot.click(HELENA, "ladder_nudge", item)
    await bot.settle()
    await bot.ephemeral(HELENA, "Påminnelse skickad till Fatima Ali")
    await bot.dm(FATIMA, ref)

    # ta över a distribution: the assign modal opens; submitting it assigns and stops the climb
    await bot.click(HELENA, "ladder_take_over", item, trigger_id="trig-take")
    await bot.settle()
    view = await bot.opened_view("gfi_assign")
    assert view["private_metadata"] == ref
    reply = await bot.submit(HELENA, "gfi_assign", {"personer": multi_static_select_state(["linnea.fors"])}, ref=ref)
    assert reply.status == 200, reply.text
    await bot.settle()
    await bot.dm(LINNEA, f"har fördelat {ref} till dig")
    await bot.settle()  # the Home refresh follows the DMs in the same background task
    assert (await bot.core.cases.get(ref)).assigned_by == "helena.ros"
    assert ref not in home_text(bot, HELENA).split("Öppna eskaleringar")[-1]


async def test_omfordela_and_the_coordinators_home(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await bot.submit(FATIMA, "gfi_assign", {"personer": multi_static_select_state(["linnea.fors"])}, ref=ref)
    await bot.dm(LINNEA, f"har fördelat {ref} till dig")
    await bot.settle()
    assert ref in home_text(bot, LINNEA)
    # nobody acknowledges: Tuesday 10:00 → the distributor, Wednesday → verksamhetschef, Thursday → coordinator
    await move_to(bot, "2026-11-26T10:30")
    [top] = await bot.dm(JONAS, f"{ref} väntar på kvittering av fördelat ärende")
    assert "brist i samverkan" in top.params["text"]
    coordinator_home = home_text(bot, JONAS)
    assert f"{ref} väntar på kvittering av fördelat ärende" in coordinator_home

    item = item_id(top.params["blocks"])
    # ta över an assignee-stage case: Jonas works elsewhere, so he is told to use Omfördela instead
    await bot.click(JONAS, "ladder_take_over", item, trigger_id="trig-take")
    await bot.settle()
    refused = await bot.ephemeral(JONAS, "arbetar inte på Beroendemottagningen Åstad")
    assert "med knappen Omfördela" in refused.params["text"]
    assert (await bot.core.cases.get(ref)).assignees == ["linnea.fors"]

    await bot.click(JONAS, "ladder_reassign", item, trigger_id="trig-re")
    await bot.settle()
    view = await bot.opened_view("gfi_reassign")
    assert view["title"]["text"] == "Omfördela GFI-ärende"
    reply = await bot.submit(JONAS, "gfi_reassign", {"personer": multi_static_select_state(["sofia.grahn"])}, ref=ref)
    assert reply.status == 200, reply.text
    await bot.settle()
    case = await bot.core.cases.get(ref)
    assert case.assignees == ["sofia.grahn"]
    await bot.core.tick()  # the sweep republishes the Home of the assignee the reassignment removed
    await bot.settle()
    assert ref not in home_text(bot, LINNEA)
    # everyone else who was alerted on the way up is told the climb stopped
    await bot.dm(FATIMA, f"Eskaleringen i {ref} är avslutad")
    await bot.dm(HELENA, f"Eskaleringen i {ref} är avslutad")
    assert f"{ref} väntar på kvittering" not in home_text(bot, JONAS)

    # the button of a resolved escalation explains that it is already answered
    await bot.click(JONAS, "ladder_take_over", item)
    await bot.settle()
    await bot.ephemeral(JONAS, ref)


async def test_a_follow_up_is_completed_with_its_klar_button(bot: SlackBot) -> None:
    from datetime import date

    ref = await file_request(bot)
    cases = bot.core.cases
    await cases.assign("fatima.ali", ref, ["linnea.fors"])
    await cases.acknowledge("linnea.fors", ref)
    await cases.book("linnea.fors", ref, local("2026-11-24T13:00"), "Rum 3", ["soc-norr", "beroende"])
    bot.clock.set(local("2026-11-24T15:00"))
    await cases.record_outcome("linnea.fors", ref, "lotsning", evaluation_done=True)
    await cases.add_follow_up("linnea.fors", ref, "maria.sand", date(2026, 12, 1), "Stämma av lotsningen")
    await bot.core.tick()
    # from the region to the kommun: a proposal, accepted with its button, then done with Klar
    [proposed] = await bot.dm(MARIA, f"Linnea Fors föreslår att du ansvarar för uppföljning 1 i {ref}")
    assert ("gfi_follow_up_accept", f"{ref}/1") in action_ids(proposed.params["blocks"])
    assert ("gfi_follow_up_done", f"{ref}/1") not in action_ids(proposed.params["blocks"])
    assert ("gfi_follow_up_decline", f"{ref}/1") in action_ids(proposed.params["blocks"])  # or decline it
    await bot.click(MARIA, "gfi_follow_up_accept", f"{ref}/1")
    await bot.settle()
    accepted = await bot.ephemeral(MARIA, f"Uppföljning 1 i {ref} är accepterad")
    assert ("gfi_follow_up_done", f"{ref}/1") in action_ids(accepted.params["blocks"])

    await bot.click(LINNEA, "gfi_follow_up_done", f"{ref}/2")  # no such follow-up
    await bot.settle()
    await bot.ephemeral(LINNEA, f"{ref} har ingen uppföljning nummer 2")
    await bot.click(MARIA, "gfi_follow_up_done", f"{ref}/1")
    await bot.settle()
    done = await bot.ephemeral(MARIA, f"Uppföljning 1 i {ref} är klar")
    assert "med knappen Avsluta" in done.params["text"] and "/avsluta" not in done.params["text"]
    case = await cases.get(ref)
    assert case.follow_ups[0].done_at is not None
    # nothing is awaited any more, so nothing climbs: move past the due date and see no escalation
    await move_to(bot, "2026-12-03T12:00")
    assert not [c for c in bot.fake.calls("chat.postMessage") if "Ansvarstrappan" in str(c.params.get("text"))]


async def test_an_expired_consent_is_renewed_with_its_button(bot: SlackBot) -> None:
    from datetime import date

    from tests.fakes.slack_signing import datepicker_state

    ref = await file_request(bot, giltigt=datepicker_state("2026-11-24"))
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"])
    await move_to(bot, "2026-11-25T09:00")
    [expired] = await bot.dm(MARIA, f"Samtycket i {ref} gällde till")
    assert ("gfi_renew_open", ref) in action_ids(expired.params["blocks"])

    await bot.click(MARIA, "gfi_renew_open", ref, trigger_id="trig-renew")
    await bot.settle()
    view = await bot.opened_view("gfi_renew")
    assert view["private_metadata"] == ref
    blocks = {b.get("block_id") for b in view["blocks"]}
    assert {"giltigt", "form", "inhamtat", "omfattar"} <= blocks  # how the renewed consent was obtained
    no_form = await bot.submit(MARIA, "gfi_renew", {"giltigt": datepicker_state("2027-03-01")}, ref=ref)
    assert no_form.json()["response_action"] == "errors" and "form" in no_form.json()["errors"]
    too_early = await bot.submit(MARIA, "gfi_renew", {"giltigt": datepicker_state("2026-11-25"),
                                                      "form": radio_buttons_state("muntligt"),
                                                      "omfattar": multi_static_select_state([])}, ref=ref)
    assert too_early.json()["response_action"] == "errors" and "giltigt" in too_early.json()["errors"]
    reply = await bot.submit(MARIA, "gfi_renew", {"giltigt": datepicker_state("2027-03-01"),
                                                  "form": radio_buttons_state("muntligt"),
                                                  "omfattar": multi_static_select_state(["psykiatri"])}, ref=ref)
    assert reply.status == 200 and reply.text == "", reply.text
    await bot.settle()
    case = await bot.core.cases.get(ref)
    assert case.consent_valid_until == date(2027, 3, 1) and "psykiatri" in case.consent_scope
    assert (case.consent_form, case.consent_obtained_by) == ("muntligt", "maria.sand")
    await bot.dm(LINNEA, f"Samtycket i {ref} är förnyat av Maria Sand")


async def test_the_coordinator_answers_a_distribution_nobody_made(bot: SlackBot) -> None:
    ref = await file_request(bot)  # nobody distributes: Tuesday 13:00 verksamhetschef, Wednesday 13:00 the top
    await move_to(bot, "2026-11-25T13:30")
    [esc] = await bot.dm(JONAS, f"Ansvarstrappan (psykiatrisamordnare): {ref} väntar på fördelning")
    assert {a for a, _ in action_ids(esc.params["blocks"])} == {"ladder_take_over", "ladder_nudge", "ladder_reassign"}
    waiting = "Väntar fortfarande på svar från: Fatima Ali (enhetschef), Helena Ros (verksamhetschef psykiatri"
    assert waiting in esc.params["text"]
    item = item_id(esc.params["blocks"])
    # the sweep republished the Home of everyone alerted, without them opening it; the coordinator of the
    # other principal (the kommun), never alerted about this region case, does not see it (need to know)
    line = f"{ref} väntar på fördelning"
    for user in (JONAS, HELENA):
        assert line in home_text(bot, user), user
    assert ref not in home_text(bot, SARA)
    assert f"Nu hos: psykiatrisamordnare. {waiting} och beroende)." in home_text(bot, JONAS)
    assert line not in home_text(bot, MARIA)

    # not on the ladder: every button is refused with a Swedish explanation, and nothing happens
    for action in ("ladder_take_over", "ladder_reassign"):
        await bot.click(MARIA, action, item, trigger_id=f"trig-{action}")
    await bot.settle()
    refusals = await bot.fake.wait_for(
        "chat.postEphemeral", lambda c: c.params.get("user") == MARIA and "Du finns inte i ansvarstrappan" in
        str(c.params.get("text")), count=2,
    )
    assert all(ref in c.params["text"] for c in refusals)
    assert not bot.fake.calls("views.open")

    # påminn: the distributor is reminded by name of who asked
    await bot.click(JONAS, "ladder_nudge", item)
    await bot.settle()
    await bot.ephemeral(JONAS, "Påminnelse skickad till Fatima Ali.")
    await bot.dm(FATIMA, f"Påminnelse från Jonas Sjö: {ref} väntar på fördelning från dig")

    # omfördela before anyone has the case opens the ordinary assign form, as does ta över
    await bot.click(JONAS, "ladder_reassign", item, trigger_id="trig-re")
    await bot.click(JONAS, "ladder_take_over", item, trigger_id="trig-take")
    await bot.settle()
    view = await bot.opened_view("gfi_assign", count=2)
    assert view["private_metadata"] == ref and view["title"]["text"] == "Fördela GFI-ärende"
    # the coordinator acts on the case without reading its brief (need to know), and nothing is logged as read
    assert "Man, 45 år" not in str(view) and "Du ser inte ärendets fritext" in str(view)
    await bot.settle()
    assert await bot.count("SELECT COUNT(*) FROM case_reads WHERE person_id = 'jonas.sjo'") == 0
    reply = await bot.submit(JONAS, "gfi_assign", {"personer": multi_static_select_state(["linnea.fors"])}, ref=ref)
    assert reply.status == 200 and reply.text == "", reply.text
    await bot.settle()

    case = await bot.core.cases.get(ref)
    assert (case.state.value, case.assigned_by, case.assignees) == ("assigned", "jonas.sjo", ["linnea.fors"])
    await bot.dm(LINNEA, f"har fördelat {ref} till dig")
    # everyone alerted but the one who answered is told the climb stopped
    await bot.dm(HELENA, f"Eskaleringen i {ref} är avslutad: ärendet är fördelat (Jonas Sjö)")
    await bot.settle()
    assert not [c for c in bot.fake.calls("chat.postMessage")
                if c.params.get("channel") == JONAS and "är avslutad:" in str(c.params.get("text"))]
    for user in (JONAS, HELENA, SARA):
        assert line not in home_text(bot, user), user
    # a late click on the old DM's button explains that it is already answered
    await bot.click(HELENA, "ladder_nudge", item)
    await bot.settle()
    await bot.ephemeral(HELENA, f"Bevakningen i {ref} är redan klar")


async def test_a_silent_resolution_still_clears_the_escalation_from_home(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await move_to(bot, "2026-11-24T13:30")
    await bot.dm(HELENA, f"Ansvarstrappan (verksamhetschef): {ref} väntar på fördelning")
    assert ref in home_text(bot, HELENA)
    assert ref not in home_text(bot, JONAS)  # the coordinator is not alerted yet: nothing to see
    # consent withdrawn: nobody is told anything more (no 'stoppad' message), yet the Home tabs change
    await bot.core.cases.withdraw_consent("maria.sand", ref)
    await bot.core.tick()
    await bot.settle()
    assert not [c for c in bot.fake.calls("chat.postMessage") if "är avslutad:" in str(c.params.get("text"))]
    assert ref not in home_text(bot, HELENA)
    assert ref not in home_text(bot, JONAS)


async def test_the_distributor_takes_over_an_unacknowledged_case(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await bot.submit(FATIMA, "gfi_assign", {"personer": multi_static_select_state(["linnea.fors"])}, ref=ref)
    await bot.settle()
    await move_to(bot, "2026-11-24T10:30")  # no acknowledgement within a business day: the distributor
    [esc] = await bot.dm(FATIMA, f"Ansvarstrappan (fördelare): {ref} väntar på kvittering av fördelat ärende")
    assert "Nu hos: fördelare. Väntar fortfarande på svar från: Linnea Fors (kurator)." in home_text(bot, FATIMA)

    await bot.click(FATIMA, "ladder_take_over", item_id(esc.params["blocks"]))
    await bot.settle()
    await bot.ephemeral(FATIMA, f"Du har tagit över {ref} och är nu ansvarig")
    await bot.settle()  # the listener queued the Home refresh before it answered
    case = await bot.core.cases.get(ref)
    assert (case.assignees, case.assigned_by) == (["fatima.ali"], "fatima.ali")
    # the climb starts again for the new assignee: nothing is escalated on the Home tab any more
    assert ("gfi_ack", ref) in action_ids(bot.fake.home_view(FATIMA)["blocks"])
    assert f"{ref} väntar på kvittering av fördelat ärende" not in home_text(bot, FATIMA)
    assert "Öppna eskaleringar" not in home_text(bot, FATIMA)  # the section shows only when there are some
    assert ref not in home_text(bot, LINNEA)
