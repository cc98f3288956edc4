"""Disagreement is not silence on Teams (issue #10 item 7): the 'Inte vårt ärende' card form, and the settle form
of a line manager (helena.ros, put on Teams for this test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from tests.e2e.test_teams_lifecycle import file_request
from tests.fakes import teams_bot
from tests.fakes.teams import card_text
from tests.fakes.teams_bot import TeamsBot, running_teams

HELENA = ("29:helena", "aad-helena", "helena.ros@rsv.example.se")
CARINA = ("29:carina", "aad-carina", "carina.berg@astad.example.se")


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TeamsBot]:
    monkeypatch.setitem(teams_bot.ON_TEAMS, "helena.ros", HELENA)
    monkeypatch.setitem(teams_bot.ON_TEAMS, "carina.berg", CARINA)
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
