"""`mina` and `kö` in Teams: cards listing only the person's own requests and cases, with the actions offered
to them now as Action.Execute buttons that work; the distributor's queue with an assign action per case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from tests.e2e.test_teams_inbound import request_values
from tests.fakes.teams import actions_of, card_text
from tests.fakes.teams_bot import TeamsBot, running_teams

BRIEF = "man, 45 år, alkohol"  # request_values()' brief: never on a `mina` card


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[TeamsBot]:
    async with running_teams(tmp_path, clock) as running:
        for who in ("fatima.ali", "linnea.fors"):
            await running.say(who, "hjälp")
        yield running


async def file_request(bot: TeamsBot) -> str:
    """A new request from maria.sand (each from a card of its own)."""
    card = f"form-{await bot.count('SELECT COUNT(*) FROM cases')}"
    reply = await bot.act("maria.sand", "request", {"card": card, **request_values()})
    return card_text(reply.card).split("registrerad: ")[1].split(".")[0].split(" ")[0]


async def last_card(bot: TeamsBot, who: str, text: str) -> dict:  # type: ignore[type-arg]
    await bot.settle()  # notifications first, so that the answer is the last card in the chat
    await bot.post(bot.activity(who, "message", text=text))
    await bot.channel.ctx.drain()
    return bot.connector.cards(bot.chat(who))[-1]


async def test_mina_lists_own_cases_with_the_offered_actions_as_buttons(bot: TeamsBot) -> None:
    ref = await file_request(bot)
    other = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)

    mine = await last_card(bot, "linnea.fors", "mina")
    text = card_text(mine)
    assert "Mina ärenden" in text and ref in text and other not in text  # only hers: need to know
    assert BRIEF not in text
    buttons = [(a["verb"], a["data"]["ref"]) for a in actions_of(mine)]
    assert buttons[0] == ("acknowledge", ref) and {r for _, r in buttons} == {ref}
    assert all(a["type"] == "Action.Execute" for a in actions_of(mine))

    ack = actions_of(mine)[0]
    reply = await bot.act("linnea.fors", ack["verb"], ack["data"])
    assert "Kvitterat" in card_text(reply.card)
    assert (await bot.core.cases.get(ref)).state.value == "acknowledged"
    after = await last_card(bot, "linnea.fors", "mina")
    first = actions_of(after)[0]
    assert (first["verb"], first["data"]["ref"]) == ("book", ref)


async def test_mina_for_a_requester_shows_her_requests_without_staff_actions(bot: TeamsBot) -> None:
    ref = await file_request(bot)
    mine = await last_card(bot, "maria.sand", "mina")
    text = card_text(mine)
    assert "Mina förfrågningar" in text and ref in text and BRIEF not in text
    verbs = {a["verb"] for a in actions_of(mine)}
    assert not verbs & {"assign", "acknowledge", "book", "close"}

    nothing = await last_card(bot, "linnea.fors", "mina")
    assert ref not in card_text(nothing) and actions_of(nothing) == []
    assert "Inga öppna" in card_text(nothing)


async def test_ko_shows_each_case_with_an_assign_action(bot: TeamsBot) -> None:
    first, second = await file_request(bot), await file_request(bot)
    queue = await last_card(bot, "fatima.ali", "kö")
    assigns = {a["data"]["ref"] for a in actions_of(queue) if a["verb"] == "assign"}
    assert assigns == {first, second}
    refused = await last_card(bot, "linnea.fors", "kö")
    assert first not in card_text(refused) and actions_of(refused) == []
