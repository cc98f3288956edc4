"""Issue #10 item 2 on Slack: the booking modal names who attends and the external participants; a unit without
a named person gets the "Utse deltagare" button, and its modal names them. Over real HTTP against the fake
Slack Web API."""

from __future__ import annotations

from bot.clock import FrozenClock
from tests.e2e.test_slack_lifecycle import action_ids, file_request
from tests.fakes.slack_bot import LINNEA, SlackBot
from tests.fakes.slack_signing import (
    checkboxes_state,
    datepicker_state,
    multi_static_select_state,
    plain_text_state,
    static_select_state,
)

OMAR = "U01OMAR"  # omar.haddad, staff at soc-norr
INGRID = "U05INGRID"  # ingrid.vik, distributor of psykiatri
YUSUF = "U05YUSUF"  # yusuf.kaya, staff at psykiatri


async def test_booking_modal_names_participants_and_a_distributor_appoints(bot: SlackBot, clock: FrozenClock) -> None:
    ref = await file_request(bot, omfattar=multi_static_select_state(["psykiatri"]))
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"])
    await bot.core.cases.acknowledge("linnea.fors", ref)
    await bot.click(LINNEA, "gfi_book_open", ref, trigger_id="trig-book")
    modal = await bot.opened_view("gfi_book")
    blocks = {b.get("block_id"): b for b in modal["blocks"]}
    assert {"deltagare", "extern", "fornamn"} <= set(blocks)
    offered = [o["value"] for o in blocks["deltagare"]["element"]["options"]]
    assert "omar.haddad" in offered and "yusuf.kaya" in offered and "david.nord" not in offered  # consent's units
    book = {"datum": datepicker_state("2026-11-30"), "tid": {"type": "timepicker", "selected_time": "13:00"},
            "plats": plain_text_state("Rum 3"), "enheter": multi_static_select_state(["beroende", "psykiatri"]),
            "bekrafta": checkboxes_state([]), "deltagare": multi_static_select_state(["omar.haddad"]),
            "extern": multi_static_select_state(["narstaende"]), "fornamn": plain_text_state("Eva")}
    refused = await bot.submit(LINNEA, "gfi_book", book, ref=ref)  # the requester's unit is missing
    assert "Lägg till Socialtjänst Norr, vuxen/missbruk." in refused.json()["errors"]["enheter"]
    book["enheter"] = multi_static_select_state(["soc-norr", "beroende", "psykiatri"])
    assert (await bot.submit(LINNEA, "gfi_book", book, ref=ref)).text == ""
    case = await bot.core.cases.get(ref)
    assert [(a.unit_id, a.person_id) for a in case.attendees if not a.external] == [
        ("soc-norr", "omar.haddad"), ("beroende", "linnea.fors"), ("psykiatri", None)]
    await bot.core.tick()
    [told] = await bot.dm(OMAR, f"GFI-möte bokat för {ref}")
    assert "närstående (Eva)" in str(told.params["blocks"])
    [asked] = await bot.dm(INGRID, f"Vem från Allmänpsykiatriska mottagningen Åstad deltar i GFI-mötet i {ref}?")
    assert ("gfi_appoint_open", ref) in action_ids(asked.params["blocks"])
    await bot.click(INGRID, "gfi_appoint_open", ref, trigger_id="trig-appoint")
    appoint = await bot.opened_view("gfi_appoint")
    options = [o["value"] for o in appoint["blocks"][1]["element"]["options"]]
    assert "yusuf.kaya" in options and "omar.haddad" not in options
    chosen = {"deltagare": static_select_state("yusuf.kaya")}
    assert (await bot.submit(INGRID, "gfi_appoint", chosen, ref=ref)).text == ""
    await bot.core.tick()
    [named] = await bot.dm(YUSUF, f"GFI-möte bokat för {ref}")
    assert "Ingrid Vik har utsett dig att delta i mötet." in str(named.params["blocks"])
