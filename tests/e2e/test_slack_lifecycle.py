"""The whole GFI lifecycle on Slack by button clicks, over real HTTP against the fake Slack Web API."""

from __future__ import annotations

from typing import Any

from bot.clock import FrozenClock
from tests.conftest import local
from tests.fakes.slack_bot import FATIMA, JONAS, LINNEA, MARIA, SlackBot
from tests.fakes.slack_signing import (
    checkboxes_state,
    datepicker_state,
    multi_static_select_state,
    plain_text_state,
    radio_buttons_state,
    static_select_state,
)
from tests.timekit import form


def request_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "enhet": static_select_state("beroende"),
        "typ": radio_buttons_state("ny-en"),
        "kort": plain_text_state("Man, 45 år, alkohol, vill veta vad beroendemottagningen kan erbjuda."),
        "kontakt": plain_text_state("Maria Sand, 0450-12 30 00"),
        "samtycke": checkboxes_state(["ja"]),
        "omfattar": multi_static_select_state([]),
        "giltigt": datepicker_state("2027-02-21"),
        "avser": checkboxes_state(["kontaktuppgifter", "pagaende-insatser"]),
        "avser_text": plain_text_state(None),
        "form": radio_buttons_state("skriftligt"),
        "inhamtat": static_select_state("maria.sand"),
        "bradskande": checkboxes_state([]),
        "barn": radio_buttons_state("nej"),
    }
    values.update(overrides)
    return values


def action_ids(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(action_id, value) of every button in a list of blocks."""
    out = []
    for block in blocks:
        elements = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory") or {}]
        out.extend((e["action_id"], e.get("value", "")) for e in elements if e.get("type") == "button")
    return out


async def file_request(bot: SlackBot, **overrides: Any) -> str:
    reply = await bot.submit(MARIA, "gfi_request", request_values(**overrides))
    assert reply.status == 200
    assert reply.json()["response_action"] == "update", reply.text
    [dm] = await bot.dm(MARIA, "Din GFI-förfrågan är registrerad")
    text = dm.params["text"]
    return text.split(": ", 1)[1].split(".", 1)[0]


async def test_whole_lifecycle_by_clicks(bot: SlackBot, clock: FrozenClock) -> None:
    fake = bot.fake
    # /gfi acks at once (empty 200) and opens the form, contact prefilled from the directory.
    reply = await bot.command(MARIA, "/gfi", trigger_id="trig-gfi")
    assert (reply.status, reply.text) == (200, "")
    form = await bot.opened_view("gfi_request")
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    units = [o["value"] for o in blocks["enhet"]["element"]["options"]]
    assert "beroende" in units and "soc-norr" not in units  # not your own unit
    assert "Maria Sand" in blocks["kontakt"]["element"]["initial_value"]
    assert blocks["giltigt"]["element"]["initial_date"] == "2027-02-21"  # today + 90 days
    assert "personnummer" in blocks["kort"]["hint"]["text"]
    assert {"ny-bada", "ny-en", "pagaende", "svu"} == {o["value"] for o in blocks["typ"]["element"]["options"]}
    assert fake.last("views.open").params["team_id"] == fake.team_id

    # Submission files the case; the requester gets a DM from the dispatcher with ref and next step.
    ref = await file_request(bot)
    assert ref == "GFI-2026-0001"
    [dm] = await bot.dm(MARIA, ref)
    assert "tis 24 nov 2026 kl. 09:00" in dm.params["text"]
    assert await bot.case_state(ref) == "requested"

    # The distributor's App Home lists the queue with an assign control.
    await bot.open_home(FATIMA)
    await fake.wait_for("views.publish", lambda c: c.params["user_id"] == FATIMA)
    home = fake.home_view(FATIMA)
    assert home is not None
    assert ("gfi_assign_open", ref) in action_ids(home["blocks"])
    assert any("Man, 45 år" in str(b) for b in home["blocks"])

    # Assign from the Home tab: a form with the unit's staff, 1–4 people.
    await bot.click(FATIMA, "gfi_assign_open", ref, home=True, trigger_id="trig-assign")
    assign_form = await bot.opened_view("gfi_assign")
    assert assign_form["private_metadata"] == ref
    assert "Man, 45 år" in str(assign_form["blocks"][0])  # the distributor sees the brief; it is in the read log
    await bot.settle()
    reads = "SELECT COUNT(*) FROM case_reads WHERE person_id = 'fatima.ali' AND view = ? AND case_ref = ?"
    assert await bot.count(reads, ("slack_assign", ref)) == 1
    assert await bot.count(reads, ("home", ref)) >= 1  # the queue on the Home tab showed the brief
    element = assign_form["blocks"][1]["element"]
    assert element["max_selected_items"] == 4
    assert {"linnea.fors", "sofia.grahn"} <= {o["value"] for o in element["options"]}
    reply = await bot.submit(FATIMA, "gfi_assign", {"personer": multi_static_select_state(["linnea.fors"]),
                                                   "annan": plain_text_state(None)}, ref=ref)
    assert (reply.status, reply.text) == (200, "")
    [assigned] = await bot.dm(LINNEA, f"har fördelat {ref} till dig")
    assert ("gfi_ack", ref) in action_ids(assigned.params["blocks"])
    [told] = await bot.dm(MARIA, f"{ref} är fördelat av Fatima Ali")
    assert "Linnea Fors" in told.params["text"]
    # The requester's Home was refreshed after the change.
    await fake.wait_for("views.publish", lambda c: c.params["user_id"] == MARIA)

    # Kvittera in the DM: an ephemeral confirmation with the next step; the requester is told.
    await bot.click(LINNEA, "gfi_ack", ref)
    confirm = await bot.ephemeral(LINNEA, f"Kvitterat: {ref}")
    assert ("gfi_book_open", ref) in action_ids(confirm.params["blocks"])
    await bot.dm(MARIA, f"Linnea Fors har kvitterat {ref}")
    assert await bot.case_state(ref) == "acknowledged"

    # Boka möte: date, time, place, units (the requester's and the target unit preselected).
    await bot.click(LINNEA, "gfi_book_open", ref, trigger_id="trig-book")
    book_form = await bot.opened_view("gfi_book")
    units_block = next(b for b in book_form["blocks"] if b.get("block_id") == "enheter")
    assert [o["value"] for o in units_block["element"]["initial_options"]] == ["soc-norr", "beroende"]
    book = {
        "datum": datepicker_state("2026-11-30"),
        "tid": {"type": "timepicker", "selected_time": "13:00"},
        "plats": plain_text_state("Beroendemottagningen, rum 3"),
        "enheter": multi_static_select_state(["soc-norr", "beroende"]),
    }
    reply = await bot.submit(LINNEA, "gfi_book", book, ref=ref)
    assert (reply.status, reply.text) == (200, "")
    [booked] = await bot.dm(MARIA, f"GFI-möte bokat för {ref}")
    assert "mån 30 nov 2026 kl. 13:00" in booked.params["text"]
    assert await bot.case_state(ref) == "meeting_booked"

    # The individual did not come (Uteblev), then a new time is booked.
    clock.set(local("2026-11-30T14:00"))
    await bot.click(LINNEA, "gfi_no_show", ref)
    await bot.ephemeral(LINNEA, "Uteblivet möte registrerat")
    await bot.dm(MARIA, "uteblev")
    assert await bot.case_state(ref) == "acknowledged"
    book["datum"] = datepicker_state("2026-12-02")
    reply = await bot.submit(LINNEA, "gfi_book", book, ref=ref)
    assert (reply.status, reply.text) == (200, "")
    await bot.dm(MARIA, f"GFI-möte bokat för {ref}", count=2)

    # After the meeting: Registrera utfall.
    clock.set(local("2026-12-02T15:00"))
    await bot.click(LINNEA, "gfi_outcome_open", ref, trigger_id="trig-outcome")
    outcome_form = await bot.opened_view("gfi_outcome")
    assert {"lotsad_till", "mandat", "delaktighet", "kommentar"} <= {b.get("block_id") for b in outcome_form["blocks"]}
    # a SIP at the GFI records the mandate, and a done evaluation how it went (issue #18 item 21)
    missing = await bot.submit(LINNEA, "gfi_outcome", {"utfall": radio_buttons_state("sip"),
                                                       "utvardering": radio_buttons_state("ja")}, ref=ref)
    assert missing.json()["response_action"] == "errors"
    assert set(missing.json()["errors"]) == {"mandat", "delaktighet"}
    reply = await bot.submit(LINNEA, "gfi_outcome", {"utfall": radio_buttons_state("sip"),
                                                     "utvardering": radio_buttons_state("ja"),
                                                     "mandat": radio_buttons_state("ja"),
                                                     "delaktighet": radio_buttons_state("4"),
                                                     "kommentar": plain_text_state("kände sig delaktig")}, ref=ref)
    assert (reply.status, reply.text) == (200, "")
    recorded = await bot.core.cases.get(ref)
    assert (recorded.sip_mandate, recorded.evaluation_score, recorded.evaluation_comment) == (
        True, 4, "kände sig delaktig")
    await bot.dm(MARIA, f"Utfall för {ref}: SIP upprättad vid GFI")

    # Uppföljning with an owner and a due date.
    await bot.click(LINNEA, "gfi_follow_up_open", ref, trigger_id="trig-fu")
    fu_form = await bot.opened_view("gfi_follow_up")
    owners = next(b for b in fu_form["blocks"] if b.get("block_id") == "agare")["element"]["options"]
    assert owners[0]["value"] == "linnea.fors"
    reply = await bot.submit(LINNEA, "gfi_follow_up", {"agare": static_select_state("maria.sand"),
                                                       "datum": datepicker_state("2026-12-16"),
                                                       "vad": plain_text_state("Stäm av att SIP:en följs")}, ref=ref)
    assert (reply.status, reply.text) == (200, "")
    # the region's kurator gives the kommun's socialsekreterare a task: a proposal, until she accepts it
    [proposed] = await bot.dm(MARIA, f"Linnea Fors föreslår att du ansvarar för uppföljning 1 i {ref}")
    assert ("gfi_follow_up_accept", f"{ref}/1") in action_ids(proposed.params["blocks"])
    await bot.click(MARIA, "gfi_follow_up_accept", f"{ref}/1")
    await bot.settle()
    await bot.dm(LINNEA, f"Maria Sand har accepterat uppföljning 1 i {ref}")
    assert await bot.case_state(ref) == "follow_up"

    # Avsluta, then the Home tabs show nothing open.
    await bot.click(LINNEA, "gfi_close_open", ref, trigger_id="trig-close")
    close_form = await bot.opened_view("gfi_close")
    # Maria's follow-up is not done: the form asks what becomes of it (issue #18 item 10), and it must be answered
    fate = next(b for b in close_form["blocks"] if b.get("block_id") == "foljupp")
    assert [o["value"] for o in fate["element"]["options"]] == ["avbryt", "overlat"] and not fate.get("optional")
    reply = await bot.submit(LINNEA, "gfi_close", {"skal": static_select_state("genomford"),
                                                   "annat": plain_text_state(None)}, ref=ref)
    assert reply.json()["response_action"] == "errors"
    assert "har en uppföljning som inte är klar (nummer 1). Ska den avbrytas" in str(reply.json()["errors"])
    assert await bot.case_state(ref) == "follow_up"
    reply = await bot.submit(LINNEA, "gfi_close", {"skal": static_select_state("genomford"),
                                                   "annat": plain_text_state(None),
                                                   "foljupp": radio_buttons_state("overlat")}, ref=ref)
    assert (reply.status, reply.text) == (200, "")
    [closed] = await bot.dm(MARIA, f"{ref} är avslutat av Linnea Fors")
    assert ("gfi_reopen", ref) in action_ids(closed.params["blocks"])
    assert "är överlämnad till Maria Sand, som genomför den utanför GFI-ärendet" in str(closed.params["blocks"])
    assert await bot.case_state(ref) == "closed"

    # Journalunderlag: the text to paste into the journal system, in a modal; logged as read.
    assert ("gfi_journal", ref) in action_ids(closed.params["blocks"])
    await bot.click(MARIA, "gfi_journal", ref, trigger_id="trig-journal")
    journal = str(await bot.opened_view("gfi_journal"))
    assert f"journalunderlag för {ref}" in journal and "Utfall: SIP upprättad vid GFI" in journal
    assert "Linnea Fors, Beroendemottagningen Åstad (ansvarig medarbetare)" in journal
    assert await bot.count(f"SELECT COUNT(*) FROM case_reads WHERE view = 'journal' AND case_ref = '{ref}'") == 1
    await bot.settle()
    linnea_home = fake.home_view(LINNEA)
    assert linnea_home is not None and ref not in str(linnea_home["blocks"])

    # Nothing went wrong on the way: no failed deliveries, the coordinator's Home says so. The one row that may be
    # left unsent is anna.lind's follow_up_proposed: Omar accepted the proposal before the dispatcher delivered it,
    # and she read the case only to decide on it (need to know after a case action, `bot.cases.access_lost`).
    assert await bot.count("SELECT COUNT(*) FROM outbox WHERE status != 'sent' AND NOT (status = 'cancelled' "
                           "AND template = 'follow_up_proposed' AND recipient_id = 'anna.lind' "
                           "AND last_error = 'no longer reads the case: accept_follow_up')") == 0
    await bot.open_home(JONAS)
    await fake.wait_for("views.publish", lambda c: c.params["user_id"] == JONAS)
    coordinator_home = str(fake.home_view(JONAS))
    assert "Misslyckade utskick" in coordinator_home and "Inga misslyckade utskick" in coordinator_home
    assert "Öppna eskaleringar" in coordinator_home


async def test_urgent_request_reaches_the_distributor_at_once(bot: SlackBot) -> None:
    ref = await file_request(bot, bradskande=checkboxes_state(["ja"]))
    [urgent] = await bot.dm(FATIMA, f"Brådskande GFI-förfrågan till Beroendemottagningen Åstad: {ref}")
    assert ("gfi_assign_open", ref) in action_ids(urgent.params["blocks"])


async def test_withdraw_consent_by_button(bot: SlackBot) -> None:
    ref = await file_request(bot)
    [filed] = await bot.dm(MARIA, ref)
    assert ("gfi_withdraw", ref) in action_ids(filed.params["blocks"])
    withdraw = next(e for b in filed.params["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert "confirm" in withdraw  # a confirmation dialog before it happens
    await bot.click(MARIA, "gfi_withdraw", ref)
    await bot.ephemeral(MARIA, f"Samtycket i {ref} är återkallat")
    case = await bot.core.cases.get(ref)
    assert case.state.value == "closed" and case.brief is None


async def test_withdrawal_deletes_the_dms_already_delivered(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await bot.submit(FATIMA, "gfi_assign", {"personer": multi_static_select_state(["linnea.fors"])}, ref=ref)
    await bot.settle()
    [assigned] = await bot.dm(LINNEA, f"har fördelat {ref} till dig")
    assert "alkohol" in assigned.params["text"]  # the brief reached the assignee's DMs
    about_case = [key for key, text in bot.fake.messages.items() if ref in text]
    assert len(about_case) >= 3  # receipt, assignee's notice, requester's notice
    await bot.click(MARIA, "gfi_withdraw", ref)
    await bot.settle()
    await bot.fake.wait_for("chat.delete", count=len(about_case))
    await bot.dm(LINNEA, f"Samtycket i {ref} har återkallats")  # the notices are sent after the deletions
    left = [text for text in bot.fake.messages.values() if ref in text]
    assert left and all("återkallats" in text for text in left)  # only the withdrawal notices remain


async def test_consent_fields_booking_outside_it_and_withdrawal_for_one_unit(bot: SlackBot) -> None:
    # The form asks what the consent covers, how it was given and who obtained it; the period is prefilled.
    await bot.command(MARIA, "/gfi", trigger_id="trig-gfi-consent")
    form = await bot.opened_view("gfi_request")
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    assert [o["value"] for o in blocks["avser"]["element"]["options"]] == [
        "kontaktuppgifter", "pagaende-insatser", "halsa-behandling", "social-situation", "annat"]
    assert [o["value"] for o in blocks["form"]["element"]["options"]] == ["skriftligt", "muntligt"]
    assert not blocks["avser"].get("optional") and not blocks["form"].get("optional")
    assert blocks["inhamtat"]["element"]["initial_option"]["value"] == "maria.sand"
    assert "standardtiden 90 dagar" in blocks["giltigt"]["hint"]["text"]
    missing = await bot.submit(MARIA, "gfi_request", request_values(avser=checkboxes_state([]),
                                                                    form=radio_buttons_state(None)))
    assert set(missing.json()["errors"]) >= {"avser", "form"}
    ref = await file_request(bot, omfattar=multi_static_select_state(["psykiatri"]),
                             avser=checkboxes_state(["annat"]), avser_text=plain_text_state("arbetsförmåga"),
                             form=radio_buttons_state("muntligt"), inhamtat=static_select_state("omar.haddad"))
    case = await bot.core.cases.get(ref)
    assert (case.consent_covers, case.consent_note, case.consent_form, case.consent_obtained_by) == (
        ["annat"], "arbetsförmåga", "muntligt", "omar.haddad")

    # Booking a unit outside the consent is refused on the units field.
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"])
    await bot.core.cases.acknowledge("linnea.fors", ref)
    book = {"datum": datepicker_state("2026-11-30"), "tid": {"type": "timepicker", "selected_time": "13:00"},
            "plats": plain_text_state("Rum 3"),
            "enheter": multi_static_select_state(["soc-norr", "beroende", "vc-centrum"])}
    refused = await bot.submit(LINNEA, "gfi_book", book, ref=ref)
    assert "omfattar inte Vårdcentralen Centrum" in refused.json()["errors"]["enheter"]
    book["enheter"] = multi_static_select_state(["soc-norr", "beroende", "psykiatri"])
    assert (await bot.submit(LINNEA, "gfi_book", book, ref=ref)).text == ""

    # "Återkalla samtycke" offers the whole consent or one unit, since it covers a third unit.
    [filed] = await bot.dm(MARIA, "Din GFI-förfrågan är registrerad")
    assert ("gfi_withdraw_open", ref) in action_ids(filed.params["blocks"])
    await bot.click(MARIA, "gfi_withdraw_open", ref, trigger_id="trig-withdraw")
    modal = await bot.opened_view("gfi_withdraw_consent")
    choices = [o["value"] for o in modal["blocks"][1]["element"]["options"]]
    assert choices == ["hela", "psykiatri"]
    reply = await bot.submit(MARIA, "gfi_withdraw_consent", {"aterkalla": radio_buttons_state("psykiatri")}, ref=ref)
    assert (reply.status, reply.text) == (200, "")
    case = await bot.core.cases.get(ref)
    assert case.is_open and case.consent_withdrawn == ["psykiatri"] and case.meeting_units == ["soc-norr", "beroende"]
    await bot.dm(LINNEA, f"Den enskilde har återkallat samtycket i {ref} för Allmänpsykiatriska mottagningen Åstad")


async def test_forged_button_on_a_case_the_clicker_has_no_part_in_reads_like_an_unknown_reference(
    bot: SlackBot,
) -> None:
    """linnea (beroende) has no part in petra's request to psykiatri: a forged Kvittera or form button naming it
    gets the unknown-reference answer, while the audit keeps the real reason."""
    case = await bot.core.cases.request("petra.lund", form(target_unit="psykiatri"))
    await bot.core.cases.assign("ingrid.vik", case.ref, ["yusuf.kaya"])
    missing = case.ref[:-4] + "0999"
    await bot.click(LINNEA, "gfi_ack", missing)
    unknown = str((await bot.ephemeral(LINNEA, missing)).params["text"])
    assert "Hittar inget ärende" in unknown
    for action_id in ("gfi_ack", "gfi_book_open"):
        await bot.click(LINNEA, action_id, case.ref, trigger_id=f"trig-{action_id}")
        forged = str((await bot.ephemeral(LINNEA, case.ref)).params["text"])
        assert forged == unknown.replace(missing, case.ref), action_id
        bot.fake.clear()
    assert await bot.case_state(case.ref) == "assigned"
    async with bot.core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT action, json_extract(detail, '$.reason') AS reason FROM audit "
                                 "WHERE actor_id = 'linnea.fors' AND result = 'refused' AND case_ref = ?", (case.ref,))
    assert [(r["action"], r["reason"]) for r in rows] == [("acknowledge", "not_assignee"), ("book", "wrong_state")]


async def test_a_holiday_booking_asks_to_tick_the_box_and_then_books(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"])
    await bot.core.cases.acknowledge("linnea.fors", ref)
    await bot.click(LINNEA, "gfi_book_open", ref, trigger_id="trig-book-holiday")
    form = await bot.opened_view("gfi_book")
    box = next(b for b in form["blocks"] if b.get("block_id") == "bekrafta")
    assert box["optional"] and box["element"]["options"][0]["text"]["text"] == "Ja, tiden är rätt"
    book = {"datum": datepicker_state("2026-12-24"), "tid": {"type": "timepicker", "selected_time": "10:00"},
            "plats": plain_text_state("Rum 3"), "enheter": multi_static_select_state(["soc-norr", "beroende"])}
    asked = await bot.submit(LINNEA, "gfi_book", book, ref=ref)
    assert "helgdag (julafton)" in asked.json()["errors"]["tid"]
    assert (await bot.core.cases.get(ref)).state.value == "acknowledged"
    book["bekrafta"] = checkboxes_state(["ja"])
    assert (await bot.submit(LINNEA, "gfi_book", book, ref=ref)).text == ""
    assert (await bot.core.cases.get(ref)).state.value == "meeting_booked"


async def test_waiting_resuming_and_a_meeting_held_now_by_buttons(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"])
    await bot.click(LINNEA, "gfi_ack", ref)
    acked = await bot.ephemeral(LINNEA, f"Kvitterat: {ref}")
    assert {("gfi_book_open", ref), ("gfi_hold_now_open", ref), ("gfi_wait_open", ref)} <= set(
        action_ids(acked.params["blocks"]))
    await bot.click(LINNEA, "gfi_wait_open", ref, trigger_id="trig-wait")
    await bot.opened_view("gfi_wait")
    waiting = {"till": datepicker_state("2026-12-14"), "vantar_skal": plain_text_state("Går inte att nå")}
    assert (await bot.submit(LINNEA, "gfi_wait", waiting, ref=ref)).text == ""
    case = await bot.core.cases.get(ref)
    assert case.state.value == "waiting" and case.waiting_reason == "Går inte att nå"
    [told] = await bot.dm(MARIA, f"{ref} vilar till mån 14 dec 2026")
    assert "Går inte att nå" in told.params["text"]
    await bot.click(LINNEA, "gfi_resume", ref)
    await bot.ephemeral(LINNEA, f"{ref} är återupptaget")
    assert (await bot.core.cases.get(ref)).state.value == "acknowledged"
    await bot.click(LINNEA, "gfi_hold_now_open", ref, trigger_id="trig-now")
    modal = await bot.opened_view("gfi_hold_now")
    units = next(b for b in modal["blocks"] if b.get("block_id") == "enheter")
    assert [o["value"] for o in units["element"]["initial_options"]] == ["soc-norr", "beroende"]
    held = {"enheter": multi_static_select_state(["soc-norr", "beroende"])}
    assert (await bot.submit(LINNEA, "gfi_hold_now", held, ref=ref)).text == ""
    case = await bot.core.cases.get(ref)
    assert case.state.value == "meeting_booked" and case.held_now


async def test_the_request_form_warns_about_a_name_and_keeps_other_contacts_apart(bot: SlackBot) -> None:
    """Issue #18 item 20: a brief that looks like a name is not filed until the requester confirms it names nobody;
    the individual's other contacts have a field of their own, shown to the assignee."""
    named = await bot.submit(MARIA, "gfi_request", request_values(kort=plain_text_state("Folke, 40 år, alkohol")))
    assert named.json()["response_action"] == "errors"
    assert "ser ut att innehålla ett namn" in named.json()["errors"]["kort"]
    assert "Folke" not in named.json()["errors"]["kort"]
    assert not (await bot.core.cases.mine("maria.sand")).requests
    ref = await file_request(bot, kontakter=plain_text_state("vårdcentralen Åstad, frivården"))
    case = await bot.core.cases.get(ref)
    assert case.other_contacts == "vårdcentralen Åstad, frivården"
    confirmed = await bot.submit(MARIA, "gfi_request", request_values(
        kort=plain_text_state("man, 40 år, kontakt med Anna på vårdcentralen"), kontrollerat=checkboxes_state(["ja"])))
    assert confirmed.json()["response_action"] == "update", confirmed.text
    assert len((await bot.core.cases.mine("maria.sand")).requests) == 2
