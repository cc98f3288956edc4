"""The big forms as Teams dialogs (task modules) over real HTTP: `task/fetch` answers the form in a dialog,
`task/submit` files it once, or answers the same form with every value kept and the errors under the fields."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FrozenClock
from tests.e2e.test_teams_home import dialogs_of
from tests.e2e.test_teams_inbound import request_values
from tests.fakes import card_schema
from tests.fakes.teams import card_text
from tests.fakes.teams_bot import TeamsBot, running_teams


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[TeamsBot]:
    async with running_teams(tmp_path, clock) as running:
        yield running


async def task(bot: TeamsBot, who: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
    reply = await bot.post(bot.activity(who, "invoke", name=name, value={"data": data, "context": {}}))
    await bot.settle()
    assert reply.status == 200
    body: dict[str, Any] = reply.body["task"]
    if body["type"] == "continue":
        card_schema.check(body["value"]["card"]["content"])
    return body


def inputs(card: dict[str, Any]) -> dict[str, Any]:
    return {e["id"]: e for e in card["body"] if str(e.get("type", "")).startswith("Input.")}


async def test_the_request_form_as_a_dialog_keeps_what_was_typed_and_files_once(bot: TeamsBot) -> None:
    await bot.say("maria.sand", "gfi")
    card = bot.connector.cards(bot.chat("maria.sand"))[-1]
    assert dialogs_of(card) == ["request"]
    opened = await task(bot, "maria.sand", "task/fetch", {"msteams": {"type": "task/fetch"}, "dialog": "request"})
    assert opened["type"] == "continue" and opened["value"]["title"] == "Begär GFI-möte"
    form = opened["value"]["card"]["content"]
    submit = form["actions"][0]
    assert submit["type"] == "Action.Submit" and submit["data"]["dialog"] == "request"
    assert {"enhet", "typ", "kort", "giltigt"} <= set(inputs(form))

    typed = {**submit["data"], **request_values(kort="kvinna, 30 år", giltigt="")}
    again = await task(bot, "maria.sand", "task/submit", typed)
    assert again["type"] == "continue"  # the same dialog, with the error under the field
    fields = inputs(again["value"]["card"]["content"])
    assert fields["kort"]["value"] == "kvinna, 30 år" and fields["enhet"]["value"] == "beroende"
    assert "Samtycket gäller till måste fyllas i." in card_text(again["value"]["card"]["content"])
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0

    good = {**submit["data"], **request_values(kort="kvinna, 30 år")}
    done = await task(bot, "maria.sand", "task/submit", good)
    assert done["type"] == "message" and "registrerad" in done["value"]
    assert await bot.count("SELECT COUNT(*) FROM cases") == 1
    assert "registrerad" in card_text(bot.connector.cards(bot.chat("maria.sand"))[-1])
    twice = await task(bot, "maria.sand", "task/submit", good)  # a double click: filed once
    assert twice["type"] == "message" and await bot.count("SELECT COUNT(*) FROM cases") == 1


async def test_the_brist_form_as_a_dialog(bot: TeamsBot) -> None:
    opened = await task(bot, "fatima.ali", "task/fetch", {"dialog": "brist"})
    form = opened["value"]["card"]["content"]
    assert {"berorda", "orsaker", "handelse"} <= set(inputs(form))
    refused = await task(bot, "fatima.ali", "task/submit", {"dialog": "brist", "card": "x",
                                                            "handelse": "Ingen kom till mötet"})
    assert refused["type"] == "continue"
    kept = inputs(refused["value"]["card"]["content"])
    assert kept["handelse"]["value"] == "Ingen kom till mötet"


async def test_an_unknown_dialog_or_person_gets_a_message(bot: TeamsBot) -> None:
    body = await task(bot, "maria.sand", "task/fetch", {"dialog": "nope"})
    assert body["type"] == "message"
