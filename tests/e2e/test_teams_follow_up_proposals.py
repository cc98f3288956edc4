"""Issue #10 item 6 on Teams: the requester records the outcome and proposes a follow-up to the region by card
actions; the owner accepts it from the proactive card's Acceptera action."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from tests.conftest import local
from tests.e2e.test_teams_lifecycle import file_request
from tests.fakes.teams import actions_of, card_text
from tests.fakes.teams_bot import TeamsBot, running_teams


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[TeamsBot]:
    async with running_teams(tmp_path, clock) as running:
        yield running


async def test_the_requester_proposes_a_follow_up_and_the_owner_accepts_it_on_the_card(bot: TeamsBot) -> None:
    for who in ("maria.sand", "linnea.fors"):
        await bot.say(who, "hjälp")
    ref = await file_request(bot)
    cases = bot.core.cases
    await cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    await cases.acknowledge("linnea.fors", ref)
    await cases.book("linnea.fors", ref, local("2026-11-26T10:00"), "Rum 3", ["soc-norr", "beroende"])
    bot.clock.set(local("2026-11-26T12:00"))

    # the requester records the outcome and adds a follow-up, as those responsible do
    form = (await bot.act("maria.sand", "record_outcome", {"ref": ref, "card": "m1"})).card
    reply = await bot.act("maria.sand", "record_outcome", {**actions_of(form)[0]["data"], "utfall": "sip",
                                                           "utvardering": "ja", "mandat": "ja", "delaktighet": "5"})
    assert "Utfall registrerat" in card_text(reply.card)
    form = (await bot.act("maria.sand", "add_follow_up", {"ref": ref, "card": "m2"})).card
    reply = await bot.act("maria.sand", "add_follow_up", {**actions_of(form)[0]["data"], "agare": "linnea.fors",
                                                          "datum": "2026-12-10", "vad": "Ordna stödsamtal"})
    assert "Förslag till uppföljning 1" in card_text(reply.card)
    assert (await cases.get(ref)).follow_ups[0].proposed

    await bot.core.tick()
    proposed = [c for c in bot.connector.cards(bot.chat("linnea.fors")) if "föreslår att du ansvarar" in card_text(c)]
    assert proposed
    accept = [a for a in actions_of(proposed[-1]) if a["verb"] == "accept_follow_up"]
    assert accept and accept[0]["data"]["ref"] == ref and accept[0]["data"]["item"] == 1
    assert [a for a in actions_of(proposed[-1]) if a["verb"] == "decline_follow_up"]  # or decline it
    # someone else sending the same action is refused, and nothing changes
    reply = await bot.act("maria.sand", "accept_follow_up", {**accept[0]["data"], "card": "forged"})
    assert "accepterad" not in card_text(reply.card)
    assert (await cases.get(ref)).follow_ups[0].proposed
    # her "mina" card lists the proposal with the same action
    await bot.say("linnea.fors", "mina")
    mine = bot.connector.cards(bot.chat("linnea.fors"))[-1]
    assert f"{ref} uppföljning 1: Linnea Fors" in card_text(mine) and "Ordna stödsamtal" not in card_text(mine)
    assert [a for a in actions_of(mine) if a["verb"] == "accept_follow_up" and a["data"]["item"] == 1]
    reply = await bot.act("linnea.fors", "accept_follow_up", accept[0]["data"])
    assert f"Uppföljning 1 i {ref} är accepterad" in card_text(reply.card)
    assert not (await cases.get(ref)).follow_ups[0].proposed
