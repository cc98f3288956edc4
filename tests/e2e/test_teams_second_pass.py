"""Issue #18 through Teams card actions: whether children are affected is required on the request card, and
closing a case with a follow-up that is not done asks what becomes of it (items 5 and 10)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from tests.e2e.test_teams_inbound import request_values
from tests.fakes.teams import actions_of, card_text, inputs_of
from tests.fakes.teams_bot import TeamsBot, running_teams


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[TeamsBot]:
    async with running_teams(tmp_path, clock) as running:
        yield running


async def test_the_request_card_requires_the_children_question(bot: TeamsBot) -> None:
    await bot.say("maria.sand", "gfi")
    form = bot.connector.cards(bot.chat("maria.sand"))[-1]
    barn = next(i for i in inputs_of(form) if i["id"] == "barn")
    assert barn.get("isRequired") is True
    reply = await bot.act("maria.sand", "request", {"card": "c1", **request_values(barn="")})
    assert "Berörs barn" in card_text(reply.card) and "registrerad" not in card_text(reply.card)
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0
    reply = await bot.act("maria.sand", "request", {"card": "c2", **request_values(barn="ja")})
    assert "registrerad" in card_text(reply.card)
    assert (await bot.core.cases.get("GFI-2026-0001")).children == "ja"


async def test_closing_with_an_open_follow_up_asks_what_becomes_of_it(bot: TeamsBot) -> None:
    for who in ("fatima.ali", "linnea.fors", "maria.sand"):
        await bot.say(who, "hjälp")
    reply = await bot.act("maria.sand", "request", {"card": "c1", **request_values(barn="nej")})
    ref = card_text(reply.card).split("registrerad: ")[1].split(".")[0].split(" ")[0]
    core = bot.core
    await core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    await core.cases.acknowledge("linnea.fors", ref)
    await core.cases.hold_now("linnea.fors", ref, ["soc-norr", "beroende"])
    await core.cases.record_outcome("linnea.fors", ref, "kartlaggning", True)
    await core.cases.add_follow_up("linnea.fors", ref, "sofia.grahn", bot.clock.now().date().replace(day=28),
                                   "Stämma av")
    form = (await bot.act("linnea.fors", "close", {"ref": ref, "card": "o6"})).card
    fate = next(i for i in inputs_of(form) if i["id"] == "foljupp")
    assert [c["value"] for c in fate["choices"]] == ["avbryt", "overlat"] and fate.get("isRequired") is True
    submit = actions_of(form)[0]["data"]
    reply = await bot.act("linnea.fors", "close", {**submit, "skal": "genomford"})
    assert "har en uppföljning som inte är klar (nummer 1)" in card_text(reply.card)
    assert await _state(bot, ref) == "meeting_held" or await _state(bot, ref) == "follow_up"
    reply = await bot.act("linnea.fors", "close", {**submit, "skal": "genomford", "foljupp": "avbryt"})
    assert "avslutat" in card_text(reply.card)
    assert await _state(bot, ref) == "closed"
    case = await core.cases.get(ref)
    assert case.follow_ups[0].status == "cancelled"


async def _state(bot: TeamsBot, ref: str) -> str:
    return (await bot.core.cases.get(ref)).state.value
