"""Disagreement is not silence on Teams (issue #10 item 7): the 'Inte vårt ärende' card form, the settle form
of a line manager (helena.ros, put on Teams for this test), and the samverkansgrupp's decision (jonas.sjo)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from tests.conftest import local
from tests.e2e.test_teams_lifecycle import file_request
from tests.fakes import teams_bot
from tests.fakes.teams import actions_of, card_text
from tests.fakes.teams_bot import TeamsBot, running_teams

HELENA = ("29:helena", "aad-helena", "helena.ros@rsv.example.se")
CARINA = ("29:carina", "aad-carina", "carina.berg@astad.example.se")
JONAS = ("29:jonas", "aad-jonas", "jonas.sjo@rsv.example.se")  # the samverkansgrupp's contact person


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TeamsBot]:
    monkeypatch.setitem(teams_bot.ON_TEAMS, "helena.ros", HELENA)
    monkeypatch.setitem(teams_bot.ON_TEAMS, "carina.berg", CARINA)
    monkeypatch.setitem(teams_bot.ON_TEAMS, "jonas.sjo", JONAS)
    async with running_teams(tmp_path, clock) as running:
        yield running


async def test_dispute_and_settle_by_card_forms(bot: TeamsBot) -> None:
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    form = (await bot.act("linnea.fors", "dispute", {"ref": ref, "card": "d1"})).card
    assert "inte vårt ärende" in card_text(form)
    await bot.act("linnea.fors", "dispute", {"ref": ref, "card": "d2", "submit": True,
                                             "tvist_skal": "Socialtjänstens uppdrag"})
    case = await bot.core.cases.get(ref)
    assert case.disputed and case.dispute_reason == "Socialtjänstens uppdrag"
    # the requester may not settle: refused on the card, nothing changes
    refused = (await bot.act("maria.sand", "settle_dispute", {"ref": ref, "card": "s0"})).card
    assert "Bara chefer i ansvarstrappan" in card_text(refused)
    form = (await bot.act("helena.ros", "settle_dispute", {"ref": ref, "card": "s1"})).card
    assert f"Överenskommelse i tvisten om {ref}" in card_text(form)
    done = (await bot.act("helena.ros", "settle_dispute", {"ref": ref, "card": "s2", "submit": True,
                                                           "enig": "Beroendemottagningen behåller ärendet"})).card
    assert "Ditt förslag till överenskommelse" in card_text(done)
    assert (await bot.core.cases.get(ref)).disputed  # the other side confirms (issue #18 item 2)
    # her own button does not settle it: the proposer's side cannot confirm
    own = (await bot.act("helena.ros", "confirm_agreement", {"ref": ref, "card": "s3"})).card
    assert "Förslaget i tvisten" in card_text(own)
    # the kommun's line manager (on Teams too) opens the form: the proposal is prefilled; the button confirms it
    form = (await bot.act("carina.berg", "settle_dispute", {"ref": ref, "card": "c1"})).card
    assert "Beroendemottagningen behåller ärendet" in str(form)
    done = (await bot.act("carina.berg", "confirm_agreement", {"ref": ref, "card": "c2"})).card
    assert f"Överenskommelsen i tvisten om {ref} är registrerad" in card_text(done)
    assert not (await bot.core.cases.get(ref)).disputed


async def test_only_a_coordinator_takes_a_question_to_the_samverkansniva(bot: TeamsBot) -> None:
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    await bot.act("linnea.fors", "dispute", {"ref": ref, "card": "d", "submit": True, "tvist_skal": "Inte vårt"})
    item = next(h["id"] for h in await bot.core.ladder.history(ref) if h["kind"] == "dispute")
    card = (await bot.act("helena.ros", "to_samverkan", {"ref": ref, "item": str(item), "card": "t"})).card
    assert "Bara samordnare" in card_text(card)


async def test_the_samverkansniva_records_its_decision_on_a_card(bot: TeamsBot, clock: FrozenClock) -> None:
    """Issue #18 item 4 on Teams: the contact person's button on the matter's card answers with a form; the
    decision is recorded through the same rule as the console's /samverkansbeslut and Slack's modal."""
    await bot.say("jonas.sjo", "hjälp")  # the bot may write to his chat
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    await bot.core.disputes.dispute("linnea.fors", ref, "Socialtjänstens uppdrag")
    clock.set(local("2026-11-25T11:00"))  # nobody agreed within the business day: the coordinators
    await bot.core.tick()
    item = next(h["id"] for h in await bot.core.ladder.history(ref) if h["kind"] == "dispute")
    taken = await bot.core.disputes.take_to_samverkan("sara.holm", item)
    assert taken.matter is not None
    matter_id = taken.matter.id
    await bot.settle()
    told = [c for c in bot.connector.cards(bot.chat("jonas.sjo")) if "Fråga till Samverkansgruppen" in card_text(c)]
    assert told and "Socialtjänstens uppdrag" not in card_text(told[-1])
    offered = [a for a in actions_of(told[-1]) if a["verb"] == "samverkan_decide"]
    assert offered and offered[0]["data"]["item"] == matter_id
    # someone outside the group: not found, no form
    refused = (await bot.act("maria.sand", "samverkan_decide", {"ref": ref, "item": matter_id, "card": "m0"})).card
    assert f"Hittar ingen fråga på samverkansnivå med nummer {matter_id}" in card_text(refused)
    assert "/samverkansfrågor" not in card_text(refused)  # the console's command: not Teams' way
    form = (await bot.act("jonas.sjo", "samverkan_decide", {"ref": ref, "item": matter_id, "card": "m1"})).card
    assert "Samverkansnivåns beslut" in str(form) and "Socialtjänstens uppdrag" not in str(form)
    assert [a["verb"] for a in actions_of(form)] == ["samverkan_decide"]
    bad = (await bot.act("jonas.sjo", "samverkan_decide", {"ref": ref, "item": matter_id, "card": "m1",
                                                          "submit": True, "beslut": "Gäller 19121212-1212"})).card
    assert "Samverkansnivåns beslut innehåller ett personnummer" in card_text(bad)  # typed value kept on the card
    [(matter, _)] = await bot.core.disputes.samverkan.matters("jonas.sjo")
    assert matter.is_open
    done = (await bot.act("jonas.sjo", "samverkan_decide", {"ref": ref, "item": matter_id, "card": "m1",
                                                           "submit": True, "beslut": "Socialtjänsten ansvarar."})).card
    assert f"Beslutet i fråga {matter_id} ({ref}) är registrerat" in card_text(done)
    [(matter, _)] = await bot.core.disputes.samverkan.matters("jonas.sjo")
    assert not matter.is_open and matter.outcome == "Socialtjänsten ansvarar." and matter.handled_by == "jonas.sjo"
    again = (await bot.act("jonas.sjo", "samverkan_decide", {"ref": ref, "item": matter_id, "card": "m2",
                                                            "submit": True, "beslut": "Annat"})).card
    assert f"Fråga {matter_id} är redan hanterad" in card_text(again)
