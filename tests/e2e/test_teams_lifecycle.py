"""A whole case by Teams card actions, from the request to closing; a forged action; a Slack person on the same
case served on Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from tests.e2e.test_teams_inbound import request_values
from tests.fakes.teams import actions_of, card_text
from tests.fakes.teams_bot import TeamsBot, running_teams
from tests.timekit import form


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[TeamsBot]:
    async with running_teams(tmp_path, clock) as running:
        yield running


async def state(bot: TeamsBot, ref: str) -> str:
    return (await bot.core.cases.get(ref)).state.value


async def file_request(bot: TeamsBot, **over: str) -> str:
    reply = await bot.act("maria.sand", "request", {"card": "form-1", **request_values(**over)})
    text = card_text(reply.card)
    assert "registrerad" in text, text
    return text.split("registrerad: ")[1].split(".")[0].split(" ")[0]


async def test_whole_lifecycle_by_card_actions(bot: TeamsBot) -> None:
    for who in ("fatima.ali", "linnea.fors"):
        await bot.say(who, "hjälp")  # they have opened the bot: their chats are known
    ref = await file_request(bot, bradskande="ja")
    # the requester's receipt arrives as a proactive card in her chat
    assert any(ref in card_text(c) for c in bot.connector.cards(bot.chat("maria.sand")))

    # the distributor's queue: one assign form per case
    await bot.say("fatima.ali", "kö")
    queue = bot.connector.cards(bot.chat("fatima.ali"))[-1]
    assign = [a for a in actions_of(queue) if a["verb"] == "assign" and a["data"]["ref"] == ref]
    assert assign and f"personer__{ref}" in str(queue)
    reply = await bot.act("fatima.ali", "assign", {**assign[0]["data"], f"personer__{ref}": "linnea.fors,gustav.lund"})
    assert "fördelat till Linnea Fors, Gustav Lund" in card_text(reply.card)
    assert "Fatima Ali" in card_text(reply.card)  # by whom
    assert await state(bot, ref) == "assigned"
    assert any(ref in card_text(c) for c in bot.connector.cards(bot.chat("linnea.fors")))

    # Kvittera
    reply = await bot.act("linnea.fors", "acknowledge", {"ref": ref, "card": "o1"})
    assert "Kvitterat" in card_text(reply.card) and "Linnea Fors" in card_text(reply.card)
    assert await state(bot, ref) == "acknowledged"

    # Boka: the form first, then the submission
    form = (await bot.act("linnea.fors", "book", {"ref": ref, "card": "o2"})).card
    submit = actions_of(form)[0]
    assert submit["verb"] == "book" and submit["data"]["submit"] is True
    reply = await bot.act("linnea.fors", "book", {**submit["data"], "datum": "2026-11-26", "tid": "10:00",
                                                  "plats": "Rum 3", "enheter": "soc-norr,beroende"})
    assert "Möte bokat" in card_text(reply.card)
    assert await state(bot, ref) == "meeting_booked"

    bot.clock.set(bot.clock.now().replace(day=26, hour=12))
    form = (await bot.act("linnea.fors", "record_outcome", {"ref": ref, "card": "o3"})).card
    missing = await bot.act("linnea.fors", "record_outcome", {**actions_of(form)[0]["data"],
                                                              "utfall": "kartlaggning", "utvardering": "ja"})
    assert "Den enskildes delaktighet måste fyllas i." in card_text(missing.card)  # issue #18 item 21
    reply = await bot.act("linnea.fors", "record_outcome", {**actions_of(form)[0]["data"], "utfall": "kartlaggning",
                                                            "utvardering": "ja", "delaktighet": "3",
                                                            "kommentar": "ville ha mer tid"})
    assert "Utfall registrerat" in card_text(reply.card)
    assert (await bot.core.cases.get(ref)).evaluation_score == 3

    form = (await bot.act("linnea.fors", "add_follow_up", {"ref": ref, "card": "o4"})).card
    reply = await bot.act("linnea.fors", "add_follow_up", {**actions_of(form)[0]["data"], "agare": "linnea.fors",
                                                           "datum": "2026-12-10", "vad": "ring tillbaka"})
    assert "Uppföljning tillagd" in card_text(reply.card)
    reply = await bot.act("linnea.fors", "complete_follow_up", {"ref": ref, "item": 1, "card": "o5"})
    assert "Uppföljning 1" in card_text(reply.card)

    form = (await bot.act("linnea.fors", "close", {"ref": ref, "card": "o6"})).card
    reply = await bot.act("linnea.fors", "close", {**actions_of(form)[0]["data"], "skal": "genomford"})
    assert "avslutat" in card_text(reply.card)
    assert await state(bot, ref) == "closed"

    # the journal record as a card, every time it is asked for (a view is not claimed once)
    for _ in range(2):
        journal = card_text((await bot.act("linnea.fors", "journal", {"ref": ref, "card": "o6"})).card)
        assert f"journalunderlag för {ref}" in journal and "Utfall: gemensam kartläggning/utredning" in journal
    # or typed in the chat: "journal <ref>"; without a reference, how to write it
    await bot.say("maria.sand", f"journal {ref.lower()}")
    assert f"journalunderlag för {ref}" in card_text(bot.connector.cards(bot.chat("maria.sand"))[-1])
    await bot.say("maria.sand", "journal")
    assert "journal GFI-2026-0001" in card_text(bot.connector.cards(bot.chat("maria.sand"))[-1])
    # the distributor, who gave the case away, has no part in it now: the answer /visa gives
    fatima = card_text((await bot.act("fatima.ali", "journal", {"ref": ref, "card": "o6"})).card)
    assert "Hittar inget ärende" in fatima and "Utfall" not in fatima

    reply = await bot.act("linnea.fors", "reopen", {"ref": ref, "card": "o7"})
    assert "återöppnat" in card_text(reply.card)
    assert await state(bot, ref) != "closed"

    # gustav.lund, on the same case, is served on Slack; the Teams people on Teams
    assert [s.template for s in bot.slack.to("gustav.lund") if s.case_ref == ref][:1] == ["assigned_to_you"]
    assert {s.recipient for s in bot.slack.sent} == {"gustav.lund"}
    assert not any("gustav" in c.path for c in bot.connector.posts())


async def test_book_form_errors_stay_on_the_card(bot: TeamsBot) -> None:
    await bot.say("linnea.fors", "hjälp")
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    await bot.core.cases.acknowledge("linnea.fors", ref)
    reply = await bot.act("linnea.fors", "book", {"ref": ref, "card": "x", "submit": True, "datum": "2026-11-26",
                                                  "tid": "", "plats": "Rum 3", "enheter": ""})
    assert "Tid måste fyllas i" in card_text(reply.card)
    assert await state(bot, ref) == "acknowledged"


async def test_forged_action_on_another_case_is_refused_audited_and_changes_nothing(bot: TeamsBot) -> None:
    await bot.say("linnea.fors", "hjälp")
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    # maria (the requester, not the assignee) sends a card payload naming linnea's case
    reply = await bot.act("maria.sand", "acknowledge", {"ref": ref, "card": "forged"})
    assert reply.status == 200
    assert "Kvitterat" not in card_text(reply.card)
    assert await state(bot, ref) == "assigned"
    assert await bot.count("SELECT COUNT(*) FROM audit WHERE actor_id = 'maria.sand' AND result = 'refused' "
                           "AND case_ref = ?", (ref,)) == 1
    # a forged escalation item
    reply = await bot.act("maria.sand", "take_over", {"item": 9999, "card": "forged"})
    assert "9999" in card_text(reply.card)
    # a forged form opening
    reply = await bot.act("maria.sand", "add_follow_up", {"ref": ref, "card": "forged"})
    assert not actions_of(reply.card)
    assert await state(bot, ref) == "assigned"


async def test_a_double_click_acts_once(bot: TeamsBot) -> None:
    await bot.say("linnea.fors", "hjälp")
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    first = await bot.act("linnea.fors", "acknowledge", {"ref": ref, "card": "same"})
    second = await bot.act("linnea.fors", "acknowledge", {"ref": ref, "card": "same"})
    assert "Kvitterat" in card_text(first.card)
    assert "redan gjort" in card_text(second.card)
    assert await bot.count("SELECT COUNT(*) FROM audit WHERE action = 'acknowledge' AND case_ref = ?", (ref,)) == 1


async def test_forged_action_on_a_case_the_clicker_has_no_part_in_reads_like_an_unknown_reference(
    bot: TeamsBot,
) -> None:
    """linnea (beroende) has no part in petra's request to psykiatri: the refusal must not confirm it exists,
    but the audit keeps the real reason."""
    case = await bot.core.cases.request("petra.lund", form(target_unit="psykiatri"))
    await bot.core.cases.assign("ingrid.vik", case.ref, ["yusuf.kaya"])
    missing = case.ref[:-4] + "0999"
    forged = card_text((await bot.act("linnea.fors", "acknowledge", {"ref": case.ref, "card": "f1"})).card)
    unknown = card_text((await bot.act("linnea.fors", "acknowledge", {"ref": missing, "card": "f2"})).card)
    assert forged == unknown.replace(missing, case.ref)
    assert "Hittar inget ärende" in forged
    assert await state(bot, case.ref) == "assigned"
    assert await bot.count("SELECT COUNT(*) FROM audit WHERE actor_id = 'linnea.fors' AND result = 'refused' "
                           "AND case_ref = ? AND json_extract(detail, '$.reason') = 'not_assignee'", (case.ref,)) == 1


async def test_a_weekend_booking_asks_on_the_card_and_a_ticked_one_is_booked(bot: TeamsBot) -> None:
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    await bot.core.cases.acknowledge("linnea.fors", ref)
    values = {"ref": ref, "card": "x", "submit": True, "datum": "2026-11-28", "tid": "10:00", "plats": "Rum 3",
              "enheter": "soc-norr,beroende"}
    reply = await bot.act("linnea.fors", "book", values)
    assert "infaller på en helg" in card_text(reply.card) and "Ja, tiden är rätt" in card_text(reply.card)
    assert await state(bot, ref) == "acknowledged"
    await bot.act("linnea.fors", "book", {**values, "card": "y", "bekrafta": "ja"})
    assert await state(bot, ref) == "meeting_booked"


async def test_waiting_resuming_and_a_meeting_held_now_by_card_actions(bot: TeamsBot) -> None:
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    await bot.core.cases.acknowledge("linnea.fors", ref)
    form = (await bot.act("linnea.fors", "wait", {"ref": ref, "card": "w1"})).card
    assert "vilar i väntan på den enskilde" in card_text(form)
    await bot.act("linnea.fors", "wait", {"ref": ref, "card": "w2", "submit": True, "till": "2026-12-14",
                                          "vantar_skal": "Vill ha betänketid"})
    assert await state(bot, ref) == "waiting"
    await bot.act("linnea.fors", "resume", {"ref": ref, "card": "r1"})
    assert await state(bot, ref) == "acknowledged"
    await bot.act("linnea.fors", "hold_now", {"ref": ref, "card": "h1", "submit": True,
                                              "enheter": "soc-norr,beroende"})
    case = await bot.core.cases.get(ref)
    assert case.state.value == "meeting_booked" and case.held_now


async def test_booking_form_names_participants_and_the_appoint_card_names_the_rest(bot: TeamsBot) -> None:
    """Issue #10 item 2 on Teams: who attends per unit, externals by role and first name, and a unit without a
    named person named later on the "Utse deltagare" form (here by the requester, who may name one too)."""
    ref = await file_request(bot, omfattar="psykiatri")
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    await bot.core.cases.acknowledge("linnea.fors", ref)
    form = (await bot.act("linnea.fors", "book", {"ref": ref, "card": "b1"})).card
    assert "Externa deltagare" in str(form) and "omar.haddad" in str(form)
    values = {"ref": ref, "card": "b2", "submit": True, "datum": "2026-11-30", "tid": "13:00", "plats": "Rum 3",
              "enheter": "beroende,psykiatri", "deltagare": "omar.haddad", "extern": "god-man,narstaende",
              "fornamn": ", Eva"}
    refused = await bot.act("linnea.fors", "book", values)
    assert "Lägg till Socialtjänst Norr, vuxen/missbruk." in card_text(refused.card)
    await bot.act("linnea.fors", "book", {**values, "card": "b3", "enheter": "soc-norr,beroende,psykiatri"})
    case = await bot.core.cases.get(ref)
    assert [(a.role, a.first_name) for a in case.externals()] == [("god-man", None), ("narstaende", "Eva")]
    assert case.pending_units() == ["psykiatri"]
    form = (await bot.act("maria.sand", "appoint", {"ref": ref, "card": "a1"})).card
    assert "yusuf.kaya" in str(form) and "omar.haddad" not in str(form)
    chosen = {"ref": ref, "card": "a2", "submit": True, "deltagare": "yusuf.kaya"}
    named = await bot.act("maria.sand", "appoint", chosen)
    assert "Allmänpsykiatriska mottagningen Åstad: Yusuf Kaya" in card_text(named.card)
    case = await bot.core.cases.get(ref)
    assert case.pending_units() == [] and "yusuf.kaya" in case.participants()
