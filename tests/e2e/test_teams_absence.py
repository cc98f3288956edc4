"""Frånvaro in Teams: `frånvaro` in the chat shows a card form and the absences with remove buttons."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from tests.e2e.test_teams_brister import inputs
from tests.fakes.teams import actions_of, card_text
from tests.fakes.teams_bot import TeamsBot, running_teams
from tests.timekit import form


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[TeamsBot]:
    async with running_teams(tmp_path, clock) as running:
        yield running


async def test_a_distributor_marks_staff_away_on_the_card_and_removes_it(bot: TeamsBot) -> None:
    await bot.say("linnea.fors", "hjälp")  # the bot may write to her chat
    await bot.say("fatima.ali", "frånvaro")
    card = bot.connector.cards(bot.chat("fatima.ali"))[-1]
    fields = inputs(card)
    assert {"franvaro_person", "franvaro_fran", "franvaro_till", "ersattare"} <= set(fields)
    assert fields["franvaro_fran"]["value"] == "2026-11-23"
    assert [a["verb"] for a in actions_of(card)] == ["absence_set"]
    values = {"card": "c1", "submit": True, "franvaro_person": "linnea.fors", "franvaro_fran": "2026-11-23",
              "franvaro_till": "2026-11-25", "ersattare": "maria.sand"}
    refused = await bot.act("fatima.ali", "absence_set", values)
    assert "Maria Sand arbetar inte på Beroendemottagningen Åstad" in card_text(refused.card)
    done = await bot.act("fatima.ali", "absence_set", {**values, "ersattare": "sofia.grahn"})
    assert "Linnea Fors är borta mån 23 nov 2026–ons 25 nov 2026" in card_text(done.card)
    again = await bot.act("fatima.ali", "absence_set", {**values, "ersattare": "sofia.grahn"})
    assert "redan gjort" in card_text(again.card)
    assert bot.core.absences.stand_in("linnea.fors") == "sofia.grahn"
    # the person on Teams gets a receipt
    assert any("Fatima Ali har registrerat frånvaro för dig" in card_text(c)
               for c in bot.connector.cards(bot.chat("linnea.fors")))
    # the queue's assign form marks who is away
    case = await bot.core.cases.request("maria.sand", form())
    await bot.say("fatima.ali", "kö")
    queue = bot.connector.cards(bot.chat("fatima.ali"))[-1]
    choices = {c["value"]: c["title"] for c in inputs(queue)[f"personer__{case.ref}"]["choices"]}
    assert choices["linnea.fors"] == "Linnea Fors (frånvarande till ons 25 nov 2026)"
    # someone outside the unit cannot
    outside = await bot.act("maria.sand", "absence_set", {**values, "card": "c3"})
    assert "Du kan bara registrera frånvaro för dig själv" in card_text(outside.card)
    # the listing and its remove button
    await bot.say("fatima.ali", "franvaro")
    listing = bot.connector.cards(bot.chat("fatima.ali"))[-1]
    assert "Linnea Fors: mån 23 nov 2026–ons 25 nov 2026" in card_text(listing)
    remove = next(a for a in actions_of(listing) if a["verb"] == "absence_cancel")
    removed = await bot.act("fatima.ali", "absence_cancel", remove["data"])
    assert "Frånvaro 1 är borttagen" in card_text(removed.card)
    assert bot.core.absences.stand_in("linnea.fors") is None
